"""Hostile parameters on every Prometheus API endpoint: a 4xx in Prometheus' error shape, never a
5xx or an escaped exception.

Values come from what breaks parsers of times, durations and selectors: ``1e308``, ``-Inf``,
int64's edges, RFC 3339 at year 1 and 9999, NUL, unbalanced selectors, a selector that makes the
Rust PromQL parser panic (``x offset 1e308``). The real PromQL engine answers, with experimental
functions on. A bounded run is in the default suite; ``scripts/test --slow`` runs a long one.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.core.labels import labels_of
from spyglass.promql import Engine, EngineOptions
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.storage.memory import MemoryStore

T0 = 1_700_000_000_000
_PATHS = [
    "/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels",
    "/api/v1/label/job/values", "/api/v1/label/__name__/values", "/api/v1/metadata",
    "/api/v1/query_exemplars", "/api/v1/status/buildinfo", "/api/v1/targets",
]  # fmt: skip
_NAMES = ["query", "time", "start", "end", "step", "timeout", "match[]", "limit", "metric",
          "limit_per_metric", "stats", "lookback_delta"]  # fmt: skip
_VALUES = [
    "", "0", "1", "-1", "1e308", "-1e308", "1e18", "9.3e9", "NaN", "Inf", "-Inf", "1.5", "0.0001",
    "1700000000", "1700000600", "2023-11-14T22:13:20Z", "2023-11-14T22:13:20",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "5m", "1y", "0s", "-5m", "abc", "\x00", "up",
    'up{job="j1"}', '{job=~".*"}', "{}", '{__name__=~".+"}', "up[5m]", "sum(up)", "rate(up[1m])",
    "x offset 1e308", "up @ 1e308", "up{", '"', "9223372036854775807", "-9223372036854775808",
    "1e-300", "100000000000",
]  # fmt: skip


def _client() -> TestClient:
    store = MemoryStore()
    times = [T0 + j * 15_000 for j in range(50)]
    for i in range(5):
        labels = labels_of({"__name__": "up", "job": f"j{i}", "instance": f"h{i}:1"})
        store.add(labels, times, [float(j % 2) for j in range(50)])
    api = PrometheusAPI(
        querier=store,
        metadata=store,
        engine=Engine(store, EngineOptions(experimental_functions=True)),
        build_info=BuildInfo(version="3.0.0", spyglass_version="0.1.0"),
        targets=lambda state: {"activeTargets": [], "droppedTargets": []},
        scrape_pools=list,
    )
    return TestClient(Starlette(routes=api.routes()), raise_server_exceptions=False)


_CLIENT = _client()
_REQUESTS = (
    st.sampled_from(_PATHS),
    st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=6),
    st.booleans(),
)


def _never_a_server_error(path: str, params: list[tuple[str, str]], post: bool) -> None:
    if post:
        form = urlencode(params)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        r = _CLIENT.post(path, content=form, headers=headers)
    else:
        r = _CLIENT.get(path, params=params)
    assert r.status_code < 500, (path, params, r.status_code, r.text[:300])
    if r.status_code >= 400:
        body = r.json()
        assert body["status"] == "error", body
        assert body["errorType"], body
        assert body["error"], body


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(*_REQUESTS)
def test_hostile_parameters_get_a_client_error_never_a_server_error(
    path: str, params: list[tuple[str, str]], post: bool
) -> None:
    _never_a_server_error(path, params, post)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(*_REQUESTS)
def test_hostile_parameters_long_run(path: str, params: list[tuple[str, str]], post: bool) -> None:
    _never_a_server_error(path, params, post)
