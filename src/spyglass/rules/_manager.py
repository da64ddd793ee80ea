"""``RuleManager``: runs the rule files prometheus.yml names, as Prometheus' rule manager does.

Each group of every file matched by ``rule_files`` runs on its own schedule: every ``interval``
(the group's, else ``evaluation_interval``), at a fixed offset inside the interval derived from
the group's name and file, so groups spread over the interval and a group's timestamps are
stable across restarts. An evaluation runs in a worker thread on the query engine over the
store (which also sees samples not yet flushed), its samples (recording rules' output,
``ALERTS``, ``ALERTS_FOR_STATE``, staleness markers) go to the ``SampleSink`` durably, and the
alerts due go to the ``AlertSink``. Iterations that could not start in time are skipped and
counted, as Prometheus does.

After a start, each group restores its alerts' ``for`` progress from ``ALERTS_FOR_STATE``
after its first evaluation. A reload keeps the state of groups that stay (same name and file,
``RuleGroup.copy_state``), marks the series of removed groups stale, and refuses the whole new
set when any file fails to load: the old rules keep running and the error is reported.

Groups of LogQL rules (``type: logql``, or every group of the Loki ruler files
``logs_rule_files`` names) run the same way over the log store (``logs``), their output
written to the same sink, their alerts sent to the same ``AlertSink``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import glob
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from spyglass.core.alerts import Alert, AlertSink
from spyglass.core.config import Config
from spyglass.core.errors import ConfigError, SpyglassError
from spyglass.logs import EngineOptions as LogQLOptions
from spyglass.promql import EngineOptions
from spyglass.rules._alerts import OutgoingAlert
from spyglass.rules._group import RuleGroup
from spyglass.rules._language import Languages, QueryLanguage
from spyglass.rules._model import RuleFile
from spyglass.rules._restore import restore_for_state
from spyglass.rules._rulefmt import RuleFileError, load_rule_file, parse_rule_file
from spyglass.rules._template import TemplateExpander, check_alert_template
from spyglass.storage.ports import LogReader, Querier, SampleSink

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Running:
    group: RuleGroup
    task: asyncio.Task[None] | None = None
    restore: bool = False
    iterations: int = 0
    missed: int = 0
    failures: int = 0
    stopping: bool = field(default=False)


def group_key(group: RuleGroup) -> tuple[str, str]:
    """What identifies a group across reloads: its file and name."""
    return group.file, group.name


def eval_offset_ms(group: RuleGroup) -> int:
    """Where in its interval the group evaluates: a hash of name and file, as Prometheus
    spreads groups (the hash function differs, so the phase differs from Prometheus')."""
    digest = hashlib.blake2b(f"{group.file}\xff{group.name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % max(1, group.interval_ms)


def eval_timestamp(group: RuleGroup, now_ms: int) -> int:
    """The group's latest evaluation slot at or before ``now_ms``."""
    offset = eval_offset_ms(group)
    adjusted = now_ms - offset
    return adjusted - adjusted % group.interval_ms + offset


class RuleManager:
    """Loads rule files, schedules their groups, writes their samples and sends their alerts."""

    name = "rules"

    def __init__(
        self,
        config: Config,
        *,
        querier: Querier,
        sink: SampleSink,
        alerts: AlertSink,
        expander: TemplateExpander,
        engine_options: EngineOptions | None = None,
        external_url: str = "",
        clock: Callable[[], float] = time.time,
        generated: Callable[[], list[tuple[str, str]]] = list,
        logs: LogReader | None = None,
        logql_options: LogQLOptions | None = None,
        logs_rule_files: Sequence[str] = (),
    ) -> None:
        self.config = config
        # Rule files made by other parts (SLOs make theirs): (name shown in errors, YAML text),
        # asked for at every load so a reload picks up their changes too.
        self.generated = generated
        self.querier = querier
        self.sink = sink
        self.alert_sink = alerts
        self.expander = expander
        self.engine_options = engine_options or EngineOptions()
        self.languages = Languages(promql=self.engine_options, logs=logs, logql=logql_options)
        self.logs_rule_files = tuple(logs_rule_files)
        self.external_url = external_url
        self.clock = clock
        self._running: dict[tuple[str, str], _Running] = {}
        self._started = False
        self._prepared: list[RuleGroup] | None = None

    def prepare(self) -> None:
        """Load the rule files now (``ConfigError`` naming each bad file), so a bad file stops
        start-up before anything runs; ``start`` then uses what was loaded."""
        self._prepared = self.load(self.config)

    # -- loading ----------------------------------------------------------------------------
    def files(self, config: Config) -> list[str]:
        """The rule files ``config``'s ``rule_files`` globs match, in order, each once."""
        return _matching(config.rule_files)

    def sources(self, config: Config) -> list[tuple[str, QueryLanguage]]:
        """Every rule file to load with the language of its groups that set no ``type``:
        prometheus.yml's, then the Loki ruler files not already among them."""
        promql = self.files(config)
        logql = [f for f in _matching(self.logs_rule_files) if f not in promql]
        return [*((f, "promql") for f in promql), *((f, "logql") for f in logql)]

    def load(self, config: Config) -> list[RuleGroup]:
        """Every group of every rule file; ``ConfigError`` naming each file that fails."""
        g = config.global_config
        groups: list[RuleGroup] = []
        errors: list[str] = []
        files: list[Callable[[], RuleFile]] = [
            functools.partial(
                load_rule_file, path, check_template=check_alert_template, default_language=language
            )
            for path, language in self.sources(config)
        ]
        try:
            files += [
                functools.partial(
                    parse_rule_file, text, file=name, check_template=check_alert_template
                )
                for name, text in self.generated()
            ]
        except ConfigError as exc:
            errors.append(str(exc))
        for read in files:
            try:
                rule_file = read()
            except RuleFileError as exc:
                errors.extend(str(e) for e in exc.errors)
                continue
            except ConfigError as exc:
                errors.append(str(exc))
                continue
            for spec in rule_file.groups:
                groups.append(
                    RuleGroup(
                        spec,
                        expander=self.expander,
                        engine_options=self.engine_options,
                        default_interval_ms=g.evaluation_interval_ms,
                        default_query_offset_ms=g.rule_query_offset_ms,
                        external_labels=dict(g.external_labels),
                        external_url=self.external_url,
                        restore_pending=not self._started,
                        clock=self.clock,
                        languages=self.languages,
                    )
                )
        if errors:
            raise ConfigError("; ".join(errors))
        return groups

    # -- component --------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the rule files and start every group (a bad file stops start-up, as in
        Prometheus)."""
        groups = self._prepared
        if groups is None:
            groups = await asyncio.to_thread(self.load, self.config)
        self._prepared = None
        for group in groups:
            self._launch(_Running(group, restore=True))
        self._started = True
        if groups:
            rules = sum(len(g.rules) for g in groups)
            log.info(
                "rules: %d groups with %d rules from %d files",
                len(groups),
                rules,
                len(self.sources(self.config)),
            )

    async def reload(self, config: Config) -> None:
        """Swap in the rule files ``config`` names; on any error keep the running rules."""
        groups = await asyncio.to_thread(self.load, config)
        self.config = config
        old = self._running
        self._running = {}
        for group in groups:
            key = group_key(group)
            was = old.pop(key, None)
            if was is not None:
                await self._halt(was)
                group.copy_state(was.group)
            self._launch(_Running(group, restore=False))
        for gone in old.values():  # removed: stop and mark what it wrote stale
            await self._halt(gone)
            markers = gone.group.stale_markers(int(self.clock() * 1000))
            if len(markers):
                with contextlib.suppress(SpyglassError):
                    await self.sink.append(markers)
        log.info("rules: %d groups after reload", len(groups))

    async def stop(self) -> None:
        """Stop every group (no staleness markers, like Prometheus at shutdown)."""
        for running in list(self._running.values()):
            await self._halt(running)

    def routes(self) -> Sequence[Any]:
        """The rule manager serves no routes (the Prometheus API reads its views)."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """Prometheus' ``prometheus_rule_group_*`` metrics, named ``spyglass_...``."""
        return [_RulesCollector(self)]

    # -- running ----------------------------------------------------------------------------
    def _launch(self, running: _Running) -> None:
        key = group_key(running.group)
        self._running[key] = running
        running.task = asyncio.get_running_loop().create_task(
            self._run(running), name=f"rule group {running.group.name}"
        )

    async def _halt(self, running: _Running) -> None:
        running.stopping = True
        if running.task is not None:
            running.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.task
            running.task = None

    async def _run(self, running: _Running) -> None:
        group = running.group
        interval = group.interval_ms
        next_ms = eval_timestamp(group, int(self.clock() * 1000)) + interval
        while not running.stopping:
            await asyncio.sleep(max(0.0, next_ms / 1000 - self.clock()))
            now_ms = int(self.clock() * 1000)
            missed = (now_ms - next_ms) // interval
            if missed > 0:
                running.missed += missed
                next_ms += missed * interval
            await self.evaluate(running, next_ms)
            next_ms += interval

    async def evaluate(self, running: _Running, time_ms: int) -> None:
        """One evaluation of a group at ``time_ms``: samples written, alerts sent."""
        group = running.group
        running.iterations += 1
        try:
            result = await asyncio.to_thread(group.evaluate, self.querier, time_ms)
            if running.restore:
                running.restore = False
                problems = await asyncio.to_thread(
                    restore_for_state, group, self.querier, int(self.clock() * 1000)
                )
                for problem in problems:
                    log.warning("rules: group %s: for-state not restored: %s", group.name, problem)
            batch = result.batch()
            if len(batch):
                await self.sink.append(batch)
            if result.alerts:
                self.alert_sink.send([_to_alert(a) for a in result.alerts])
        except Exception:  # one group's failure must not stop its schedule
            running.failures += 1
            log.exception("rules: evaluating group %s of %s failed", group.name, group.file)
            return
        for status in result.rules:
            if status.health == "err":
                running.failures += 1
                log.debug("rule %s of %s: %s", status.name, group.name, status.last_error)

    # -- views ------------------------------------------------------------------------------
    def groups(self) -> list[RuleGroup]:
        """The running groups, in load order."""
        return [r.group for r in self._running.values()]

    def running(self) -> Iterable[_Running]:
        """The running groups with their counters (tests and the collector)."""
        return list(self._running.values())


def _matching(patterns: Iterable[str]) -> list[str]:
    """The files the globs match, in order, each once."""
    out: list[str] = []
    for pattern in patterns:
        for name in sorted(glob.glob(pattern)):
            if name not in out:
                out.append(name)
    return out


def _to_alert(a: OutgoingAlert) -> Alert:
    return Alert(a.labels, a.annotations, a.starts_at_ms, a.ends_at_ms, a.generator_url)


class _RulesCollector(Collector):
    def __init__(self, manager: RuleManager) -> None:
        self._manager = manager

    def collect(self) -> Iterable[Metric]:
        label = ["rule_group"]
        families: dict[str, Any] = {
            "iterations": CounterMetricFamily(
                "spyglass_rule_group_iterations",
                "Scheduled evaluations of each rule group (done or missed).",
                labels=label,
            ),
            "missed": CounterMetricFamily(
                "spyglass_rule_group_iterations_missed",
                "Evaluations of each rule group skipped because the previous ran too long.",
                labels=label,
            ),
            "failures": CounterMetricFamily(
                "spyglass_rule_evaluation_failures",
                "Rule evaluations that failed, by group.",
                labels=label,
            ),
            "duration": GaugeMetricFamily(
                "spyglass_rule_group_last_duration_seconds",
                "How long the last evaluation of each rule group took.",
                labels=label,
            ),
            "interval": GaugeMetricFamily(
                "spyglass_rule_group_interval_seconds",
                "The interval of each rule group.",
                labels=label,
            ),
            "rules": GaugeMetricFamily(
                "spyglass_rule_group_rules", "Rules in each rule group.", labels=label
            ),
            "last": GaugeMetricFamily(
                "spyglass_rule_group_last_evaluation_timestamp_seconds",
                "When each rule group was last evaluated.",
                labels=label,
            ),
        }
        for r in self._manager.running():
            g = r.group
            key = [f"{g.file};{g.name}"]  # Prometheus' rule_group label: file;name
            families["iterations"].add_metric(key, r.iterations + r.missed)
            families["missed"].add_metric(key, r.missed)
            families["failures"].add_metric(key, r.failures)
            families["duration"].add_metric(key, g.evaluation_seconds)
            families["interval"].add_metric(key, g.interval_ms / 1000)
            families["rules"].add_metric(key, len(g.rules))
            families["last"].add_metric(key, (g.last_evaluation_ms or 0) / 1000)
        yield from families.values()


__all__ = ["RuleManager", "eval_offset_ms", "eval_timestamp", "group_key"]
