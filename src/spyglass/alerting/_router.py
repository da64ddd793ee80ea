"""The router: Spyglass as an Alertmanager, from ``alertmanager.yml`` to notifications sent.

``Router`` owns the pieces and wires them: the ``AlertStore`` that takes alerts (from the
Alertmanager API and from Spyglass's own rules, as an ``AlertSink``), the ``Dispatcher`` that
groups them on the routing tree, the ``Pipeline`` that inhibits, mutes, silences, dedups and
sends, the ``NotificationLog`` in the state store, and the ``Marker`` the API reads. A config
(re)load builds the tree, the inhibition rules and the receivers' senders anew; a file that does
not load leaves everything as it was and raises. After a reload the aggregation groups are built
again from the stored alerts, as Alertmanager does; the notification log keeps them from
repeating what was already sent.

``silencer`` (constructor argument, or the attribute set before ``start``) answers which
silences mute an alert; the default silences nothing.

Without a config file the router still stores alerts (the API accepts and lists them) but
routes nothing, so nothing is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.registry import Collector

from spyglass.alerting import _alertsnapshot as snapshot
from spyglass.alerting._acks import Acknowledgements
from spyglass.alerting._alertstore import GC_INTERVAL_MS, AlertStore, StoredAlert
from spyglass.alerting._beyond import Beyond
from spyglass.alerting._clock import Clock, SystemClock
from spyglass.alerting._config import AlertmanagerConfig, load_alertmanager_config_file
from spyglass.alerting._dispatch import AggregationGroup, Dispatcher
from spyglass.alerting._history import NotificationHistory
from spyglass.alerting._inhibitor import Inhibitor
from spyglass.alerting._integrations import SENDER_BUILDERS
from spyglass.alerting._marker import AlertStatus, Marker
from spyglass.alerting._metrics import RouterCollector, RouterMetrics
from spyglass.alerting._nflog import NotificationLog, ReceiverKey
from spyglass.alerting._notify import SenderEnv
from spyglass.alerting._pipeline import Integration, Pipeline
from spyglass.alerting._routing import RoutingTree
from spyglass.alerting._silencer import NoSilences, Silencer
from spyglass.core.alerts import Alert
from spyglass.core.errors import ConfigError, SpyglassError
from spyglass.core.template import TemplateError, TemplateSet, fingerprint
from spyglass.storage.ports import StateStore

log = logging.getLogger("spyglass.alerting")

# How often changed alerts are written to the state store.
SAVE_INTERVAL_S = 1.0


@dataclass
class Loaded:
    """One loaded config and what was built from it."""

    config: AlertmanagerConfig
    text: str
    tree: RoutingTree
    integrations: dict[str, list[Integration]] = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)


class Router:
    """The in-process Alertmanager (a component: start, stop, reload, collectors)."""

    name = "router"

    def __init__(
        self,
        config_file: str,
        state: StateStore,
        *,
        external_url: str = "",
        silencer: Silencer | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config_file = config_file
        self.external_url = external_url
        self.silencer: Silencer = silencer or NoSilences()
        self.clock: Clock = clock or SystemClock()
        self.metrics = RouterMetrics(integrations=("webhook", *_known_integrations()))
        self.marker = Marker()
        self.store = AlertStore(metrics=self.metrics)
        self.store.on_delete.append(self.marker.delete)
        self.state = state
        self.nflog = NotificationLog(state)
        self.acks = Acknowledgements(state)
        self.history = NotificationHistory(state)
        self.beyond: Beyond | None = None
        # Flap detection counts every state change the store takes, between flushes too.
        self.store.subscribe(self._observe)
        self.store.on_delete.append(self._forget)
        self.loaded: Loaded | None = None
        self.dispatcher: Dispatcher | None = None
        self.pipeline: Pipeline | None = None
        self.started_ms = self.clock.now_ms()
        self._gc_task: asyncio.Task[None] | None = None
        self._save_task: asyncio.Task[None] | None = None
        self._running = False

    # -- config -----------------------------------------------------------------------------
    def load(self) -> None:
        """Read the config file now (start-up checks it before anything runs)."""
        if self.config_file:
            self.loaded = self._read()
            self.store.resolve_timeout_ms = self.loaded.config.global_config.resolve_timeout_ms

    def _read(self) -> Loaded:
        config = load_alertmanager_config_file(self.config_file)
        for warning in config.warnings:
            log.warning("alertmanager config: %s", warning)
        try:
            templates = TemplateSet.from_globs(config.templates)
        except TemplateError as exc:
            raise ConfigError(str(exc), file=self.config_file, field="templates") from None
        loaded = Loaded(config, Path(self.config_file).read_text(), RoutingTree.of(config))
        env = SenderEnv(templates, self.external_url, config.global_config)
        for receiver in config.receivers:
            built: list[Integration] = []
            for key, entries in receiver.integrations:
                builder = SENDER_BUILDERS.get(key)
                if builder is None:
                    loaded.unsupported.append(f"{receiver.name}: {key}")
                    continue
                for index, entry in enumerate(entries):
                    try:
                        sender = builder(entry, env)
                    except (SpyglassError, OSError, ValueError) as exc:
                        # e.g. oauth2, or a TLS file that cannot be read: this entry only.
                        loaded.unsupported.append(f"{receiver.name}: {key}[{index}]: {exc}")
                        continue
                    built.append(
                        Integration(ReceiverKey(receiver.name, sender.kind, index), sender)
                    )
            loaded.integrations[receiver.name] = built
        for what in loaded.unsupported:
            log.error(
                "alertmanager config %s: receiver %s cannot be sent by Spyglass yet; "
                "its notifications are dropped",
                self.config_file,
                what,
            )
        return loaded

    async def reload(self) -> None:
        """Read the file again; on error keep the old config and raise ``ConfigError``."""
        if not self.config_file:
            return
        new = await asyncio.to_thread(self._read)
        old = self.loaded
        self.loaded = new
        self.store.resolve_timeout_ms = new.config.global_config.resolve_timeout_ms
        if self._running:
            await self._stop_dispatcher()
            self._start_dispatcher()
        if old is not None:
            await _close(old)
        log.info("alertmanager config reloaded from %s", self.config_file)

    # -- component --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start routing (when there is a config) and the collection of resolved alerts."""
        await self.nflog.load()
        await asyncio.to_thread(self.history.load)
        restored = await asyncio.to_thread(snapshot.load, self.state)
        self.store.restore(restored)
        if restored:
            log.info("alerting: %d alerts restored from the last run", len(restored))
        self._running = True
        self.started_ms = self.clock.now_ms()
        self._start_dispatcher()
        loop = asyncio.get_running_loop()
        self._gc_task = loop.create_task(self._gc_loop())
        self._save_task = loop.create_task(self._save_loop())
        if self.loaded is None:
            log.info(
                "alerting: no --alertmanager-config-file; /api/v2/alerts takes alerts but "
                "nothing is routed or sent"
            )
        else:
            log.info(
                "alerting: routing alerts with %s (%d receivers)",
                self.config_file,
                len(self.loaded.config.receivers),
            )

    async def stop(self) -> None:
        """Stop routing; flushes in flight are cancelled (the log keeps what was sent)."""
        self._running = False
        for task in (self._gc_task, self._save_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._gc_task = self._save_task = None
        await self._stop_dispatcher()
        await self.save()
        if self.loaded is not None:
            await _close(self.loaded)

    def routes(self) -> Sequence[object]:
        """The router serves no routes itself (the Alertmanager API reads it)."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """The ``alertmanager_*`` metrics."""
        return [RouterCollector(self.metrics, self.alert_states, self.aggregation_groups)]

    def _start_dispatcher(self) -> None:
        if self.loaded is None:
            return
        self.beyond = Beyond(
            self.loaded.config.spyglass,
            self.loaded.config.intervals(),
            self.acks,
            self.store,
        )
        self.pipeline = Pipeline(
            integrations=self.loaded.integrations,
            nflog=self.nflog,
            store=self.store,
            marker=self.marker,
            clock=self.clock,
            metrics=self.metrics,
            inhibit_rules=self.loaded.config.inhibit_rules,
            intervals=self.loaded.config.intervals(),
            silencer=self.silencer,
            beyond=self.beyond,
            history=self.history,
            external_url=self.external_url,
        )
        self.dispatcher = Dispatcher(
            self.loaded.tree,
            self.store,
            self.pipeline.run,
            self.clock,
            correlations=self.loaded.config.spyglass.correlations,
        )
        self.dispatcher.start()

    async def _stop_dispatcher(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None

    async def _gc_loop(self) -> None:
        # Real time on purpose: a manual clock's sleep moves that clock, and a loop that moved
        # it 30 minutes at every turn would run a test's time away.
        while True:
            await asyncio.sleep(GC_INTERVAL_MS / 1000)
            self.store.gc(self.clock.now_ms())
            try:
                await asyncio.to_thread(self.history.trim, self.clock.now_ms())
            except SpyglassError as exc:
                log.warning("alerting: trimming the notification history failed: %s", exc)

    async def save(self) -> None:
        """Write the alerts that changed since the last save."""
        changed, deleted = self.store.take_changes()
        if changed or deleted:
            try:
                await asyncio.to_thread(snapshot.save, self.state, changed, deleted)
            except BaseException:
                self.store.untake(changed, deleted)
                raise

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL_S)
            try:
                await self.save()
            except SpyglassError as exc:  # the database is away: keep routing, try again later
                log.warning("alerting: saving alerts failed: %s", exc)

    def _forget(self, fingerprint: str) -> None:
        if self.beyond is not None:
            self.beyond.forget(fingerprint)

    def _observe(self, alert: StoredAlert) -> None:
        if self.beyond is not None:
            self.beyond.observe(alert, self.clock.now_ms())

    # -- alerts in --------------------------------------------------------------------------
    def receive(self, alerts: Sequence[Alert]) -> list[str]:
        """Store posted alerts; the messages of the invalid ones."""
        return self.store.receive(alerts, self.clock.now_ms())

    def send(self, alerts: Sequence[Alert]) -> None:
        """``AlertSink``: Spyglass's own rules hand their alerts over here."""
        errors = self.receive(alerts)
        if errors:
            log.warning("alerting: %d rule alerts refused: %s", len(errors), "; ".join(errors))

    # -- views for the API ------------------------------------------------------------------
    @property
    def config(self) -> AlertmanagerConfig | None:
        """The config in use."""
        return self.loaded.config if self.loaded is not None else None

    def receivers_of(self, labels: Mapping[str, str]) -> list[str]:
        """The receivers the routing tree sends ``labels`` to."""
        return self.loaded.tree.receivers(labels) if self.loaded is not None else []

    def inhibitor(self) -> Inhibitor:
        """The inhibition rules over the alerts firing now (build once, ask for many)."""
        rules = self.loaded.config.inhibit_rules if self.loaded is not None else ()
        return Inhibitor(rules, self.store.firing(self.clock.now_ms()))

    def refresh_status(self, alert: StoredAlert, inhibitor: Inhibitor | None = None) -> AlertStatus:
        """Look at inhibition and silences again now, as the API does before answering."""
        found = (inhibitor or self.inhibitor()).inhibiting(alert.labels)
        self.marker.set_inhibited(
            alert.fingerprint, () if found is None else (fingerprint(found[1]),)
        )
        now = self.clock.now_ms()
        self.marker.set_silenced(alert.fingerprint, self.silencer.mutes(alert.labels, now))
        return self.marker.status(alert.fingerprint)

    def groups(self) -> list[AggregationGroup]:
        """The aggregation groups of the running dispatcher."""
        return list(self.dispatcher.groups.values()) if self.dispatcher is not None else []

    def active_alerts(self) -> list[Alert]:
        """The alerts held now that have not ended (the Alerts page shows those no rule of
        this server fired)."""
        now = self.clock.now_ms()
        return [a.alert for a in self.store if not a.resolved_at(now)]

    def alert_states(self) -> dict[str, int]:
        """How many unresolved alerts are in each marker state."""
        now = self.clock.now_ms()
        live = [a.fingerprint for a in self.store if not a.resolved_at(now)]
        return dict(self.marker.count(live))

    def aggregation_groups(self) -> int:
        """How many aggregation groups exist."""
        return len(self.groups())

    def uptime_ms(self) -> int:
        """When the router started."""
        return self.started_ms


async def _close(loaded: Loaded) -> None:
    for integrations in loaded.integrations.values():
        for i in integrations:
            close = getattr(i.sender, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()


def _known_integrations() -> tuple[str, ...]:
    # Alertmanager lists each integration it can send with even before the first notification.
    return tuple(k.removesuffix("_configs") for k in SENDER_BUILDERS)


__all__ = ["Loaded", "Router"]
