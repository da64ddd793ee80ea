"""``MetricsStore``: the ClickHouse-backed metrics store the composition root builds.

Write path: the metrics signal's ``SignalPipeline`` (``storage.pipeline``): WAL, pending buffer,
batch writer. Its WAL is ``<data_dir>/wal/metrics``; a data directory from before signals had
their own directories keeps its log in ``<data_dir>/wal`` itself, which is moved over at start.

Read path (``Querier``): label matchers become SQL on ``metric_series``; samples come from
``metric_samples`` as Arrow columns; batches not yet in ClickHouse are merged in from the pending
buffer, so a write is queryable the moment ``append`` returns. Of two samples at one timestamp the
later write wins. Queries use the backend's read connections and never take the writer's locks,
so a slow query does not hold up ingest.

Recent samples come from memory: the ``Head`` (``_head``) holds every sample this store
acknowledged with a timestamp at or after its start (``head_window_ms`` ago, by default two
hours), filled as each batch becomes durable and rebuilt at start-up from ClickHouse and the WAL.
A ``select`` that begins at or after the head's start reads only the head; one that begins
earlier reads ClickHouse and the pending buffer up to the head's start and the head from there,
so every sample comes from exactly one place and the answer equals what ClickHouse alone gives.
When this process is the only writer, what a selector read before the head's start is kept
(``OlderReads``) and answers the same selector again until a write that old arrives.

Range functions (``GridQuerier``, with ``--query-push-down``): ClickHouse's ``timeSeries*ToGrid``
aggregates evaluate them per series and send a value per step, not the samples. Every sample
the head holds is in ClickHouse or pending, so the aggregates see what ``select`` would return
as long as nothing of the range is pending; otherwise, and where the head holds the whole range
(memory answers faster), the store declines and the engine selects samples.

Series activity comes from the per-day ``metric_series`` rows, so ``series``/``label_names``/
``label_values`` answer at day granularity for flushed data (like Prometheus' block index) and
exactly for pending data. They stay on ClickHouse: the head knows only recent series, and those
answers cover days.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from sys import intern
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from prometheus_client.registry import Collector

from spyglass.core.errors import BadInput, Unavailable
from spyglass.core.labels import METRIC_NAME, Labels
from spyglass.core.matchers import Matcher, MatchOp, matches_all
from spyglass.core.samples import MetricMetadata, SampleBatch, run_starts
from spyglass.core.stats import StatField, StatsCollector
from spyglass.core.times import format_duration
from spyglass.storage._backend import Backend
from spyglass.storage.metrics import _sql
from spyglass.storage.metrics._head import Head, HeadStats
from spyglass.storage.metrics._insert import MetricsInserter, dedup_last
from spyglass.storage.metrics._label_index import RankedLabels
from spyglass.storage.metrics._merge import join_columns
from spyglass.storage.metrics._older import OlderReads, Stored
from spyglass.storage.metrics._signal import METRICS
from spyglass.storage.pipeline import (
    DEFAULT_MAX_PENDING_ITEMS,
    WAL_SUBDIR,
    SignalPipeline,
    adopt_wal,
    wal_dir,
)
from spyglass.storage.ports import (
    FINITE_GRID_FUNCTIONS,
    GridRequest,
    GridSeries,
    NameCount,
    Selection,
    SeriesColumns,
    SeriesData,
    SeriesStats,
)
from spyglass.storage.schema import DEFAULT_RETENTION_MS, METADATA
from spyglass.storage.wal import DEFAULT_SEGMENT_BYTES, ReplayProgress

log = logging.getLogger("spyglass.storage")

_EMPTY_U64: npt.NDArray[np.uint64] = np.empty(0, np.uint64)
_NEVER = -(2**63)
DEFAULT_HEAD_WINDOW_MS = 2 * 3_600_000  # as Prometheus' head: the range most queries read
DEFAULT_HEAD_MAX_BYTES = 1024**3
HEAD_CHECK_INTERVAL_S = 60.0
# Staged samples move into their series this often, when the head says enough are staged, and
# whenever a query reads. Each merge costs a Python step per series it touches: merged every
# second, a 10k-series remote_write load spent some 15 % of the server's time there with three
# or four samples per series.
HEAD_MERGE_INTERVAL_S = 5.0
DEFAULT_MAX_PENDING_SAMPLES = DEFAULT_MAX_PENDING_ITEMS  # ~250 MB of columns while ClickHouse lags
LABEL_CACHE_SERIES = 200_000  # label sets kept by fingerprint; about 0.5 KB each
# Reads before the head's start kept per selector (``_older``, ``OlderReads``): at most this
# many selectors, and at most this many bytes of samples (about 8 a sample: a 6 h range's
# older 4 h of 2,500 series take some 20 MiB).
OLDER_READS_SELECTORS = 4096
DEFAULT_OLDER_READS_BYTES = 64 * 1024**2


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counters of the metrics store."""

    samples_appended: int
    samples_flushed: int
    flushes: int
    flush_failures: int
    last_flush_seconds: float
    flush_seconds_sum: float
    flush_seconds_count: int
    pending_samples: int
    wal_bytes: int
    wal_segments: int
    wal_torn_bytes: int
    series_created: int
    replayed_samples: int
    last_flush_error: str


class MetricsStore:
    """Metrics in ClickHouse with a WAL in ``data_dir/wal/metrics``. Implements ``Querier``,
    ``BatchQuerier``, ``GridQuerier``, ``MetadataReader`` and ``SampleSink`` (storage/ports.py).

    The store does not own ``backend``: whoever built it closes it after ``close()``. When more
    than ``max_pending_samples`` wait for ClickHouse, ``append`` refuses with ``Unavailable``.
    """

    def __init__(
        self,
        backend: Backend,
        data_dir: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        flush_interval_ms: int = 1_000,
        flush_max_samples: int = 200_000,
        cluster: str = "",
        wal_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        max_pending_samples: int = DEFAULT_MAX_PENDING_SAMPLES,
        head_window_ms: int = DEFAULT_HEAD_WINDOW_MS,
        head_max_bytes: int = DEFAULT_HEAD_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        sole_writer: bool = False,
        older_reads_bytes: int = DEFAULT_OLDER_READS_BYTES,
    ) -> None:
        self.backend = backend
        self.retention_ms = retention_ms
        # A head longer than retention would answer samples ClickHouse's TTL has dropped.
        window = min(head_window_ms, retention_ms)
        self.head: Head | None = Head(window, clock=clock) if window > 0 else None
        self.head_max_bytes = head_max_bytes
        self._head_task: asyncio.Task[None] | None = None
        # Set (on the event loop) when the head has staged enough to merge: the merge runs in
        # a worker, never on the WAL's writer thread, whose replies it would hold up.
        self._merge_due: asyncio.Event | None = None
        self._merge_asked = False
        self.data_dir = Path(data_dir)
        self.legacy_wal_files = adopt_wal(
            self.data_dir / WAL_SUBDIR, wal_dir(self.data_dir, METRICS.name)
        )
        self.pipeline: SignalPipeline[SampleBatch] = SignalPipeline(
            METRICS,
            backend,
            self.data_dir,
            retention_ms=retention_ms,
            cluster=cluster,
            flush_interval_ms=flush_interval_ms,
            flush_max_items=flush_max_samples,
            wal_segment_bytes=wal_segment_bytes,
            max_pending_items=max_pending_samples,
            on_accept=self._feed_head if self.head is not None else None,
        )
        self.schema = self.pipeline.schema
        self.pending = self.pipeline.pending
        self.wal = self.pipeline.wal
        self.writer = self.pipeline.writer
        inserter = self.pipeline.insert
        assert isinstance(inserter, MetricsInserter)
        self._inserter = inserter
        self._good_re: set[str] = set()
        self._label_cache: dict[int, Labels] = {}
        self._write_listeners: list[Callable[[int], None]] = []
        self._grid_unsupported = False  # set once ClickHouse lacks timeSeries*ToGrid
        # Selectors' reads before the head's start, with the range read: only when this
        # process is the only writer (embedded storage), since a late sample from another node
        # would go unnoticed. Emptied by any write older than a range in it.
        self.older_reads: OlderReads | None = (
            OlderReads(older_reads_bytes, OLDER_READS_SELECTORS)
            if sole_writer and self.head is not None
            else None
        )
        self._older_end = _NEVER  # the latest end of a range read before the head's start
        self._older_lock = threading.Lock()  # query threads raise the end in turn
        self._late_writes = 0

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the tables, replay the WAL, start flushing (``SignalPipeline.start``), then
        load the head: what ClickHouse holds of its window, under what the WAL replay and any
        append since put there.

        If loading fails the head stays off and every query reads ClickHouse, as without it.
        """
        head = self.head
        if head is not None:
            # From here on (the replay included) every accepted batch also goes to the head.
            head.begin(head.now_ms() - head.window_ms)
        await self.pipeline.start()
        if head is None:
            return
        began = time.monotonic()
        try:
            await asyncio.to_thread(self._load_head, head)
        except Exception:
            log.exception("metrics head: loading recent samples failed; queries read ClickHouse")
            head.invalidate()
            return
        head.mark_valid()
        self._merge_due = asyncio.Event()
        await asyncio.to_thread(head.rank)
        st = head.stats()
        log.info(
            "metrics head: the last %s in memory, %d samples of %d series (%.1f MiB), loaded "
            "in %.1fs",
            format_duration(head.window_ms),
            st.samples,
            st.series,
            st.bytes / 2**20,
            time.monotonic() - began,
        )
        self._head_task = asyncio.create_task(self._maintain_head(head), name="spyglass-head")

    def _load_head(self, head: Head) -> None:
        start = head.floor_ms
        if start is None:  # invalidated meanwhile
            return

        def read(final: bool) -> pa.Table:
            q = _sql.Query()
            return self._query(_sql.recent_samples_sql(q, start, final=final), q)

        fps, ts, vals = _deduplicated(read)
        if not len(fps):
            return
        q = _sql.Query()
        labels = _labels_of(self._query(_sql.series_sql(q, "1", start, 2**62), q))
        if len(labels) < len(np.unique(fps)):
            # A sample without its series row is invisible to ClickHouse queries too.
            keep = np.isin(fps, np.fromiter(labels, np.uint64, len(labels)))
            fps, ts, vals = fps[keep], ts[keep], vals[keep]
        head.prepend(fps, ts, vals, labels.__getitem__)

    def _feed_head(self, batch: SampleBatch) -> None:
        # WAL writer thread (or the replay): must not raise, or the batch would not reach the
        # pending buffer either.
        head = self.head
        assert head is not None
        try:
            due = head.append(batch)
        except Exception:
            log.exception("metrics head: append failed; queries read ClickHouse from now on")
            head.invalidate()
            return
        event, loop = self._merge_due, self.pipeline.loop
        if due and not self._merge_asked and event is not None and loop is not None:
            self._merge_asked = True  # one wake-up until the merge has run
            with contextlib.suppress(RuntimeError):  # the loop closed at shutdown
                loop.call_soon_threadsafe(event.set)

    async def _maintain_head(self, head: Head) -> None:
        """Merge staged samples every ``HEAD_MERGE_INTERVAL_S``; drop what fell out of the
        window (checked every minute at most), and shrink the head when it holds more than
        ``head_max_bytes``. Number the series in label order again (``Head.rank``) when new
        ones are more than 1 % of them, or at that check."""
        check_s = min(HEAD_CHECK_INTERVAL_S, head.window_ms / 8000)
        checked = time.monotonic()
        due = self._merge_due
        assert due is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(due.wait(), HEAD_MERGE_INTERVAL_S)
            due.clear()
            self._merge_asked = False
            await asyncio.to_thread(head.merge)
            check = time.monotonic() - checked >= check_s
            if check:
                checked = time.monotonic()
            new = head.unranked
            if new and (check or new * 100 > head.stats().series):
                await asyncio.to_thread(head.rank)
            if check and head.due(self.head_max_bytes):
                await asyncio.to_thread(self.truncate_head)

    def truncate_head(self) -> int:
        """Drop head samples older than the window, and more while the head is over its byte
        limit; returns the samples dropped."""
        head = self.head
        if head is None:
            return 0
        dropped = head.truncate()
        st = head.stats()
        if not (self.head_max_bytes and st.bytes > self.head_max_bytes and st.min_time_ms):
            return dropped
        over = st.bytes
        now = head.now_ms()
        for _ in range(10):
            # Keep the share of the span that fits, assuming samples spread evenly over time,
            # with a fifth to spare so this does not run on every check; samples bunched at
            # the recent end take another round.
            keep = int((now - st.min_time_ms) * 0.8 * self.head_max_bytes / st.bytes)
            dropped += head.truncate(now - keep)
            st = head.stats()
            if st.bytes <= self.head_max_bytes or not st.min_time_ms:
                break
        log.warning(
            "metrics head: %d bytes exceed --head-max-bytes %d; it now holds only the last %s "
            "(queries before that read ClickHouse)",
            over,
            self.head_max_bytes,
            format_duration(max(now - st.min_time_ms, 1)),
        )
        return dropped

    async def close(self) -> None:
        """Flush everything accepted and close the WAL (``SignalPipeline.close``)."""
        if self._head_task is not None:
            self._head_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._head_task
        await self.pipeline.close()

    # -- SampleSink -------------------------------------------------------------------------
    async def append(self, batch: SampleBatch) -> None:
        """Accept ``batch`` durably: returns once it is fsynced in the WAL (and queryable)."""
        if not self.pipeline.running:
            raise Unavailable("metrics store is not running")
        if not len(batch) and not batch.metadata:
            return
        _check_batch(batch)
        await self.pipeline.append(batch)
        if (
            self.older_reads is not None
            and len(batch)
            and self._older_end >= batch.timestamps.min()
        ):
            # After the batch is readable, as for the listeners below: a read that may have
            # missed it published its range first, so it sees the count change and does not
            # keep its answer.
            self._late_writes += 1
            self.older_reads.clear()
        if self._write_listeners and len(batch):
            # The batch is readable now (the WAL's on_durable fed the head and the pending
            # buffer before append returned), so a listener that drops cached answers cannot
            # be overtaken by a query that still misses these samples.
            oldest = int(batch.timestamps.min())
            for listener in self._write_listeners:
                try:
                    listener(oldest)
                except Exception:
                    log.exception("metrics store: a write listener failed")

    def add_write_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener`` with the oldest timestamp (ms) of every batch ``append`` accepts,
        once the batch is readable (the range query cache drops what late samples change)."""
        self._write_listeners.append(listener)

    def flush_now(self) -> int:
        """Insert everything pending right now (blocking); returns samples inserted."""
        return self.pipeline.flush_now()

    # -- stats ------------------------------------------------------------------------------
    def stats(self) -> StoreStats:
        """A snapshot of the store's counters."""
        p = self.pipeline.stats()
        return StoreStats(
            samples_appended=p.items_appended,
            samples_flushed=p.items_flushed,
            flushes=p.flushes,
            flush_failures=p.flush_failures,
            last_flush_seconds=p.last_flush_seconds,
            flush_seconds_sum=p.flush_seconds_sum,
            flush_seconds_count=p.flushes,
            pending_samples=p.pending_items,
            wal_bytes=p.wal_bytes,
            wal_segments=p.wal_segments,
            wal_torn_bytes=p.wal_torn_bytes,
            series_created=self._inserter.series_created,
            replayed_samples=p.replayed_items,
            last_flush_error=p.last_flush_error,
        )

    def replay_progress(self) -> ReplayProgress:
        """How far the start-up replay of the metrics WAL got."""
        return self.pipeline.replay_progress()

    def head_stats(self) -> HeadStats | None:
        """What the head holds (``None`` when it is off)."""
        return None if self.head is None else self.head.stats()

    def collectors(self) -> list[Collector]:
        """What only the metrics store counts (the pipeline's counters come with every
        signal's, from ``pipeline.pipeline_collectors``)."""
        out: list[Collector] = [StatsCollector(self.stats, _STORE_FIELDS)]
        if self.head is not None:
            out.append(StatsCollector(self.head.stats, _HEAD_FIELDS))
        older = self.older_reads
        if older is not None:
            out.append(StatsCollector(lambda: older, _OLDER_FIELDS))
        return out

    # -- Querier ----------------------------------------------------------------------------
    def _query(self, sql: str, q: _sql.Query) -> pa.Table:
        try:
            return self.backend.query_arrow(sql, q.params)
        except Unavailable as exc:
            if _is_regex_error(exc):
                raise BadInput(f"invalid regular expression: {exc}") from exc
            raise

    def _check_regexes(self, matcher_sets: Sequence[Sequence[Matcher]]) -> None:
        """Reject patterns RE2 cannot compile, even when no stored row would evaluate them.

        Python's ``re`` (used for pending data) accepts more than RE2 (lookarounds,
        backreferences); ClickHouse only compiles a pattern when a row reaches it, so an empty
        table would let a bad pattern through. Checked once per distinct pattern.
        """
        for ms in matcher_sets:
            for m in ms:
                if m.op not in (MatchOp.REGEX, MatchOp.NOT_REGEX) or m.value in self._good_re:
                    continue
                q = _sql.Query()
                sql = f"SELECT match('', {q.param(f'(?s)^(?:{m.value})$', 'String')}) AS ok"
                self._query(sql, q)
                if len(self._good_re) > 10_000:
                    self._good_re.clear()
                self._good_re.add(m.value)

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        """Series matching every matcher with their samples in ``[start_ms, end_ms]``."""
        if end_ms < start_ms:
            return []
        self._check_regexes([matchers])
        if self.head is None:
            return _split(*self._select_stored(matchers, start_ms, end_ms))
        head_start, recent = self.head.select(matchers, start_ms, end_ms)
        if head_start is None or end_ms < head_start:
            return _split(*self._select_stored(matchers, start_ms, end_ms))
        if start_ms >= head_start:
            return [SeriesData(labels, ts, vals) for _, labels, ts, vals in recent]
        # The range straddles the head's start: older samples from ClickHouse and the pending
        # buffer, the rest from the head; the stored part of a series ends before its head part
        # begins, so joining them is a concatenation per series (not a sort of all samples).
        fps, ts, vals, labels_by_fp = self._older(matchers, start_ms, head_start - 1)
        if not recent:
            return _split(fps, ts, vals, labels_by_fp)
        older: dict[int, tuple[int, int]] = {}
        if len(fps):
            bounds = np.flatnonzero(fps[1:] != fps[:-1]) + 1
            starts = [0, *bounds.tolist()]
            ends = [*bounds.tolist(), len(fps)]
            older = dict(zip(fps[starts].tolist(), zip(starts, ends, strict=True), strict=True))
        newer = {fp: (labels, t, v) for fp, labels, t, v in recent}
        out = []
        for fp in sorted(older.keys() | newer.keys()):
            cut = older.get(fp)
            new = newer.get(fp)
            if new is None:
                assert cut is not None
                out.append(SeriesData(labels_by_fp[fp], ts[cut[0] : cut[1]], vals[cut[0] : cut[1]]))
            elif cut is None:
                out.append(SeriesData(*new))
            else:
                i, j = cut
                joined_ts = np.concatenate([ts[i:j], new[1]])
                joined_vals = np.concatenate([vals[i:j], new[2]])
                out.append(SeriesData(labels_by_fp[fp], joined_ts, joined_vals))
        return out

    def _older(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Stored:
        """``_select_stored`` of the part of a range before the head's start, from memory
        when the same selector read a range covering it before (``OlderReads``).

        Even one series' read cost a chDB query of several milliseconds, and thousands of
        series' most of a 6 h range query; a selector of nothing (``up`` when no target is up,
        most alert rules' when all is well) paid it on every range reaching before the head.
        What ClickHouse and the pending buffer hold before the head's start changes only by a
        write that old (``append`` forgets everything then), by retention (nothing it may drop
        is kept: ranges from ``now - retention`` on only) and by a truncation of the head,
        which moves its start: a later range past the one kept asks again.
        """
        kept = self.older_reads
        head = self.head
        if kept is None or head is None or start_ms < head.now_ms() - self.retention_ms:
            return self._select_stored(matchers, start_ms, end_ms)
        key = tuple(matchers)
        found = kept.get(key, start_ms, end_ms)
        if found is not None:
            return found
        # Before reading: the count of writes older than the published end, then that end
        # (never lowered), so any such write that this read may miss changes the count.
        with self._older_lock:
            late = self._late_writes
            self._older_end = max(self._older_end, end_ms)
        found = self._select_stored(matchers, start_ms, end_ms)
        if late == self._late_writes:
            kept.put(key, start_ms, end_ms, found)
        return found

    def select_columns(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> SeriesColumns:
        """``select`` as columns (``ColumnQuerier``): straight from the head when it holds the
        whole range, so no Python object is made per series; a range that begins before the
        head's start joins ClickHouse's part with the head's as columns (``join_columns``)
        when the head has numbered its series (their fingerprints are then at hand)."""
        head = self.head
        if head is not None and end_ms >= start_ms:
            start = head.start_ms
            if start is not None and end_ms >= start:
                self._check_regexes([matchers])
                head_start, columns = head.select_columns(matchers, start_ms, end_ms)
                if head_start is not None and start_ms >= head_start:
                    return columns
                head_fps = _fingerprints(columns)
                if head_start is not None and end_ms >= head_start and head_fps is not None:
                    # As select: the head's start first, then what lies before it.
                    older = self._older(matchers, start_ms, head_start - 1)
                    return join_columns(older, columns, head_fps)
        return SeriesColumns.of(self.select(matchers, start_ms, end_ms))

    def _select_stored(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Stored:
        """``select`` from ClickHouse and the pending buffer: columns sorted by series and time,
        and the labels of each series."""
        snapshot = self.pending.snapshot()  # before ClickHouse: a concurrent flush moves data
        stored = self._stored_with_labels(matchers, start_ms, end_ms)
        return self._with_pending(snapshot, Selection(tuple(matchers), start_ms, end_ms), stored)

    def select_many(self, selections: Sequence[Selection]) -> list[list[SeriesData]]:
        """``select`` of each selection, in order, in a few queries instead of two each.

        Up to ``MAX_MASK_CONDITIONS`` selections share one scan of ``metric_series`` and one
        samples query (a part per distinct time range); a rule group's reads, evaluated one
        selector at a time, paid ClickHouse's per-query overhead some seventy times.
        """
        out: list[list[SeriesData]] = [[] for _ in selections]
        live = [i for i, s in enumerate(selections) if s.end_ms >= s.start_ms]
        if not live:
            return out
        self._check_regexes([selections[i].matchers for i in live])
        if self.head is not None:
            # What the head holds whole needs no ClickHouse at all; a selection reaching past
            # its start is read as select reads it; the rest (head not loaded yet) in batches.
            rest = []
            for i in live:
                sel = selections[i]
                head_start, recent = self.head.select(sel.matchers, sel.start_ms, sel.end_ms)
                if head_start is None or sel.end_ms < head_start:
                    rest.append(i)
                elif sel.start_ms >= head_start:
                    out[i] = [SeriesData(labels, ts, vals) for _, labels, ts, vals in recent]
                else:
                    out[i] = self.select(sel.matchers, sel.start_ms, sel.end_ms)
            live = rest
        snapshot = self.pending.snapshot()  # before ClickHouse, as in select
        for k in range(0, len(live), _sql.MAX_MASK_CONDITIONS):
            chunk = live[k : k + _sql.MAX_MASK_CONDITIONS]
            stored = self._stored_many([selections[i] for i in chunk])
            for i, got in zip(chunk, stored, strict=True):
                out[i] = _split(*self._with_pending(snapshot, selections[i], got))
        return out

    # -- GridQuerier ------------------------------------------------------------------------
    def range_function(self, request: GridRequest) -> list[GridSeries] | None:
        """``request``'s function per series, evaluated by ClickHouse's ``timeSeries*ToGrid``
        aggregates; ``None`` (the engine then selects samples) when that would not be exact:
        samples of the range still pending (not in ClickHouse yet), or non-finite values for a
        function equal only on finite ones, an average whose sum may overflow, or a ClickHouse
        without these aggregates; and when the head holds the whole range, which it answers
        faster.

        Every sample the head holds is in ClickHouse or pending, so ClickHouse alone sees what
        ``select`` would return once nothing of the range is pending.
        """
        fn = request.function
        if self._grid_unsupported or fn not in _sql.GRID_AGGREGATES or request.step_ms <= 0:
            return None
        lo, hi = request.start_ms - request.range_ms + 1, request.end_ms
        if hi < lo:
            return []
        head_start = None if self.head is None else self.head.start_ms
        if head_start is not None and lo >= head_start:
            # The head answers from memory, faster than ClickHouse's aggregates scan
            # (bench/README.md, "Range functions pushed down to ClickHouse").
            return None
        matchers = request.matchers
        self._check_regexes([matchers])
        snapshot = self.pending.snapshot()  # before ClickHouse, as in select
        if len(self._pending_samples(snapshot, [matchers], lo, hi, {})[0]):
            return None
        q = _sql.Query()
        found = self._query(_sql.series_fps_sql(q, q.matchers(matchers), lo, hi), q)
        if not found.num_rows:
            return []
        fp_list = found.column("fingerprint").to_pylist()

        def read(final: bool) -> pa.Table:
            q = _sql.Query()
            fp_set = _sql.fingerprint_set(q, fp_list, matchers, lo, hi)
            return self._query(_sql.grid_sql(q, request, fp_set, final=final), q)

        try:
            table = read(False)
            if not table.num_rows:
                return []
            if (_col(table, "rows") != _col(table, "times")).any():
                # Unmerged copies of a sample: the aggregates would see both.
                table = read(True)
        except Unavailable as exc:
            if not _no_grid_aggregates(exc):
                raise
            log.warning("metrics store: no timeSeries*ToGrid aggregates here; not pushing down")
            self._grid_unsupported = True
            return None
        if fn in FINITE_GRID_FUNCTIONS and _col(table, "nonfinite").any():
            return None
        if fn == "avg_over_time" and _may_overflow(table):
            return None
        return self._grid_series(table, request, matchers, lo, hi)

    def _grid_series(
        self,
        table: pa.Table,
        request: GridRequest,
        matchers: Sequence[Matcher],
        lo: int,
        hi: int,
    ) -> list[GridSeries]:
        fps = _col(table, "fingerprint").astype(np.uint64, copy=False)
        labels = self._labels(fps.tolist(), matchers, lo, hi)
        grid = table.column("grid").combine_chunks()
        flat = grid.flatten()
        steps = request.steps
        if len(flat) != steps * len(fps):
            raise Unavailable(
                f"ClickHouse returned {len(flat)} grid values for {len(fps)} series x {steps} steps"
            )
        present = ~np.asarray(flat.is_null().to_numpy(zero_copy_only=False), bool)
        values = np.asarray(flat.fill_null(0.0).to_numpy(zero_copy_only=False), np.float64)
        present = present.reshape(len(fps), steps)
        values = values.reshape(len(fps), steps)
        most = _col(table, "most").astype(np.int64, copy=False)
        return [
            GridSeries(labels[fp], values[i], present[i], int(most[i]))
            for i, fp in enumerate(fps.tolist())
            if fp in labels
        ]

    def _with_pending(self, snapshot: list[SampleBatch], sel: Selection, stored: Stored) -> Stored:
        """Stored samples of a selection merged with the pending ones (still columns)."""
        fps, ts, vals, labels_by_fp = stored
        labels_by_fp = dict(labels_by_fp)
        p_fps, p_ts, p_vals = self._pending_samples(
            snapshot, [sel.matchers], sel.start_ms, sel.end_ms, labels_by_fp
        )
        if len(p_fps):
            fps = np.concatenate([fps, p_fps])
            ts = np.concatenate([ts, p_ts])
            vals = np.concatenate([vals, p_vals])
            # Pending samples come after ClickHouse's, so "keep the last" lets them win.
            fps, ts, vals = dedup_last(fps, ts, vals)
        return fps, ts, vals, labels_by_fp

    def _stored_with_labels(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> Stored:
        """One selection's samples in ClickHouse with the labels of their series."""
        fps, ts, vals = self._stored_samples(matchers, start_ms, end_ms)
        labels_by_fp: dict[int, Labels] = {}
        if len(fps):
            labels_by_fp = self._labels(_firsts(fps).tolist(), matchers, start_ms, end_ms)
            if len(labels_by_fp) < len(_firsts(fps)):
                keep = np.isin(fps, np.fromiter(labels_by_fp, np.uint64, len(labels_by_fp)))
                fps, ts, vals = fps[keep], ts[keep], vals[keep]
        return fps, ts, vals, labels_by_fp

    def _stored_many(self, selections: Sequence[Selection]) -> list[Stored]:
        """``_stored_with_labels`` of up to ``MAX_MASK_CONDITIONS`` selections: one series
        scan, one samples query; a selection whose unmerged copies disagree is read alone
        (with ``FINAL``), and so is everything when the fingerprints would not fit the SQL."""
        empty: Stored = (_EMPTY_U64, np.empty(0, np.int64), np.empty(0, np.float64), {})
        q = _sql.Query()
        conds = [(q.matchers(s.matchers), s.start_ms, s.end_ms) for s in selections]
        found = self._query(_sql.series_masks_sql(q, conds, _metric_names(selections)), q)
        if not found.num_rows:
            return [empty] * len(selections)
        all_fps = _col(found, "fingerprint").astype(np.uint64, copy=False)
        masks = _col(found, "mask").astype(np.uint64, copy=False)
        fps_of = [all_fps[(masks >> np.uint64(i)) & np.uint64(1) == 1] for i in range(len(conds))]
        by_range: dict[tuple[int, int], list[int]] = {}
        for i, s in enumerate(selections):
            if len(fps_of[i]):
                by_range.setdefault((s.start_ms, s.end_ms), []).append(i)
        parts = [
            (np.unique(np.concatenate([fps_of[i] for i in idxs])), lo, hi, idxs)
            for (lo, hi), idxs in by_range.items()
        ]
        if sum(len(p[0]) for p in parts) > _sql.MAX_LITERAL_FINGERPRINTS:
            return [self._stored_with_labels(s.matchers, s.start_ms, s.end_ms) for s in selections]
        out: list[Stored] = [empty] * len(selections)
        if not parts:
            return out
        q = _sql.Query()
        sql = _sql.samples_parts_sql(q, [(p[0].tolist(), p[1], p[2]) for p in parts])
        table = self._query(sql, q)
        part_col = _col(table, "part").astype(np.int64, copy=False)
        fps, ts, vals = _columns(table)
        start = min(s.start_ms for s in selections)
        end = max(s.end_ms for s in selections)
        labels = self._labels_by_fps(np.unique(fps).tolist(), start, end)
        named_fps = np.fromiter(labels, np.uint64, len(labels))
        for n, (_, lo, hi, idxs) in enumerate(parts):
            a, b = np.searchsorted(part_col, [n, n + 1])
            pf, pt, pv = fps[a:b], ts[a:b], vals[a:b]
            dup = (pf[1:] == pf[:-1]) & (pt[1:] == pt[:-1])
            if dup.any():
                bits = pv.view(np.uint64)
                if (bits[1:][dup] != bits[:-1][dup]).any():
                    for i in idxs:
                        s = selections[i]
                        out[i] = self._stored_with_labels(s.matchers, lo, hi)
                    continue
                keep = np.concatenate([[True], ~dup])
                pf, pt, pv = pf[keep], pt[keep], pv[keep]
            for i in idxs:
                mine = np.isin(pf, fps_of[i]) & np.isin(pf, named_fps)
                sf = pf[mine]
                named = {fp: labels[fp] for fp in _firsts(sf).tolist()} if len(sf) else {}
                out[i] = (sf, pt[mine], pv[mine], named)
        return out

    def _labels_by_fps(self, fps: list[int], start_ms: int, end_ms: int) -> dict[int, Labels]:
        """Labels of series ``fps``, from the cache, reading the missing ones by fingerprint."""
        cache = self._label_cache
        missing = [fp for fp in fps if fp not in cache]
        step = _sql.MAX_LITERAL_FINGERPRINTS
        for k in range(0, len(missing), step):
            q = _sql.Query()
            sql = _sql.labels_sql(q, missing[k : k + step], start_ms, end_ms)
            found = _labels_of(self._query(sql, q))
            if len(cache) + len(found) > LABEL_CACHE_SERIES:
                self._label_cache = cache = {}  # a new dict: see _labels
            cache.update(found)
        return {fp: cache[fp] for fp in fps if fp in cache}

    def _stored_samples(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Samples in ClickHouse, sorted by series and time, one per (series, timestamp).

        Reads without ``FINAL``: merging parts at read time tripled the cost of a range query,
        and the duplicates it removes (a WAL replay or a client retry writing a sample again)
        almost always repeat the same value, so dropping neighbours in numpy is enough. Only
        when two unmerged copies disagree does the query run again with ``FINAL``, which keeps
        the later write as the merge will.

        One query: the series query of ``matchers`` is the samples query's ``fingerprint IN``
        subquery, whose set ClickHouse builds before it picks granules by the primary key.
        """

        def read(final: bool) -> pa.Table:
            q = _sql.Query()
            fp_set = f"({_sql.series_fps_sql(q, q.matchers(matchers), start_ms, end_ms)})"
            return self._query(_sql.samples_sql(q, fp_set, start_ms, end_ms, final=final), q)

        return _deduplicated(read)

    def _labels(
        self, fps: list[int], matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> dict[int, Labels]:
        """Labels of series ``fps`` (which matched ``matchers``), from the cache when known.

        A fingerprint is a hash of its labels, so a cached entry never goes stale. On a miss
        the selector's series are read again and all of them cached, so a dashboard's
        repeated queries read labels from ClickHouse once, not on every refresh.
        """
        cache = self._label_cache
        if all(fp in cache for fp in fps):
            return {fp: cache[fp] for fp in fps}
        q = _sql.Query()
        sql = _sql.series_sql(q, q.matchers(matchers), start_ms, end_ms)
        found = _labels_of(self._query(sql, q))
        if len(cache) + len(found) > LABEL_CACHE_SERIES:
            # A new dict rather than clear(): queries in other threads may be reading this one.
            self._label_cache = cache = {}
        cache.update(found)
        return {fp: found[fp] for fp in fps if fp in found}

    def _pending_samples(
        self,
        snapshot: list[SampleBatch],
        matcher_sets: Sequence[Sequence[Matcher]],
        start_ms: int,
        end_ms: int,
        labels_by_fp: dict[int, Labels],
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Pending samples in range of series that match; adds their labels to ``labels_by_fp``.

        Series already in ``labels_by_fp`` count as matching; with no matcher sets every series
        matches. Each batch is cut to the time range before anything is concatenated, so a
        narrow query stays cheap even when much is pending.
        """
        parts: list[tuple[SampleBatch, npt.NDArray[np.bool_]]] = []
        for b in snapshot:
            in_range = (b.timestamps >= start_ms) & (b.timestamps <= end_ms)
            if in_range.any():
                parts.append((b, in_range))
        if not parts:
            return _EMPTY_U64, np.empty(0, np.int64), np.empty(0, np.float64)
        fps = np.concatenate([b.fingerprints[m] for b, m in parts])
        ts = np.concatenate([b.timestamps[m] for b, m in parts])
        vals = np.concatenate([b.values[m] for b, m in parts])
        matched: list[int] = []
        decided: set[int] = set()
        for b, m in parts:
            for fp in set(b.fingerprints[m].tolist()).difference(decided):
                decided.add(fp)
                labels = b.series[fp]
                if (
                    fp in labels_by_fp
                    or not matcher_sets
                    or any(matches_all(list(ms), labels) for ms in matcher_sets)
                ):
                    labels_by_fp.setdefault(fp, labels)
                    matched.append(fp)
        keep = np.isin(fps, np.array(matched, dtype=np.uint64))
        return fps[keep], ts[keep], vals[keep]

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        """Label sets of series matching any set and active in the range."""
        return list(self._series_map(matcher_sets, start_ms, end_ms).values())

    def _series_map(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> dict[int, Labels]:
        if end_ms < start_ms:
            return {}
        self._check_regexes(matcher_sets)
        snapshot = self.pending.snapshot()
        q = _sql.Query()
        cond = q.matcher_sets(matcher_sets)
        found = _labels_of(self._query(_sql.series_sql(q, cond, start_ms, end_ms), q))
        pending: dict[int, Labels] = {}
        self._pending_samples(snapshot, matcher_sets, start_ms, end_ms, pending)
        found.update(pending)
        return found

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        """Sorted label names of matching series."""
        if end_ms < start_ms:
            return []
        self._check_regexes(matcher_sets)
        snapshot = self.pending.snapshot()
        q = _sql.Query()
        cond = q.matcher_sets(matcher_sets)
        rows = self._query(_sql.label_names_sql(q, cond, start_ms, end_ms), q)
        names = set(rows.column("name").to_pylist())
        pending: dict[int, Labels] = {}
        self._pending_samples(snapshot, matcher_sets, start_ms, end_ms, pending)
        names.update(n for ls in pending.values() for n, _ in ls)
        return sorted(names)

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        """Sorted values of label ``name`` over matching series."""
        if end_ms < start_ms:
            return []
        self._check_regexes(matcher_sets)
        snapshot = self.pending.snapshot()
        q = _sql.Query()
        cond = q.matcher_sets(matcher_sets)
        rows = self._query(_sql.label_values_sql(q, name, cond, start_ms, end_ms), q)
        values = set(rows.column("value").to_pylist())
        pending: dict[int, Labels] = {}
        self._pending_samples(snapshot, matcher_sets, start_ms, end_ms, pending)
        values.update(v for ls in pending.values() for n, v in ls if n == name)
        return sorted(values)

    # -- SeriesStatsReader -------------------------------------------------------------------
    def series_stats(self, start_ms: int, end_ms: int, limit: int) -> SeriesStats:
        """Cardinality of the series on ``metric_series`` rows of the days overlapping the
        range, counted in ClickHouse; sample times from ``metric_samples`` in the range.

        Reads what is flushed: batches still pending (one flush interval, 1 s by default)
        count from the next flush on.
        """
        rows = {}
        for what in _sql.SERIES_STATS:
            sql, q = _sql.series_stats_sql(what, start_ms, end_ms, limit)
            rows[what] = self._query(sql, q).to_pylist()
        labels = rows["labels"]
        times = rows["times"][0] if rows["times"] else {"n": 0}
        metrics: list[NameCount] = []
        pairs: list[NameCount] = []
        for r in labels:
            tops = [(v, int(c)) for v, c in zip(r["top_values"], r["top_series"], strict=True)]
            if r["name"] == METRIC_NAME:
                metrics = [NameCount(v, c) for v, c in tops]
            # The overall top pairs are among the top ones of their own label.
            pairs += [NameCount(f"{r['name']}={v}", c) for v, c in tops]
        return SeriesStats(
            num_series=int(rows["series"][0]["n"]),
            num_label_pairs=sum(int(r["n"]) for r in labels),
            min_time_ms=int(times["lo"]) if times["n"] else None,
            max_time_ms=int(times["hi"]) if times["n"] else None,
            series_count_by_metric_name=metrics,
            label_value_count_by_label_name=_top(labels, "n", limit),
            memory_in_bytes_by_label_name=_top(labels, "bytes", limit),
            series_count_by_label_value_pair=sorted(pairs, key=lambda p: (-p.count, p.name))[
                :limit
            ],
        )

    # -- MetadataReader ---------------------------------------------------------------------
    def metadata(self, metric: str | None = None) -> dict[str, list[MetricMetadata]]:
        """Latest metadata per metric family (only ``metric`` when given)."""
        snapshot = self.pending.snapshot()
        q = _sql.Query()
        where = "" if metric is None else f" WHERE metric_family = {q.param(metric, 'String')}"
        rows = self._query(
            f"SELECT metric_family, type, help, unit FROM {METADATA} FINAL{where}",  # noqa: S608
            q,
        ).to_pylist()
        out = {r["metric_family"]: MetricMetadata(r["type"], r["help"], r["unit"]) for r in rows}
        for b in snapshot:
            for family, md in b.metadata.items():
                if metric is None or family == metric:
                    out[family] = md
        return {name: [out[name]] for name in sorted(out)}


def _deduplicated(
    read: Callable[[bool], pa.Table],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Rows of ``read(final)`` (sorted by series and time) with one per (series, timestamp):
    neighbouring copies of one value are dropped; when copies disagree, ``read(True)`` (with
    ``FINAL``) decides, keeping the later write as the merge will."""
    fps, ts, vals = _columns(read(False))
    dup = (fps[1:] == fps[:-1]) & (ts[1:] == ts[:-1])
    if not dup.any():
        return fps, ts, vals
    bits = vals.view(np.uint64)  # bitwise, so two stale markers (NaN) count as equal
    if (bits[1:][dup] != bits[:-1][dup]).any():
        return _columns(read(True))
    keep = np.concatenate([[True], ~dup])
    return fps[keep], ts[keep], vals[keep]


_HEAD_FIELDS = (
    StatField("series", "spyglass_head_series", "gauge", "Series in the in-memory head."),
    StatField("samples", "spyglass_head_samples", "gauge", "Samples in the in-memory head."),
    StatField(
        "bytes", "spyglass_head_bytes", "gauge", "Memory the head's samples and series take."
    ),
    StatField(
        "min_time_seconds",
        "spyglass_head_min_time_seconds",
        "gauge",
        "Start of the head: queries from here on read memory only (0 while it loads).",
    ),
    StatField(
        "truncations",
        "spyglass_head_truncations",
        "counter",
        "Times old samples were dropped from the head.",
    ),
)

_OLDER_FIELDS = (
    StatField(
        "nbytes",
        "spyglass_older_reads_bytes",
        "gauge",
        "Memory taken by what selectors read from ClickHouse before the head's start, kept.",
    ),
    StatField(
        "selectors",
        "spyglass_older_reads_selectors",
        "gauge",
        "Selectors whose read before the head's start is kept.",
    ),
)

_STORE_FIELDS = (
    StatField(
        "series_created",
        "spyglass_storage_series_created",
        "counter",
        "Series rows written (one per series and day).",
    ),
)


def _top(rows: list[dict[str, Any]], key: str, limit: int) -> list[NameCount]:
    ranked = sorted(rows, key=lambda r: (-int(r[key]), r["name"]))
    return [NameCount(r["name"], int(r[key])) for r in ranked[:limit]]


def _check_batch(batch: SampleBatch) -> None:
    """Refuse a malformed batch here: once in the WAL it would fail every flush attempt."""
    n = len(batch)
    if batch.timestamps.shape != (n,) or batch.values.shape != (n,):
        raise BadInput("sample batch columns differ in length")
    if batch.fingerprints.dtype != np.uint64 or batch.timestamps.dtype != np.int64:
        raise BadInput("sample batch has wrong column types")
    if batch.values.dtype != np.float64:
        raise BadInput("sample batch has wrong column types")
    if n:
        missing = set(run_starts(batch.fingerprints)).difference(batch.series)
        if missing:
            raise BadInput(f"sample batch has samples of {len(missing)} series without labels")


def _is_regex_error(exc: Exception) -> bool:
    text = str(exc)
    return "CANNOT_COMPILE_REGEXP" in text or "Code: 427." in text or "cannot compile re2" in text


def _may_overflow(table: pa.Table) -> bool:
    """Whether a window's sum may overflow float64: Prometheus then averages incrementally and
    stays finite, where ClickHouse's average becomes Inf."""
    magnitude = _col(table, "magnitude").astype(np.float64, copy=False)
    most = _col(table, "most").astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        return bool((magnitude * most >= 2.0**1023).any())


def _no_grid_aggregates(exc: Exception) -> bool:
    """Whether a ClickHouse error says the ``timeSeries*ToGrid`` aggregates (or the setting
    that enables them) do not exist: servers before 25.6."""
    text = str(exc)
    return any(
        code in text
        for code in ("UNKNOWN_AGGREGATE_FUNCTION", "Code: 63.", "UNKNOWN_SETTING", "Code: 115.")
    )


def _col(table: pa.Table, name: str) -> npt.NDArray[np.generic]:
    """A column as numpy: zero-copy for one chunk, one concatenation otherwise."""
    col = table.column(name)
    if col.num_chunks == 1:
        return np.asarray(col.chunk(0).to_numpy(zero_copy_only=False))
    return np.asarray(col.to_numpy())


def _columns(
    table: pa.Table,
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    return (
        _col(table, "fingerprint").astype(np.uint64, copy=False),
        _col(table, "timestamp_ms").astype(np.int64, copy=False),
        _col(table, "value").astype(np.float64, copy=False),
    )


def _labels_of(table: pa.Table) -> dict[int, Labels]:
    """Label sets by fingerprint. Names and values are interned: thousands of series share
    them, and the label cache then holds about 0.5 instead of 1.2 KB per series (measured on
    20k synthetic series of six labels)."""
    fps = table.column("fingerprint").to_pylist()
    maps = table.column("label_map").to_pylist()
    return {
        fp: tuple(sorted((intern(k), intern(v)) for k, v in m))
        for fp, m in zip(fps, maps, strict=True)
    }


def _metric_names(selections: Sequence[Selection]) -> list[str]:
    """The metric names the selections require, when each requires one (``__name__="x"``);
    else none."""
    names: set[str] = set()
    for s in selections:
        named = [m.value for m in s.matchers if m.name == METRIC_NAME and m.op is MatchOp.EQUAL]
        if not named:
            return []
        names.add(named[0])
    return sorted(names)


def _fingerprints(columns: SeriesColumns) -> npt.NDArray[np.uint64] | None:
    """The fingerprint of each series of the head's answer, from its numbering (``None`` when
    some series is not numbered yet)."""
    if columns.numbers is None or not isinstance(columns.index, RankedLabels):
        return None if columns.labels else _EMPTY_U64
    by_number = columns.index.fingerprints
    numbers = columns.numbers
    return np.fromiter(map(by_number.__getitem__, numbers.tolist()), np.uint64, len(numbers))


def _firsts(fps: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The distinct fingerprints of a column sorted by fingerprint (each run's first row)."""
    if not len(fps):
        return fps
    starts = np.concatenate([[0], np.flatnonzero(fps[1:] != fps[:-1]) + 1])
    out: npt.NDArray[np.uint64] = fps[starts]
    return out


def _split(
    fps: npt.NDArray[np.uint64],
    ts: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float64],
    labels_by_fp: dict[int, Labels],
) -> list[SeriesData]:
    """Cut columns sorted by fingerprint into one ``SeriesData`` per series."""
    if not len(fps):
        return []
    bounds = np.flatnonzero(fps[1:] != fps[:-1]) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [len(fps)]]).tolist()
    out = []
    for s, e in zip(starts, ends, strict=True):
        fp = int(fps[s])
        out.append(SeriesData(labels_by_fp[fp], ts[s:e], vals[s:e]))
    return out


__all__ = [
    "DEFAULT_HEAD_MAX_BYTES",
    "DEFAULT_HEAD_WINDOW_MS",
    "DEFAULT_MAX_PENDING_SAMPLES",
    "LABEL_CACHE_SERIES",
    "MetricsStore",
    "StoreStats",
]
