"""OlderReads: a read kept before the head's start gives back, for any range inside the one read,
exactly the samples of that range (timestamps and value bits, staleness markers and values that
float32 cannot hold included) with their labels; it is bounded by bytes and selectors, least
recently used first out, and forgets everything on ``clear``."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.labels import Labels
from spyglass.core.samples import STALE_NAN_BITS
from spyglass.storage.metrics._older import OlderReads, Stored

START = 1_700_000_000_000
STALE = float(np.array([STALE_NAN_BITS], np.uint64).view(np.float64)[0])

values = st.one_of(
    st.integers(-(2**40), 2**40).map(float),
    st.floats(allow_nan=False, width=32),
    st.floats(allow_nan=False),
    st.just(STALE),
    st.just(-0.0),
)
# Per series (fingerprints ascending): strictly increasing offsets from START, and values.
series = st.lists(
    st.lists(
        st.tuples(st.integers(0, 10**8), values), min_size=1, max_size=6, unique_by=lambda p: p[0]
    ),
    max_size=5,
)


def labels(fp: int) -> Labels:
    return (("__name__", "m"), ("id", str(fp)))


def stored(drawn: list[list[tuple[int, float]]]) -> Stored:
    fps, ts, vals = [], [], []
    for i, points in enumerate(drawn):
        for t, v in sorted(points):
            fps.append(10 + 7 * i)
            ts.append(START + t)
            vals.append(v)
    return (
        np.array(fps, np.uint64),
        np.array(ts, np.int64),
        np.array(vals, np.float64),
        {10 + 7 * i: labels(10 + 7 * i) for i in range(len(drawn))},
    )


def rows(found: Stored) -> list[tuple[int, int, int]]:
    fps, ts, vals, _ = found
    assert fps.dtype == np.uint64
    assert ts.dtype == np.int64
    assert vals.dtype == np.float64
    return list(zip(fps.tolist(), ts.tolist(), vals.view(np.int64).tolist(), strict=True))


@settings(max_examples=200, deadline=None)
@given(drawn=series, cut=st.tuples(st.integers(0, 10**8), st.integers(0, 10**8)))
def test_a_kept_read_gives_back_exactly_the_samples_of_any_range_inside_it(
    drawn: list[list[tuple[int, float]]], cut: tuple[int, int]
) -> None:
    found = stored(drawn)
    end = START + 10**8
    kept = OlderReads(2**30, 16)
    kept.put("sel", START, end, found)
    whole = kept.get("sel", START, end)
    assert whole is not None
    assert rows(whole) == rows(found)
    lo, hi = START + min(cut), START + max(cut)
    got = kept.get("sel", lo, hi)
    assert got is not None
    expected = [r for r in rows(found) if lo <= r[1] <= hi]
    assert rows(got) == expected
    assert {fp: got[3][fp] for fp, _, _ in expected} == {fp: labels(fp) for fp, _, _ in expected}


def test_a_range_reaching_outside_the_read_or_another_selector_is_not_answered() -> None:
    kept = OlderReads(2**30, 16)
    kept.put("sel", START, START + 1000, stored([[(5, 1.0)]]))
    assert kept.get("sel", START - 1, START + 1000) is None
    assert kept.get("sel", START, START + 1001) is None
    assert kept.get("other", START, START + 1000) is None
    empty = kept.get("sel", START + 6, START + 1000)
    assert empty is not None
    assert rows(empty) == []
    kept.clear()
    assert kept.get("sel", START, START + 1000) is None
    assert kept.selectors == 0
    assert kept.nbytes == 0


def test_a_selector_of_nothing_is_kept_even_with_no_bytes_to_spare() -> None:
    kept = OlderReads(0, 16)
    kept.put("none", START, START + 1000, stored([]))
    kept.put("some", START, START + 1000, stored([[(5, 1.0)]]))
    got = kept.get("none", START + 10, START + 20)
    assert got is not None
    assert rows(got) == []
    assert got[3] == {}
    assert kept.get("some", START, START + 1000) is None
    assert kept.nbytes == 0
    assert kept.selectors == 1


def test_counters_and_gauges_take_about_eight_bytes_a_sample() -> None:
    n = 100_000
    counter = stored([[(15_000 * k, float(k * 3)) for k in range(n)]])
    gauge = stored([[(15_000 * k, math.pi * k) for k in range(n)]])  # float32 cannot hold these
    kept = OlderReads(2**30, 16)
    kept.put("counter", START, START + 15_000 * n, counter)
    assert 8 * n <= kept.nbytes < 8.1 * n
    kept.put("gauge", START, START + 15_000 * n, gauge)
    assert 20 * n <= kept.nbytes < 20.2 * n
    got = kept.get("gauge", START, START + 15_000 * n)
    assert got is not None
    assert rows(got) == rows(gauge)


def test_past_its_bounds_the_least_recently_used_go_first() -> None:
    one = stored([[(k, float(k)) for k in range(1000)]])  # about 8 KB kept
    kept = OlderReads(20_000, 16)
    kept.put("a", START, START + 1000, one)
    kept.put("b", START, START + 1000, one)
    assert kept.get("a", START, START + 1000) is not None  # "a" used last now
    kept.put("c", START, START + 1000, one)
    assert kept.get("b", START, START + 1000) is None
    assert kept.get("a", START, START + 1000) is not None
    assert kept.get("c", START, START + 1000) is not None
    assert kept.nbytes <= 20_000
    # A read larger than the whole bound is not kept, and pushes nothing out.
    big = stored([[(k, float(k)) for k in range(5000)]])
    kept.put("big", START, START + 5000, big)
    assert kept.get("big", START, START + 5000) is None
    assert kept.selectors == 2
    by_count = OlderReads(2**30, 2)
    for key in ("x", "y", "z"):
        by_count.put(key, START, START + 1000, one)
    assert by_count.get("x", START, START + 1000) is None
    assert by_count.selectors == 2


def test_a_read_larger_than_a_narrowing_block_comes_back_exactly() -> None:
    """Narrowing goes a block of samples at a time: a value float32 cannot hold in a late block
    still keeps every value as float64."""
    n = 2_500_000
    fps = np.repeat(np.array([3, 9], np.uint64), [n // 2, n - n // 2])
    ts = START + np.arange(n, dtype=np.int64) * 15
    vals = np.arange(n, dtype=np.float64)
    vals[-1] = 0.1
    found: Stored = (fps, ts, vals, {3: labels(3), 9: labels(9)})
    kept = OlderReads(2**30, 16)
    kept.put("big", START, START + 15 * n, found)
    got = kept.get("big", START, START + 15 * n)
    assert got is not None
    assert np.array_equal(got[0], fps)
    assert np.array_equal(got[1], ts)
    assert np.array_equal(got[2].view(np.int64), vals.view(np.int64))
    assert kept.nbytes >= 12 * n  # int32 timestamps, float64 values
