"""One signal's write path: WAL, pending buffer and batch writer, built from its description.

``append`` puts a batch in the signal's WAL (fsynced, group commit) and, once durable, in the
pending buffer, where readers of that signal see it at once; the ``BatchWriter`` inserts pending
batches in large inserts through the signal's inserter and checkpoints the WAL. ``start`` creates
the signal's tables and replays unflushed WAL records into the buffer, so an acknowledged batch
is never lost to ``kill -9``.

Every signal has its own pipeline, flush loop and pending limit on the one shared backend: a
flood of one signal fills its own buffer and is refused with ``Overloaded`` (an ``Unavailable``:
a 5xx or 429, so senders retry) while the others go on (docs/decisions.md, "Several signals on
one chDB"). The limit counts items and, for a signal that says how big its batches are, bytes:
those pending plus those on their way into the WAL, so memory stays bounded under a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from prometheus_client.registry import Collector

from spyglass.core.errors import Overloaded, Unavailable
from spyglass.core.stats import StatField, StatsCollector
from spyglass.storage._backend import Backend
from spyglass.storage.schema import DEFAULT_RETENTION_MS, Schema, apply_schema
from spyglass.storage.signals import Signal
from spyglass.storage.wal import (
    DEFAULT_SEGMENT_BYTES,
    ReplayProgress,
    Wal,
    fsync_directory,
    lock_directory,
)
from spyglass.storage.writer import BatchWriter, PendingBuffer

B = TypeVar("B", bound=Sized)

WAL_SUBDIR = "wal"
DEFAULT_MAX_PENDING_ITEMS = 10_000_000  # a bound on what waits in memory while ClickHouse lags


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """Counters of one signal's write path."""

    items_appended: int
    items_flushed: int
    flushes: int
    flush_failures: int
    last_flush_seconds: float
    flush_seconds_sum: float
    pending_items: int
    pending_bytes: int
    wal_bytes: int
    wal_segments: int
    wal_torn_bytes: int
    replayed_items: int
    last_flush_error: str
    wal_records: int = 0
    wal_fsyncs: int = 0


class SignalPipeline(Generic[B]):
    """The durable write path of ``signal`` on ``backend``, its WAL under ``data_dir``.

    The pipeline does not own ``backend``: whoever built it closes it after ``close()``. When
    more than ``max_pending_items`` wait for ClickHouse, or (``max_pending_bytes`` > 0, for a
    signal with ``nbytes``) a batch would take what waits past ``max_pending_bytes``, ``append``
    refuses with ``Overloaded``.
    """

    def __init__(
        self,
        signal: Signal[B],
        backend: Backend,
        data_dir: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        cluster: str = "",
        flush_interval_ms: int = 1_000,
        flush_max_items: int = 200_000,
        wal_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        max_pending_items: int = DEFAULT_MAX_PENDING_ITEMS,
        max_pending_bytes: int = 0,
        on_accept: Callable[[B], None] | None = None,
    ) -> None:
        self.signal = signal
        # Sees every batch readers will see, in log order: each replayed one at start, then
        # each appended one once durable and before its caller resumes (the metrics head).
        self.on_accept = on_accept
        self.backend = backend
        self.schema = Schema(signal.tables, retention_ms=retention_ms, cluster=cluster)
        self.pending: PendingBuffer[B] = PendingBuffer(signal.nbytes)
        self.wal: Wal[B] = Wal(
            wal_dir(data_dir, signal.name),
            signal.codec(),
            segment_bytes=wal_segment_bytes,
            on_durable=self._on_durable,
        )
        self.insert = signal.inserter(backend)
        self.writer: BatchWriter[B] = BatchWriter(
            self.insert,
            self.pending,
            self.wal.checkpoint,
            flush_max_items=flush_max_items,
            flush_interval_ms=flush_interval_ms,
            name=signal.name,
        )
        self.max_pending_items = max_pending_items
        self.max_pending_bytes = max_pending_bytes if signal.nbytes is not None else 0
        self._arriving_bytes = 0  # of batches accepted but not yet durable (in the WAL's queue)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._appended = 0
        self._replayed = 0
        self._started = False
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether ``append`` accepts batches."""
        return self._started and not self._closed

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop ``start`` ran on (``None`` before): where callers of ``append`` wait,
        so ``on_accept`` (on the WAL's writer thread) can hand work back to it."""
        return self._loop

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the tables, replay the WAL into the pending buffer, start the flusher.

        If this fails (ClickHouse unreachable, WAL directory in use) the pipeline is closed;
        build a new one to retry.
        """
        if self._started:
            return
        try:
            await asyncio.to_thread(apply_schema, self.backend, self.schema)
            replayed = await asyncio.to_thread(lambda: list(self.wal.replay()))
            self._loop = asyncio.get_running_loop()
            for seq, batch in replayed:
                if self.on_accept is not None:
                    self.on_accept(batch)
                self.pending.add(seq, batch)
                self._replayed += len(batch)
            self.wal.start()
        except BaseException:
            # Release the WAL directory so another pipeline can try again; this one is done.
            self.wal.close()
            self._closed = True
            raise
        self._started = True
        self._task = asyncio.create_task(
            self.writer.run(), name=f"spyglass-{self.signal.name}-flusher"
        )
        if replayed:
            self.writer.wake()

    async def close(self) -> None:
        """Stop accepting, write out the WAL queue, flush everything to ClickHouse, close the WAL.

        If the final flush fails the data stays in the WAL and is replayed on the next start.
        """
        if self._closed or not self._started:
            self._closed = True
            return
        self._closed = True
        self.writer.stop()
        if self._task is not None:
            await self._task
        await asyncio.to_thread(lambda: self.wal.close(keep_lock=True))
        # A successful flush checkpoints the now-closed WAL, which then deletes every segment.
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.writer.flush)
        self.wal.release()

    # -- writing ----------------------------------------------------------------------------
    async def append(self, batch: B) -> None:
        """Accept ``batch`` durably: returns once it is fsynced in the WAL (and readable)."""
        if not self.running:
            raise Unavailable(f"{self.signal.name} storage is not running")
        size = self.pending.size_of(batch) if self.max_pending_bytes else 0
        self._check_room(size)
        self._arriving_bytes += size
        try:
            await self.wal.append(batch)
        finally:
            self._arriving_bytes -= size
        self._appended += len(batch)

    def check_room(self, size: int = 1) -> None:
        """Raise ``Overloaded`` when a batch of ``size`` bytes would be refused now: a receiver
        asks before it decodes a request (with the body's size as the estimate), so a full
        buffer does not cost the decoding of what it refuses."""
        self._check_room(size)

    def _check_room(self, size: int) -> None:
        if self.pending.items >= self.max_pending_items:
            # ClickHouse is not keeping up (or is down): refuse rather than grow without bound.
            # Overloaded maps to a 5xx (or 429), so senders retry later.
            raise Overloaded(
                f"{self.pending.items} {self.signal.unit} wait for storage (limit "
                f"{self.max_pending_items}); last flush error: "
                f"{self.writer.counters.last_error or 'none'}"
            )
        if not self.max_pending_bytes or not size:
            return
        waiting = self.pending.bytes + self._arriving_bytes
        # A batch bigger than the whole limit still goes in when nothing waits, or it could
        # never be stored; request bodies are bounded on their own.
        if waiting and waiting + size > self.max_pending_bytes:
            raise Overloaded(
                f"{waiting} bytes of {self.signal.unit} wait for storage (limit "
                f"{self.max_pending_bytes}); last flush error: "
                f"{self.writer.counters.last_error or 'none'}"
            )

    def _on_durable(self, seq: int, batch: B) -> None:
        # WAL writer thread: the batch is fsynced; make it visible before the caller resumes.
        if self.on_accept is not None:
            self.on_accept(batch)
        n = self.pending.add(seq, batch)
        if n >= self.writer.flush_max_items and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed at shutdown
                self._loop.call_soon_threadsafe(self.writer.wake)

    def flush_now(self) -> int:
        """Insert everything pending right now (blocking); returns items inserted."""
        return self.writer.flush()

    def replay_progress(self) -> ReplayProgress:
        """How far the start-up WAL replay got (``Wal.replay_progress``)."""
        return self.wal.replay_progress()

    # -- stats ------------------------------------------------------------------------------
    def stats(self) -> PipelineStats:
        """A snapshot of the pipeline's counters."""
        c = self.writer.counters
        w = self.wal.stats()
        return PipelineStats(
            items_appended=self._appended,
            items_flushed=c.items_flushed,
            flushes=c.flushes,
            flush_failures=c.flush_failures,
            last_flush_seconds=c.last_flush_seconds,
            flush_seconds_sum=c.flush_seconds_sum,
            pending_items=self.pending.items,
            pending_bytes=self.pending.bytes,
            wal_bytes=w.bytes_on_disk,
            wal_segments=w.segments,
            wal_torn_bytes=w.torn_bytes_dropped,
            replayed_items=self._replayed,
            last_flush_error=c.last_error,
            wal_records=w.records_written,
            wal_fsyncs=w.fsyncs,
        )


def wal_dir(data_dir: str | Path, signal: str) -> Path:
    """The WAL directory of ``signal`` under ``data_dir``."""
    return Path(data_dir) / WAL_SUBDIR / signal


def adopt_wal(old: Path, new: Path) -> int:
    """Move a WAL's files from ``old`` (a directory of an earlier layout) into ``new``; returns
    the files moved. Nothing happens when ``old`` holds no segments or checkpoint.

    Runs before the WAL opens, under ``old``'s lock, so a process still writing there is noticed
    (``Unavailable``) instead of losing its records.
    """
    files = sorted(old.glob("*.seg"))
    if (old / "checkpoint").is_file():
        files.append(old / "checkpoint")
    if not files:
        return 0
    fd = lock_directory(old)
    try:
        new.mkdir(parents=True, exist_ok=True)
        if any(new.glob("*.seg")) or (new / "checkpoint").exists():
            raise Unavailable(f"both {old} and {new} hold a write-ahead log; move one away")
        for f in files:
            f.rename(new / f.name)
        for d in (new, old):
            fsync_directory(d)
    finally:
        os.close(fd)
    return len(files)


_SHARED_FIELDS = (
    StatField("flushes", "spyglass_storage_flushes", "counter", "Inserts into ClickHouse."),
    StatField(
        "flush_failures",
        "spyglass_storage_flush_failures",
        "counter",
        "Inserts that failed (the data stays in the WAL and is retried).",
    ),
    StatField(
        "last_flush_seconds",
        "spyglass_storage_last_flush_duration_seconds",
        "gauge",
        "Duration of the latest insert.",
    ),
    StatField(
        "flush_seconds_sum",
        "spyglass_storage_flush_duration_seconds",
        "summary",
        "Time spent inserting into ClickHouse.",
        count_attr="flushes",
    ),
    StatField("wal_bytes", "spyglass_wal_bytes", "gauge", "Write-ahead log size on disk."),
    StatField("wal_segments", "spyglass_wal_segments", "gauge", "Write-ahead log segment files."),
    StatField(
        "wal_torn_bytes",
        "spyglass_wal_torn_bytes",
        "counter",
        "Bytes of torn or corrupt write-ahead log records cut at replay.",
    ),
    # Records per fsync is how well group commit shares one fsync among concurrent writes.
    StatField(
        "wal_records",
        "spyglass_wal_records_written",
        "counter",
        "Write-ahead log records written (one per accepted request or batch).",
    ),
    StatField(
        "wal_fsyncs",
        "spyglass_wal_fsyncs",
        "counter",
        "fsync calls of the write-ahead log (group commit: one for every record queued meanwhile).",
    ),
)


_BYTES_FIELDS = (
    StatField(
        "pending_bytes",
        "spyglass_storage_pending_bytes",
        "gauge",
        "Bytes of accepted data not yet inserted (signals bounded in bytes).",
    ),
)


def _unit_fields(unit: str) -> tuple[StatField, ...]:
    return (
        StatField(
            "items_appended",
            f"spyglass_storage_{unit}_appended",
            "counter",
            f"{unit.capitalize()} accepted into the write-ahead log.",
        ),
        StatField(
            "items_flushed",
            f"spyglass_storage_{unit}_flushed",
            "counter",
            f"{unit.capitalize()} inserted into ClickHouse.",
        ),
        StatField(
            "pending_items",
            f"spyglass_storage_pending_{unit}",
            "gauge",
            f"{unit.capitalize()} accepted but not yet inserted.",
        ),
        StatField(
            "replayed_items",
            f"spyglass_wal_replayed_{unit}",
            "counter",
            f"{unit.capitalize()} replayed from the WAL at start.",
        ),
    )


def pipeline_collectors(pipelines: Sequence[SignalPipeline[Any]]) -> list[Collector]:
    """Collectors for the pipelines' counters: what every signal has, labelled ``signal``, and
    one family per signal for its counts of items (``spyglass_storage_samples_appended``...)."""
    out: list[Collector] = [
        StatsCollector(
            lambda: {p.signal.name: p.stats() for p in pipelines}, _SHARED_FIELDS, label="signal"
        )
    ]
    if any(p.signal.nbytes is not None for p in pipelines):
        out.append(
            StatsCollector(
                lambda: {p.signal.name: p.stats() for p in pipelines if p.signal.nbytes},
                _BYTES_FIELDS,
                label="signal",
            )
        )
    for p in pipelines:
        out.append(StatsCollector(p.stats, _unit_fields(p.signal.unit)))
    return out


class SignalStore(Generic[B]):
    """What every signal's store is besides its reads: the pipeline of ``signal`` on
    ``backend`` and its lifecycle (start, close, append, flush, replay progress). Logs, spans,
    error events and exemplars subclass it and add the reads of their port; the metrics store,
    with its head and caches, builds its pipeline itself.

    The store does not own ``backend``: whoever built it closes it after ``close()``.
    """

    def __init__(
        self,
        signal: Signal[B],
        backend: Backend,
        data_dir: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        cluster: str = "",
        flush_interval_ms: int = 1_000,
        flush_max_items: int = 200_000,
        wal_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        max_pending_items: int = DEFAULT_MAX_PENDING_ITEMS,
        max_pending_bytes: int = 0,
    ) -> None:
        self.backend = backend
        self.pipeline: SignalPipeline[B] = SignalPipeline(
            signal,
            backend,
            data_dir,
            retention_ms=retention_ms,
            cluster=cluster,
            flush_interval_ms=flush_interval_ms,
            flush_max_items=flush_max_items,
            wal_segment_bytes=wal_segment_bytes,
            max_pending_items=max_pending_items,
            max_pending_bytes=max_pending_bytes,
        )
        self.schema = self.pipeline.schema
        self.pending = self.pipeline.pending

    async def start(self) -> None:
        """Create the tables, replay the WAL, start flushing (``SignalPipeline.start``)."""
        await self.pipeline.start()

    async def close(self) -> None:
        """Flush everything accepted and close the WAL (``SignalPipeline.close``)."""
        await self.pipeline.close()

    async def append(self, batch: B) -> None:
        """Accept ``batch`` durably: returns once it is fsynced in the WAL (and readable);
        ``Unavailable`` when the store is not running or too much waits for ClickHouse."""
        if len(batch):
            await self.pipeline.append(batch)

    def check_room(self, size: int = 1) -> None:
        """``Overloaded`` when a batch of ``size`` bytes would be refused now
        (``SignalPipeline.check_room``)."""
        self.pipeline.check_room(size)

    def flush_now(self) -> int:
        """Insert everything pending right now (blocking); returns items inserted."""
        return self.pipeline.flush_now()

    def replay_progress(self) -> ReplayProgress:
        """How far the start-up replay of the signal's WAL got."""
        return self.pipeline.replay_progress()

    def collectors(self) -> list[Collector]:
        """What only this store counts (none here; the pipeline's counters come with every
        signal's, from ``pipeline_collectors``)."""
        return []


__all__ = [
    "DEFAULT_MAX_PENDING_ITEMS",
    "WAL_SUBDIR",
    "PipelineStats",
    "SignalPipeline",
    "SignalStore",
    "adopt_wal",
    "pipeline_collectors",
    "wal_dir",
]
