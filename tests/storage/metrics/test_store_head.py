"""MetricsStore with its in-memory head: answers equal those without it (and MemoryStore's) for
any data, flush and truncation, whatever the range and its place against the head's start;
recent ranges cost no ClickHouse query; a restart rebuilds the same head; its figures reach
``/metrics``."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.storage.fakes import Clock, CountingBackend, empty_tables, figures, samples_of

from spyglass.core.labels import Labels, fingerprint, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import STALE_NAN, SampleBatch
from spyglass.storage import MemoryStore, Selection, SeriesData
from spyglass.storage.backends import Backend, ChdbBackend
from spyglass.storage.metrics import MetricsStore

HOUR = 3_600_000
NOW = 1_760_000_000_000
RETENTION = 10 * 365 * 86_400_000  # ClickHouse's TTL applies on insert: keep the fixed past day
SERIES: list[Labels] = [
    labels_of({"__name__": name, "job": job, "env": env})
    for name in ("up", "req_total")
    for job in ("a", "b", "")
    for env in ("prod", "")
]
VALUES = ["a", "b", "", "prod", "x", "a|b", ".*", ".+", "p.*"]


def make(rs: list[tuple[int, int, float]]) -> SampleBatch:
    return samples_of(SERIES, rs)


def norm(result: list[SeriesData]) -> dict[Labels, tuple[list[int], list[int]]]:
    """Series -> (timestamps, value bits): bits so staleness markers compare exactly."""
    return {s.labels: (s.timestamps.tolist(), s.values.view(np.uint64).tolist()) for s in result}


def store(backend: Backend, data_dir: Path, clock: Clock, **kw: Any) -> MetricsStore:
    kw.setdefault("head_window_ms", 4 * HOUR)
    return MetricsStore(
        backend,
        data_dir,
        flush_interval_ms=3_600_000,
        retention_ms=RETENTION,
        clock=clock,
        **kw,
    )


# Samples on a five-minute grid from eight hours before NOW to an hour after: the head (four hours,
# truncated as the clock moves) holds the recent part, ClickHouse and the pending buffer all.
times = st.integers(-96, 12).map(lambda k: NOW + k * 300_000)
values = st.one_of(st.floats(allow_nan=False, width=64), st.just(STALE_NAN))
# Runs of samples (a series, a first timestamp, up to twelve samples), so every range holds some.
rows = st.lists(
    st.tuples(
        st.one_of(st.just(0), st.integers(0, len(SERIES) - 1)), times, st.integers(1, 12), values
    ).map(lambda r: [(r[0], r[1] + j * 300_000, r[3] if j % 3 else r[3] + j) for j in range(r[2])]),
    min_size=1,
    max_size=6,
).map(lambda runs: [row for run in runs for row in run])
# A step appends a batch (then flushes or not), or moves the clock half an hour and truncates.
steps = st.lists(st.one_of(st.tuples(rows, st.booleans()), st.just(None)), min_size=1, max_size=5)
matchers = st.lists(
    st.builds(
        Matcher.of,
        st.sampled_from(["__name__", "job", "env", "nope"]),
        st.sampled_from(["=", "!=", "=~", "!~"]),
        st.sampled_from(VALUES),
    ),
    min_size=1,
    max_size=2,
)
# A range starts near the head's start (most exactness bugs live there) or anywhere, and ends
# anywhere after it.
starts = st.one_of(
    st.tuples(st.integers(-6, 3), st.sampled_from([0, 1, 299_999])).map(
        lambda r: ("head", r[0] * 300_000 - r[1])
    ),
    times.map(lambda t: ("abs", t)),
)
ranges = st.tuples(starts, times)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, queries=st.lists(st.tuples(matchers, ranges), min_size=1, max_size=4))
def test_select_with_the_head_equals_select_without_it(
    chdb_backend: ChdbBackend,
    steps: list[tuple[list[tuple[int, int, float]], bool] | None],
    queries: list[tuple[list[Matcher], tuple[tuple[str, int], int]]],
) -> None:
    """Both stores write the same batches to the same tables (each row twice, the same way),
    so ClickHouse holds the same answer for both; only the head differs. The queries run again
    once the head's series are numbered (``rank``): a range before its start then joins the
    two parts as columns."""
    empty_tables(chdb_backend)
    ref = MemoryStore()
    clock = Clock(NOW)

    async def go(tmp: Path) -> None:
        with_head = store(chdb_backend, tmp / "a", clock)
        plain = store(chdb_backend, tmp / "b", clock, head_window_ms=0)
        await with_head.start()
        await plain.start()
        assert with_head.head is not None
        assert plain.head is None
        try:
            for step in steps:
                if step is None:
                    clock.ms += HOUR // 2
                    with_head.truncate_head()
                    continue
                rs, flush = step
                b = make(rs)
                ref.write(b)
                await with_head.append(b)
                await plain.append(b)
                if flush:
                    with_head.flush_now()
                    plain.flush_now()
            head_start = with_head.head.start_ms
            assert head_start == clock.ms - 4 * HOUR
            for ranked in (False, True):
                if ranked:
                    with_head.head.rank()
                for ms, ((base, offset), end) in queries:
                    lo = offset + (head_start if base == "head" else 0)
                    hi = max(lo, end)
                    got = norm(with_head.select(ms, lo, hi))
                    assert got == norm(plain.select(ms, lo, hi))
                    assert got == norm(ref.select(ms, lo, hi))
                    # As columns (straight from the head where it holds the range): the same.
                    cols = with_head.select_columns(ms, lo, hi)
                    o = cols.offsets.tolist()
                    as_series = [
                        SeriesData(
                            ls, cols.timestamps[o[i] : o[i + 1]], cols.values[o[i] : o[i + 1]]
                        )
                        for i, ls in enumerate(cols.labels)
                    ]
                    assert norm(as_series) == got
                    assert len(set(cols.labels)) == len(cols.labels)
                    if cols.in_order:  # the engine then takes the order as it is
                        assert cols.labels == sorted(cols.labels)
            # A rule group's batched reads answer the same, from the head where it can.
            selections = [
                Selection(tuple(ms), offset + (head_start if base == "head" else 0), end)
                for ms, ((base, offset), end) in queries
            ]
            batched = with_head.select_many(selections)
            for sel, got_many in zip(selections, batched, strict=True):
                assert norm(got_many) == norm(
                    plain.select(list(sel.matchers), sel.start_ms, sel.end_ms)
                )
        finally:
            await with_head.close()
            await plain.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(go(Path(tmp)))


def test_a_recent_range_is_answered_without_clickhouse(
    chdb_backend: ChdbBackend, tmp_path: Path
) -> None:
    empty_tables(chdb_backend)
    counting = CountingBackend(chdb_backend)
    clock = Clock(NOW)

    async def go() -> None:
        s = store(cast(Backend, counting), tmp_path, clock)
        await s.start()
        try:
            await s.append(make([(0, NOW - HOUR, 1.0), (0, NOW, 2.0), (2, NOW, 3.0)]))
            s.flush_now()
            counting.queries.clear()
            up = [Matcher.of("__name__", "=", "up"), Matcher.of("job", "=", "a")]
            got = s.select(up, NOW - 2 * HOUR, NOW)
            assert norm(got) == {
                SERIES[0]: ([NOW - HOUR, NOW], np.array([1.0, 2.0]).view(np.uint64).tolist())
            }
            assert counting.queries == []
            (many,) = s.select_many([Selection(tuple(up), NOW - 2 * HOUR, NOW)])
            assert norm(many) == norm(got)
            assert counting.queries == []  # batched reads of recent data skip ClickHouse too
            # A range reaching before the head's start reads ClickHouse for that part only.
            assert norm(s.select(up, NOW - 5 * HOUR, NOW)) == norm(got)
            assert counting.queries
        finally:
            await s.close()

    asyncio.run(go())


def test_a_range_before_the_head_joins_both_parts_as_columns(
    chdb_backend: ChdbBackend, tmp_path: Path
) -> None:
    """With the head's series numbered, a range reaching before its start is joined as
    columns: each series' stored samples then its head samples, in label order with the label
    index kept while every stored series is in the head, in fingerprint order otherwise."""
    empty_tables(chdb_backend)
    clock = Clock(NOW)
    everything = [Matcher.of("__name__", "=~", ".+")]

    async def go() -> None:
        s = store(chdb_backend, tmp_path, clock)
        await s.start()
        assert s.head is not None
        try:
            old = [(i, NOW - 5 * HOUR, float(i)) for i in (0, 3, 5)]
            new = [(i, NOW - HOUR, float(-i)) for i in range(len(SERIES)) if i != 9]
            await s.append(make(old + new))
            s.flush_now()
            s.head.rank()
            cols = s.select_columns(everything, NOW - 6 * HOUR, NOW)
            assert cols.in_order
            assert cols.index is not None
            assert cols.numbers is not None
            assert cols.labels == sorted(ls for i, ls in enumerate(SERIES) if i != 9)
            o = cols.offsets.tolist()
            for k, ls in enumerate(cols.labels):
                i = SERIES.index(ls)
                want = [NOW - 5 * HOUR, NOW - HOUR] if i in (0, 3, 5) else [NOW - HOUR]
                assert cols.timestamps[o[k] : o[k + 1]].tolist() == want
                assert cols.values[o[k + 1] - 1] == -i
            # Series 9 only in ClickHouse's part of the range: fingerprint order, no index.
            await s.append(make([(9, NOW - 5 * HOUR, 9.0)]))
            job_b = [Matcher.of("job", "=", "b")]
            cols = s.select_columns(job_b, NOW - 6 * HOUR, NOW)
            assert not cols.in_order
            assert cols.index is None
            o = cols.offsets.tolist()
            as_series = [
                SeriesData(ls, cols.timestamps[o[k] : o[k + 1]], cols.values[o[k] : o[k + 1]])
                for k, ls in enumerate(cols.labels)
            ]
            assert [fingerprint(ls) for ls in cols.labels] == sorted(
                fingerprint(SERIES[i]) for i in (2, 3, 8, 9)
            )
            assert norm(as_series) == norm(s.select(job_b, NOW - 6 * HOUR, NOW))
        finally:
            await s.close()

    asyncio.run(go())


def test_a_restart_rebuilds_the_same_head(chdb_backend: ChdbBackend, tmp_path: Path) -> None:
    """Written under a running store (part flushed, part pending, out of order, overwritten),
    stopped, started again: the head answers as before, from memory."""
    empty_tables(chdb_backend)
    clock = Clock(NOW)
    everything = [Matcher.of("__name__", "=~", ".+")]
    rng = np.random.default_rng(3)

    async def write_and_ask() -> tuple[dict[Labels, Any], int]:
        s = store(chdb_backend, tmp_path, clock)
        await s.start()
        try:
            for k in range(12):
                rs = [
                    (int(i), NOW - int(t) * 60_000, float(v))
                    for i, t, v in zip(
                        rng.integers(0, len(SERIES), 40),
                        rng.integers(0, 300, 40),  # five hours back: some before the head
                        rng.integers(0, 5, 40),
                        strict=True,
                    )
                ]
                await s.append(make(rs))
                if k % 3 == 0:
                    s.flush_now()
            assert s.head is not None
            before = s.head.stats()
            return norm(s.select(everything, NOW - 4 * HOUR, NOW)), before.samples
        finally:
            await s.close()

    async def ask_again() -> tuple[dict[Labels, Any], int, int]:
        counting = CountingBackend(chdb_backend)
        s = store(cast(Backend, counting), tmp_path, clock)
        await s.start()
        try:
            assert s.head is not None
            counting.queries.clear()
            again = norm(s.select(everything, NOW - 4 * HOUR, NOW))
            return again, s.head.stats().samples, len(counting.queries)
        finally:
            await s.close()

    before, samples = asyncio.run(write_and_ask())
    assert before
    after, samples_after, queries = asyncio.run(ask_again())
    assert after == before
    # Out-of-order writes are sorted and overwritten samples collapsed by queries and at load.
    assert samples_after <= samples
    assert queries == 1  # the regex check of the new pattern; the samples came from memory


def test_over_its_byte_limit_the_head_holds_less_and_says_so(
    chdb_backend: ChdbBackend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty_tables(chdb_backend)
    clock = Clock(NOW)
    ref = MemoryStore()

    async def go() -> None:
        s = store(chdb_backend, tmp_path, clock, head_max_bytes=40_000)
        await s.start()
        try:
            b = make([(i, NOW - k * 10_000, float(k)) for i in range(4) for k in range(1000)])
            ref.write(b)
            await s.append(b)
            assert s.head is not None
            assert s.head.due(s.head_max_bytes)
            with caplog.at_level(logging.WARNING, "spyglass.storage"):
                assert s.truncate_head() > 0
            assert "exceed --head-max-bytes" in caplog.text
            st_ = s.head.stats()
            assert st_.bytes <= 40_000
            assert st_.min_time_ms > NOW - 4 * HOUR
            for lo in (NOW - 4 * HOUR, st_.min_time_ms, NOW - 60_000):
                ms = [Matcher.of("__name__", "=", "up")]
                assert norm(s.select(ms, lo, NOW)) == norm(ref.select(ms, lo, NOW))
        finally:
            await s.close()

    asyncio.run(go())


def test_head_figures_reach_the_collectors(chdb_backend: ChdbBackend, tmp_path: Path) -> None:
    empty_tables(chdb_backend)
    clock = Clock(NOW)

    async def go() -> dict[str, float]:
        s = store(chdb_backend, tmp_path, clock)
        await s.start()
        try:
            await s.append(make([(0, NOW, 1.0), (1, NOW, 1.0), (1, NOW + 1, 2.0)]))
            return figures(s.collectors())
        finally:
            await s.close()

    got = asyncio.run(go())
    assert got["spyglass_head_series"] == 2
    assert got["spyglass_head_samples"] == 3
    assert got["spyglass_head_bytes"] > 3 * 16
    assert got["spyglass_head_min_time_seconds"] == (NOW - 4 * HOUR) / 1000
    assert got["spyglass_head_truncations_total"] == 0


def test_a_window_of_zero_or_beyond_retention_is_clamped(
    chdb_backend: ChdbBackend, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    assert store(chdb_backend, tmp_path, clock, head_window_ms=0).head is None
    clamped = MetricsStore(chdb_backend, tmp_path, retention_ms=HOUR, head_window_ms=2 * HOUR)
    assert clamped.head is not None
    assert clamped.head.window_ms == HOUR
    assert len(clamped.collectors()) == 2  # the store's counters and the head's
