"""Engine API behaviour a caller relies on: result shapes, errors, limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spyglass.core.errors import ParseError, QueryError, QueryTimeout, QueryTooLarge
from spyglass.core.labels import labels_of
from spyglass.core.samples import STALE_NAN
from spyglass.promql import Engine, EngineOptions
from spyglass.storage.memory import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    for i in range(3):
        s.add(
            labels_of({"__name__": "http_requests_total", "job": "api", "instance": str(i)}),
            range(0, 600_001, 15_000),
            [j * (i + 1) for j in range(41)],
        )
    return s


def test_instant_selector_returns_latest_sample_with_labels(store: MemoryStore) -> None:
    r = Engine(store).instant_query('http_requests_total{instance="1"}', 600_000)
    assert r.result_type == "vector"
    assert r.vector == [
        (labels_of({"__name__": "http_requests_total", "job": "api", "instance": "1"}), 80.0)
    ]


def test_rate_and_sum_by(store: MemoryStore) -> None:
    r = Engine(store).instant_query("sum by (job) (rate(http_requests_total[5m]))", 600_000)
    assert len(r.vector) == 1
    labels, value = r.vector[0]
    assert labels == (("job", "api"),)
    # Counters grow by 1, 2 and 3 per 15 s.
    assert math.isclose(value, 6 / 15)


def test_range_query_returns_matrix_per_step(store: MemoryStore) -> None:
    r = Engine(store).range_query("sum(http_requests_total)", 0, 60_000, 30_000)
    assert r.result_type == "matrix"
    ((labels, ts, vals),) = r.matrix
    assert labels == ()
    assert ts.tolist() == [0, 30_000, 60_000]
    assert vals.tolist() == [0.0, 12.0, 24.0]


def test_instant_query_of_range_selector_is_matrix(store: MemoryStore) -> None:
    r = Engine(store).instant_query('http_requests_total{instance="0"}[1m]', 600_000)
    assert r.result_type == "matrix"
    # Prometheus 3 windows are left-open: the sample at exactly t-1m is excluded.
    assert r.matrix[0][1].tolist() == [555_000, 570_000, 585_000, 600_000]


def test_range_query_rejects_range_vector(store: MemoryStore) -> None:
    # bad_data in the API, as in Prometheus: the query is wrong, not its evaluation.
    with pytest.raises(ParseError, match='invalid expression type "range vector"'):
        Engine(store).range_query("http_requests_total[1m]", 0, 60_000, 15_000)


def test_parse_error_has_position() -> None:
    with pytest.raises(ParseError) as info:
        Engine(MemoryStore()).instant_query("sum(rate(foo[5m])", 0)
    assert info.value.line == 1
    assert info.value.column >= 1
    assert str(info.value).startswith("1:")
    assert "parse error" in str(info.value)


def test_many_to_many_matching_is_an_error(store: MemoryStore) -> None:
    with pytest.raises(QueryError, match="many-to-many matching not allowed"):
        Engine(store).instant_query("http_requests_total + on(job) http_requests_total", 600_000)


def test_sample_limit_fails_with_query_too_large(store: MemoryStore) -> None:
    engine = Engine(store, EngineOptions(max_samples=10))
    with pytest.raises(QueryTooLarge, match="too many samples"):
        engine.instant_query("http_requests_total[10m]", 600_000)


def test_scalar_result() -> None:
    r = Engine(MemoryStore()).instant_query("1 + 2 * 3", 0)
    assert r.result_type == "scalar"
    assert r.scalar == 7.0


def test_stale_marker_ends_series() -> None:
    s = MemoryStore()
    s.add(labels_of({"__name__": "up"}), [0, 15_000, 30_000], [1.0, 1.0, STALE_NAN])
    engine = Engine(s)
    assert engine.instant_query("up", 20_000).vector != []
    assert engine.instant_query("up", 35_000).vector == []
    r = engine.range_query("up", 0, 60_000, 15_000)
    assert np.array_equal(r.matrix[0][1], [0, 15_000])


def test_experimental_functions_need_the_option(store: MemoryStore) -> None:
    with pytest.raises(ParseError, match='function "mad_over_time" is not enabled'):
        Engine(store).instant_query("mad_over_time(http_requests_total[5m])", 600_000)
    engine = Engine(store, EngineOptions(experimental_functions=True))
    r = engine.instant_query("mad_over_time(http_requests_total[5m])", 600_000)
    assert len(r.vector) == 3


def test_lookback_delta_is_configurable(store: MemoryStore) -> None:
    # The last sample is at 600s; 2m later it is still within the default 5m lookback.
    assert Engine(store).instant_query("http_requests_total", 720_000).vector
    short = Engine(store, EngineOptions(lookback_delta_ms=60_000))
    assert short.instant_query("http_requests_total", 720_000).vector == []


def test_timeout_raises_query_timeout(store: MemoryStore) -> None:
    engine = Engine(store, EngineOptions(timeout_s=0.0))
    with pytest.raises(QueryTimeout, match="timed out"):
        engine.range_query("sum(rate(http_requests_total[5m]))", 0, 600_000, 15_000)


def test_delayed_name_removal_keeps_name_for_label_replace(store: MemoryStore) -> None:
    query = (
        'label_replace(rate(http_requests_total{instance="0"}[5m]), "n", "$1", "__name__", "(.*)")'
    )
    eager = Engine(store).instant_query(query, 600_000)
    assert dict(eager.vector[0][0]).get("n") is None
    delayed = Engine(store, EngineOptions(delayed_name_removal=True)).instant_query(query, 600_000)
    labels = dict(delayed.vector[0][0])
    assert labels["n"] == "http_requests_total"
    assert "__name__" not in labels


def test_too_many_steps_fail_before_allocating() -> None:
    engine = Engine(MemoryStore(), EngineOptions(max_samples=1_000))
    with pytest.raises(QueryTooLarge):
        engine.range_query("time()", 0, 10**15, 1)


def test_range_function_counts_one_window_per_series_not_every_step(store: MemoryStore) -> None:
    # 3 series x 20 samples per 5m window; 41 steps would be 2,460 if every step counted.
    engine = Engine(store, EngineOptions(max_samples=100))
    r = engine.range_query("rate(http_requests_total[5m])", 0, 600_000, 15_000)
    assert len(r.matrix) == 3
    with pytest.raises(QueryTooLarge):
        Engine(store, EngineOptions(max_samples=50)).range_query(
            "rate(http_requests_total[5m])", 0, 600_000, 15_000
        )
