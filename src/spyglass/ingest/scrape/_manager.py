"""``ScrapeManager``: runs every scrape config's targets and keeps them in step with discovery.

One pool per ``job_name`` holds that job's HTTP client, discovered groups (static and file SD)
and one ``ScrapeLoop`` per active target. When a target disappears (file SD change, reload) its
series are marked stale the way Prometheus does it: at the time its next scrape would have
happened, written one interval later (so a target that merely moved can take over first). A
shutdown (``stop()``) writes no staleness markers, also like Prometheus, so a restart does not
punch holes into every series.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx

from spyglass.core.config import Config, ScrapeConfig, TargetGroup
from spyglass.ingest.exposition import Exposition, parse
from spyglass.ingest.scrape._filesd import FileSD
from spyglass.ingest.scrape._http import OAuth2Token, make_client
from spyglass.ingest.scrape._loop import Parser, ScrapeLoop
from spyglass.ingest.scrape._target import DroppedTarget, Target, build_targets, offset_ms
from spyglass.storage.ports import ExemplarSink, SampleSink

log = logging.getLogger(__name__)

_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


class _Pool:
    def __init__(self, manager: ScrapeManager, config: ScrapeConfig) -> None:
        self.manager = manager
        self.config = config
        self.client = make_client(config, manager.transport)
        # One token per pool, shared by its targets, as Prometheus shares one HTTP client.
        self.token = OAuth2Token(config.oauth2, self.client) if config.oauth2 else None
        self.file_sd = [FileSD(c) for c in config.file_sd_configs]
        self.loops: dict[bytes, ScrapeLoop] = {}
        self.dropped: list[DroppedTarget] = []
        self.dropped_count = 0
        self.watch_task: asyncio.Task[None] | None = None
        if config.unsupported_sd_configs:
            log.warning(
                "job %s: %s not supported; those targets are not scraped",
                config.job_name,
                ", ".join(config.unsupported_sd_configs),
            )

    def groups(self) -> list[TargetGroup]:
        return [*self.config.static_configs, *(g for sd in self.file_sd for g in sd.groups())]

    def sync(self, inherit: dict[bytes, ScrapeLoop] | None = None) -> None:
        """Make the running loops match the discovered targets."""
        targets, dropped, failures = build_targets(self.config, self.groups())
        for failure in failures:
            log.warning("job %s: creating target failed: %s", self.config.job_name, failure)
        # droppedTargetCounts counts every dropped target; keep_dropped_targets caps the list.
        self.dropped_count = len(dropped)
        keep = self.config.keep_dropped_targets
        self.dropped = dropped[:keep] if keep else dropped
        wanted = {t.key: t for t in targets}
        for key in list(self.loops):
            if key not in wanted:
                self.manager.retire(self.loops.pop(key))
        for key, target in wanted.items():
            if key not in self.loops:
                loop = self.manager.new_loop(target, self.config, self.client, self.token)
                previous = (inherit or {}).get(key)
                if previous is not None:
                    loop.state = previous.state
                self.loops[key] = loop
                loop.start()
        limit = self.config.target_limit
        forced = ""
        if limit and len(self.loops) > limit:
            forced = f"target_limit exceeded (number of targets: {len(self.loops)}, limit: {limit})"
        for loop in self.loops.values():
            loop.forced_error = forced

    def start(self) -> None:
        for sd in self.file_sd:
            sd.poll()
        self.sync()
        if self.file_sd:
            self.watch_task = asyncio.get_running_loop().create_task(
                self._watch(), name=f"file_sd {self.config.job_name}"
            )

    async def _watch(self) -> None:
        step_ms = min(1000, *(sd.config.refresh_interval_ms for sd in self.file_sd))
        while True:
            await asyncio.sleep(step_ms / 1000)
            changed = False
            for sd in self.file_sd:
                changed = await asyncio.to_thread(sd.poll, step_ms) or changed
            if changed:
                self.sync()

    async def stop(self, *, retire: bool) -> dict[bytes, ScrapeLoop]:
        """Stop watching and scraping; ``retire`` writes staleness for the targets later."""
        if self.watch_task is not None:
            self.watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watch_task
            self.watch_task = None
        loops, self.loops = self.loops, {}
        for loop in loops.values():
            if retire:
                self.manager.retire(loop)
            else:
                await loop.stop()
        await self.client.aclose()
        return loops


def scrape_parse(data: bytes, content_type: str | None) -> Exposition:
    """The default page parser: as lenient as Prometheus' own scraper on text pages (a missing
    final newline, repeated HELP/TYPE, unknown escapes), strict OpenMetrics otherwise."""
    return parse(data, content_type, lenient=True)


class ScrapeManager:
    """Scrapes the targets of a ``prometheus.yml`` into a ``SampleSink``.

    ``parser`` turns a page into an ``Exposition`` (default: ``spyglass.ingest.exposition.parse``).
    ``external_host`` replaces loopback hosts in ``globalUrl`` (default: this machine's name).
    ``transport`` replaces the network for every scrape (tests use ``httpx.MockTransport``).
    ``exemplars`` takes OpenMetrics pages' exemplars (none are kept without it).
    """

    def __init__(
        self,
        sink: SampleSink,
        config: Config,
        *,
        parser: Parser | None = None,
        external_host: str | None = None,
        offset_seed: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
        exemplars: ExemplarSink | None = None,
    ) -> None:
        self.sink = sink
        self.exemplars = exemplars
        self.config = config
        self.parser: Parser = parser or scrape_parse
        self.external_host = external_host if external_host is not None else socket.gethostname()
        self.offset_seed = offset_seed
        self.transport = transport
        self._pools: dict[str, _Pool] = {}
        self._retiring: set[asyncio.Task[None]] = set()
        self._running = False

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Discover targets and start scraping them."""
        if self._running:
            return
        self._running = True
        for sc in self.config.scrape_configs:
            pool = _Pool(self, sc)
            self._pools[sc.job_name] = pool
            pool.start()

    async def stop(self) -> None:
        """Stop every loop. Like Prometheus on shutdown, no staleness markers are written."""
        self._running = False
        for task in list(self._retiring):
            task.cancel()
        for task in list(self._retiring):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for pool in list(self._pools.values()):
            await pool.stop(retire=False)
        self._pools.clear()

    async def reload(self, config: Config) -> None:
        """Apply a changed config: new, removed and changed jobs and their targets.

        A target that stays (same labels and URL) keeps its staleness tracking and health.
        """
        self.config = config
        if not self._running:
            return
        new_jobs = {sc.job_name: sc for sc in config.scrape_configs}
        for name in list(self._pools):
            if name not in new_jobs:
                await self._pools.pop(name).stop(retire=True)
        for name, sc in new_jobs.items():
            old = self._pools.get(name)
            if old is not None and old.config == sc:
                continue
            inherit: dict[bytes, ScrapeLoop] = {}
            if old is not None:
                # Loops of targets that survive are replaced without staleness markers.
                old_loops = await old.stop(retire=False)
                inherit = old_loops
            pool = _Pool(self, sc)
            self._pools[name] = pool
            for sd in pool.file_sd:
                sd.poll()
            pool.sync(inherit)
            for key, loop in inherit.items():
                if key not in pool.loops:
                    self.retire(loop, already_stopped=True)
            if pool.file_sd:
                pool.watch_task = asyncio.get_running_loop().create_task(
                    pool._watch(), name=f"file_sd {name}"
                )

    # -- loops -----------------------------------------------------------------------------
    def new_loop(
        self,
        target: Target,
        config: ScrapeConfig,
        client: httpx.AsyncClient,
        token: OAuth2Token | None = None,
    ) -> ScrapeLoop:
        """A loop for ``target`` whose first scrape is at the target's phase in the interval."""
        delay = offset_ms(target, target.interval_ms, time.time_ns() // 1_000_000, self.offset_seed)
        return ScrapeLoop(
            target,
            config,
            client,
            self.sink,
            self.parser,
            first_delay_s=delay / 1000,
            token=token,
            exemplars=self.exemplars,
        )

    def retire(self, loop: ScrapeLoop, *, already_stopped: bool = False) -> None:
        """Stop ``loop`` now and mark its series stale when its next scrape would have been."""
        task = asyncio.get_running_loop().create_task(self._end_of_run(loop, already_stopped))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _end_of_run(self, loop: ScrapeLoop, already_stopped: bool) -> None:
        if not already_stopped:
            await loop.stop()
        interval = loop.target.interval_ms / 1000
        await asyncio.sleep(max(0.0, loop.next_at - time.monotonic()) or interval)
        stale_ts = time.time_ns() // 1_000_000
        await asyncio.sleep(interval)
        try:
            await self.sink.append(loop.end_of_run_batch(stale_ts))
        except Exception:  # nobody awaits this task: say what went wrong here
            log.exception("writing staleness markers for %s failed", loop.target.url)

    # -- views for the HTTP API ------------------------------------------------------------
    def scrape_pools(self) -> list[str]:
        """Job names in config order (``/api/v1/scrape_pools``)."""
        return [sc.job_name for sc in self.config.scrape_configs]

    def targets(self, state: str = "any", scrape_pool: str | None = None) -> dict[str, object]:
        """The ``data`` of ``/api/v1/targets``: ``activeTargets``, ``droppedTargets`` and
        ``droppedTargetCounts``, with Prometheus' field names; ``state`` is active|dropped|any."""
        pools = [p for name, p in self._pools.items() if scrape_pool in (None, "", name)]
        active: list[dict[str, object]] = []
        dropped: list[dict[str, object]] = []
        if state in ("any", "active", ""):
            for pool in pools:
                for loop in sorted(pool.loops.values(), key=lambda lp: lp.target.url):
                    active.append(loop.api_dict(self.global_url(loop.target.url)))
        if state in ("any", "dropped", ""):
            for pool in pools:
                dropped += [
                    {"discoveredLabels": dict(d.discovered_labels), "scrapePool": d.scrape_pool}
                    for d in pool.dropped
                ]
        return {
            "activeTargets": active,
            "droppedTargets": dropped,
            "droppedTargetCounts": {name: p.dropped_count for name, p in self._pools.items()},
        }

    def global_url(self, url: str) -> str:
        """``url`` with a loopback host replaced by this machine's name, as Prometheus shows it."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host not in _LOOPBACK and not host.startswith("127."):
            return url
        netloc = self.external_host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def metadata(self, metric: str | None = None) -> list[dict[str, object]]:
        """``/api/v1/targets/metadata`` entries: target labels plus each family's metadata."""
        out: list[dict[str, object]] = []
        for pool in self._pools.values():
            for loop in pool.loops.values():
                for name, md in sorted(loop.state.metadata.items()):
                    if metric is None or metric == name:
                        out.append(
                            {
                                "target": dict(loop.target.labels),
                                "metric": name,
                                "type": md.type,
                                "help": md.help,
                                "unit": md.unit,
                            }
                        )
        return out

    def loops(self) -> Sequence[ScrapeLoop]:
        """Every running scrape loop (tests and status pages)."""
        return [loop for pool in self._pools.values() for loop in pool.loops.values()]


__all__ = ["ScrapeManager"]
