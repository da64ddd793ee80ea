"""MetricsStore over chDB: round trips, matchers, ranges, staleness bits, duplicates, pending."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from spyglass.core.errors import BadInput, Unavailable
from spyglass.core.labels import Labels, fingerprint, labels_of
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.samples import STALE_NAN, STALE_NAN_BITS, MetricMetadata, SampleBatch
from spyglass.storage import BatchQuerier, MemoryStore, Selection, SeriesData
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.metrics import MetricsStore

DAY = 86_400_000
T0 = 1_760_000_000_000  # 2025-10-09, a fixed day so results do not depend on the clock
# ClickHouse applies the TTL on insert, so a fixed past day needs a retention that covers it.
RETENTION = 10 * 365 * DAY


def batch(
    rows: Sequence[tuple[Labels, int, float]], metadata: dict[str, MetricMetadata] | None = None
) -> SampleBatch:
    series = {fingerprint(ls): ls for ls, _, _ in rows}
    return SampleBatch(
        series,
        np.array([fingerprint(ls) for ls, _, _ in rows], dtype=np.uint64),
        np.array([t for _, t, _ in rows], dtype=np.int64),
        np.array([v for _, _, v in rows], dtype=np.float64),
        metadata or {},
    )


def as_dict(result: list[SeriesData]) -> dict[Labels, tuple[list[int], list[int]]]:
    """Series -> (timestamps, value bits): bits so NaNs and staleness markers compare exactly."""
    return {s.labels: (s.timestamps.tolist(), s.values.view(np.uint64).tolist()) for s in result}


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _open(backend: ChdbBackend, data_dir: Path, **kw: int) -> MetricsStore:
    kw.setdefault("retention_ms", RETENTION)
    store = MetricsStore(backend, data_dir, flush_interval_ms=3_600_000, **kw)
    await store.start()
    return store


def _dataset() -> list[tuple[Labels, int, float]]:
    rng = random.Random(7)
    rows = []
    for job in ("api", "db", "web"):
        for inst in range(4):
            for name in ("http_requests_total", "up"):
                ls = labels_of(
                    {
                        "__name__": name,
                        "job": job,
                        "instance": f"h{inst}:9100",
                        "env": "" if inst == 3 else ("prod" if inst < 2 else "dev"),
                    }
                )
                for k in range(20):
                    rows.append(
                        (ls, T0 + k * 15_000 + rng.randint(-50, 50), float(rng.randint(0, 9)))
                    )
    return rows


MATCHER_SETS = [
    [Matcher.of("__name__", "=", "up")],
    [Matcher.of("__name__", "=", "up"), Matcher.of("job", "!=", "api")],
    [Matcher.of("job", "=~", "a.*|web")],
    [Matcher.of("job", "!~", "d.")],
    [Matcher.of("env", "=", "")],
    [Matcher.of("env", "!=", "")],
    [Matcher.of("env", "=~", "prod|")],
    [Matcher.of("env", "!~", "")],
    [Matcher.of("__name__", "=~", ".+_total"), Matcher.of("instance", "=~", "h[12]:.*")],
    [Matcher.of("missing", "=", "")],
    [Matcher.of("missing", "=", "x")],
    [Matcher.of("__name__", "=", "nope")],
]


@pytest.mark.parametrize("flush", [False, True], ids=["pending", "flushed"])
def test_select_agrees_with_the_memory_store_for_every_matcher_type(
    backend: ChdbBackend, data_dir: Path, flush: bool
) -> None:
    """Matchers pushed down to SQL select exactly what Prometheus' matcher rules select."""
    rows = _dataset()
    ref = MemoryStore()
    ref.write(batch(rows))

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(batch(rows))
            if flush:
                store.flush_now()
                assert store.stats().pending_samples == 0
            for ms in MATCHER_SETS:
                for lo, hi in [
                    (T0 - DAY, T0 + DAY),
                    (T0 + 15_000 - 50, T0 + 60_000 + 50),
                    (T0 + 1, T0),
                ]:
                    got = as_dict(store.select(ms, lo, hi))
                    want = as_dict(ref.select(ms, lo, hi))
                    assert got == want, (ms, lo, hi)
                assert sorted(store.series([ms], T0 - DAY, T0 + DAY)) == sorted(
                    ref.series([ms], T0 - DAY, T0 + DAY)
                )
                assert store.label_names([ms], T0, T0 + DAY) == ref.label_names([ms], T0, T0 + DAY)
                assert store.label_values("job", [ms], T0, T0 + DAY) == ref.label_values(
                    "job", [ms], T0, T0 + DAY
                )
            assert store.label_values("__name__", [], T0, T0 + DAY) == ["http_requests_total", "up"]
            assert store.label_names([], T0, T0 + DAY) == ref.label_names([], T0, T0 + DAY)
            two = [MATCHER_SETS[0], MATCHER_SETS[2]]
            assert sorted(store.series(two, T0, T0 + DAY)) == sorted(ref.series(two, T0, T0 + DAY))
        finally:
            await store.close()

    run(go())


RANGES = [(T0 - DAY, T0 + DAY), (T0 + 15_000 - 50, T0 + 60_000 + 50), (T0 + 1, T0)]


@pytest.mark.parametrize("flush", [False, True], ids=["pending", "flushed"])
def test_select_many_answers_each_selection_as_select_does(
    backend: ChdbBackend, data_dir: Path, flush: bool
) -> None:
    """Read together (more selections than one series scan takes, several time ranges, an
    empty range), every selection gets exactly what ``select`` gives it alone."""
    rows = _dataset()
    ref = MemoryStore()
    ref.write(batch(rows))
    selections = [Selection(tuple(ms), lo, hi) for ms in MATCHER_SETS for lo, hi in RANGES]
    selections += selections  # 72: past the 64 selections of one series scan

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            assert isinstance(store, BatchQuerier)
            await store.append(batch(rows))
            if flush:
                store.flush_now()
            got = store.select_many(selections)
            assert len(got) == len(selections)
            for sel, result in zip(selections, got, strict=True):
                want = as_dict(ref.select(sel.matchers, sel.start_ms, sel.end_ms))
                assert as_dict(result) == want, sel
                assert as_dict(store.select(sel.matchers, sel.start_ms, sel.end_ms)) == want
            assert store.select_many([]) == []
            # Selections that all name their metric scan only those metrics' series.
            named = [
                s
                for s in selections
                if s.matchers[0].name == "__name__" and s.matchers[0].op is MatchOp.EQUAL
            ]
            assert len(named) == 2 * 3 * len(RANGES)  # up, up{job!="api"}, nope; twice
            for sel, result in zip(named, store.select_many(named), strict=True):
                want = as_dict(ref.select(sel.matchers, sel.start_ms, sel.end_ms))
                assert as_dict(result) == want, sel
        finally:
            await store.close()

    run(go())


def test_select_many_sees_pending_and_flushed_samples_of_one_series(
    backend: ChdbBackend, data_dir: Path
) -> None:
    """A series partly flushed and partly pending comes back whole, the pending value winning
    at a shared timestamp, and a series only pending is found by its matchers."""
    a = labels_of({"__name__": "x", "k": "a"})
    b = labels_of({"__name__": "x", "k": "b"})

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(batch([(a, T0, 1.0), (a, T0 + 1, 2.0)]))
            store.flush_now()
            await store.append(batch([(a, T0 + 1, 3.0), (a, T0 + 2, 4.0), (b, T0, 9.0)]))
            [both, only_b] = store.select_many(
                [
                    Selection((Matcher.of("__name__", "=", "x"),), T0, T0 + 2),
                    Selection((Matcher.of("k", "=", "b"),), T0, T0 + 2),
                ]
            )
            assert {s.labels: s.values.tolist() for s in both} == {
                a: [1.0, 3.0, 4.0],
                b: [9.0],
            }
            assert [s.labels for s in only_b] == [b]
        finally:
            await store.close()

    run(go())


def test_time_range_ends_are_inclusive(backend: ChdbBackend, data_dir: Path) -> None:
    up = labels_of({"__name__": "up", "job": "a"})

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(batch([(up, T0 + i * 1000, float(i)) for i in range(10)]))
            store.flush_now()
            [s] = store.select([Matcher.of("job", "=", "a")], T0 + 2000, T0 + 5000)
            assert s.timestamps.tolist() == [T0 + 2000, T0 + 3000, T0 + 4000, T0 + 5000]
            assert s.values.tolist() == [2.0, 3.0, 4.0, 5.0]
            assert store.select([Matcher.of("job", "=", "a")], T0 + 9001, T0 + 20_000) == []
        finally:
            await store.close()

    run(go())


def test_staleness_marker_bits_survive_clickhouse(backend: ChdbBackend, data_dir: Path) -> None:
    """The stale NaN keeps its exact bits; an ordinary NaN stays an ordinary NaN."""
    a = labels_of({"__name__": "x", "k": "a"})
    plain_nan_bits = 0x7FF8000000000001

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            plain = np.array([plain_nan_bits], dtype=np.uint64).view(np.float64)[0]
            await store.append(batch([(a, T0, 1.5), (a, T0 + 1, STALE_NAN), (a, T0 + 2, plain)]))
            before = as_dict(store.select([Matcher.of("k", "=", "a")], T0, T0 + 10))
            store.flush_now()
            after = as_dict(store.select([Matcher.of("k", "=", "a")], T0, T0 + 10))
            assert before == after
            bits = after[a][1]
            assert bits[1] == STALE_NAN_BITS
            assert bits[2] == plain_nan_bits
        finally:
            await store.close()

    run(go())


def test_later_write_wins_at_equal_timestamps(backend: ChdbBackend, data_dir: Path) -> None:
    """Within a batch, across batches, and across flushes, the last accepted value wins."""
    a = labels_of({"__name__": "x", "k": "a"})
    sel = [Matcher.of("k", "=", "a")]

    async def go() -> None:
        store = await _open(backend, data_dir)
        backend.command("SYSTEM STOP MERGES metric_samples")  # conflicting copies stay unmerged
        try:
            await store.append(batch([(a, T0, 1.0), (a, T0, 2.0), (a, T0 + 1, 5.0)]))
            assert store.select(sel, T0, T0 + 1)[0].values.tolist() == [2.0, 5.0]
            store.flush_now()
            await store.append(batch([(a, T0, 3.0)]))
            assert store.select(sel, T0, T0 + 1)[0].values.tolist() == [3.0, 5.0]
            store.flush_now()
            await store.append(batch([(a, T0, 4.0), (a, T0 + 1, 5.0)]))
            store.flush_now()
            await store.append(batch([(a, T0, 3.0)]))
            store.flush_now()
            [s] = store.select(sel, T0, T0 + 1)
            assert s.timestamps.tolist() == [T0, T0 + 1]
            assert s.values.tolist() == [3.0, 5.0]
            # Read in a batch, disagreeing unmerged copies resolve the same way.
            [[t], []] = store.select_many(
                [Selection(tuple(sel), T0, T0 + 1), Selection(tuple(sel), T0 + 5, T0 + 9)]
            )
            assert t.values.tolist() == [3.0, 5.0]
        finally:
            await store.close()

    run(go())


def test_identical_copies_in_unmerged_parts_come_back_once(
    backend: ChdbBackend, data_dir: Path
) -> None:
    """A sample written again (WAL replay, client retry) is one sample before any merge."""
    a = labels_of({"__name__": "x", "k": "a"})
    b = labels_of({"__name__": "x", "k": "b"})
    rows = [(a, T0, 1.0), (a, T0 + 1, STALE_NAN), (b, T0, 7.0)]
    sel = [Matcher.of("__name__", "=", "x")]

    async def go() -> None:
        store = await _open(backend, data_dir)
        backend.command("SYSTEM STOP MERGES metric_samples")  # keep the copies apart
        try:
            for _ in range(3):  # three parts holding the same rows
                await store.append(batch(rows))
                store.flush_now()
            got = as_dict(store.select(sel, T0, T0 + 10))
            assert got == {
                a: ([T0, T0 + 1], [np.float64(1.0).view(np.uint64), STALE_NAN_BITS]),
                b: ([T0], [np.float64(7.0).view(np.uint64)]),
            }
            [batched] = store.select_many([Selection(tuple(sel), T0, T0 + 10)])
            assert as_dict(batched) == got
        finally:
            await store.close()

    run(go())


@pytest.mark.parametrize(
    ("limit", "value"),
    [
        # past the literal-list limit the samples query selects series by subquery
        ("spyglass.storage.metrics._sql.MAX_LITERAL_FINGERPRINTS", 2),
        # with room for fewer label sets than a query needs, the cache starts over
        ("spyglass.storage.metrics._store.LABEL_CACHE_SERIES", 3),
    ],
    ids=["series-subquery", "label-cache-overflow"],
)
def test_flushed_reads_past_their_size_limits_keep_answers_right(
    backend: ChdbBackend,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: str,
    value: int,
) -> None:
    """Every series keeps its own samples and labels when a read path's size limit is hit."""
    monkeypatch.setattr(limit, value)
    rows = _dataset()
    mem = MemoryStore()
    mem.write(batch(rows))

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(batch(rows))
            store.flush_now()
            for _ in range(2):  # the second round reads labels from the cache
                for ms in MATCHER_SETS:
                    got = as_dict(store.select(ms, T0 - 1000, T0 + 400_000))
                    assert got == as_dict(mem.select(ms, T0 - 1000, T0 + 400_000)), ms
                batched = store.select_many(
                    [Selection(tuple(ms), T0 - 1000, T0 + 400_000) for ms in MATCHER_SETS]
                )
                for ms, result in zip(MATCHER_SETS, batched, strict=True):
                    assert as_dict(result) == as_dict(mem.select(ms, T0 - 1000, T0 + 400_000))
        finally:
            await store.close()

    run(go())


def test_samples_across_days_and_series_index_by_day(backend: ChdbBackend, data_dir: Path) -> None:
    """A series active on day 1 only is not listed for a range on day 3."""
    a = labels_of({"__name__": "x", "k": "a"})
    b = labels_of({"__name__": "x", "k": "b"})

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(batch([(a, T0, 1.0), (a, T0 + DAY, 2.0), (b, T0 + 3 * DAY, 3.0)]))
            store.flush_now()
            everything = store.select([Matcher.of("__name__", "=", "x")], T0 - DAY, T0 + 4 * DAY)
            assert as_dict(everything)[a][0] == [T0, T0 + DAY]
            assert store.series(
                [[Matcher.of("__name__", "=", "x")]], T0 + 3 * DAY, T0 + 3 * DAY
            ) == [b]
            assert store.label_values("k", [], T0 + 3 * DAY, T0 + 3 * DAY) == ["b"]
        finally:
            await store.close()

    run(go())


def test_metadata_latest_wins_pending_and_flushed(backend: ChdbBackend, data_dir: Path) -> None:
    a = labels_of({"__name__": "req_total"})

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(
                batch([(a, T0, 1.0)], {"req_total": MetricMetadata("counter", "old", "")})
            )
            store.flush_now()
            await store.append(
                batch([(a, T0 + 1, 1.0)], {"req_total": MetricMetadata("counter", "Requests.", "")})
            )
            want = {"req_total": [MetricMetadata("counter", "Requests.", "")]}
            assert store.metadata() == want
            store.flush_now()
            assert store.metadata() == want
            assert store.metadata("req_total") == want
            assert store.metadata("other") == {}
        finally:
            await store.close()

    run(go())


def test_restart_replays_unflushed_and_close_flushes(backend: ChdbBackend, data_dir: Path) -> None:
    """close() flushes everything; a store that did not close replays its WAL on start."""
    a = labels_of({"__name__": "x", "k": "a"})
    sel = [Matcher.of("k", "=", "a")]

    async def go() -> None:
        store = await _open(backend, data_dir)
        await store.append(batch([(a, T0, 1.0)]))
        await store.close()
        st = store.stats()
        assert (st.samples_flushed, st.pending_samples, st.wal_segments) == (1, 0, 0)

        # Simulate a crash: appended, never flushed, WAL not closed cleanly.
        crashed = await _open(backend, data_dir)
        await crashed.append(batch([(a, T0 + 1, 2.0)]))
        crashed.writer.stop()
        crashed.wal.close()

        again = await _open(backend, data_dir)
        try:
            assert again.stats().replayed_samples == 1
            assert again.select(sel, T0, T0 + 1)[0].values.tolist() == [1.0, 2.0]
            again.flush_now()
            assert again.select(sel, T0, T0 + 1)[0].values.tolist() == [1.0, 2.0]
        finally:
            await again.close()

    run(go())


class FlakyBackend:
    """Wraps a backend; inserts fail while ``failing`` is set."""

    def __init__(self, inner: ChdbBackend) -> None:
        self.inner = inner
        self.failing = False

    def command(self, sql: str, params=None) -> None:  # type: ignore[no-untyped-def]
        self.inner.command(sql, params)

    def query_arrow(self, sql: str, params=None):  # type: ignore[no-untyped-def]
        return self.inner.query_arrow(sql, params)

    def insert(self, table: str, data) -> None:  # type: ignore[no-untyped-def]
        if self.failing:
            raise Unavailable("ClickHouse is down (test)")
        self.inner.insert(table, data)

    def close(self) -> None:
        pass


def test_failed_flush_keeps_data_reports_error_and_retries(
    backend: ChdbBackend, data_dir: Path
) -> None:
    a = labels_of({"__name__": "x", "k": "a"})
    sel = [Matcher.of("k", "=", "a")]
    flaky = FlakyBackend(backend)

    async def go() -> None:
        store = MetricsStore(flaky, data_dir, flush_interval_ms=3_600_000, retention_ms=RETENTION)
        await store.start()
        try:
            flaky.failing = True
            await store.append(batch([(a, T0, 1.0)]))
            with pytest.raises(Unavailable):
                store.flush_now()
            st = store.stats()
            assert st.flush_failures == 1
            assert "down" in st.last_flush_error
            assert st.pending_samples == 1
            assert store.select(sel, T0, T0)[0].values.tolist() == [1.0]
            await store.append(batch([(a, T0 + 1, 2.0)]))
            flaky.failing = False
            assert store.flush_now() == 2
            st = store.stats()
            assert (st.pending_samples, st.samples_flushed, st.last_flush_error) == (0, 2, "")
            assert store.select(sel, T0, T0 + 1)[0].values.tolist() == [1.0, 2.0]
        finally:
            await store.close()

    run(go())


def test_background_flush_by_size_and_age(backend: ChdbBackend, data_dir: Path) -> None:
    a = labels_of({"__name__": "x", "k": "a"})

    async def wait_flushed(store: MetricsStore, n: int) -> None:
        for _ in range(1500):  # up to 30 s: a liveness wait, not a timing check
            if store.stats().samples_flushed >= n:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"not flushed: {store.stats()}")

    async def go() -> None:
        by_size = MetricsStore(
            backend,
            data_dir,
            flush_interval_ms=3_600_000,
            flush_max_samples=3,
            retention_ms=RETENTION,
        )
        await by_size.start()
        try:
            await by_size.append(batch([(a, T0 + i, 1.0) for i in range(3)]))
            await wait_flushed(by_size, 3)
        finally:
            await by_size.close()
        by_age = MetricsStore(backend, data_dir, flush_interval_ms=50, retention_ms=RETENTION)
        await by_age.start()
        try:
            await by_age.append(batch([(a, T0 + 10, 1.0)]))
            await wait_flushed(by_age, 1)
        finally:
            await by_age.close()

    run(go())


def test_append_before_start_or_after_close_is_refused(
    backend: ChdbBackend, data_dir: Path
) -> None:
    a = labels_of({"__name__": "x"})

    async def go() -> None:
        store = MetricsStore(backend, data_dir)
        with pytest.raises(Unavailable):
            await store.append(batch([(a, T0, 1.0)]))
        await store.start()
        await store.close()
        with pytest.raises(Unavailable):
            await store.append(batch([(a, T0, 1.0)]))

    run(go())


def test_queries_during_background_flushes_see_every_acknowledged_sample(
    backend: ChdbBackend, data_dir: Path
) -> None:
    """Reads run in threads while flushes move data from memory to ClickHouse: no gaps, no
    duplicates at any moment."""
    series = [labels_of({"__name__": "c", "s": str(k)}) for k in range(10)]
    sel = [Matcher.of("__name__", "=", "c")]

    async def go() -> None:
        store = MetricsStore(
            backend, data_dir, flush_interval_ms=5, flush_max_samples=30, retention_ms=RETENTION
        )
        await store.start()
        try:
            for i in range(40):
                await store.append(batch([(ls, T0 + i * 1000, float(i)) for ls in series]))
                got = await asyncio.to_thread(store.select, sel, T0, T0 + 100_000)
                assert len(got) == 10
                for s in got:
                    assert s.timestamps.tolist() == [T0 + j * 1000 for j in range(i + 1)]
            assert store.stats().flushes > 0
        finally:
            await store.close()

    run(go())


def test_cancelled_append_is_still_written_in_order(backend: ChdbBackend, data_dir: Path) -> None:
    """Cancelling a waiting caller does not cancel the write others share in the group commit."""
    a = labels_of({"__name__": "x", "k": "a"})

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            task = asyncio.create_task(store.append(batch([(a, T0, 1.0)])))
            await asyncio.sleep(0)  # the record is queued for the WAL writer
            task.cancel()
            await store.append(batch([(a, T0 + 1, 2.0)]))
            [s] = store.select([Matcher.of("k", "=", "a")], T0, T0 + 1)
            assert s.values.tolist() == [1.0, 2.0]
        finally:
            await store.close()

    run(go())


def test_regex_that_re2_rejects_is_bad_input(backend: ChdbBackend, data_dir: Path) -> None:
    """Python's re accepts lookaheads, ClickHouse's RE2 does not: the client hears BadInput."""
    a = labels_of({"__name__": "x", "k": "a"})

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(batch([(a, T0, 1.0)]))
            with pytest.raises(BadInput, match="regular expression"):
                store.select([Matcher.of("k", "=~", "(?=a)a")], T0, T0)
            with pytest.raises(BadInput, match="regular expression"):
                store.label_values("k", [[Matcher.of("k", "!~", r"(a)\1")]], T0, T0)
            store.flush_now()
            with pytest.raises(BadInput, match="regular expression"):
                store.series([[Matcher.of("k", "=~", "a{1001}")]], T0, T0)
        finally:
            await store.close()

    run(go())


def test_append_is_refused_while_too_much_waits_for_clickhouse(
    backend: ChdbBackend, data_dir: Path
) -> None:
    """Backpressure: with ClickHouse down, memory stays bounded and writers get Unavailable."""
    a = labels_of({"__name__": "x", "k": "a"})
    flaky = FlakyBackend(backend)

    async def go() -> None:
        store = MetricsStore(
            flaky,
            data_dir,
            flush_interval_ms=3_600_000,
            retention_ms=RETENTION,
            max_pending_samples=3,
        )
        await store.start()
        try:
            flaky.failing = True
            await store.append(batch([(a, T0 + i, 1.0) for i in range(3)]))
            with pytest.raises(Unavailable):
                store.flush_now()
            with pytest.raises(Unavailable, match="down"):
                await store.append(batch([(a, T0 + 5, 1.0)]))
            flaky.failing = False
            store.flush_now()
            await store.append(batch([(a, T0 + 5, 1.0)]))
            assert store.stats().samples_appended == 4
        finally:
            await store.close()

    run(go())


ODD_VALUES = ["a\\b", "tab\there", "new\nline", "\\N", "trailing\\", "quote'\"", "ü€😀", "(?s)x"]


@pytest.mark.parametrize("flush", [False, True], ids=["pending", "flushed"])
def test_label_values_with_escapes_and_unicode_round_trip_and_match(
    backend: ChdbBackend, data_dir: Path, flush: bool
) -> None:
    rows = [
        (labels_of({"__name__": "odd", "v": v}), T0, float(i)) for i, v in enumerate(ODD_VALUES)
    ]

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(batch(rows))
            if flush:
                store.flush_now()
            assert store.label_values("v", [], T0, T0) == sorted(ODD_VALUES)
            for i, v in enumerate(ODD_VALUES):
                [s] = store.select([Matcher.of("v", "=", v)], T0, T0)
                assert s.values.tolist() == [float(i)]
                assert dict(s.labels)["v"] == v
            [s] = store.select([Matcher.of("v", "=~", "new.line")], T0, T0)  # '.' matches \n
            assert dict(s.labels)["v"] == "new\nline"
            assert len(store.select([Matcher.of("v", "!=", "a\\b")], T0, T0)) == len(ODD_VALUES) - 1
        finally:
            await store.close()

    run(go())


def test_malformed_batches_are_refused_before_the_wal(backend: ChdbBackend, data_dir: Path) -> None:
    a = labels_of({"__name__": "x", "k": "a"})
    good = batch([(a, T0, 1.0)])

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            no_labels = SampleBatch({}, good.fingerprints, good.timestamps, good.values)
            with pytest.raises(BadInput, match="without labels"):
                await store.append(no_labels)
            short = SampleBatch(good.series, good.fingerprints, good.timestamps, good.values[:0])
            with pytest.raises(BadInput, match="length"):
                await store.append(short)
            assert store.stats().wal_bytes == 0
        finally:
            await store.close()

    run(go())


def test_invalid_unicode_in_labels_does_not_block_flushing(
    backend: ChdbBackend, data_dir: Path
) -> None:
    """A lone surrogate cannot go to ClickHouse as text; it is replaced, never retried forever.

    core's ``fingerprint`` refuses such text, so only a hand-made batch can carry it.
    """
    bad = labels_of({"__name__": "x", "k": "bad\udc80"})
    ok = labels_of({"__name__": "x", "k": "ok"})
    two = SampleBatch(
        {1: bad, 2: ok},
        np.array([1, 2], np.uint64),
        np.array([T0, T0], np.int64),
        np.array([1.0, 2.0]),
    )

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            await store.append(two)
            assert store.flush_now() == 2
            assert store.label_values("k", [], T0, T0) == ["bad?", "ok"]
        finally:
            await store.close()

    run(go())


def test_background_flusher_retries_until_clickhouse_is_back(
    backend: ChdbBackend, data_dir: Path
) -> None:
    a = labels_of({"__name__": "x", "k": "a"})
    flaky = FlakyBackend(backend)

    async def until(cond: Callable[[], bool]) -> None:
        for _ in range(3000):  # up to 30 s: a liveness wait, not a timing check
            if cond():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("condition not reached")

    async def go() -> None:
        store = MetricsStore(flaky, data_dir, flush_interval_ms=10, retention_ms=RETENTION)
        await store.start()
        try:
            flaky.failing = True
            await store.append(batch([(a, T0, 1.0)]))
            await until(lambda: store.stats().flush_failures >= 2)
            assert store.stats().samples_flushed == 0
            flaky.failing = False
            await until(lambda: store.stats().samples_flushed == 1)
            assert store.stats().last_flush_error == ""
        finally:
            await store.close()

    run(go())


def test_close_with_clickhouse_down_keeps_data_for_the_next_start(
    backend: ChdbBackend, data_dir: Path
) -> None:
    a = labels_of({"__name__": "x", "k": "a"})
    flaky = FlakyBackend(backend)

    async def go() -> None:
        store = MetricsStore(flaky, data_dir, flush_interval_ms=3_600_000, retention_ms=RETENTION)
        await store.start()
        flaky.failing = True
        await store.append(batch([(a, T0, 1.0)]))
        await store.close()  # the final flush fails; close still completes
        assert store.stats().wal_segments == 1

        again = await _open(backend, data_dir)
        try:
            assert again.stats().replayed_samples == 1
            again.flush_now()
            assert again.select([Matcher.of("k", "=", "a")], T0, T0)[0].values.tolist() == [1.0]
        finally:
            await again.close()
        assert again.stats().wal_segments == 0

    run(go())


def test_failed_start_releases_the_wal_for_a_new_store(
    backend: ChdbBackend, data_dir: Path
) -> None:
    class Down(FlakyBackend):
        def command(self, sql: str, params=None) -> None:  # type: ignore[no-untyped-def]
            raise Unavailable("ClickHouse is down (test)")

    async def go() -> None:
        broken = MetricsStore(Down(backend), data_dir, retention_ms=RETENTION)
        with pytest.raises(Unavailable):
            await broken.start()
        with pytest.raises(Unavailable):
            await broken.append(batch([(labels_of({"__name__": "x"}), T0, 1.0)]))
        store = await _open(backend, data_dir)
        await store.close()

    run(go())


def test_stats_follow_the_write_path(backend: ChdbBackend, data_dir: Path) -> None:
    a = labels_of({"__name__": "x", "k": "a"})
    b = labels_of({"__name__": "x", "k": "b"})

    async def go() -> None:
        store = await _open(backend, data_dir)
        try:
            s0 = store.stats()
            assert (s0.samples_appended, s0.pending_samples, s0.flushes) == (0, 0, 0)
            await store.append(batch([(a, T0, 1.0), (b, T0, 1.0), (a, T0 + DAY, 2.0)]))
            s1 = store.stats()
            assert (s1.samples_appended, s1.pending_samples) == (3, 3)
            assert s1.wal_bytes > 0
            assert s1.wal_segments == 1
            store.flush_now()
            s2 = store.stats()
            assert (s2.samples_flushed, s2.pending_samples, s2.flushes) == (3, 0, 1)
            assert s2.series_created == 3  # a on two days, b on one
            assert s2.flush_seconds_count == 1
            assert s2.flush_seconds_sum == s2.last_flush_seconds > 0
            await store.append(batch([(a, T0 + 1, 3.0)]))
            store.flush_now()
            assert store.stats().series_created == 3  # nothing new
        finally:
            await store.close()

    run(go())


def test_write_listeners_hear_each_batch_oldest_time_once_it_is_readable(
    backend: ChdbBackend, data_dir: Path
) -> None:
    """A listener gets the oldest timestamp of every accepted batch, called when a query
    already sees the batch (the range cache relies on that order); a failing listener does not
    fail the write, and a batch without samples is not reported."""
    a = labels_of({"__name__": "x", "k": "a"})
    sel = [Matcher.of("k", "=", "a")]
    recent = int(time.time() * 1000) - 600_000

    async def go() -> None:
        store = await _open(backend, data_dir)
        assert store.head is not None
        heard: list[tuple[int, list[float]]] = []

        def listen(oldest: int) -> None:
            [s] = store.select(sel, oldest, oldest)
            heard.append((oldest, s.values.tolist()))

        def fail(oldest: int) -> None:
            raise RuntimeError(oldest)

        store.add_write_listener(fail)
        store.add_write_listener(listen)
        try:
            await store.append(batch([(a, T0 + 5, 1.0), (a, T0 + 2, 2.0), (a, T0 + 9, 3.0)]))
            store.flush_now()
            await store.append(batch([(a, T0 + 2, 7.0)]))
            await store.append(batch([], {"x": MetricMetadata("gauge", "h", "")}))
            # Inside the in-memory head's window as well.
            await store.append(batch([(a, recent, 4.0)]))
        finally:
            await store.close()
        assert heard == [(T0 + 2, [2.0]), (T0 + 2, [7.0]), (recent, [4.0])]

    run(go())
