"""One Alertmanager's queue and the task that empties it, as Prometheus' notifier does.

Alerts wait in a bounded queue (when it is full the oldest go, counted as dropped) and leave in
batches of at most ``max_batch`` as one ``POST`` of Alertmanager API v2 JSON each, with the
entry's timeout. A failed batch is not retried: alerting rules send every active alert again
each minute, so the next round carries it (Prometheus counts it as an error and as dropped).
``add`` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from spyglass.core.alerts import Alert, encode_postable

log = logging.getLogger(__name__)

Headers = Callable[[], Awaitable[dict[str, str]]]


@dataclass(slots=True)
class LoopStats:
    """Counters of one Alertmanager, read by the notifier's collector."""

    sent: int = 0
    errors: int = 0
    dropped: int = 0
    queue_length: int = 0
    latency_sum: float = 0.0
    latency_count: int = 0


class SendLoop:
    """Batches alerts to the Alertmanager at ``url``."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        headers: Headers,
        *,
        timeout_s: float,
        capacity: int,
        max_batch: int,
    ) -> None:
        self.url = url
        self.client = client
        self.headers = headers
        self.timeout_s = timeout_s
        self.capacity = capacity
        self.max_batch = max_batch
        self.stats = LoopStats()
        self._queue: list[Alert] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._work = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        """Start sending (on the running event loop)."""
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name=f"notify {self.url}")

    def add(self, alerts: Sequence[Alert]) -> None:
        """Queue ``alerts``; the oldest go when the queue is full."""
        if self._stopped or not alerts:
            return
        with self._lock:
            items = list(alerts)
            dropped = 0
            if len(items) > self.capacity:
                dropped += len(items) - self.capacity
                items = items[-self.capacity :]
            over = len(self._queue) + len(items) - self.capacity
            if over > 0:
                dropped += over
                del self._queue[:over]
            self._queue.extend(items)
            self.stats.queue_length = len(self._queue)
            self.stats.dropped += dropped
        if dropped:
            log.warning("alert queue of %s full: dropped the %d oldest alerts", self.url, dropped)
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed (shutdown)
                loop.call_soon_threadsafe(self._work.set)

    def _next_batch(self) -> list[Alert]:
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self.stats.queue_length = len(self._queue)
            return batch

    async def _run(self) -> None:
        while not self._stopped:
            await self._work.wait()
            self._work.clear()
            while not self._stopped:
                batch = self._next_batch()
                if not batch:
                    break
                await self._send(batch)

    async def _send(self, batch: list[Alert]) -> None:
        started = time.perf_counter()
        try:
            headers = {**await self.headers(), "Content-Type": "application/json"}
            r = await self.client.post(
                self.url, content=encode_postable(batch), headers=headers, timeout=self.timeout_s
            )
            if r.status_code // 100 != 2:
                raise RuntimeError(f"bad response status {r.status_code} {r.reason_phrase}")
        except Exception as exc:  # noqa: BLE001 - any failure is counted and logged, never raised
            log.error("error sending %d alerts to %s: %s", len(batch), self.url, exc)
            self.stats.errors += len(batch)
            self.stats.dropped += len(batch)
            return
        took = time.perf_counter() - started
        s = self.stats
        s.sent += len(batch)
        s.latency_sum += took
        s.latency_count += 1

    async def stop(self, *, drain: bool) -> None:
        """Stop; with ``drain`` send what is queued first (each batch within the timeout)."""
        if self._task is not None:
            self._stopped = True
            self._work.set()
            await self._task
            self._task = None
        if drain:
            while batch := self._next_batch():
                await self._send(batch)
        else:
            with self._lock:
                self.stats.dropped += len(self._queue)
                self._queue = []
                self.stats.queue_length = 0
        self._stopped = True


__all__ = ["LoopStats", "SendLoop"]
