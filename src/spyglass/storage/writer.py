"""The batch writer: accepted batches wait in memory, then go to ClickHouse in large inserts.

ClickHouse wants few big inserts, not many small ones (each insert makes a part that must be
merged later). Batches of one signal enter its ``PendingBuffer`` once the WAL has them; its
``BatchWriter`` hands everything pending to the signal's insert callable (one insert per table)
when enough items are waiting or the oldest has waited long enough, then tells the WAL those
records are covered so it can delete segments. The writer knows nothing of a signal's tables:
what an insert does is the signal's own (``storage.signals``).

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
from collections.abc import Callable, Iterator, Sized
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0

B = TypeVar("B", bound=Sized)
Insert = Callable[[list[B]], int]  # inserts the batches, returns the items stored


class PendingBuffer(Generic[B]):
    """Batches accepted but not yet in ClickHouse, in WAL order. Safe across threads.

    Sizes are counted in items (``len(batch)``: samples, log lines, spans) and, when ``nbytes``
    is given (the memory a batch holds, roughly), in bytes too.

    ``inflight`` holds what a running flush took: still visible to queries until the insert
    has succeeded, put back in front on failure.
    """

    def __init__(self, nbytes: Callable[[B], int] | None = None) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[int, B]] = []
        self._inflight: list[tuple[int, B]] = []
        self._items = 0
        self._inflight_items = 0
        self._nbytes = nbytes
        self._bytes = 0
        self._inflight_bytes = 0
        self._oldest: float | None = None

    def size_of(self, batch: B) -> int:
        """The bytes ``batch`` counts for (0 without ``nbytes``)."""
        return self._nbytes(batch) if self._nbytes is not None else 0

    def add(self, seq: int, batch: B) -> int:
        """Append a durable batch; returns the number of items now pending."""
        size = self.size_of(batch)
        with self._lock:
            self._pending.append((seq, batch))
            self._items += len(batch)
            self._bytes += size
            if self._oldest is None:
                self._oldest = time.monotonic()
            return self._items

    def take(self, max_items: int | None = None) -> list[tuple[int, B]]:
        """Move the oldest batches (up to ``max_items`` items, at least one batch) to in-flight
        and return them."""
        with self._lock:
            if self._inflight:
                raise RuntimeError("a flush is already in flight")
            count = len(self._pending)
            if max_items is not None:
                total = 0
                for i, (_, b) in enumerate(self._pending):
                    total += len(b)
                    if total > max_items and i > 0:
                        count = i
                        break
            self._inflight, self._pending = self._pending[:count], self._pending[count:]
            self._inflight_items = sum(len(b) for _, b in self._inflight)
            self._items -= self._inflight_items
            self._inflight_bytes = sum(self.size_of(b) for _, b in self._inflight)
            self._bytes -= self._inflight_bytes
            if not self._pending:
                self._oldest = None
            return list(self._inflight)

    def restore(self) -> None:
        """A flush failed: in-flight batches go back before anything added since."""
        with self._lock:
            self._pending = self._inflight + self._pending
            self._items += self._inflight_items
            self._bytes += self._inflight_bytes
            self._inflight = []
            self._inflight_items = 0
            self._inflight_bytes = 0
            if self._pending:
                self._oldest = time.monotonic() if self._oldest is None else self._oldest

    def done(self) -> None:
        """A flush succeeded: forget the in-flight batches."""
        with self._lock:
            self._inflight = []
            self._inflight_items = 0
            self._inflight_bytes = 0

    def snapshot(self) -> list[B]:
        """Every batch not yet known to be in ClickHouse, oldest first."""
        with self._lock:
            return [b for _, b in self._inflight] + [b for _, b in self._pending]

    @property
    def items(self) -> int:
        """Items waiting, those of a running flush included."""
        with self._lock:
            return self._items + self._inflight_items

    @property
    def bytes(self) -> int:
        """Bytes waiting (as ``nbytes`` counts them), those of a running flush included."""
        with self._lock:
            return self._bytes + self._inflight_bytes

    def age_s(self) -> float:
        """Seconds the oldest pending batch has waited (0 when empty)."""
        with self._lock:
            return 0.0 if self._oldest is None else time.monotonic() - self._oldest


@dataclass(slots=True)
class FlushCounters:
    """What a writer has done; read by its store's ``stats``."""

    items_flushed: int = 0
    flushes: int = 0
    flush_failures: int = 0
    last_flush_seconds: float = 0.0
    flush_seconds_sum: float = 0.0
    last_error: str = ""


class BatchWriter(Generic[B]):
    """Flushes one signal's ``PendingBuffer`` through ``insert`` and checkpoints its WAL."""

    def __init__(
        self,
        insert: Insert[B],
        pending: PendingBuffer[B],
        checkpoint: Callable[[int], None],
        *,
        flush_max_items: int = 200_000,
        flush_interval_ms: int = 1_000,
        name: str = "",
    ) -> None:
        self.insert = insert
        self.pending = pending
        self.checkpoint = checkpoint
        self.flush_max_items = max(1, flush_max_items)
        self.flush_interval_s = max(0.001, flush_interval_ms / 1000)
        self.name = name
        self.counters = FlushCounters()
        self._flush_lock = threading.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._failures_in_row = 0

    # -- synchronous flush (runs in a worker thread) ----------------------------------------
    def flush(self) -> int:
        """Insert what is pending now, in chunks of at most ``4 * flush_max_items`` items so a
        long backlog (after an outage or a replay) never becomes one giant insert. Batches
        arriving meanwhile wait for the next flush, so a busy ingest cannot keep this going.

        Returns items inserted. On error the chunk goes back (the data is kept) and it raises.
        """
        total = 0
        with self._flush_lock:
            batches = len(self.pending.snapshot())
            while batches > 0:
                taken = self._flush_chunk(4 * self.flush_max_items)
                if taken is None:
                    break
                n, count = taken
                total += n
                batches -= count
            return total

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No flush runs inside the block (one already running finishes first): a reader takes
        what is pending and how far ClickHouse has got as one consistent view."""
        with self._flush_lock:
            yield

    def _flush_chunk(self, max_items: int) -> tuple[int, int] | None:
        """One insert; (items inserted, batches taken), or None when nothing was pending."""
        items = self.pending.take(max_items)
        if not items:
            self.pending.done()
            return None
        started = time.monotonic()
        try:
            n = self.insert([b for _, b in items])
        except Exception as exc:
            self.pending.restore()
            self.counters.flush_failures += 1
            self.counters.last_error = str(exc)
            raise
        self.pending.done()
        self.checkpoint(items[-1][0])
        took = time.monotonic() - started
        c = self.counters
        c.items_flushed += n
        c.flushes += 1
        c.last_flush_seconds = took
        c.flush_seconds_sum += took
        c.last_error = ""
        return n, len(items)

    # -- background loop --------------------------------------------------------------------
    def wake(self) -> None:
        """Ask the loop to flush now (call on the event loop's thread)."""
        self._wake.set()

    def should_flush(self) -> bool:
        """Whether the size or age trigger has fired."""
        return (
            self.pending.items >= self.flush_max_items
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
                    "%s flush to ClickHouse failed (attempt %d): %s",
                    self.name or "a",
                    self._failures_in_row,
                    exc,
                )

    def stop(self) -> None:
        """Make ``run`` return at its next wake-up."""
        self._stopping = True
        self._wake.set()


__all__ = ["BatchWriter", "FlushCounters", "Insert", "PendingBuffer"]
