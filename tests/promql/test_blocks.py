"""Range queries evaluated a block at a time answer exactly as evaluated whole.

Range functions reduce their windows a block of series at a time, and large sums run a block of
steps at a time (``BLOCK_WINDOWS``, ``SUM_BLOCK``), so that each block's temporary arrays stay in
the CPU's caches. Cutting the work differently must not change one bit of an answer, nor the
samples a query is counted as holding: these tests evaluate random data with the smallest
blocks (one series or one step each) and with blocks larger than the query, and compare.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import QueryTooLarge
from spyglass.core.labels import labels_of
from spyglass.core.samples import STALE_NAN
from spyglass.promql import Engine, EngineOptions, _aggregations, _values
from spyglass.storage.memory import MemoryStore

_FUNCTIONS = [
    "rate(m[50s])",
    "increase(m[50s])",
    "delta(m[30s])",
    "irate(m[40s])",
    "idelta(m[40s])",
    "sum_over_time(m[50s])",
    "avg_over_time(m[50s])",
    "max_over_time(m[30s])",
    "min_over_time(m[30s])",
    "count_over_time(m[50s])",
    "last_over_time(m[20s])",
    "stddev_over_time(m[50s])",
    "quantile_over_time(0.3, m[50s])",
    "changes(m[50s])",
    "resets(m[50s])",
    "deriv(m[50s])",
    "predict_linear(m[50s], 30)",
    "rate(m[50s] offset 10s)",
    "sum by (g) (rate(m[50s]))",
    "sum(m)",
    "avg by (g) (m)",
    "sum(sum_over_time(m[30s:10s]))",
]

_value = st.one_of(
    st.integers(-5, 60).map(float),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([math.inf, -math.inf, math.nan, STALE_NAN, 0.1, 1e300]),
)
_series = st.lists(
    st.tuples(
        st.lists(st.integers(0, 200), min_size=1, max_size=25, unique=True).map(sorted),
        st.lists(_value, min_size=25, max_size=25),
    ),
    min_size=1,
    max_size=8,
)


def _store(series: list[tuple[list[int], list[float]]]) -> MemoryStore:
    store = MemoryStore()
    for i, (seconds, values) in enumerate(series):
        store.add(
            labels_of({"__name__": "m", "i": str(i), "g": str(i % 3)}),
            [s * 1000 for s in seconds],
            values[: len(seconds)],
        )
    return store


def _answer(store: MemoryStore, query: str) -> tuple[list[tuple[object, list[int], bytes]], int]:
    """The range query's series with their values' bits (so NaN and -0 compare too), and the
    samples it was counted as holding."""
    r = Engine(store).range_query(query, 0, 210_000, 10_000)
    rows = [(ls, ts.tolist(), vs.tobytes()) for ls, ts, vs in r.matrix]
    return rows, r.samples_processed


@settings(max_examples=60, deadline=None)
@given(_series, st.sampled_from(_FUNCTIONS))
def test_blocks_of_one_series_or_step_answer_as_one_block(
    series: list[tuple[list[int], list[float]]], query: str
) -> None:
    store = _store(series)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_values, "BLOCK_WINDOWS", 1)
        mp.setattr(_aggregations, "SUM_BLOCK", 1)
        small = _answer(store, query)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_values, "BLOCK_WINDOWS", 10**9)
        mp.setattr(_aggregations, "SUM_BLOCK", 10**9)
        whole = _answer(store, query)
    assert small == whole


def test_large_sums_over_blocks_of_steps_equal_fsum() -> None:
    # More series than the sequential threshold, so the pairwise sum runs, a few steps a block.
    store = MemoryStore()
    rng = np.random.default_rng(3)
    n = _aggregations.SEQUENTIAL_MAX * 3
    values = rng.uniform(-1e6, 1e6, (n, 22)) * rng.choice([1.0, 1e-9, 1e9], (n, 22))
    for i in range(n):
        store.add(labels_of({"__name__": "m", "i": str(i)}), range(0, 220_000, 10_000), values[i])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_aggregations, "SUM_BLOCK", n * 3)  # three steps per block
        r = Engine(store).range_query("sum(m)", 0, 210_000, 10_000)
    ((_, ts, got),) = r.matrix
    assert ts.tolist() == list(range(0, 220_000, 10_000))
    for j, v in enumerate(got.tolist()):
        assert math.isclose(v, math.fsum(values[:, j]), rel_tol=1e-15, abs_tol=1e-6), j


def test_the_sample_limit_counts_every_block() -> None:
    # Ten series of 30 samples: a 1 m window at 1 s holds 60 samples at most per series, 30 here;
    # the limit sees the sum over all blocks, as it saw the whole matrix.
    store = MemoryStore()
    for i in range(10):
        store.add(labels_of({"__name__": "m", "i": str(i)}), range(0, 30_000, 1_000), [1.0] * 30)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_values, "BLOCK_WINDOWS", 1)
        ok = Engine(store, EngineOptions(max_samples=300)).range_query(
            "rate(m[1m])", 0, 30_000, 1_000
        )
        assert len(ok.matrix) == 10
        with pytest.raises(QueryTooLarge):
            Engine(store, EngineOptions(max_samples=299)).range_query(
                "rate(m[1m])", 0, 30_000, 1_000
            )
