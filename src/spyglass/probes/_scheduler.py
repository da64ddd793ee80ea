"""Probes Spyglass runs on its own: every target of every ``probes:`` entry on its interval.

Each run writes the series the blackbox exporter's ``/probe`` would have returned, labelled as
the usual Prometheus recipe labels them (``job`` = the probe's name, ``instance`` = the target,
plus the entry's ``labels``), stamped at the start of the run, as a scrape stamps its samples.
A series a run no longer reports (the TLS gauges of a target that stopped speaking TLS, every
series of a target removed from the file) gets Prometheus' staleness marker, so it ends at once
in queries instead of lingering for the lookback window. Runs are spread over the interval by a
hash of the target, as Prometheus spreads scrapes, and one slow target never delays another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from spyglass.core.labels import Labels
from spyglass.core.samples import STALE_NAN, BatchBuilder, SampleBatch
from spyglass.probes._config import (
    ProbesConfig,
    ScheduledProbe,
    builtin_config,
    load_probes_config_file,
)
from spyglass.probes._result import ProbeResult
from spyglass.probes._run import probe

log = logging.getLogger("spyglass.probes")
# Prometheus' default scrape_timeout: a probe without a timeout of its own gets at most this.
DEFAULT_PROBE_TIMEOUT_S = 10.0


@dataclass(slots=True)
class TargetStatus:
    """The last run of one target of one probe (what a status page shows)."""

    probe: str
    module: str
    target: str
    success: bool = False
    duration_s: float = 0.0
    last_run_s: float = 0.0
    runs: int = 0
    failures: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def last_error(self) -> str:
        """The last run's first error line, from ``msg=`` on (empty when it succeeded or
        logged no error): what a status page says went wrong. The first, because the
        exporter's log ends every failed run with a bare "Probe failed"."""
        if self.success:
            return ""
        for line in self.log:
            if " level=error " in line:
                return line[line.find(" msg=") + 1 :]
        return ""


class ProbeScheduler:
    """Runs the ``probes:`` of a probes file and writes what they find through ``append``."""

    def __init__(
        self,
        config_file: str,
        append: Callable[[SampleBatch], object],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config_file = config_file
        self._append = append
        self._clock = clock
        self.config = load_probes_config_file(config_file) if config_file else builtin_config()
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._specs: dict[tuple[str, str], ScheduledProbe] = {}
        self._last_series: dict[tuple[str, str], set[Labels]] = {}
        self.status: dict[tuple[str, str], TargetStatus] = {}
        self._runs = {"success": 0, "failure": 0}

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Start a loop per (probe, target)."""
        self._apply(self.config)
        if self._tasks:
            log.info("probes: %d targets in %d probes", len(self._tasks), len(self.config.probes))

    async def stop(self) -> None:
        """Stop every loop (their last series stay as they are, like a stopped Prometheus')."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def reload(self) -> None:
        """Read the probes file again; a file that does not load keeps the old probes."""
        if not self.config_file:
            return
        config = await asyncio.to_thread(load_probes_config_file, self.config_file)
        self.config = config
        self._apply(config)

    def collectors(self) -> list[Collector]:
        """Runs by outcome."""
        return [_RunsCollector(self._runs)]

    # -- scheduling -----------------------------------------------------------------------
    def _apply(self, config: ProbesConfig) -> None:
        wanted = {(p.name, t): p for p in config.probes for t in p.targets}
        for key in [k for k in self._tasks if k not in wanted or wanted[k] != self._specs[k]]:
            self._tasks.pop(key).cancel()
            if key not in wanted:
                self.status.pop(key, None)
                gone = self._last_series.pop(key, set())
                if gone:
                    asyncio.get_running_loop().create_task(self._write_stale(gone))
        for key, spec in wanted.items():
            if key not in self._tasks:
                self._specs[key] = spec
                self._tasks[key] = asyncio.get_running_loop().create_task(
                    self._loop(spec, key[1]), name=f"spyglass-probe-{spec.name}"
                )

    async def _loop(self, spec: ScheduledProbe, target: str) -> None:
        interval = spec.interval_ms / 1000
        # Spread the targets over the interval the way Prometheus offsets scrapes.
        offset = (zlib.crc32(f"{spec.name}/{target}".encode()) % 1000) / 1000 * interval
        next_at = self._clock() + offset
        while True:
            await asyncio.sleep(max(0.0, next_at - self._clock()))
            started = self._clock()
            try:
                await self.run_once(spec, target, started)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one probe must not end its loop
                log.exception("probe %s of %s failed unexpectedly", spec.name, target)
            next_at += interval
            if next_at < self._clock():  # fell behind (a long stop): skip, don't burst
                next_at = self._clock() + interval

    async def run_once(self, spec: ScheduledProbe, target: str, started_s: float) -> ProbeResult:
        """Probe ``target`` once and write its series stamped ``started_s``."""
        module = self.config.modules[spec.module]
        timeout = (spec.timeout_ms or module.timeout_ms) / 1000 or min(
            DEFAULT_PROBE_TIMEOUT_S, spec.interval_ms / 1000
        )
        result = await probe(spec.module, module, target, timeout)
        base = (("instance", target), ("job", spec.name), *spec.labels)
        samples = result.samples(tuple(sorted(base)))
        ts = int(started_s * 1000)
        builder = BatchBuilder()
        for labels, value in samples:
            builder.add(labels, ts, value)
        key = (spec.name, target)
        now_series = {labels for labels, _ in samples}
        for labels in self._last_series.get(key, set()) - now_series:
            builder.add(labels, ts, STALE_NAN)
        self._last_series[key] = now_series
        outcome = self._append(builder.build())
        if asyncio.iscoroutine(outcome) or isinstance(outcome, asyncio.Future):
            await outcome
        self._runs["success" if result.success else "failure"] += 1
        status = self.status.setdefault(key, TargetStatus(spec.name, spec.module, target))
        status.success = result.success
        status.duration_s = result.gauges["probe_duration_seconds"].values[()]
        status.last_run_s = started_s
        status.runs += 1
        status.failures += 0 if result.success else 1
        status.log = result.log[-50:]
        return result

    async def _write_stale(self, series: set[Labels]) -> None:
        builder = BatchBuilder()
        ts = int(self._clock() * 1000)
        for labels in series:
            builder.add(labels, ts, STALE_NAN)
        outcome = self._append(builder.build())
        if asyncio.iscoroutine(outcome) or isinstance(outcome, asyncio.Future):
            await outcome


class _RunsCollector(Collector):
    def __init__(self, runs: dict[str, int]) -> None:
        self._runs = runs

    def collect(self) -> list[CounterMetricFamily]:
        family = CounterMetricFamily(
            "spyglass_probe_runs", "Probes Spyglass ran on its own, by outcome.", labels=["result"]
        )
        for outcome, count in sorted(self._runs.items()):
            family.add_metric([outcome], count)
        return [family]


__all__ = ["DEFAULT_PROBE_TIMEOUT_S", "ProbeScheduler", "TargetStatus"]
