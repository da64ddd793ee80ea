"""Prometheus HTTP API routes: shapes, validation messages and status codes, GET and POST.

The engine here is a stand-in that records what it was asked; the real PromQL engine is exercised
end to end in tests/server/test_app_e2e.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.core.errors import ParseError
from spyglass.core.labels import labels_of
from spyglass.core.samples import MetricMetadata, SampleBatch
from spyglass.promql import QueryResult
from spyglass.server.api._promjson import format_value
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI, format_values
from spyglass.storage.memory import MemoryStore

T0 = 1_700_000_000_000


Outcome = QueryResult


class RecordingEngine:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def instant_query(self, query: str, time_ms: int) -> Outcome:
        self.calls.append(("instant", query, time_ms))
        if query == "bad(":
            raise ParseError("parse error: unclosed left parenthesis", line=1, column=4)
        if query == "1":
            return Outcome("scalar", scalar=1.0)
        return Outcome("vector", vector=[(labels_of({"__name__": "up", "job": "a"}), 1.0)])

    def range_query(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> Outcome:
        self.calls.append(("range", query, start_ms, end_ms, step_ms))
        ts = np.arange(start_ms, end_ms + 1, step_ms, dtype=np.int64)
        return Outcome(
            "matrix",
            matrix=[(labels_of({"__name__": "up"}), ts, np.full(len(ts), 0.5))],
            warnings=["a warning"],
        )


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.add(labels_of({"__name__": "up", "job": "api", "instance": "a:1"}), [T0], [1.0])
    s.add(labels_of({"__name__": "up", "job": "db", "instance": "b:1"}), [T0], [0.0])
    s.add(labels_of({"__name__": "http_requests_total", "job": "api"}), [T0 + 60_000], [5.0])
    batch = SampleBatch.empty()
    s.write(
        SampleBatch(
            batch.series,
            batch.fingerprints,
            batch.timestamps,
            batch.values,
            {"up": MetricMetadata("gauge", "Target is up.", "")},
        )
    )
    return s


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


@pytest.fixture
def client(store: MemoryStore, engine: RecordingEngine) -> TestClient:
    api = PrometheusAPI(
        querier=store,
        metadata=store,
        engine=engine,
        build_info=BuildInfo(version="3.0.0", spyglass_version="0.1.0"),
        targets=lambda state: {
            "activeTargets": [{"health": "up"}] if state != "dropped" else [],
            "droppedTargets": [{"x": 1}] if state != "active" else [],
        },
        scrape_pools=lambda: ["api"],
    )
    return TestClient(Starlette(routes=api.routes()))


def test_instant_query_vector_shape_and_rfc3339_time(
    client: TestClient, engine: RecordingEngine
) -> None:
    r = client.get("/api/v1/query", params={"query": "up", "time": "2023-11-14T22:13:20Z"})
    assert r.status_code == 200
    assert r.json() == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"__name__": "up", "job": "a"}, "value": [T0 // 1000, "1"]}],
        },
    }
    assert engine.calls == [("instant", "up", T0)]


def test_query_by_post_form_with_unix_float_time(
    client: TestClient, engine: RecordingEngine
) -> None:
    r = client.post("/api/v1/query", data={"query": "1", "time": "1700000000.5"})
    assert r.json()["data"] == {"resultType": "scalar", "result": [1700000000.5, "1"]}
    assert engine.calls == [("instant", "1", T0 + 500)]


def test_parse_error_is_bad_data_with_position(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "bad("})
    assert r.status_code == 400
    body = r.json()
    assert body["errorType"] == "bad_data"
    assert body["error"].startswith("1:4: parse error")


def test_range_query_matrix_and_warnings(client: TestClient, engine: RecordingEngine) -> None:
    r = client.get(
        "/api/v1/query_range",
        params={"query": "up", "start": T0 / 1000, "end": T0 / 1000 + 30, "step": "15s"},
    )
    body = r.json()
    assert body["warnings"] == ["a warning"]
    assert body["data"]["resultType"] == "matrix"
    assert body["data"]["result"][0]["values"] == [
        [1_700_000_000, "0.5"],
        [1_700_000_015, "0.5"],
        [1_700_000_030, "0.5"],
    ]
    assert engine.calls == [("range", "up", T0, T0 + 30_000, 15_000)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "x", "end": "1", "step": "1"}, 'invalid parameter "start"'),
        ({"end": "1", "step": "1"}, 'invalid parameter "start"'),
        ({"start": "10", "end": "1", "step": "1"}, "end timestamp must not be before start time"),
        ({"start": "1", "end": "10", "step": "0"}, "zero or negative query resolution step"),
        ({"start": "0", "end": "100000", "step": "1"}, "exceeded maximum resolution of 11,000"),
        ({"start": "1", "end": "10", "step": "abc"}, 'invalid parameter "step"'),
        ({"start": "1e308", "end": "1e308", "step": "1"}, 'invalid parameter "start"'),
        ({"start": "-1e300", "end": "1", "step": "1"}, 'invalid parameter "start"'),
        ({"start": "1", "end": "10", "step": "1e308"}, "It overflows int64"),
    ],
)
def test_range_query_validation(client: TestClient, params: dict[str, str], message: str) -> None:
    r = client.get("/api/v1/query_range", params={"query": "up", **params})
    assert r.status_code == 400
    assert r.json()["errorType"] == "bad_data"
    assert message in r.json()["error"]


def test_series_requires_match(client: TestClient) -> None:
    r = client.get("/api/v1/series")
    assert r.status_code == 400
    assert r.json()["error"] == "no match[] parameter provided"


def test_series_union_of_selectors_sorted(client: TestClient) -> None:
    r = client.get(
        "/api/v1/series", params=[("match[]", 'up{job="db"}'), ("match[]", "http_requests_total")]
    )
    assert r.json()["data"] == [
        {"__name__": "http_requests_total", "job": "api"},
        {"__name__": "up", "instance": "b:1", "job": "db"},
    ]


def test_series_time_range_and_limit(client: TestClient) -> None:
    r = client.post("/api/v1/series", data={"match[]": '{job=~".+"}', "end": str(T0 / 1000)})
    assert len(r.json()["data"]) == 2  # http_requests_total only has a later sample
    r = client.get("/api/v1/series", params={"match[]": "up", "limit": "1"})
    assert len(r.json()["data"]) == 1
    assert r.json()["warnings"] == ["results truncated due to limit"]


@pytest.mark.parametrize("path", ["/api/v1/series", "/api/v1/labels", "/api/v1/label/job/values"])
@pytest.mark.parametrize("selector", ["rate(up[5m])", "up offset 1e308"])
def test_series_bad_selector_is_bad_data(client: TestClient, path: str, selector: str) -> None:
    # "offset 1e308" makes the Rust parser panic (its Duration overflows): still a 400.
    r = client.get(path, params={"match[]": selector})
    assert r.status_code == 400
    assert r.json()["errorType"] == "bad_data"


def test_labels_and_label_values(client: TestClient) -> None:
    assert client.get("/api/v1/labels").json()["data"] == ["__name__", "instance", "job"]
    r = client.get("/api/v1/labels", params={"match[]": "http_requests_total"})
    assert r.json()["data"] == ["__name__", "job"]
    r = client.get("/api/v1/label/job/values")
    assert r.json()["data"] == ["api", "db"]
    r = client.get("/api/v1/label/__name__/values")
    assert r.json()["data"] == ["http_requests_total", "up"]
    r = client.get("/api/v1/label/job/values", params={"match[]": "up{instance='b:1'}"})
    assert r.json()["data"] == ["db"]


def test_invalid_label_name(client: TestClient) -> None:
    r = client.get("/api/v1/label/9bad/values")
    assert r.status_code == 400
    assert r.json()["error"] == 'invalid label name: "9bad"'


def test_metadata(client: TestClient) -> None:
    r = client.get("/api/v1/metadata")
    assert r.json()["data"] == {"up": [{"type": "gauge", "help": "Target is up.", "unit": ""}]}
    assert client.get("/api/v1/metadata", params={"metric": "nope"}).json()["data"] == {}
    assert client.get("/api/v1/metadata", params={"limit": "0"}).json()["data"] == {}


def test_targets_state_filter(client: TestClient) -> None:
    data = client.get("/api/v1/targets").json()["data"]
    assert data == {"activeTargets": [{"health": "up"}], "droppedTargets": [{"x": 1}]}
    data = client.get("/api/v1/targets", params={"state": "dropped"}).json()["data"]
    assert data == {"activeTargets": [], "droppedTargets": [{"x": 1}]}
    assert client.get("/api/v1/scrape_pools").json()["data"] == {"scrapePools": ["api"]}


def test_status_endpoints(client: TestClient) -> None:
    info = client.get("/api/v1/status/buildinfo").json()["data"]
    assert info["version"] == "3.0.0"
    assert info["spyglassVersion"] == "0.1.0"
    assert client.get("/api/v1/status/config").json()["data"] == {"yaml": ""}
    assert "startTime" in client.get("/api/v1/status/runtimeinfo").json()["data"]
    assert client.get("/api/v1/rules").json()["data"] == {"groups": []}
    assert client.get("/api/v1/alerts").json()["data"] == {"alerts": []}
    assert client.get("/api/v1/query_exemplars", params={"query": "up"}).json()["data"] == []


def test_query_exemplars_refuses_an_inverted_range_in_prometheus_words(client: TestClient) -> None:
    r = client.get("/api/v1/query_exemplars", params={"query": "up", "start": "10", "end": "5"})
    assert r.status_code == 400
    assert r.json() == {
        "status": "error",
        "errorType": "bad_data",
        "error": "end timestamp must not be before start timestamp",
    }


@given(st.lists(st.floats(), max_size=20))
def test_format_values_agrees_with_format_value(values: list[float]) -> None:
    arr = np.array(values, dtype=np.float64)
    assert format_values(arr) == [format_value(v) for v in values]


def test_nocache_sends_a_range_query_to_the_engine_without_the_cache(store: MemoryStore) -> None:
    """``nocache=1`` (VictoriaMetrics' parameter) evaluates every step; other values, and
    instant queries, go to the engine with the cache; the reset route empties the cache."""
    cached, uncached, resets = RecordingEngine(), RecordingEngine(), []
    api = PrometheusAPI(
        querier=store,
        metadata=store,
        engine=cached,
        build_info=BuildInfo(version="3.0.0", spyglass_version="0.1.0"),
        uncached_engine=uncached,
        reset_cache=lambda: resets.append(1),
    )
    client = TestClient(Starlette(routes=api.routes()))
    span = {"query": "up", "start": "0", "end": "60", "step": "15"}
    for flag in ("1", "0", ""):
        assert client.get("/api/v1/query_range", params={**span, "nocache": flag}).is_success
    assert client.post("/api/v1/query_range", data={**span, "nocache": "1"}).is_success
    assert client.get("/api/v1/query", params={"query": "up", "nocache": "1"}).is_success
    assert [c[0] for c in uncached.calls] == ["range", "range"]
    assert [c[0] for c in cached.calls] == ["range", "range", "instant"]
    r = client.get("/internal/resetRollupResultCache")
    assert (r.status_code, r.content, resets) == (200, b"", [1])


def test_without_a_cache_nocache_and_the_reset_route_change_nothing(
    client: TestClient, engine: RecordingEngine
) -> None:
    span = {"query": "up", "start": "0", "end": "60", "step": "15", "nocache": "1"}
    assert client.get("/api/v1/query_range", params=span).is_success
    assert len(engine.calls) == 1
    assert client.post("/internal/resetRollupResultCache").status_code == 200
