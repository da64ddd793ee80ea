"""The dispatcher: alerts into aggregation groups, groups flushed on Alertmanager's timers.

Every stored alert is routed through the ``RoutingTree`` (every matching route, ``continue``
included); on each route it joins the aggregation group of its group labels, created on first
use. A group flushes first ``group_wait`` after it was created, then every ``group_interval``;
an alert that is already older than ``group_wait`` when it reaches a group that has not flushed
yet brings the first flush forward to now, and one that joins a group that has flushed waits for
the next interval, as in Alertmanager. A flush hands the group's alerts (firing ones without an
end, sorted as Alertmanager sorts them) to the pipeline with the group interval (10 s at
least) as deadline;
after a successful flush the resolved alerts that did not change meanwhile leave the group.
Empty groups are removed every 30 seconds, so an alert arriving after that starts a new group
with a fresh ``group_wait``.

The dispatcher runs on a ``Clock``: ``run`` loops on the system clock, and tests call
``flush_due`` with a manual one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from spyglass.alerting._alertstore import AlertStore, StoredAlert
from spyglass.alerting._clock import Clock
from spyglass.alerting._correlation import CorrelationRule, correlation_for
from spyglass.alerting._pipeline import Flush, cleared
from spyglass.alerting._routing import RouteNode, RoutingTree, format_label_set, group_labels

log = logging.getLogger("spyglass.alerting")

CLEANUP_INTERVAL_MS = 30_000
# Alertmanager gives a flush at least this long to deliver (notify.MinTimeout), however short
# the group interval.
MIN_FLUSH_TIMEOUT_MS = 10_000

Notify = Callable[[Flush, Sequence[StoredAlert]], Awaitable[bool]]


@dataclass(eq=False)
class AggregationGroup:
    """The alerts of one route that share the route's group labels."""

    route: RouteNode
    labels: dict[str, str]
    key: str
    next_flush_ms: int
    alerts: dict[str, StoredAlert] = field(default_factory=dict)
    has_flushed: bool = False
    flushing: asyncio.Task[None] | None = None

    @property
    def receiver(self) -> str:
        """The route's receiver."""
        return self.route.receiver

    def insert(self, alert: StoredAlert, now_ms: int) -> None:
        """Add or replace ``alert``; an alert older than ``group_wait`` flushes an unflushed
        group now."""
        self.alerts[alert.fingerprint] = alert
        wait = self.route.options.group_wait_ms
        if not self.has_flushed and alert.alert.starts_at_ms + wait < now_ms:
            self.next_flush_ms = min(self.next_flush_ms, now_ms)

    def snapshot(self, now_ms: int) -> list[StoredAlert]:
        """The alerts a flush at ``now_ms`` sends, in Alertmanager's order."""
        alerts = [cleared(a, now_ms) for a in self.alerts.values()]
        return sorted(alerts, key=functools.cmp_to_key(_compare))


class Dispatcher:
    """Aggregation groups of one routing tree, fed by an ``AlertStore``."""

    def __init__(
        self,
        tree: RoutingTree,
        store: AlertStore,
        notify: Notify,
        clock: Clock,
        correlations: Sequence[CorrelationRule] = (),
    ) -> None:
        self.tree = tree
        self.correlations = correlations
        self.store = store
        self.notify = notify
        self.clock = clock
        self.groups: dict[tuple[RouteNode, str], AggregationGroup] = {}
        self._wake = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self._next_cleanup_ms = 0
        self._task: asyncio.Task[None] | None = None

    # -- feeding ----------------------------------------------------------------------------
    def subscribe(self) -> None:
        """Start taking alerts from the store (every stored one first)."""
        self._next_cleanup_ms = self.clock.now_ms() + CLEANUP_INTERVAL_MS
        self._unsubscribe = self.store.subscribe(self.process)

    def process(self, alert: StoredAlert) -> None:
        """Put ``alert`` into the group of each route it matches."""
        now = self.clock.now_ms()
        labels = alert.labels
        # An alert of a correlation group is grouped by the correlation instead of the
        # route's group_by, so the alerts of one cause share one notification.
        correlation = correlation_for(self.correlations, labels)
        for route in self.tree.match(labels):
            if correlation is not None:
                grouped = correlation.group_labels(labels)
            else:
                grouped = group_labels(route, labels)
            label_text = format_label_set(grouped)
            group = self.groups.get((route, label_text))
            if group is None:
                group = AggregationGroup(
                    route=route,
                    labels=grouped,
                    key=f"{route.key()}:{label_text}",
                    next_flush_ms=now + route.options.group_wait_ms,
                )
                self.groups[route, label_text] = group
            group.insert(alert, now)
        self._wake.set()

    # -- flushing ---------------------------------------------------------------------------
    def start_due(self) -> list[asyncio.Task[None]]:
        """Start the flushes that are due (a group still flushing waits for its flush to end)."""
        now = self.clock.now_ms()
        if now >= self._next_cleanup_ms:
            self._cleanup()
            self._next_cleanup_ms = now + CLEANUP_INTERVAL_MS
        started = []
        for group in list(self.groups.values()):
            if group.flushing is not None or group.next_flush_ms > now:
                continue
            interval = group.route.options.group_interval_ms
            group.next_flush_ms = now + interval
            group.has_flushed = True
            task = asyncio.get_running_loop().create_task(self._flush(group, now))
            group.flushing = task
            started.append(task)
        return started

    async def flush_due(self) -> int:
        """Run the due flushes to their end; how many ran (tests drive time with this)."""
        tasks = self.start_due()
        await asyncio.gather(*tasks)
        return len(tasks)

    async def _flush(self, group: AggregationGroup, now: int) -> None:
        try:
            if not group.alerts:
                return
            alerts = group.snapshot(now)
            flush = Flush(
                group_key=group.key,
                group_labels=tuple(sorted(group.labels.items())),
                options=group.route.options,
                now_ms=now,
                deadline_ms=now + max(group.route.options.group_interval_ms, MIN_FLUSH_TIMEOUT_MS),
            )
            try:
                ok = await self.notify(flush, alerts)
            except Exception:  # a bug in a stage must not stop this group for good
                log.exception("flushing group %s failed", group.key)
                ok = False
            if ok:
                for a in alerts:
                    current = group.alerts.get(a.fingerprint)
                    if (
                        a.resolved_at(now)
                        and current is not None
                        and current.updated_ms <= a.updated_ms
                    ):
                        del group.alerts[a.fingerprint]
        finally:
            group.flushing = None
            self._wake.set()

    def _cleanup(self) -> None:
        for key, group in list(self.groups.items()):
            if not group.alerts and group.flushing is None:
                del self.groups[key]

    # -- running ----------------------------------------------------------------------------
    async def run(self) -> None:
        """Flush groups when due until cancelled."""
        while True:
            self._wake.clear()
            self.start_due()
            now = self.clock.now_ms()
            due = [g.next_flush_ms for g in self.groups.values() if g.flushing is None]
            wait_ms = min([*due, self._next_cleanup_ms]) - now
            if wait_ms > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait_ms / 1000)

    def start(self) -> None:
        """Subscribe and run in a task."""
        self.subscribe()
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop flushing: cancel the loop and every flush in flight."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = [g.flushing for g in self.groups.values() if g.flushing is not None]
        if self._task is not None:
            tasks.append(self._task)
            self._task = None
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t


def _compare(a: StoredAlert, b: StoredAlert) -> int:
    """Alertmanager's ``AlertSlice`` order: ``job``, then ``instance``, then the label sets."""
    la, lb = a.labels, b.labels
    for key in ("job", "instance"):
        va, vb = la.get(key), lb.get(key)
        if va is None and vb is None:
            continue
        if va is None:
            return 1
        if vb is None:
            return -1
        if va != vb:
            return -1 if va < vb else 1
    if _before(la, lb):
        return -1
    if _before(lb, la):
        return 1
    return 0


def _before(a: dict[str, str], b: dict[str, str]) -> bool:
    """Prometheus' ``LabelSet.Before``."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted([*a, *b]):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


__all__ = [
    "CLEANUP_INTERVAL_MS",
    "MIN_FLUSH_TIMEOUT_MS",
    "AggregationGroup",
    "Dispatcher",
    "Notify",
]
