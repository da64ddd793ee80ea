"""The agent: finds files, tails them, runs their pipelines, batches and pushes the entries,
and keeps the positions file.

One asyncio task does the work in a loop: every ``target_config.sync_period`` the ``__path__``
globs are expanded again (new files are read from their start, known ones from their saved
position); every poll each tailed file gives its new lines, which become entries (labels of the
target, plus ``filename``) and go through the scrape config's pipeline into the batch; a batch
is pushed when it is full (``batchsize``) or old enough (``batchwait``), to every client.

Positions move only past lines whose entries were acknowledged (or dropped on purpose): each
entry remembers the offset where its first line starts, and a file's saved position is the
smallest such offset still waiting (in a ``multiline`` block or an unacknowledged batch), or the
end of the last whole line read when nothing waits. A restart after a crash therefore re-reads
at most what was not acknowledged, and never skips a line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from spyglass.agent._client import Outcome, PushClient
from spyglass.agent._config import AgentConfig, ScrapeConfig
from spyglass.agent._entry import Entry
from spyglass.agent._globs import compile_glob, expand
from spyglass.agent._metrics import AgentMetrics
from spyglass.agent._positions import Positions
from spyglass.agent._tail import FileTail
from spyglass.core.relabel import relabel

log = logging.getLogger("spyglass.agent")


@dataclass(frozen=True)
class Target:
    """A file glob of a scrape config and the labels its files' entries carry."""

    scrape: ScrapeConfig
    glob: str
    exclude: re.Pattern[str] | None
    labels: dict[str, str]


def targets(scrape: ScrapeConfig) -> list[Target]:
    """The scrape config's targets after ``relabel_configs`` (those without ``__path__`` are
    skipped, as Promtail skips them); labels starting with ``__`` are dropped."""
    out = []
    for group in scrape.static_configs:
        for address in group.targets:
            labels = relabel(
                [("__address__", address), *group.labels.items()], scrape.relabel_configs
            )
            if labels is None:
                continue
            lb = dict(labels)
            path = lb.get("__path__", "")
            if not path:
                continue
            exclude = lb.get("__path_exclude__", "")
            public = {k: v for k, v in lb.items() if not k.startswith("__")}
            out.append(Target(scrape, path, compile_glob(exclude) if exclude else None, public))
    return out


class Agent:
    """Runs one Promtail config until told to stop."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        clock: Callable[[], int] = time.time_ns,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.positions = Positions(
            config.positions.filename, ignore_invalid_yaml=config.positions.ignore_invalid_yaml
        )
        self.metrics = AgentMetrics(config.drops, self._file_sizes)
        self.clients = [
            PushClient(c, transport=transport, observe=self._observe) for c in config.clients
        ]
        self.targets = [t for sc in config.scrape_configs for t in targets(sc)]
        self.tails: dict[str, tuple[FileTail, Target]] = {}
        self.ended: list[FileTail] = []
        # Offsets of entries not yet acknowledged, per tail id.
        self.waiting: dict[int, set[int]] = {}
        self.batch: list[Entry] = []
        self.batch_bytes = 0
        self.batch_started = 0
        self.batch_wait_ns = min(c.batch_wait_ms for c in config.clients) * 1_000_000
        self.batch_size = min(c.batch_size for c in config.clients)
        self.ready = False
        self.stopping = asyncio.Event()

    # -- the loop ----------------------------------------------------------------------------
    async def run(self) -> None:
        """Tail, push and keep positions until ``stop``; then push what is batched (without
        waiting out retries), save the positions and close everything."""
        self.positions.load()
        sync_ns = self.config.target_sync_ms * 1_000_000
        save_ns = self.config.positions.sync_period_ms * 1_000_000
        poll_s = self.config.poll_ms / 1000
        next_sync = 0
        next_save = self.clock() + save_ns
        try:
            while not self.stopping.is_set():
                now = self.clock()
                if now >= next_sync:
                    self.sync_targets()
                    self.ready = True
                    next_sync = now + sync_ns
                busy = await self.step(now)
                if self.clock() >= next_save:
                    self.save_positions()
                    next_save = self.clock() + save_ns
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stopping.wait(), poll_s)
            if self.batch:
                await self.send()
        finally:
            self.save_positions()
            await self.close()

    async def close(self) -> None:
        """Close the tailed files and the clients' connections (``run`` does it on its way out)."""
        for tail, _ in self.tails.values():
            tail.close()
        for tail in self.ended:
            tail.close()
        for client in self.clients:
            await client.close()

    def stop(self) -> None:
        """Ask ``run`` to finish."""
        self.stopping.set()

    async def step(self, now: int) -> bool:
        """One poll of every file, the pipelines' timers and the batch timer; whether any
        file had lines (then the next poll comes at once)."""
        busy = False
        for path, (tail, target) in list(self.tails.items()):
            lines = tail.poll()
            if lines:
                busy = True
                self.metrics.read_lines.labels(path).inc(len(lines))
                self.metrics.read_bytes.labels(path).inc(sum(ln.size for ln in lines))
            for line in lines:
                labels = {**target.labels, "filename": path}
                entry = Entry(
                    line.text, now, labels, dict(labels), source=line.source, offset=line.offset
                )
                self.waiting.setdefault(line.source, set()).add(line.offset)
                gone: list[Entry] = []
                out = target.scrape.pipeline.feed(entry, now, gone)
                self._forget(gone)
                await self.add(out)
            if tail.ended:
                log.info("stopped tailing %s: the file is gone", path)
                del self.tails[path]
                self.ended.append(tail)
        for sc in self.config.scrape_configs:
            gone = []
            out = sc.pipeline.tick(now, gone)
            self._forget(gone)
            await self.add(out)
        if self.batch and now - self.batch_started >= self.batch_wait_ns:
            await self.send()
        self.metrics.files_active.set(len(self.tails))
        return busy

    def sync_targets(self) -> None:
        """Expand the globs again: tail new files, stop tailing files no longer matched."""
        wanted: dict[str, Target] = {}
        for target in self.targets:
            for path in expand(target.glob):
                if target.exclude is not None and target.exclude.fullmatch(path):
                    continue
                wanted.setdefault(path, target)
        for path, target in wanted.items():
            if path in self.tails:
                continue
            saved = self.positions.get(path)
            try:
                tail = FileTail(path, saved or 0)
            except OSError as exc:
                log.warning("cannot tail %s: %s", path, exc)
                continue
            if saved and tail.offset != saved:
                log.info(
                    "%s is shorter than its saved position %d: reading it from the start",
                    path,
                    saved,
                )
            log.info("tailing %s from offset %d", path, tail.offset)
            self.tails[path] = (tail, target)

    # -- batching ----------------------------------------------------------------------------
    async def add(self, entries: list[Entry]) -> None:
        """Put entries in the batch, pushing it first whenever the next one would overflow."""
        for e in entries:
            size = len(e.line.encode())
            if self.batch and self.batch_bytes + size > self.batch_size:
                await self.send()
            if not self.batch:
                self.batch_started = self.clock()
            self.batch.append(e)
            self.batch_bytes += size

    async def send(self) -> None:
        """Push the batch to every client; acknowledged or dropped entries stop holding back
        their files' positions, aborted ones (the agent is stopping) keep holding them."""
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        aborted = False
        for client in self.clients:
            result = await client.push(batch, self.stopping)
            if result.outcome is Outcome.SENT:
                self.metrics.sent_entries.labels(client.host).inc(len(batch))
                self.metrics.sent_bytes.labels(client.host).inc(sum(len(e.line) for e in batch))
            elif result.outcome is Outcome.DROPPED:
                log.warning(
                    "dropped a batch of %d entries for %s (status %s, %s)",
                    len(batch),
                    client.config.url,
                    result.status or "no answer",
                    result.reason,
                )
                self.metrics.dropped_entries.labels(client.host, result.reason).inc(len(batch))
            else:
                aborted = True
        if not aborted:
            self._forget(batch)

    def _forget(self, entries: list[Entry]) -> None:
        for e in entries:
            waiting = self.waiting.get(e.source)
            if waiting is not None:
                waiting.discard(e.offset)

    # -- positions ---------------------------------------------------------------------------
    def committed(self, tail: FileTail) -> int:
        """How far ``tail``'s file may be recorded as shipped."""
        waiting = self.waiting.get(tail.id)
        return min(waiting) if waiting else tail.offset

    def save_positions(self) -> None:
        """Record every file's committed offset and write the positions file."""
        for path, (tail, _) in self.tails.items():
            self.positions.set(path, self.committed(tail))
        for tail in list(self.ended):
            if not self.waiting.get(tail.id):
                if tail.path not in self.tails:
                    self.positions.remove(tail.path)
                self.ended.remove(tail)
                self.waiting.pop(tail.id, None)
                tail.close()
        for source in [s for s, w in self.waiting.items() if not w]:
            del self.waiting[source]
        try:
            self.positions.save()
        except OSError as exc:
            log.error("cannot write positions file %s: %s", self.positions.path, exc)

    # -- metrics -----------------------------------------------------------------------------
    def _file_sizes(self) -> dict[str, int]:
        sizes = {}
        for path in self.tails:
            with contextlib.suppress(OSError):
                sizes[path] = os.stat(path).st_size
        return sizes

    def _observe(self, host: str, status: int, seconds: float) -> None:
        self.metrics.request_duration.labels(host, str(status)).observe(seconds)


__all__ = ["Agent", "Target", "targets"]
