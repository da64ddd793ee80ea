"""The range query cache: a refreshed range evaluates only its new steps and answers exactly
what the engine alone answers, late samples reach the next answer, memory stays bounded."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.promql.test_engine_fuzz import _vector
from tests.support.split_cache import FAR_FUTURE_S

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import STALE_NAN
from spyglass.promql import Engine, EngineOptions, QueryResult, RangeCache, parse_query
from spyglass.promql._cache import look_ahead
from spyglass.storage.memory import MemoryStore
from spyglass.storage.ports import SeriesData

MIN = 60_000
HOUR = 3_600_000
NOW = 100 * HOUR  # the fake clock's "now" in ms


class Clock:
    def __init__(self, ms: int = NOW) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


def _store() -> MemoryStore:
    store = MemoryStore()
    ts = list(range(NOW - 3 * HOUR, NOW + 1, 15_000))
    for i in range(3):
        store.add(
            labels_of({"__name__": "req_total", "job": "api", "i": str(i)}),
            ts,
            [float(k * (i + 1)) for k in range(len(ts))],
        )
    # A series that exists only in the first hour of the range, and one only at the end.
    early = [t for t in ts if t < NOW - 90 * MIN]
    store.add(labels_of({"__name__": "req_total", "job": "old"}), early, [1.0] * len(early))
    late = [t for t in ts if t > NOW - 3 * MIN]
    store.add(labels_of({"__name__": "req_total", "job": "new"}), late, [2.0] * len(late))
    store.add(labels_of({"__name__": "gauge"}), ts, [math.sin(k) for k in range(len(ts))])
    return store


def _same(a: QueryResult, b: QueryResult) -> None:
    assert [s[0] for s in a.matrix] == [s[0] for s in b.matrix]
    for (_, ta, va), (_, tb, vb) in zip(a.matrix, b.matrix, strict=True):
        assert ta.tolist() == tb.tolist()
        assert np.array_equal(va.view(np.uint64), vb.view(np.uint64))  # bit for bit, NaN too


QUERIES = [
    "sum by (job) (rate(req_total[5m]))",
    "req_total",
    "timestamp(req_total)",
    "time()",
    "max_over_time(gauge[10m])",
    "avg_over_time(rate(req_total[2m])[10m:1m])",
    "sum(req_total offset 30m)",
    "sort_desc(gauge)",
    "gauge > 0.5",
    "absent(req_total{job='missing'})",
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_refresh_answers_what_the_engine_alone_answers(query: str) -> None:
    """Three refreshes 30 s apart, each answered from the cache plus its new steps, equal the
    uncached evaluation exactly, series appearing and disappearing included."""
    store, clock = _store(), Clock(NOW - 20 * MIN)
    engine = Engine(store, cache=RangeCache(clock=clock))
    for k in range(4):
        end = NOW - 20 * MIN + k * 30_000
        got = engine.range_query(query, end - HOUR, end, 30_000)
        _same(got, engine.evaluate_range(query, end - HOUR, end, 30_000))
        clock.ms += 30_000
    stats = engine.cache.stats() if engine.cache else None
    assert stats is not None
    assert (stats.misses, stats.hits) == (1, 3)


def test_a_refresh_evaluates_only_the_steps_after_the_boundary() -> None:
    """The boundary is now minus 5 minutes: a refresh 30 s later evaluates the 5.5 minutes of
    steps after what the first query cached, not the hour."""
    clock = Clock()
    engine = Engine(_store(), cache=RangeCache(clock=clock))
    engine.range_query("rate(req_total[5m])", NOW - HOUR, NOW, 30_000)
    cache = engine.cache
    assert cache is not None
    assert cache.stats().steps_evaluated == 121
    clock.ms += 30_000
    engine.range_query("rate(req_total[5m])", NOW - HOUR + 30_000, NOW + 30_000, 30_000)
    st = cache.stats()
    # cached: NOW-1h+30s .. NOW-5m (110 steps); evaluated: NOW-4.5m .. NOW+30s (11 steps).
    assert (st.steps_cached, st.steps_evaluated - 121) == (110, 11)
    assert st.entries == 1
    assert st.bytes > 0


def test_a_missing_head_is_evaluated_and_joined() -> None:
    """A query reaching further back than the entry evaluates only the steps before it."""
    engine = Engine(_store(), cache=RangeCache(clock=Clock()))
    q = "sum by (job) (req_total)"
    engine.range_query(q, NOW - HOUR, NOW - 30 * MIN, MIN)
    got = engine.range_query(q, NOW - 2 * HOUR, NOW - 30 * MIN, MIN)
    _same(got, engine.evaluate_range(q, NOW - 2 * HOUR, NOW - 30 * MIN, MIN))
    cache = engine.cache
    assert cache is not None
    assert cache.stats().steps_cached == 31


def test_an_end_between_two_steps_is_served_whole_from_the_cache() -> None:
    """Grafana and the quick ranges ask for ranges ending a millisecond before a step ("the
    day's last millisecond"): asked again, the answer comes from the cache with no new step
    (it once evaluated an empty tail and answered 400)."""
    engine = Engine(_store(), cache=RangeCache(clock=Clock()))
    q, start, end, step = "sum by (job) (req_total)", NOW - 2 * HOUR, NOW - HOUR - 1, 345_000
    first = engine.range_query(q, start, end, step)
    again = engine.range_query(q, start, end, step)
    _same(again, first)
    _same(again, engine.evaluate_range(q, start, end, step))
    cache = engine.cache
    assert cache is not None
    assert (cache.stats().hits, cache.stats().steps_evaluated) == (1, (end - start) // step + 1)


def test_a_start_off_the_cached_grid_is_not_served_from_it() -> None:
    """Steps must align exactly: a start shifted by less than a step is another entry."""
    engine = Engine(_store(), cache=RangeCache(clock=Clock()))
    engine.range_query("req_total", NOW - HOUR, NOW, MIN)
    got = engine.range_query("req_total", NOW - HOUR + 1_000, NOW + 1_000, MIN)
    _same(got, engine.evaluate_range("req_total", NOW - HOUR + 1_000, NOW + 1_000, MIN))
    cache = engine.cache
    assert cache is not None
    assert (cache.stats().hits, cache.stats().misses, cache.stats().entries) == (0, 2, 2)


@pytest.mark.parametrize(
    ("query", "ahead"),
    [
        ("rate(x[5m])", 0),
        ("x offset 10m", 0),
        ("x offset -10m", 600_000),
        ("max_over_time((x offset -1m)[5m:1m] offset -2m)", 180_000),
        ("x + on() group_left y offset -30s", 30_000),
        ("x @ 100", None),
        ("x @ end()", None),
        ("rate(x[5m] @ start())", None),
        ("max_over_time(x[5m:1m] @ end())", None),
    ],
)
def test_look_ahead_of_queries(query: str, ahead: int | None) -> None:
    """A negative offset reads after the step, so the cached boundary moves back by it; ``@``
    reads at a time unrelated to the step, so such queries are not cached."""
    assert look_ahead(parse_query(query)) == ahead


def test_at_modifiers_bypass_the_cache() -> None:
    """``@ end()`` depends on the range's end: never cached, always evaluated whole."""
    engine = Engine(_store(), cache=RangeCache(clock=Clock()))
    q = "req_total @ end()"
    for k in range(2):
        end = NOW - 30 * MIN + k * MIN
        _same(
            engine.range_query(q, end - HOUR, end, MIN),
            engine.evaluate_range(q, end - HOUR, end, MIN),
        )
    cache = engine.cache
    assert cache is not None
    assert (cache.stats().bypassed, cache.stats().entries) == (2, 0)


def test_negative_offset_caches_only_what_read_before_the_boundary() -> None:
    """``offset -10m`` reads 10 minutes after each step: the entry ends 15 minutes ago."""
    clock = Clock()
    engine = Engine(_store(), cache=RangeCache(clock=clock))
    q = "req_total offset -10m"
    engine.range_query(q, NOW - HOUR, NOW, MIN)
    cache = engine.cache
    assert cache is not None
    (entry,) = cache._entries.values()
    assert entry.hi == NOW - 15 * MIN


def test_a_late_sample_reaches_the_next_answer() -> None:
    """A sample written for a cached time truncates the entry there; the next query sees it."""
    store, clock = _store(), Clock()
    cache = RangeCache(clock=clock)
    engine = Engine(store, cache=cache)
    q = "sum(req_total)"
    before = engine.range_query(q, NOW - HOUR, NOW, MIN)
    late = NOW - 40 * MIN + 7_000
    store.add(labels_of({"__name__": "req_total", "job": "late"}), [late], [1000.0])
    held = cache.stats().bytes
    cache.samples_written(late)
    assert 0 < cache.stats().bytes < held
    assert cache.stats().bytes == sum(e.nbytes for e in cache._entries.values())
    after = engine.range_query(q, NOW - HOUR, NOW, MIN)
    _same(after, engine.evaluate_range(q, NOW - HOUR, NOW, MIN))
    assert after.matrix[0][2][21] == before.matrix[0][2][21] + 1000  # NOW-39m sees it
    st = cache.stats()
    assert st.invalidations == 1
    # Kept: the steps before the late sample (NOW-60m .. NOW-40m); evaluated again: the rest.
    assert st.steps_cached == 21


def test_recent_writes_do_not_touch_the_cache() -> None:
    """Samples newer than the boundary cannot be in any entry: nothing is invalidated."""
    clock = Clock()
    cache = RangeCache(clock=clock)
    engine = Engine(_store(), cache=cache)
    engine.range_query("req_total", NOW - HOUR, NOW, MIN)
    cache.samples_written(NOW - 4 * MIN)
    assert (cache.stats().invalidations, cache.stats().entries) == (0, 1)


class _WritesDuringRead(MemoryStore):
    """A store where a late sample lands (and is reported) right after the first read."""

    def __init__(self, cache: RangeCache, late_ms: int) -> None:
        super().__init__()
        self.cache, self.late_ms, self.armed = cache, late_ms, True

    def select(self, matchers: list[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        out = super().select(matchers, start_ms, end_ms)
        if self.armed:
            self.armed = False
            self.add(labels_of({"__name__": "req_total", "job": "late"}), [self.late_ms], [5.0])
            self.cache.samples_written(self.late_ms)
        return out


def test_a_query_that_read_before_a_late_write_does_not_cache_past_it() -> None:
    """A late sample that arrives while a query evaluates keeps that query from caching the
    steps it would change (the query itself answered from what it read)."""
    cache = RangeCache(clock=Clock())
    store = _WritesDuringRead(cache, NOW - 30 * MIN)
    for labels, ts, vs in ((s.labels, s.timestamps, s.values) for s in _store().select([], 0, NOW)):
        store.add(labels, ts.tolist(), vs.tolist())
    engine = Engine(store, cache=cache)
    engine.range_query("sum(req_total)", NOW - HOUR, NOW, MIN)
    (entry,) = cache._entries.values()
    assert entry.hi == NOW - 31 * MIN
    again = engine.range_query("sum(req_total)", NOW - HOUR, NOW, MIN)
    _same(again, engine.evaluate_range("sum(req_total)", NOW - HOUR, NOW, MIN))


def test_memory_stays_within_the_budget_least_recently_used_first() -> None:
    """Entries past the byte budget are evicted oldest-used first."""
    probe = RangeCache(clock=Clock())
    Engine(_store(), cache=probe).range_query("req_total + 0", NOW - HOUR, NOW, MIN)
    one = probe.stats().bytes
    cache = RangeCache(max_bytes=one * 4 + one // 2, clock=Clock())
    engine = Engine(_store(), cache=cache)
    for k in range(6):
        engine.range_query(f"req_total + {k}", NOW - HOUR, NOW, MIN)
        engine.range_query("req_total + 0", NOW - HOUR, NOW, MIN)  # keep this one in use
    st = cache.stats()
    assert st.bytes <= cache.max_bytes
    assert st.entries == 4
    assert st.evictions == 2
    assert ("req_total + 0", MIN) in {k[:2] for k in cache._entries}


def test_an_answer_larger_than_a_quarter_of_the_budget_is_not_kept() -> None:
    cache = RangeCache(max_bytes=1_000, clock=Clock())
    Engine(_store(), cache=cache).range_query("req_total", NOW - HOUR, NOW, MIN)
    assert (cache.stats().entries, cache.stats().bytes) == (0, 0)


def test_reset_forgets_everything() -> None:
    cache = RangeCache(clock=Clock())
    Engine(_store(), cache=cache).range_query("req_total", NOW - HOUR, NOW, MIN)
    cache.reset()
    assert (cache.stats().entries, cache.stats().bytes) == (0, 0)


def test_engine_options_that_change_answers_are_part_of_the_key() -> None:
    """Two engines with different lookback deltas sharing a cache never share entries."""
    cache = RangeCache(clock=Clock())
    store = _store()
    a = Engine(store, EngineOptions(lookback_delta_ms=300_000), cache=cache)
    b = Engine(store, EngineOptions(lookback_delta_ms=60_000), cache=cache)
    a.range_query("req_total", NOW - HOUR, NOW, MIN)
    got = b.range_query("req_total", NOW - HOUR, NOW, MIN)
    _same(got, b.evaluate_range("req_total", NOW - HOUR, NOW, MIN))
    assert cache.stats().entries == 2


# -- two overlapping pieces equal the whole ---------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_store() -> MemoryStore:
    return _fuzz_store()


def _fuzz_store() -> MemoryStore:
    """The fuzz test's data (tests/promql/test_engine_fuzz.py): stale markers, NaN, infinities,
    series that come and go."""
    store = MemoryStore()
    series = [
        ({"__name__": "a", "x": "1"}, [1, 2, 3, STALE_NAN, 5, 6, 0, 1, math.nan, 2]),
        ({"__name__": "a", "x": "2", "y": "2"}, [10, 5, 20, 30, 40, 50, 60, 70, 80, 90]),
        ({"__name__": "b", "x": "1"}, [0.5, math.inf, -1, 2, 3, -math.inf, 4, 5, 6, 7]),
        ({"__name__": "b", "y": "3"}, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
    ]
    for labels, values in series:
        store.add(labels_of(labels), [i * 30_000 for i in range(len(values))], values)
    return store


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=_vector(2),
    start=st.integers(-60, 300),
    steps=st.integers(1, 40),
    step=st.sampled_from([1, 7, 10, 30, 60]),
    cut=st.floats(0, 1),
    prefix_first=st.booleans(),
)
def test_two_cached_pieces_equal_the_whole(
    fuzz_store: MemoryStore,
    query: str,
    start: int,
    steps: int,
    step: int,
    cut: float,
    prefix_first: bool,
) -> None:
    """Evaluating ``[a, b]`` after a piece of it was cached (a prefix: the tail is evaluated;
    a suffix: the head is) answers exactly what evaluating it whole answers, or fails alike."""
    start_ms, step_ms = start * 1000, step * 1000
    end_ms = start_ms + steps * step_ms
    cut_ms = start_ms + round(cut * steps) * step_ms
    options = EngineOptions(max_samples=100_000)
    plain = Engine(fuzz_store, options)
    cached = Engine(fuzz_store, options, cache=RangeCache(clock=lambda: FAR_FUTURE_S))
    piece = (start_ms, cut_ms) if prefix_first else (cut_ms, end_ms)
    with contextlib.suppress(SpyglassError):  # the whole query below reports its own error
        cached.range_query(query, *piece, step_ms)
    try:
        whole = plain.range_query(query, start_ms, end_ms, step_ms)
    except SpyglassError as exc:
        with pytest.raises(type(exc)):
            cached.range_query(query, start_ms, end_ms, step_ms)
        return
    got = cached.range_query(query, start_ms, end_ms, step_ms)
    _same(got, whole)
    assert set(got.warnings) == set(whole.warnings)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=_vector(2),
    start=st.integers(-60, 300),
    steps=st.integers(1, 40),
    step=st.sampled_from([1, 10, 30]),
    boundary=st.floats(0, 1),
    later=st.integers(0, 120),
    late=st.tuples(
        st.sampled_from(['a{x="1"}', 'b{y="3"}', 'a{x="9"}']),
        st.integers(-120, 420),
        st.sampled_from([100.0, -3.5, math.nan, STALE_NAN]),
    ),
)
def test_a_late_sample_between_two_refreshes_is_in_the_second_answer(
    query: str,
    start: int,
    steps: int,
    step: int,
    boundary: float,
    later: int,
    late: tuple[str, int, float],
) -> None:
    """With the boundary anywhere in the range, a sample written for any time (reported to the
    cache as storage reports it) between a query and its refresh ``later`` seconds on is in the
    refresh's answer exactly as in an uncached evaluation."""
    store = _fuzz_store()
    start_ms, step_ms = start * 1000, step * 1000
    end_ms = start_ms + steps * step_ms
    clock = Clock(round(start_ms + boundary * (end_ms - start_ms)) + 300_000)
    options = EngineOptions(max_samples=100_000)
    cache = RangeCache(clock=clock)
    cached = Engine(store, options, cache=cache)
    with contextlib.suppress(SpyglassError):
        cached.range_query(query, start_ms, end_ms, step_ms)
    selector, at_s, value = late
    name, _, rest = selector.partition("{")
    label, _, quoted = rest.rstrip("}").partition("=")
    store.add(labels_of({"__name__": name, label: quoted.strip('"')}), [at_s * 1000], [value])
    cache.samples_written(at_s * 1000)
    clock.ms += later * 1000
    try:
        whole = Engine(store, options).range_query(query, start_ms, end_ms, step_ms)
    except SpyglassError as exc:
        with pytest.raises(type(exc)):
            cached.range_query(query, start_ms, end_ms, step_ms)
        return
    _same(cached.range_query(query, start_ms, end_ms, step_ms), whole)
