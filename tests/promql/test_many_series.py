"""Whole-array evaluation over many series gives what a per-series computation gives.

The engine finds every (series, step) window with one search over all series' samples laid end
to end, and sums large groups pairwise with exact error terms. These tests check both against
plain per-series references (a loop over ``searchsorted``; ``math.fsum``), and check query
results over more series than the sequential-summation threshold.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.labels import labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import STALE_NAN
from spyglass.promql import Engine
from spyglass.promql._aggregations import SEQUENTIAL_MAX, compensated_sums, kahan_inc
from spyglass.promql._values import Matrix, RangeSeries
from spyglass.storage.memory import MemoryStore

# -- windows over all series at once ---------------------------------------------------------

_series = st.lists(
    st.lists(st.integers(-50, 400), max_size=12, unique=True).map(sorted),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(
    _series,
    st.lists(st.integers(-60, 450), min_size=1, max_size=8).map(sorted),
    st.integers(1, 200),
)
def test_windows_match_a_per_series_search(
    stamps: list[list[int]], ends: list[int], range_ms: int
) -> None:
    series = [
        RangeSeries(
            labels_of({"i": str(i)}), np.array(ts, np.int64), np.arange(len(ts), dtype=float)
        )
        for i, ts in enumerate(stamps)
    ]
    end_arr = np.array(ends, np.int64)
    w = Matrix.from_series(series, end_arr, range_ms).windows()
    expected = []
    base = 0
    for i, s in enumerate(series):
        for j, end in enumerate(ends):
            lo = int(np.searchsorted(s.timestamps, end - range_ms, side="right"))
            hi = int(np.searchsorted(s.timestamps, end, side="right"))
            if hi > lo:
                expected.append((i, j, base + lo, hi - lo))
        base += len(s.timestamps)
    got = list(
        zip(w.series.tolist(), w.step.tolist(), w.start.tolist(), w.count.tolist(), strict=True)
    )
    assert got == expected


def test_windows_fall_back_when_composite_keys_would_overflow() -> None:
    # Timestamps nearly 2^62 apart: series * span would overflow int64.
    far = 2**61
    series = [
        RangeSeries((("i", "0"),), np.array([-far, 0, 10], np.int64), np.array([1.0, 2, 3])),
        RangeSeries((("i", "1"),), np.array([5, far], np.int64), np.array([4.0, 5])),
    ]
    w = Matrix.from_series(series, np.array([10, far], np.int64), 20).windows()
    assert w.series.tolist() == [0, 1, 1]
    assert w.step.tolist() == [0, 0, 1]
    assert w.start.tolist() == [1, 3, 4]
    assert w.count.tolist() == [2, 1, 1]


# -- pairwise compensated sums -------------------------------------------------------------

_finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), _finite, st.booleans()), max_size=80))
def test_compensated_sums_are_as_accurate_as_fsum(rows: list[tuple[int, float, bool]]) -> None:
    gidx = np.array([g for g, _, _ in rows], np.intp)
    values = np.array([[v] for _, v, _ in rows], np.float64).reshape(-1, 1)
    present = np.array([[p] for _, _, p in rows], bool).reshape(-1, 1)
    total, comp = compensated_sums(values, present, gidx, 4)
    for g in range(4):
        parts = [v for gg, v, p in rows if gg == g and p]
        try:
            exact = math.fsum(parts)
        except OverflowError:
            continue
        got = float(total[g, 0] + comp[g, 0])
        if math.isinf(got) or not parts:
            # Overflow on the way; or nothing to add.
            assert not parts or max(abs(p) for p in parts) > 1e200 or got == exact
            continue
        eps = 2.0**-52
        mass = math.fsum(abs(p) for p in parts)
        # Compensated summation's bound: about one rounding of the result plus a second-order
        # term; a plain (uncompensated) sum errs by up to n * eps * mass.
        bound = 2 * eps * abs(exact) + (len(parts) * eps) ** 2 * mass
        assert abs(got - exact) <= bound, (parts, got, exact)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(1e10, 1e20), min_size=1, max_size=20),
    st.lists(st.floats(-10, 10), min_size=1, max_size=20),
    st.randoms(use_true_random=False),
)
def test_compensated_sums_survive_cancellation(
    big: list[float], small: list[float], rnd: random.Random
) -> None:
    parts = big + [-b for b in big] + small
    rnd.shuffle(parts)
    n = len(parts)
    total, comp = compensated_sums(
        np.array(parts).reshape(-1, 1), np.ones((n, 1), bool), np.zeros(n, np.intp), 1
    )
    exact = math.fsum(parts)
    got = float(total[0, 0] + comp[0, 0])
    mass = math.fsum(abs(p) for p in parts)
    assert abs(got - exact) <= 2 * 2.0**-52 * abs(exact) + (n * 2.0**-52) ** 2 * mass, (got, exact)


def _kahan(values: list[float]) -> float:
    t, c = np.zeros(1), np.zeros(1)
    with np.errstate(invalid="ignore"):
        for v in values:
            t, c = kahan_inc(np.array([v]), t, c)
    return float((t + c)[0])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1e100, 1.0, -1e100], 1.0),
        ([math.inf, 1.0, 2.0], math.inf),
        ([math.inf, -math.inf, 1.0], math.nan),
        ([-math.inf, 5.0], -math.inf),
        ([math.nan, 1.0], math.nan),
        ([0.1] * 10, 1.0),
    ],
)
def test_compensated_sums_handle_cancellation_infinities_and_nan(
    values: list[float], expected: float
) -> None:
    # Pad past the sequential threshold with zeros, which change nothing.
    vals = values + [0.0] * (SEQUENTIAL_MAX + 1)
    total, comp = compensated_sums(
        np.array(vals).reshape(-1, 1),
        np.ones((len(vals), 1), bool),
        np.zeros(len(vals), np.intp),
        1,
    )
    got = float(total[0, 0] + comp[0, 0])
    want = _kahan(vals)
    if math.isnan(expected):
        assert math.isnan(got)
        assert math.isnan(want)
    else:
        assert got == expected == want


# -- queries over many series ----------------------------------------------------------------

N = 3 * SEQUENTIAL_MAX + 7


@pytest.fixture
def many() -> MemoryStore:
    s = MemoryStore()
    rng = np.random.default_rng(7)
    for i in range(N):
        ts = np.arange(0, 1_200_001, 15_000) + int(rng.integers(0, 15_000))
        vals = np.cumsum(rng.uniform(0, 10, len(ts))) * (1 + i % 5)
        if i % 9 == 0:
            vals[40:] -= vals[39]  # a counter reset
        if i % 11 == 0:
            vals[60] = STALE_NAN  # a staleness marker: absent for a while
        s.add(
            labels_of({"__name__": "req_total", "job": f"j{i % 3}", "instance": str(i)}),
            ts.tolist(),
            vals.tolist(),
        )
    return s


def _per_series(
    store: MemoryStore, query: str, start: int, end: int, step: int
) -> dict[tuple[tuple[str, str], ...], dict[int, float]]:
    r = Engine(store).range_query(query, start, end, step)
    return {ls: dict(zip(ts.tolist(), vs.tolist(), strict=True)) for ls, ts, vs in r.matrix}


@pytest.mark.parametrize("agg", ["sum", "avg", "count", "max", "min", "stddev", "stdvar"])
def test_aggregations_over_many_series_match_the_series(many: MemoryStore, agg: str) -> None:
    inner = "rate(req_total[5m])"
    rows = _per_series(many, inner, 300_000, 1_200_000, 30_000)
    assert len(rows) == N
    agg_rows = _per_series(many, f"{agg} by (job) ({inner})", 300_000, 1_200_000, 30_000)
    assert sorted(agg_rows) == [(("job", f"j{k}"),) for k in range(3)]
    for (key,), series in agg_rows.items():
        for t, got in series.items():
            vals = [v[t] for ls, v in rows.items() if ("job", key[1]) in ls and t in v]
            ref = {
                "sum": math.fsum(vals),
                "avg": math.fsum(vals) / len(vals),
                "count": float(len(vals)),
                "max": max(vals),
                "min": min(vals),
                "stddev": float(np.std(vals)),
                "stdvar": float(np.var(vals)),
            }[agg]
            assert math.isclose(got, ref, rel_tol=1e-12, abs_tol=1e-12), (key, t, got, ref)


def test_selector_over_many_series_matches_each_series(many: MemoryStore) -> None:
    eng = Engine(many)
    whole = _per_series(many, "req_total", 0, 1_200_000, 20_000)
    assert len(whole) == N
    for i in (0, 11, N - 1):
        one = _per_series(many, f'req_total{{instance="{i}"}}', 0, 1_200_000, 20_000)
        ((labels, series),) = one.items()
        assert whole[labels] == series
    # The series with a staleness marker at sample 60 is absent from then until sample 61,
    # and the series around it are unaffected.
    (data,) = many.select([Matcher.of("instance", "=", "11")], 0, 2_000_000)
    t60, t61 = int(data.timestamps[60]), int(data.timestamps[61])
    for t, present in ((t60 - 1, True), (t60, False), (t61 - 1, False), (t61, True)):
        got = {dict(ls)["instance"] for ls, _ in eng.instant_query("req_total", t).vector}
        assert ("11" in got) is present, t
        # Series without a staleness marker are all there.
        assert {str(i) for i in range(N) if i % 11} <= got


# -- sums over time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0, 4.0, -2.0, 10.0], 15.0),  # integers: exact prefix sums
        ([0.1] * 10, 1.0),  # Kahan: a plain running sum gives 0.9999999999999999
        ([2.0**53, 1.0, -(2.0**53), 1.0], 2.0),  # integers too big for prefix sums
        ([1e100, 1.0, -1e100], 1.0),
        ([5.0, math.inf, 1.0], math.inf),
    ],
)
def test_sum_over_time_keeps_kahan_results(values: list[float], expected: float) -> None:
    s = MemoryStore()
    s.add(labels_of({"__name__": "g", "k": "a"}), [i * 1000 for i in range(len(values))], values)
    # A second, integer-valued series: both are summed through the same windows.
    s.add(labels_of({"__name__": "h", "k": "b"}), [0, 1000], [1.0, 2.0])
    t = (len(values) - 1) * 1000
    eng = Engine(s)
    got = eng.instant_query("sum_over_time(g[1m])", t).vector
    assert got == [((("k", "a"),), expected)]
    avg = dict(eng.instant_query("avg_over_time({__name__=~'g|h'}[1m])", t).vector)
    assert avg == {(("k", "a"),): expected / len(values), (("k", "b"),): 1.5}
