"""Head: recent samples in memory answer exactly what was written (the last write of each
timestamp), from its start on, through appends, out-of-order and duplicate writes, truncation
and concurrent queries."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.storage.fakes import samples_of

import spyglass.storage.metrics._head as head_module
from spyglass.core.labels import Labels, fingerprint, labels_of
from spyglass.core.matchers import Matcher, matches_all
from spyglass.core.samples import STALE_NAN, SampleBatch
from spyglass.storage.metrics import Head

NOW = 1_760_000_000_000
SERIES: list[Labels] = [
    labels_of({"__name__": name, "job": job, "env": env})
    for name in ("up", "req_total")
    for job in ("a", "b", "")
    for env in ("prod", "")
]
VALUES = ["a", "b", "", "prod", "x", "a|b", ".*", ".+", "p.*", "up"]


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


def batch(rows: list[tuple[int, int, float]]) -> SampleBatch:
    return samples_of(SERIES, rows)


def started(window_ms: int, clock: Clock) -> Head:
    head = Head(window_ms, clock=clock)
    head.begin(clock.ms - window_ms)
    head.mark_valid()
    return head


def answer(
    head: Head, matchers: list[Matcher], lo: int, hi: int
) -> dict[Labels, tuple[list[int], list[int]]]:
    _, found = head.select(matchers, lo, hi)
    # Values compared by bits: a staleness marker is a NaN, which == would never match.
    return {ls: (ts.tolist(), vals.view(np.uint64).tolist()) for _, ls, ts, vals in found}


class Reference:
    """What the head must answer: the last value written per series and timestamp."""

    def __init__(self) -> None:
        self.data: dict[Labels, dict[int, float]] = {}

    def write(self, rows: list[tuple[int, int, float]]) -> None:
        for i, t, v in rows:
            self.data.setdefault(SERIES[i], {})[t] = v

    def answer(
        self, matchers: list[Matcher], lo: int, hi: int
    ) -> dict[Labels, tuple[list[int], list[int]]]:
        out = {}
        for ls, by_ts in self.data.items():
            if not matches_all(matchers, ls):
                continue
            ts = sorted(t for t in by_ts if lo <= t <= hi)
            if ts:
                bits = np.array([by_ts[t] for t in ts], np.float64).view(np.uint64).tolist()
                out[ls] = (ts, bits)
        return out


# Two hours back, some ahead, and a month ahead: past what int32 milliseconds after a series'
# first sample reach, so that series keeps int64 timestamps.
times = st.one_of(
    st.integers(-12, 4).map(lambda k: NOW + k * 600_000),
    st.integers(0, 2).map(lambda k: NOW + 30 * 86_400_000 + k),
)
# Values the head stores as int32, as float32 and as float64, and the ones that must not be
# narrowed although they look narrow (-0.0, the staleness marker's NaN payload).
values = st.one_of(
    st.floats(allow_nan=False, width=64),
    st.floats(width=32),
    st.integers(-(2**31), 2**31 - 1).map(float),
    st.integers(-(2**62), 2**62).map(float),
    st.sampled_from([0.0, -0.0, 1.0, math.inf, -math.inf, math.nan, STALE_NAN]),
)
rows = st.lists(st.tuples(st.integers(0, len(SERIES) - 1), times, values), min_size=1, max_size=20)
matchers = st.lists(
    st.builds(
        Matcher.of,
        st.sampled_from(["__name__", "job", "env", "nope"]),
        st.sampled_from(["=", "!=", "=~", "!~"]),
        st.sampled_from(VALUES),
    ),
    min_size=0,
    max_size=3,
)
# A step appends a batch, or moves the clock on (in 10-minute steps) and truncates.
steps = st.lists(st.one_of(rows, st.integers(1, 4)), min_size=1, max_size=8)
ranges = st.tuples(times, times).map(sorted)


@settings(max_examples=200, deadline=None)
@given(steps=steps, queries=st.lists(st.tuples(matchers, ranges), min_size=1, max_size=4))
def test_head_answers_the_last_write_of_each_timestamp_from_its_start_on(
    steps: list[list[tuple[int, int, float]] | int],
    queries: list[tuple[list[Matcher], list[int]]],
) -> None:
    clock = Clock(NOW - 600_000)
    head = started(3_600_000, clock)
    ref = Reference()
    for step in steps:
        if isinstance(step, int):
            clock.ms += step * 600_000
            head.truncate()
            assert head.start_ms == clock.ms - 3_600_000
        else:
            head.append(batch(step))
            ref.write(step)
        for ms, (lo, hi) in queries:
            start = head.start_ms
            assert start is not None
            # Only what is at or after the head's start is the head's business.
            assert answer(head, ms, lo, hi) == ref.answer(ms, max(lo, start), hi)


def test_samples_before_the_start_are_not_kept() -> None:
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    head.append(batch([(0, NOW - 3_600_001, 1.0), (0, NOW - 3_600_000, 2.0)]))
    assert answer(head, [], 0, NOW) == {
        SERIES[0]: ([NOW - 3_600_000], np.array([2.0]).view(np.uint64).tolist())
    }
    assert head.stats().samples == 1


def test_truncation_drops_old_samples_and_emptied_series_and_frees_memory() -> None:
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    old = [(i, NOW - 3_000_000 + k * 1000, float(k)) for i in range(4) for k in range(500)]
    new = [(0, NOW + k * 1000, float(k)) for k in range(500)]
    head.append(batch(old))
    head.append(batch(new))
    before = head.stats()
    assert (before.series, before.samples) == (4, 2500)
    clock.ms += 3_600_000  # the old samples are now more than the window ago
    assert head.due()
    assert head.truncate() == 2000
    after = head.stats()
    assert (after.series, after.samples) == (1, 500)
    assert after.min_time_ms == clock.ms - 3_600_000
    assert after.bytes < before.bytes / 3
    # Emptied series leave the index too: a selector of theirs finds nothing.
    assert answer(head, [Matcher.of("job", "=", "b")], 0, 2 * NOW) == {}
    assert list(answer(head, [], 0, 2 * NOW)) == [SERIES[0]]
    assert not head.due()


def test_a_series_staged_while_a_truncation_drops_it_keeps_its_new_samples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The WAL's writer stages without the head's lock, so a batch may land between two of a
    truncation's lock holds, for a series whose older samples that truncation then drops:
    the new samples still answer."""
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    head.append(batch([(0, NOW - 3_000_000, 1.0)]))
    head.merge()
    clock.ms += 3_600_000
    cut = head_module.Head._cut
    late = batch([(0, clock.ms, 5.0)])

    def cut_after_a_late_batch(self: Head, fp: int, start_ms: int) -> int:
        if fp == int(late.fingerprints[0]):
            self.append(late)  # the writer thread, between the truncation's chunks
        return cut(self, fp, start_ms)

    monkeypatch.setattr(head_module.Head, "_cut", cut_after_a_late_batch)
    head.truncate()
    assert answer(head, [], 0, 2 * NOW) == {
        SERIES[0]: ([clock.ms], np.array([5.0]).view(np.uint64).tolist())
    }
    assert head.stats().samples == 1


def test_appends_leave_merging_to_their_caller_until_far_too_much_is_staged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``append`` (on the WAL's writer thread) says when a merge is due rather than merging,
    unless its caller has let ``STAGE_BACKSTOP`` times that much gather."""
    monkeypatch.setattr(head_module, "STAGE_SAMPLES", 4)
    monkeypatch.setattr(head_module, "STAGE_PER_SERIES", 1)
    merges: list[int] = []
    merge = head_module.Head._merge_staged

    def counted(self: Head) -> None:
        merges.append(1)
        merge(self)

    monkeypatch.setattr(head_module.Head, "_merge_staged", counted)
    head = started(3_600_000, Clock(NOW))
    said = [head.append(batch([(0, NOW + k, 1.0)])) for k in range(15)]
    assert said == [False] * 3 + [True] * 12
    assert merges == []
    assert head.append(batch([(0, NOW + 15, 1.0)]))  # 16 staged: four times what is due
    assert len(merges) == 1
    assert not head.append(batch([(0, NOW + 16, 1.0)]))
    assert head.stats().samples == 17


def test_truncation_never_moves_the_start_back() -> None:
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    assert head.truncate(NOW) == 0
    assert head.truncate(NOW - 10) == 0
    assert head.start_ms == NOW


def test_a_byte_limit_makes_truncation_due() -> None:
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    head.append(batch([(0, NOW + k, 1.0) for k in range(1000)]))
    assert not head.due()
    assert head.due(max_bytes=head.stats().bytes - 1)


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (float, np.int32),
        (lambda k: 2.0**40 * k, np.float32),
        (lambda k: k + 0.1, np.float64),
        (lambda k: STALE_NAN, np.float64),
    ],
    ids=["int32", "float32", "float64", "staleness-marker"],
)
def test_timestamps_take_four_bytes_and_values_the_narrowest_exact_width(
    value: Callable[[int], float], dtype: type[np.generic]
) -> None:
    """Timestamps as int32 milliseconds after the series' first, values as int32 or float32
    when that gives every one back exactly (else float64); the head's bytes count that, plus
    at most half again for growth."""
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    for k in range(480):  # one sample per series per batch, as a scrape writes
        head.append(batch([(i, NOW + k * 1000, value(k)) for i in range(len(SERIES))]))
    head.merge()
    stored = list(head._series.values())
    assert {(s.ts.dtype, s.vals.dtype) for s in stored} == {(np.dtype(np.int32), np.dtype(dtype))}
    width = 4 + np.dtype(dtype).itemsize
    st_ = head.stats()
    per_sample = st_.bytes / st_.samples
    assert width <= per_sample <= width * 1.5 + 600 / 480 + 1


def test_a_series_widens_when_a_value_stops_fitting_and_keeps_every_sample() -> None:
    """A counter passing int32's range, then a fraction, then a NaN: each widens the series'
    values once, and the earlier samples read back unchanged."""
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    written = [1.0, 2.0**31 + 1, 0.5, STALE_NAN, -0.0]
    for k, v in enumerate(written):
        head.append(batch([(0, NOW + k, v)]))
        head.merge()
    _, found = head.select([], 0, 2 * NOW)
    (_, _, ts, vals) = found[0]
    assert ts.tolist() == [NOW + k for k in range(len(written))]
    assert vals.view(np.uint64).tolist() == np.array(written).view(np.uint64).tolist()


def test_prepended_samples_lose_to_appended_ones_at_the_same_timestamp() -> None:
    """At start-up what ClickHouse held comes in after the WAL replay, but was written before."""
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    head.append(batch([(0, NOW, 2.0)]))
    fp = fingerprint(SERIES[0])
    head.prepend(
        np.array([fp, fp], np.uint64),
        np.array([NOW - 1000, NOW], np.int64),
        np.array([1.0, 1.0], np.float64),
        {fp: SERIES[0]}.__getitem__,
    )
    ts_bits = answer(head, [], 0, 2 * NOW)[SERIES[0]]
    assert ts_bits == ([NOW - 1000, NOW], np.array([1.0, 2.0]).view(np.uint64).tolist())


def test_an_invalid_head_answers_nothing_and_says_so() -> None:
    clock = Clock(NOW)
    head = Head(3_600_000, clock=clock)
    head.begin(NOW - 3_600_000)
    head.append(batch([(0, NOW, 1.0)]))
    assert head.select([], 0, 2 * NOW) == (None, [])  # loading: not valid yet
    head.mark_valid()
    assert head.select([], 0, 2 * NOW)[0] == NOW - 3_600_000
    head.invalidate()
    assert head.select([], 0, 2 * NOW) == (None, [])
    assert head.stats().samples == 0


def test_a_query_reads_a_consistent_snapshot_while_appends_and_truncations_run() -> None:
    """Every answer holds, for each series, all samples from the head's start to some point:
    no gap, nothing below the start, in order."""
    clock = Clock(NOW)
    head = started(600_000, clock)
    stop = threading.Event()
    errors: list[str] = []

    def write() -> None:
        k = 0
        while not stop.is_set() and k < 20_000:
            head.append(batch([(i, NOW + k * 10, float(k)) for i in range(4)]))
            if k % 500 == 0:
                head.truncate(NOW + k * 5)
            k += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(300):
            start, found = head.select([], 0, 2 * NOW)
            assert start is not None
            for _, _, ts, vals in found:
                if len(ts) and (ts[0] < start or np.any(np.diff(ts) != 10)):
                    errors.append(f"start {start}: {ts[:3]}..., {len(ts)} samples")
                if not np.array_equal((ts - NOW) // 10, vals.astype(np.int64)):
                    errors.append("values do not match their timestamps")
    finally:
        stop.set()
        writer.join()
    assert errors == []


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        (Matcher.of("job", "=", ""), 4),  # series without a job label
        (Matcher.of("job", "!=", "a"), 8),
        (Matcher.of("job", "=~", "a|"), 8),
        (Matcher.of("nope", "!~", ".+"), 12),
        (Matcher.of("nope", "=~", ".+"), 0),
        (Matcher.of("env", "!~", ""), 6),
    ],
)
def test_matchers_on_missing_labels_follow_prometheus(matcher: Matcher, expected: int) -> None:
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    head.append(batch([(i, NOW, 1.0) for i in range(len(SERIES))]))
    assert len(answer(head, [matcher], NOW, NOW)) == expected


def test_batches_merged_on_the_way_answer_as_staged_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Appends gather in a staging list and move into their series when enough gather (here
    every few samples), when ``merge`` runs or when a query reads: the answer is the same."""
    monkeypatch.setattr(head_module, "STAGE_SAMPLES", 5)
    rng = np.random.default_rng(11)
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    ref = Reference()
    for k in range(200):
        rows = [
            (int(i), NOW - int(t) * 60_000, float(v))
            for i, t, v in zip(
                rng.integers(0, len(SERIES), 3),
                rng.integers(-5, 70, 3),
                rng.integers(0, 4, 3),
                strict=True,
            )
        ]
        head.append(batch(rows))
        ref.write(rows)
        if k % 50 == 0:
            head.merge()
    start = head.start_ms
    assert start is not None
    for lo in (0, NOW - 1_800_000, NOW):
        assert answer(head, [], lo, 2 * NOW) == ref.answer([], max(lo, start), 2 * NOW)


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(st.one_of(rows, st.just("rank")), min_size=1, max_size=8),
    query=st.tuples(matchers, ranges),
)
def test_ranked_heads_answer_in_label_order_and_new_series_are_never_lost(
    steps: list[list[tuple[int, int, float]] | str], query: tuple[list[Matcher], list[int]]
) -> None:
    """Once ``rank`` has numbered every series a query's matches come in label order (what the
    engine sorts them into); series created after it still answer (then by fingerprint, unless
    the query matches none of them)."""
    clock = Clock(NOW - 600_000)
    head = started(3_600_000, clock)
    ref = Reference()
    for step in steps:
        if step == "rank":
            head.rank()
            assert head.unranked == 0
        else:
            assert not isinstance(step, str)
            head.append(batch(step))
            ref.write(step)
        ms, (lo, hi) = query
        assert answer(head, ms, lo, hi) == ref.answer(ms, max(lo, NOW - 4_200_000), hi)
        _, found = head.select(ms, lo, hi)
        order = [ls for _, ls, _, _ in found]
        fps = [fp for fp, *_ in found]
        assert order == sorted(order) or (head.unranked and fps == sorted(fps))


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.one_of(rows, st.just("rank"), st.integers(1, 2)), min_size=1, max_size=8),
    queries=st.lists(st.tuples(matchers, ranges), min_size=1, max_size=3),
    grouping=st.lists(st.sampled_from(["__name__", "job", "env", "nope"]), max_size=3),
    tails=st.booleans(),
)
def test_columns_answer_what_select_answers_with_codes_that_match_the_labels(
    steps: list[list[tuple[int, int, float]] | str | int],
    queries: list[tuple[list[Matcher], list[int]]],
    grouping: list[str],
    tails: bool,
) -> None:
    """``select_columns`` lays ``select``'s series end to end in the same order, same samples
    bit for bit, and says they are in label order only when they are; each series' number
    leads to codes whose values are that series' labels (``""`` for a missing one), through
    appends out of order, truncations and ranks. ``tails`` makes even these few series take
    the path that searches all series' last samples at once (meant for thousands), sized
    from one series."""
    saved = head_module._TAIL_MIN_SERIES, head_module._TAIL_PROBES
    if tails:
        # One probe: the other series' windows may be longer than the probed one's, which
        # is what the per-series fallback is for.
        head_module._TAIL_MIN_SERIES, head_module._TAIL_PROBES = 1, 1
    try:
        _check_columns(steps, queries, grouping)
    finally:
        head_module._TAIL_MIN_SERIES, head_module._TAIL_PROBES = saved


def _check_columns(
    steps: list[list[tuple[int, int, float]] | str | int],
    queries: list[tuple[list[Matcher], list[int]]],
    grouping: list[str],
) -> None:
    clock = Clock(NOW - 600_000)
    head = started(3_600_000, clock)
    for step in steps:
        if step == "rank":
            head.rank()
        elif isinstance(step, int):
            clock.ms += step * 600_000
            head.truncate()
        else:
            assert not isinstance(step, str)
            head.append(batch(step))
        for ms, (lo, hi) in queries:
            start, found = head.select(ms, lo, hi)
            col_start, cols = head.select_columns(ms, lo, hi)
            assert col_start == start
            assert cols.labels == [ls for _, ls, _, _ in found]
            assert cols.offsets.tolist() == [0, *np.cumsum([len(t) for _, _, t, _ in found])]
            assert cols.timestamps.tolist() == [t for _, _, ts, _ in found for t in ts.tolist()]
            bits = [b for _, _, _, v in found for b in v.view(np.uint64).tolist()]
            assert cols.values.view(np.uint64).tolist() == bits
            if cols.in_order:
                assert cols.labels == sorted(cols.labels)
            if cols.in_order and cols.labels:
                assert cols.index is not None
                assert cols.numbers is not None
                assert len(cols.numbers) == len(cols.labels)
                for name in grouping:
                    codes, names = cols.index.codes(name)
                    got = [names[c] for c in codes[cols.numbers].tolist()]
                    assert got == [dict(ls).get(name, "") for ls in cols.labels]
            else:
                assert cols.numbers is None


def test_a_series_denser_than_the_probed_ones_still_answers_whole() -> None:
    """Columns over many series take the last samples of each, as many as the probed series
    need; a series with more samples in the window than those (here one of 100, not probed)
    is read on its own, not cut short."""
    clock = Clock(NOW)
    head = Head(3_600_000, clock=clock)
    head.begin(NOW - 3_600_000)
    sets = [labels_of({"__name__": "m", "i": f"{i:03}"}) for i in range(100)]
    for i, ls in enumerate(sets):
        fp = fingerprint(ls)
        ts = np.arange(NOW - (50 if i == 5 else 3) * 1_000, NOW, 1_000, dtype=np.int64)
        head.append(SampleBatch({fp: ls}, np.full(len(ts), fp, np.uint64), ts, ts * 1.0))
    head.mark_valid()
    head.rank()
    _, cols = head.select_columns([], NOW - 3_600_000, NOW)
    assert np.diff(cols.offsets).tolist() == [50 if i == 5 else 3 for i in range(100)]
    _, found = head.select([], NOW - 3_600_000, NOW)
    assert cols.timestamps.tolist() == [t for _, _, ts, _ in found for t in ts.tolist()]


def test_a_query_over_all_of_int64_finds_every_sample_however_stored() -> None:
    """Searches run on the stored (int32 or int64, after the series' base) timestamps with
    clamped keys: the widest possible range still finds every sample."""
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    far = NOW + 40 * 86_400_000  # past int32 milliseconds after the first: int64 storage
    head.append(batch([(0, NOW, 1.0), (0, far, 2.5), (1, NOW, 3.0)]))
    lo, hi = -(2**63), 2**63 - 1
    assert answer(head, [], lo, hi) == {
        SERIES[0]: ([NOW, far], np.array([1.0, 2.5]).view(np.uint64).tolist()),
        SERIES[1]: ([NOW], np.array([3.0]).view(np.uint64).tolist()),
    }
    _, cols = head.select_columns([], lo, hi)
    assert sorted(cols.timestamps.tolist()) == [NOW, NOW, far]


def test_columns_over_many_series_cut_each_tail_to_the_range_exactly() -> None:
    """With many series the last samples of all of them are cut to the range by one mask:
    a range ending before the newest samples, starting between two samples, and missing some
    series altogether gives each series exactly the samples ``select`` gives (values of every
    stored width, the staleness marker and -0.0 bit for bit)."""
    clock = Clock(NOW)
    head = Head(3_600_000, clock=clock)
    head.begin(NOW - 3_600_000)
    sets = [labels_of({"__name__": "m", "i": f"{i:03}"}) for i in range(200)]
    widths = [1.0, 0.1, 2.0**40, STALE_NAN, -0.0]
    for i, ls in enumerate(sets):
        fp = fingerprint(ls)
        # Series 7 of every 10 stop before the range; the rest run past its end.
        stop = NOW - 1_800_000 if i % 10 == 7 else NOW
        ts = np.arange(NOW - 3_000_000 + i, stop, 15_000, dtype=np.int64)
        vals = np.where(np.arange(len(ts)) % 2 == 0, widths[i % len(widths)], float(i))
        head.append(SampleBatch({fp: ls}, np.full(len(ts), fp, np.uint64), ts, vals))
    head.mark_valid()
    head.rank()
    lo, hi = NOW - 1_200_000 + 7_500, NOW - 300_000
    _, found = head.select([], lo, hi)
    _, cols = head.select_columns([], lo, hi)
    assert len(found) == 180
    assert cols.labels == [ls for _, ls, _, _ in found]
    assert np.diff(cols.offsets).tolist() == [len(ts) for _, _, ts, _ in found]
    assert cols.timestamps.tolist() == [t for _, _, ts, _ in found for t in ts.tolist()]
    assert cols.values.view(np.uint64).tolist() == [
        b for _, _, _, v in found for b in v.view(np.uint64).tolist()
    ]
    assert all(lo <= t <= hi for t in cols.timestamps.tolist())


@settings(max_examples=200, deadline=None)
@given(
    steps=steps,
    queries=st.lists(st.tuples(matchers, ranges), min_size=1, max_size=4),
    limit=st.integers(0, len(SERIES)),
)
def test_a_series_bound_is_never_below_what_a_read_returns(
    steps: list[list[tuple[int, int, float]] | int],
    queries: list[tuple[list[Matcher], list[int]]],
    limit: int,
) -> None:
    """Where ``series_bound`` answers, the read it speaks for returns at most that many series,
    and that many are at most the limit; with a limit above every series it answers for each
    range inside the head without a regex matcher."""
    clock = Clock(NOW - 600_000)
    head = started(3_600_000, clock)
    for step in steps:
        if isinstance(step, int):
            clock.ms += step * 600_000
            head.truncate()
        else:
            head.append(batch(step))
        for ms, (lo, hi) in queries:
            start = head.start_ms
            assert start is not None
            regex = any(m.op.value in ("=~", "!~") for m in ms)
            unlimited = head.series_bound(ms, lo, hi, len(SERIES))
            assert (unlimited is None) == (regex or lo < start)
            bound = head.series_bound(ms, lo, hi, limit)
            if bound is not None:
                assert bound <= limit
                _, cols = head.select_columns(ms, lo, hi)
                assert len(cols.labels) <= bound


def test_a_series_bound_refuses_what_may_cost_io_or_a_wait() -> None:
    """No bound for a range before the head's start (ClickHouse holds it), a regex (the store
    may check it with ClickHouse), an invalid head, a head busy under its lock, or many
    samples waiting to be merged."""
    clock = Clock(NOW)
    head = started(3_600_000, clock)
    head.append(batch([(i, NOW, 1.0) for i in range(len(SERIES))]))
    up = [Matcher.of("__name__", "=", "up")]
    assert head.series_bound(up, NOW - 60_000, NOW, 10) == 6
    assert head.series_bound([*up, Matcher.of("job", "=", "a")], NOW - 60_000, NOW, 10) == 2
    assert head.series_bound(up, NOW - 60_000, NOW, 5) is None
    assert head.series_bound(up, NOW - 3_600_001, NOW, 10) is None
    assert head.series_bound([*up, Matcher.of("job", "=~", "a")], NOW - 60_000, NOW, 10) is None
    assert head.series_bound([Matcher.of("__name__", "=", "none")], NOW, NOW, 10) == 0
    with head._lock:
        assert head.series_bound(up, NOW - 60_000, NOW, 10) is None
    head.append(batch([(0, NOW + k, 1.0) for k in range(head_module.BOUND_STAGED_SAMPLES + 1)]))
    assert head.series_bound(up, NOW - 60_000, NOW, 10) is None
    head.merge()
    assert head.series_bound(up, NOW - 60_000, NOW, 10) == 6
    head.invalidate()
    assert head.series_bound(up, NOW - 60_000, NOW, 10) is None
