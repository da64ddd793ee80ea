"""``Notifier``: sends alerts to the Alertmanagers prometheus.yml's ``alerting`` section names.

What Prometheus' notifier does: each alert gets the ``external_labels`` it does not carry, then
``alert_relabel_configs`` (global, then each entry's own), and goes to every Alertmanager of every
``alertmanagers`` entry through that Alertmanager's own queue (``_sendloop``). Reload replaces
the entries; Alertmanagers that stay keep their queues. At shutdown the queues are drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import httpx
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from spyglass.core.alerts import Alert
from spyglass.core.config import AlertmanagerConfig, Config
from spyglass.core.labels import Labels
from spyglass.core.relabel import RelabelConfig, relabel
from spyglass.ingest.scrape import USER_AGENT, FileSD, OAuth2Token, auth_headers, make_client
from spyglass.notifier._discovery import ADDRESS, ALERTS_PATH, SCHEME, Discovered, discover
from spyglass.notifier._sendloop import SendLoop

log = logging.getLogger(__name__)

DEFAULT_QUEUE_CAPACITY = 10_000
DEFAULT_MAX_BATCH = 256


class _Set:
    """The Alertmanagers of one ``alertmanagers`` entry, and their shared HTTP client."""

    def __init__(self, notifier: Notifier, config: AlertmanagerConfig) -> None:
        self.notifier = notifier
        self.config = config
        self.client = make_client(config, notifier.transport)
        self.token = OAuth2Token(config.oauth2, self.client) if config.oauth2 else None
        self.file_sd = [FileSD(c) for c in config.file_sd_configs]
        self.loops: dict[str, SendLoop] = {}
        self.discovered = Discovered((), ())
        self.watch: asyncio.Task[None] | None = None
        if config.unsupported_sd_configs:
            log.warning(
                "alerting: %s not supported; those Alertmanagers get no alerts",
                ", ".join(config.unsupported_sd_configs),
            )

    async def headers(self) -> dict[str, str]:
        out = {"User-Agent": USER_AGENT, **auth_headers(self.config)}
        if self.token is not None:
            out["Authorization"] = await self.token.header()
        return out

    def sync(self, inherit: dict[str, SendLoop]) -> None:
        groups = [*self.config.static_configs, *(g for sd in self.file_sd for g in sd.groups())]
        self.discovered = discover(self.config, groups)
        for url in list(self.loops):
            if url not in self.discovered.urls:
                self.notifier.retire(self.loops.pop(url))
        for url in self.discovered.urls:
            if url in self.loops:
                continue
            loop = inherit.pop(url, None)
            if loop is None or loop.timeout_s != self.config.timeout_ms / 1000:
                if loop is not None:
                    self.notifier.retire(loop)
                loop = SendLoop(
                    url,
                    self.client,
                    self.headers,
                    timeout_s=self.config.timeout_ms / 1000,
                    capacity=self.notifier.queue_capacity,
                    max_batch=self.notifier.max_batch,
                )
                loop.start()
            else:
                loop.client, loop.headers = self.client, self.headers
            self.loops[url] = loop

    def start(self, inherit: dict[str, SendLoop]) -> None:
        for sd in self.file_sd:
            sd.poll()
        self.sync(inherit)
        if self.file_sd:
            self.watch = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        step_ms = min(1000, *(sd.config.refresh_interval_ms for sd in self.file_sd))
        while True:
            await asyncio.sleep(step_ms / 1000)
            changed = False
            for sd in self.file_sd:
                changed = await asyncio.to_thread(sd.poll, step_ms) or changed
            if changed:
                self.sync({})

    async def stop_watch(self) -> None:
        if self.watch is not None:
            self.watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watch
            self.watch = None

    def send(self, alerts: Sequence[Alert]) -> None:
        relabeled = _relabel(alerts, self.config.alert_relabel_configs, ())
        for loop in self.loops.values():
            loop.add(relabeled)


class Notifier:
    """An ``AlertSink`` (and a component) posting alerts to external Alertmanagers."""

    name = "notifier"

    def __init__(
        self,
        config: Config,
        *,
        queue_capacity: int = DEFAULT_QUEUE_CAPACITY,
        max_batch: int = DEFAULT_MAX_BATCH,
        drain_on_shutdown: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.queue_capacity = max(1, queue_capacity)
        self.max_batch = max(1, max_batch)
        self.drain_on_shutdown = drain_on_shutdown
        self.transport = transport
        self._sets: list[_Set] = []
        self._retiring: set[asyncio.Task[None]] = set()
        self._running = False

    # -- AlertSink --------------------------------------------------------------------------
    def send(self, alerts: Sequence[Alert]) -> None:
        """Queue ``alerts`` for every Alertmanager (external labels and relabeling applied)."""
        if not self._running or not alerts:
            return
        g = self.config.global_config
        relabeled = _relabel(alerts, self.config.alert_relabel_configs, g.external_labels)
        if not relabeled:
            return
        for s in list(self._sets):
            s.send(relabeled)

    def relabeled(self, alerts: Sequence[Alert]) -> list[Alert]:
        """``alerts`` as Prometheus hands them to any Alertmanager: external labels added,
        ``alert_relabel_configs`` applied (dropped alerts left out)."""
        g = self.config.global_config
        return _relabel(alerts, self.config.alert_relabel_configs, g.external_labels)

    # -- component --------------------------------------------------------------------------
    async def start(self) -> None:
        """Find the Alertmanagers and start their queues."""
        self._running = True
        self._apply(self.config, {})
        urls = self.urls()
        if urls:
            log.info("alerting: %d Alertmanagers named: %s", len(urls), ", ".join(urls))

    async def reload(self, config: Config) -> None:
        """Apply a changed ``alerting`` section; Alertmanagers that stay keep their queues."""
        self.config = config
        if not self._running:
            return
        old = self._sets
        inherit: dict[str, SendLoop] = {}
        for s in old:
            await s.stop_watch()
            inherit.update(s.loops)
        self._apply(config, inherit)  # loops that stay move to the new clients
        for loop in inherit.values():  # no longer named anywhere
            self.retire(loop)
        self._later(self._close_clients(old, set(self._retiring)))

    async def _close_clients(self, sets: list[_Set], draining: set[asyncio.Task[None]]) -> None:
        # Retired queues still send their last alerts through the old clients.
        await asyncio.gather(*draining, return_exceptions=True)
        for s in sets:
            await s.client.aclose()

    def _apply(self, config: Config, inherit: dict[str, SendLoop]) -> None:
        self._sets = []
        for amc in config.alertmanagers:
            s = _Set(self, amc)
            s.start(inherit)
            self._sets.append(s)

    async def stop(self) -> None:
        """Send what is queued (unless told not to), then close every connection."""
        self._running = False
        loops = [loop for s in self._sets for loop in s.loops.values()]
        for s in self._sets:
            await s.stop_watch()
        await asyncio.gather(*(loop.stop(drain=self.drain_on_shutdown) for loop in loops))
        while self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        for s in self._sets:
            await s.client.aclose()
        self._sets = []

    def retire(self, loop: SendLoop) -> None:
        """Stop a queue whose Alertmanager is gone, sending what it still holds."""
        self._later(loop.stop(drain=True))

    def _later(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def routes(self) -> Sequence[Any]:
        """The notifier serves no routes (``/api/v1/alertmanagers`` reads ``status()``)."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """Prometheus' ``prometheus_notifications_*`` metrics, named ``spyglass_...``."""
        return [_NotifierCollector(self)]

    # -- views ------------------------------------------------------------------------------
    def urls(self) -> list[str]:
        """Every Alertmanager alerts go to."""
        return [url for s in self._sets for url in s.loops]

    def status(self) -> dict[str, object]:
        """The ``data`` of ``/api/v1/alertmanagers``."""
        return {
            "activeAlertmanagers": [{"url": url} for url in self.urls()],
            "droppedAlertmanagers": [
                {"url": _url_of(labels)} for s in self._sets for labels in s.discovered.dropped
            ],
        }

    def loops(self) -> list[SendLoop]:
        """Every running queue (tests and the collector)."""
        return [loop for s in self._sets for loop in s.loops.values()]


def _url_of(labels: Labels) -> str:
    got = dict(labels)
    scheme, address = got.get(SCHEME, ""), got.get(ADDRESS, "")
    return f"{scheme}://{address}{got.get(ALERTS_PATH, '')}"


def _relabel(
    alerts: Iterable[Alert], configs: Sequence[RelabelConfig], external: Labels
) -> list[Alert]:
    out = []
    for a in alerts:
        labels = a.labels
        if external:
            have = dict(labels)
            for name, value in external:
                have.setdefault(name, value)
            labels = tuple(sorted(have.items()))
        if configs:
            relabeled = relabel(labels, configs)
            if relabeled is None:
                continue
            labels = relabeled
        out.append(a if labels == a.labels else _with_labels(a, labels))
    return out


def _with_labels(alert: Alert, labels: Labels) -> Alert:
    return Alert(
        labels, alert.annotations, alert.starts_at_ms, alert.ends_at_ms, alert.generator_url
    )


class _NotifierCollector(Collector):
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    def collect(self) -> Iterable[Metric]:
        n = self._notifier
        loops = n.loops()
        am = ["alertmanager"]
        sent = CounterMetricFamily(
            "spyglass_notifications_sent", "Alerts sent, by Alertmanager.", labels=am
        )
        errors = CounterMetricFamily(
            "spyglass_notifications_errors",
            "Alerts whose sending failed, by Alertmanager.",
            labels=am,
        )
        dropped = CounterMetricFamily(
            "spyglass_notifications_dropped",
            "Alerts dropped because of errors or a full queue, by Alertmanager.",
            labels=am,
        )
        queue = GaugeMetricFamily(
            "spyglass_notifications_queue_length",
            "Alerts waiting to be sent, by Alertmanager.",
            labels=am,
        )
        latency = SummaryMetricFamily(
            "spyglass_notifications_latency_seconds",
            "Time to send a batch of alerts, by Alertmanager.",
            labels=am,
        )
        for loop in loops:
            s = loop.stats
            sent.add_metric([loop.url], s.sent)
            errors.add_metric([loop.url], s.errors)
            dropped.add_metric([loop.url], s.dropped)
            queue.add_metric([loop.url], s.queue_length)
            latency.add_metric([loop.url], s.latency_count, s.latency_sum)
        yield from (sent, errors, dropped, queue, latency)
        yield GaugeMetricFamily(
            "spyglass_notifications_queue_capacity",
            "The capacity of each Alertmanager's alert queue.",
            value=n.queue_capacity,
        )
        yield GaugeMetricFamily(
            "spyglass_notifications_alertmanagers_discovered",
            "Alertmanagers alerts are sent to.",
            value=len(loops),
        )


__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_QUEUE_CAPACITY", "Notifier"]
