"""The Prometheus API routes for status and formatting: ``/api/v1/status/tsdb``,
``/api/v1/status/walreplay``, ``/api/v1/format_query`` and ``/federate``, over a MemoryStore."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.core.labels import labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import STALE_NAN
from spyglass.ingest.exposition import parse_text
from spyglass.server.api import prometheus as prometheus_api
from spyglass.server.api._federate import federate
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.storage.memory import MemoryStore


class NoEngine:
    def quick(self, query: str, time_ms: int) -> bool:
        raise AssertionError("not used")

    def instant_query(self, query: str, time_ms: int) -> None:
        raise AssertionError("not used")

    def range_query(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> None:
        raise AssertionError("not used")


NOW = int(time.time() * 1000)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    # The API asks the clock for "now"; the data sits just before NOW, which was taken when
    # the module was imported, possibly minutes before this test runs in a long session.
    monkeypatch.setattr(prometheus_api, "now_ms", lambda: NOW)
    s = MemoryStore()
    s.add(labels_of({"__name__": "up", "job": "api", "instance": "a:1"}), [NOW - 20_000], [1.0])
    s.add(labels_of({"__name__": "up", "job": "db", "instance": "b:1"}), [NOW - 10_000], [0.0])
    s.add(
        labels_of({"__name__": "http_requests_total", "job": "api", "dc": "x"}),
        [NOW - 30_000, NOW - 5_000],
        [5.0, 7.5],
    )
    s.add(
        labels_of({"__name__": "gone", "job": "api"}), [NOW - 20_000, NOW - 9_000], [1, STALE_NAN]
    )
    s.add(labels_of({"__name__": "old", "job": "api"}), [NOW - 600_000], [1.0])
    s.add(labels_of({"__name__": "ancient", "job": "z"}), [NOW - 3 * 3_600_000], [1.0])
    return s


def _client(store: MemoryStore, **kw: object) -> TestClient:
    api = PrometheusAPI(
        querier=store,
        metadata=store,
        engine=NoEngine(),  # type: ignore[arg-type]
        build_info=BuildInfo(version="3.0.0", spyglass_version="0.1.0"),
        series_stats=store,
        **kw,  # type: ignore[arg-type]
    )
    return TestClient(Starlette(routes=api.routes()))


def test_tsdb_status_has_prometheus_shape_and_counts_recent_series(store: MemoryStore) -> None:
    """headStats and the four top-N tables as {name, value}, over the series with samples in
    the last two hours (``ancient`` is older and left out)."""
    body = _client(store).get("/api/v1/status/tsdb").json()
    assert body["status"] == "success"
    data = body["data"]
    assert data["headStats"] == {
        "numSeries": 5,
        "numLabelPairs": 9,  # __name__ x4, job x2, instance x2, dc x1
        "chunkCount": 0,
        "minTime": NOW - 600_000,
        "maxTime": NOW - 5_000,
    }
    assert data["seriesCountByMetricName"][0] == {"name": "up", "value": 2}
    assert {"name": "job", "value": 2} in data["labelValueCountByLabelName"]
    assert data["seriesCountByLabelValuePair"][0] == {"name": "job=api", "value": 4}
    assert len(data["memoryInBytesByLabelName"]) == 4  # __name__, job, instance, dc


def test_tsdb_status_limit_cuts_tables_and_must_be_positive(store: MemoryStore) -> None:
    client = _client(store)
    data = client.get("/api/v1/status/tsdb", params={"limit": "1"}).json()["data"]
    assert [len(v) for k, v in data.items() if k != "headStats"] == [1, 1, 1, 1]
    for bad in ("0", "-3", "x"):
        r = client.get("/api/v1/status/tsdb", params={"limit": bad})
        assert r.status_code == 400
        assert r.json() == {
            "status": "error",
            "errorType": "bad_data",
            "error": "limit must be a positive number",
        }


def test_tsdb_status_of_nothing_reports_int64_extremes_like_prometheus() -> None:
    data = _client(MemoryStore()).get("/api/v1/status/tsdb").json()["data"]
    assert data["headStats"]["minTime"] == 2**63 - 1
    assert data["headStats"]["maxTime"] == -(2**63)
    assert data["seriesCountByMetricName"] == []


def test_walreplay_reports_the_store_progress(store: MemoryStore) -> None:
    client = _client(store, wal_replay=lambda: {"min": 0, "max": 3, "current": 3})
    assert client.get("/api/v1/status/walreplay").json() == {
        "status": "success",
        "data": {"min": 0, "max": 3, "current": 3},
    }


def test_format_query_by_get_and_post(store: MemoryStore) -> None:
    client = _client(store)
    r = client.get("/api/v1/format_query", params={"query": "sum(rate(x{a='b'}[5m]))by(job)"})
    assert r.json() == {"status": "success", "data": 'sum by (job) (rate(x{a="b"}[5m]))'}
    r = client.post("/api/v1/format_query", data={"query": "1e6"})
    assert r.json()["data"] == "1e+06"
    r = client.post("/api/v1/format_query", data={"query": "sum("})
    assert r.status_code == 400
    body = r.json()
    assert body["errorType"] == "bad_data"
    assert body["error"].startswith('invalid parameter "query": ')


def test_federate_writes_the_latest_sample_of_each_matching_series(store: MemoryStore) -> None:
    """Union of match[]; newest sample per series with its timestamp; staleness markers and
    samples older than the lookback are left out; external labels added unless the series has
    the label; families sorted and untyped; the page parses as the text format."""
    client = _client(
        store,
        external_labels=lambda: labels_of({"dc": "ext", "replica": "r1"}),
        lookback_delta_ms=300_000,
    )
    r = client.get("/federate", params=[("match[]", '{job="api"}'), ("match[]", "up")])
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert r.text == (
        "# TYPE http_requests_total untyped\n"
        f'http_requests_total{{dc="x",job="api",replica="r1"}} 7.5 {NOW - 5_000}\n'
        "# TYPE up untyped\n"
        f'up{{instance="a:1",job="api",dc="ext",replica="r1"}} 1.0 {NOW - 20_000}\n'
        f'up{{instance="b:1",job="db",dc="ext",replica="r1"}} 0.0 {NOW - 10_000}\n'
    )
    parsed = parse_text(r.text)
    assert len(parsed.samples) == 3


def test_federate_errors_are_plain_text_400_and_only_get_is_allowed(store: MemoryStore) -> None:
    client = _client(store)
    r = client.get("/federate", params={"match[]": "up{"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert "parse error" in r.text
    assert client.get("/federate").text == ""  # no match[]: nothing selected, as Prometheus
    assert client.post("/federate", data={"match[]": "up"}).status_code == 405


_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: not n.startswith("__")
)
_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(
    st.lists(
        st.tuples(
            _names,
            st.dictionaries(_names, _values, max_size=4),
            st.floats(allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_federation_page_parses_back_to_the_latest_samples(
    rows: list[tuple[str, dict[str, str], float]],
) -> None:
    """Whatever the names, label values and floats, the page is valid text exposition that
    reads back as each series' newest sample, empty labels left out, external ones added."""
    store = MemoryStore()
    want = {}
    for name, labels, value in rows:
        ls = labels_of({**labels, "__name__": name})
        store.add(ls, [NOW - 60_000, NOW - 1_000], [value + 1, value])
        kept = {k: v for k, v in ls if v}
        kept.setdefault("site", "x")
        want[labels_of(kept)] = (value, NOW - 1_000)
    page = federate(store, [[Matcher.of("__name__", "=~", ".+")]], NOW, 300_000, (("site", "x"),))
    got = {labels_of(dict(s.labels)): (s.value, s.timestamp_ms) for s in parse_text(page).samples}
    assert got == want
