"""The batch writer: accepted batches wait in memory, then go to ClickHouse in large inserts.

ClickHouse wants few big inserts, not many small ones (each insert makes a part that must be
merged later). Batches enter the ``PendingBuffer`` once the WAL has them; the ``BatchWriter``
moves everything pending into one insert per table when enough samples are waiting or the oldest
has waited long enough, then tells the WAL those records are covered so it can delete segments.

A failed insert loses nothing: the batches go back to the front of the buffer (they are still in
the WAL too), the error is kept for ``stats()``, and the next attempt waits with capped
exponential backoff. Inserts run in a worker thread so the event loop keeps accepting writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from spyglass.core.samples import SampleBatch
from spyglass.storage._backend import Backend
from spyglass.storage._sql import MAX_DAY
from spyglass.storage.schema import DAY_MS, METADATA, SAMPLES, SERIES

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


class PendingBuffer:
    """Batches accepted but not yet in ClickHouse, in WAL order. Safe across threads.

    ``inflight`` holds what a running flush took: still visible to queries until the insert
    has succeeded, put back in front on failure.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[int, SampleBatch]] = []
        self._inflight: list[tuple[int, SampleBatch]] = []
        self._samples = 0
        self._inflight_samples = 0
        self._oldest: float | None = None

    def add(self, seq: int, batch: SampleBatch) -> int:
        """Append a durable batch; returns the number of samples now pending."""
        with self._lock:
            self._pending.append((seq, batch))
            self._samples += len(batch)
            if self._oldest is None:
                self._oldest = time.monotonic()
            return self._samples

    def take(self, max_samples: int | None = None) -> list[tuple[int, SampleBatch]]:
        """Move the oldest batches (up to ``max_samples`` samples, at least one batch) to
        in-flight and return them."""
        with self._lock:
            if self._inflight:
                raise RuntimeError("a flush is already in flight")
            count = len(self._pending)
            if max_samples is not None:
                total = 0
                for i, (_, b) in enumerate(self._pending):
                    total += len(b)
                    if total > max_samples and i > 0:
                        count = i
                        break
            self._inflight, self._pending = self._pending[:count], self._pending[count:]
            self._inflight_samples = sum(len(b) for _, b in self._inflight)
            self._samples -= self._inflight_samples
            if not self._pending:
                self._oldest = None
            return list(self._inflight)

    def restore(self) -> None:
        """A flush failed: in-flight batches go back before anything added since."""
        with self._lock:
            self._pending = self._inflight + self._pending
            self._samples += self._inflight_samples
            self._inflight = []
            self._inflight_samples = 0
            if self._pending:
                self._oldest = time.monotonic() if self._oldest is None else self._oldest

    def done(self) -> None:
        """A flush succeeded: forget the in-flight batches."""
        with self._lock:
            self._inflight = []
            self._inflight_samples = 0

    def snapshot(self) -> list[SampleBatch]:
        """Every batch not yet known to be in ClickHouse, oldest first."""
        with self._lock:
            return [b for _, b in self._inflight] + [b for _, b in self._pending]

    @property
    def samples(self) -> int:
        """Samples waiting (not counting an in-flight flush)."""
        with self._lock:
            return self._samples + self._inflight_samples

    def age_s(self) -> float:
        """Seconds the oldest pending batch has waited (0 when empty)."""
        with self._lock:
            return 0.0 if self._oldest is None else time.monotonic() - self._oldest


@dataclass(slots=True)
class FlushCounters:
    """What the writer has done; read by ``MetricsStore.stats``."""

    samples_flushed: int = 0
    flushes: int = 0
    flush_failures: int = 0
    last_flush_seconds: float = 0.0
    flush_seconds_sum: float = 0.0
    series_created: int = 0
    last_error: str = ""


def dedup_last(
    fps: npt.NDArray[np.uint64], ts: npt.NDArray[np.int64], vals: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Sort by (fingerprint, timestamp); of equal pairs keep the last in input order."""
    order = np.lexsort((ts, fps))  # lexsort is stable, so equal keys keep input order
    fps, ts, vals = fps[order], ts[order], vals[order]
    if len(fps) > 1:
        keep = np.ones(len(fps), dtype=bool)
        keep[:-1] = (fps[:-1] != fps[1:]) | (ts[:-1] != ts[1:])
        fps, ts, vals = fps[keep], ts[keep], vals[keep]
    return fps, ts, vals


class BatchWriter:
    """Flushes a ``PendingBuffer`` to ClickHouse and checkpoints the WAL."""

    def __init__(
        self,
        backend: Backend,
        pending: PendingBuffer,
        checkpoint: Callable[[int], None],
        *,
        flush_max_samples: int = 200_000,
        flush_interval_ms: int = 1_000,
    ) -> None:
        self.backend = backend
        self.pending = pending
        self.checkpoint = checkpoint
        self.flush_max_samples = max(1, flush_max_samples)
        self.flush_interval_s = max(0.001, flush_interval_ms / 1000)
        self.counters = FlushCounters()
        self._flush_lock = threading.Lock()
        # (fingerprint, day) pairs known to have a metric_series row. Only today and yesterday
        # are kept: older days rarely get samples, and re-inserting a row is harmless.
        self._seen: set[tuple[int, int]] = set()
        self._newest_day = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._failures_in_row = 0

    # -- synchronous flush (runs in a worker thread) ----------------------------------------
    def flush(self) -> int:
        """Insert what is pending now, in chunks of at most ``4 * flush_max_samples`` samples so
        a long backlog (after an outage or a replay) never becomes one giant insert. Batches
        arriving meanwhile wait for the next flush, so a busy ingest cannot keep this going.

        Returns samples inserted. On error the chunk goes back (the data is kept) and it raises.
        """
        total = 0
        with self._flush_lock:
            batches = len(self.pending.snapshot())
            while batches > 0:
                taken = self._flush_chunk(4 * self.flush_max_samples)
                if taken is None:
                    break
                n, count = taken
                total += n
                batches -= count
            return total

    def _flush_chunk(self, max_samples: int) -> tuple[int, int] | None:
        """One insert; (samples inserted, batches taken), or None when nothing was pending."""
        items = self.pending.take(max_samples)
        if not items:
            self.pending.done()
            return None
        started = time.monotonic()
        try:
            n, new_series = self._insert([b for _, b in items])
        except Exception as exc:
            self.pending.restore()
            self.counters.flush_failures += 1
            self.counters.last_error = str(exc)
            raise
        self._remember(new_series)
        self.pending.done()
        self.checkpoint(items[-1][0])
        took = time.monotonic() - started
        c = self.counters
        c.samples_flushed += n
        c.flushes += 1
        c.last_flush_seconds = took
        c.flush_seconds_sum += took
        c.series_created += len(new_series)
        c.last_error = ""
        return n, len(items)

    def _insert(self, batches: list[SampleBatch]) -> tuple[int, list[tuple[int, int]]]:
        batch = SampleBatch.concat(batches)
        fps, ts, vals = dedup_last(batch.fingerprints, batch.timestamps, batch.values)
        new_series = self._series_rows(batch, fps, ts)
        if new_series:
            self.backend.insert(SERIES, _series_table(batch, new_series))
        if len(fps):
            self.backend.insert(
                SAMPLES,
                pa.table({"fingerprint": fps, "timestamp_ms": ts, "value": vals}),
            )
        if batch.metadata:
            now = int(time.time() * 1000)
            names = sorted(batch.metadata)
            mds = [batch.metadata[n] for n in names]
            self.backend.insert(
                METADATA,
                pa.table(
                    {
                        "metric_family": [_clean(n) for n in names],
                        "type": [_clean(m.type) for m in mds],
                        "help": [_clean(m.help) for m in mds],
                        "unit": [_clean(m.unit) for m in mds],
                        "updated_ms": np.full(len(names), now, dtype=np.int64),
                    }
                ),
            )
        return len(fps), new_series

    def _series_rows(
        self, batch: SampleBatch, fps: npt.NDArray[np.uint64], ts: npt.NDArray[np.int64]
    ) -> list[tuple[int, int]]:
        """(fingerprint, day) pairs of this flush without a metric_series row yet."""
        if not len(fps):
            return []
        days = np.clip(ts // DAY_MS, 0, MAX_DAY)
        # Input is sorted by (fp, ts), so days ascend within a series: a pair starts where
        # either changes.
        start = np.ones(len(fps), dtype=bool)
        start[1:] = (fps[1:] != fps[:-1]) | (days[1:] != days[:-1])
        pairs = zip(fps[start].tolist(), days[start].tolist(), strict=True)
        return [p for p in pairs if p not in self._seen]

    def _remember(self, pairs: list[tuple[int, int]]) -> None:
        newest = max((d for _, d in pairs), default=0)
        if newest > self._newest_day:
            self._newest_day = newest
            self._seen = {p for p in self._seen if p[1] >= newest - 1}
        self._seen.update(p for p in pairs if p[1] >= self._newest_day - 1)

    # -- background loop --------------------------------------------------------------------
    def wake(self) -> None:
        """Ask the loop to flush now (call on the event loop's thread)."""
        self._wake.set()

    def should_flush(self) -> bool:
        """Whether the size or age trigger has fired."""
        return (
            self.pending.samples >= self.flush_max_samples
            or self.pending.age_s() >= self.flush_interval_s
        )

    async def run(self) -> None:
        """Flush on size or age until ``stop``; retries failures with backoff."""
        while not self._stopping:
            # Wake when the oldest pending batch reaches the age limit, not a full interval later.
            wait = max(0.001, self.flush_interval_s - self.pending.age_s())
            if self._failures_in_row:
                wait = min(MAX_BACKOFF_S, 0.5 * 2 ** (self._failures_in_row - 1))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()
            if self._stopping:
                return
            if not self.should_flush() and not self._failures_in_row:
                continue
            try:
                await asyncio.to_thread(self.flush)
                self._failures_in_row = 0
            except Exception as exc:  # noqa: BLE001 - keep the loop alive, data is kept
                self._failures_in_row += 1
                log.warning(
                    "flush to ClickHouse failed (attempt %d): %s", self._failures_in_row, exc
                )

    def stop(self) -> None:
        """Make ``run`` return at its next wake-up."""
        self._stopping = True
        self._wake.set()


def _series_table(batch: SampleBatch, pairs: list[tuple[int, int]]) -> pa.Table:
    labels = [batch.series[fp] for fp, _ in pairs]
    try:
        maps = pa.array([list(ls) for ls in labels], pa.map_(pa.string(), pa.string()))
        names = pa.array([_name(ls) for ls in labels], pa.string())
    except (pa.ArrowException, UnicodeError):
        # Text that is not valid Unicode (lone surrogates) would fail every retry and block
        # all later flushes; store it with replacement characters instead.
        labels = [tuple((_clean(n), _clean(v)) for n, v in ls) for ls in labels]
        maps = pa.array([list(ls) for ls in labels], pa.map_(pa.string(), pa.string()))
        names = pa.array([_name(ls) for ls in labels], pa.string())
    return pa.table(
        {
            "date": pa.array(np.array([d for _, d in pairs], dtype=np.int32), pa.date32()),
            "fingerprint": np.array([fp for fp, _ in pairs], dtype=np.uint64),
            "metric_name": names,
            "labels": maps,
        }
    )


def _clean(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _name(labels: tuple[tuple[str, str], ...]) -> str:
    for n, v in labels:
        if n == "__name__":
            return v
    return ""


__all__ = ["BatchWriter", "FlushCounters", "PendingBuffer", "dedup_last"]
