"""What a selector read before the head's start (samples, or nothing) is not asked of ClickHouse
again over the same stretch or one inside it, and answers stay exact: a write older than that
stretch, a truncation of the head, retention and a second writer (storage chdb_backend with other
nodes: nothing kept at all) are all seen."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.storage.fakes import Clock, CountingBackend, empty_tables, figures, samples_of

from spyglass.core.labels import Labels, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import SampleBatch
from spyglass.storage import MemoryStore, SeriesData
from spyglass.storage.backends import Backend
from spyglass.storage.metrics import MetricsStore

HOUR = 3_600_000
NOW = 1_760_000_000_000
RETENTION = 10 * 365 * 86_400_000
SERIES: list[Labels] = [
    labels_of({"__name__": name, "job": job}) for name in ("up", "gone") for job in ("a", "b")
]


def make(rs: list[tuple[int, int, float]]) -> SampleBatch:
    return samples_of(SERIES, rs)


def norm(result: list[SeriesData]) -> dict[Labels, tuple[list[int], list[float]]]:
    return {s.labels: (s.timestamps.tolist(), s.values.tolist()) for s in result}


def store(backend: Backend, data_dir: Path, clock: Clock, sole_writer: bool) -> MetricsStore:
    return MetricsStore(
        backend,
        data_dir,
        flush_interval_ms=3_600_000,
        retention_ms=RETENTION,
        clock=clock,
        head_window_ms=4 * HOUR,
        sole_writer=sole_writer,
    )


GONE = [Matcher.of("__name__", "=", "gone")]


def test_an_empty_selector_asks_once_until_an_older_write(
    chdb_backend: Backend, tmp_path: Path
) -> None:
    empty_tables(chdb_backend)
    counting = CountingBackend(chdb_backend)
    clock = Clock(NOW)

    async def go() -> None:
        s = store(cast(Backend, counting), tmp_path, clock, sole_writer=True)
        await s.start()
        try:
            await s.append(make([(0, NOW - HOUR, 1.0), (0, NOW, 2.0)]))
            s.flush_now()
            counting.queries.clear()
            assert s.select(GONE, NOW - 6 * HOUR, NOW) == []
            assert counting.queries  # the part before the head: asked once
            asked = len(counting.queries)
            assert s.select(GONE, NOW - 6 * HOUR, NOW) == []
            assert s.select(GONE, NOW - 5 * HOUR, NOW - HOUR) == []  # inside what was asked
            assert len(counting.queries) == asked
            # A recent write changes nothing before the head: still not asked.
            await s.append(make([(0, NOW + 1, 3.0)]))
            assert s.select(GONE, NOW - 6 * HOUR, NOW) == []
            assert len(counting.queries) == asked
            # A write from before the head's start is seen at once.
            await s.append(make([(2, NOW - 5 * HOUR, 7.0)]))
            got = s.select(GONE, NOW - 6 * HOUR, NOW)
            assert norm(got) == {SERIES[2]: ([NOW - 5 * HOUR], [7.0])}
            assert len(counting.queries) > asked
            # A range reaching further back than what was asked asks again.
            asked = len(counting.queries)
            empty_job = [Matcher.of("__name__", "=", "gone"), Matcher.of("job", "=", "zzz")]
            assert s.select(empty_job, NOW - 6 * HOUR, NOW) == []
            assert s.select(empty_job, NOW - 7 * HOUR, NOW) == []
            assert len(counting.queries) > asked + 1
        finally:
            await s.close()

    asyncio.run(go())


def test_samples_before_the_head_are_read_once_per_selector(
    chdb_backend: Backend, tmp_path: Path
) -> None:
    empty_tables(chdb_backend)
    counting = CountingBackend(chdb_backend)
    clock = Clock(NOW)
    up = [Matcher.of("__name__", "=", "up")]

    async def go() -> None:
        s = store(cast(Backend, counting), tmp_path, clock, sole_writer=True)
        await s.start()
        try:
            await s.append(
                make([(0, NOW - 6 * HOUR, 1.0), (0, NOW - 5 * HOUR, 2.0), (1, NOW - 5 * HOUR, 0.5)])
            )
            await s.append(make([(0, NOW - HOUR, 3.0)]))
            s.flush_now()
            whole = {
                SERIES[0]: ([NOW - 6 * HOUR, NOW - 5 * HOUR, NOW - HOUR], [1.0, 2.0, 3.0]),
                SERIES[1]: ([NOW - 5 * HOUR], [0.5]),
            }
            counting.queries.clear()
            assert norm(s.select(up, NOW - 7 * HOUR, NOW)) == whole
            asked = len(counting.queries)
            assert asked
            assert norm(s.select(up, NOW - 7 * HOUR, NOW)) == whole
            cols = s.select_columns(up, NOW - 7 * HOUR, NOW)
            ts, vals, at = cols.timestamps.tolist(), cols.values.tolist(), cols.offsets.tolist()
            by_series = {
                ls: (ts[at[i] : at[i + 1]], vals[at[i] : at[i + 1]])
                for i, ls in enumerate(cols.labels)
            }
            assert by_series == whole
            # Inside what was read: cut from memory.
            assert norm(s.select(up, NOW - 5 * HOUR, NOW)) == {
                SERIES[0]: ([NOW - 5 * HOUR, NOW - HOUR], [2.0, 3.0]),
                SERIES[1]: ([NOW - 5 * HOUR], [0.5]),
            }
            assert len(counting.queries) == asked
            got = figures(s.collectors())
            assert got["spyglass_older_reads_selectors"] == 1
            assert got["spyglass_older_reads_bytes"] > 3 * 8
            # A write from before the head's start is seen at once.
            await s.append(make([(1, NOW - 6 * HOUR, 9.0)]))
            assert norm(s.select(up, NOW - 7 * HOUR, NOW))[SERIES[1]] == (
                [NOW - 6 * HOUR, NOW - 5 * HOUR],
                [9.0, 0.5],
            )
            assert len(counting.queries) > asked
        finally:
            await s.close()

    asyncio.run(go())


def test_a_range_retention_may_have_dropped_is_read_every_time(
    chdb_backend: Backend, tmp_path: Path
) -> None:
    empty_tables(chdb_backend)
    counting = CountingBackend(chdb_backend)

    async def go() -> None:
        s = store(cast(Backend, counting), tmp_path, Clock(NOW), sole_writer=True)
        await s.start()
        try:
            counting.queries.clear()
            beyond = NOW - RETENTION - HOUR
            assert s.select(GONE, beyond, NOW) == []
            asked = len(counting.queries)
            assert asked
            assert s.select(GONE, beyond, NOW) == []
            assert len(counting.queries) == 2 * asked
            within = NOW - RETENTION + HOUR
            assert s.select(GONE, within, NOW) == []
            assert s.select(GONE, within, NOW) == []
            assert len(counting.queries) == 3 * asked
        finally:
            await s.close()

    asyncio.run(go())


def test_storage_shared_with_other_writers_asks_every_time(
    chdb_backend: Backend, tmp_path: Path
) -> None:
    empty_tables(chdb_backend)
    counting = CountingBackend(chdb_backend)

    async def go() -> None:
        s = store(cast(Backend, counting), tmp_path, Clock(NOW), sole_writer=False)
        await s.start()
        try:
            await s.append(make([(0, NOW, 2.0)]))
            counting.queries.clear()
            assert s.select(GONE, NOW - 6 * HOUR, NOW) == []
            asked = len(counting.queries)
            assert asked
            assert s.select(GONE, NOW - 6 * HOUR, NOW) == []
            assert len(counting.queries) == 2 * asked
        finally:
            await s.close()

    asyncio.run(go())


# Samples every half hour from nine hours before NOW to NOW: the head (four hours) holds the
# recent part; truncation moves its start as the clock moves.
times = st.integers(-18, 0).map(lambda k: NOW + k * 1_800_000)
# Every selector is asked after every step, so each is asked before and after a write that
# changes it.
SELECTORS = [
    GONE,
    [Matcher.of("__name__", "=", "up")],
    [Matcher.of("__name__", "=", "gone"), Matcher.of("job", "=", "a")],
    [Matcher.of("job", "=", "b")],
    [Matcher.of("__name__", "=~", ".+"), Matcher.of("job", "!=", "a")],
]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(0, len(SERIES) - 1), times, st.booleans()),
        st.just(("later",)),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=ops, starts=st.lists(times, min_size=1, max_size=2))
def test_answers_equal_a_store_that_remembers_nothing(
    chdb_backend: Backend, ops: list[Any], starts: list[int]
) -> None:
    """Writes (old and new, flushed or not) and truncations in any order, every selector asked
    after each: the store that remembers empty selectors answers what MemoryStore answers."""
    empty_tables(chdb_backend)
    ref = MemoryStore()
    clock = Clock(NOW)

    async def go(tmp: Path) -> None:
        s = store(chdb_backend, tmp, clock, sole_writer=True)
        await s.start()
        try:
            for op in ops:
                if op[0] == "write":
                    _, i, t, flush = op
                    b = make([(i, t, float(t % 97))])
                    ref.write(b)
                    await s.append(b)
                    if flush:
                        s.flush_now()
                else:
                    clock.ms += HOUR
                    s.truncate_head()
                for ms in SELECTORS:
                    for start in starts:
                        got = norm(s.select(ms, start, clock.ms))
                        assert got == norm(ref.select(ms, start, clock.ms))
        finally:
            await s.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(go(Path(tmp)))
