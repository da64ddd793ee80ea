"""The alert store: every alert the router knows, as Alertmanager's alert provider keeps them.

Alerts are keyed by their label set's fingerprint. ``receive`` takes alerts as clients post them
and applies Alertmanager's rules in its order: an alert without ``startsAt`` starts now (or at its
``endsAt``), one without ``endsAt`` gets ``resolve_timeout`` and counts as resolved when that
passes unless it is sent again; empty label values are dropped; invalid alerts are counted and
reported while the valid ones of the same batch are kept. An alert that overlaps the stored one
with the same labels merges with it (``merge``: earliest start, the newer update decides the
end); one that does not overlap, such as a resolved alert that fires again, replaces it and so
starts anew. Subscribers (the dispatcher) hear of every stored alert.

Resolved alerts stay until ``gc`` runs (Alertmanager collects them every 30 minutes), so a
resolved alert is notified once even when its group flushes long after.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from spyglass.alerting._metrics import RouterMetrics
from spyglass.core.alerts import Alert
from spyglass.core.labels import labels_of
from spyglass.core.template import fingerprint

# Alertmanager 0.25 checks label and annotation names with Prometheus' legacy rule.
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
DEFAULT_RESOLVE_TIMEOUT_MS = 300_000
GC_INTERVAL_MS = 30 * 60_000


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as the router holds it: ``ends_at_ms`` always set, ``timeout`` when the sender
    gave no end and the resolve timeout supplied one."""

    alert: Alert
    fingerprint: str
    updated_ms: int
    timeout: bool = False

    @property
    def labels(self) -> dict[str, str]:
        """The labels as a dict."""
        return dict(self.alert.labels)

    def resolved_at(self, now_ms: int) -> bool:
        """Whether the alert has ended by ``now_ms``."""
        return self.alert.resolved_at(now_ms)


def merge(old: StoredAlert, new: StoredAlert) -> StoredAlert:
    """Alertmanager's ``Alert.Merge``: the younger alert's fields, the earliest start, and the end
    the younger one says unless the older one's explicit end is later."""
    if new.updated_ms < old.updated_ms:
        old, new = new, old
    starts = min(old.alert.starts_at_ms, new.alert.starts_at_ms)
    ends = new.alert.ends_at_ms
    now = new.updated_ms
    if new.resolved_at(now):
        if old.resolved_at(now) and old.alert.ends_at_ms > ends:
            ends = old.alert.ends_at_ms
    elif old.alert.ends_at_ms > ends and not old.timeout:
        ends = old.alert.ends_at_ms
    return replace(new, alert=replace(new.alert, starts_at_ms=starts, ends_at_ms=ends))


def _overlaps(old: StoredAlert, new: StoredAlert) -> bool:
    o, n = old.alert, new.alert
    return (o.starts_at_ms < n.ends_at_ms < o.ends_at_ms) or (
        o.starts_at_ms < n.starts_at_ms < o.ends_at_ms
    )


def validate(alert: Alert) -> str | None:
    """Alertmanager's ``Alert.Validate`` message for an invalid alert, else ``None``."""
    if alert.starts_at_ms == 0:
        return "start time missing"
    if alert.ends_at_ms and alert.ends_at_ms < alert.starts_at_ms:
        return "start time must be before end time"
    for name, _ in alert.labels:
        if not _NAME.match(name):
            return f'invalid label set: invalid name "{name}"'
    if not alert.labels:
        return "at least one label pair required"
    for name, _ in alert.annotations:
        if not _NAME.match(name):
            return f'invalid annotations: invalid name "{name}"'
    return None


Listener = Callable[[StoredAlert], None]


class AlertStore:
    """Alerts by fingerprint, merged as Alertmanager merges them."""

    def __init__(
        self,
        *,
        resolve_timeout_ms: int = DEFAULT_RESOLVE_TIMEOUT_MS,
        metrics: RouterMetrics | None = None,
    ) -> None:
        self.resolve_timeout_ms = resolve_timeout_ms
        self.metrics = metrics or RouterMetrics()
        self._alerts: dict[str, StoredAlert] = {}
        self._listeners: list[Listener] = []
        self.on_delete: list[Callable[[str], None]] = []
        # What changed since ``take_changes`` was last called (for the snapshot on disk).
        self._changed: set[str] = set()
        self._deleted: set[str] = set()

    def receive(self, alerts: Sequence[Alert], now_ms: int) -> list[str]:
        """Store ``alerts`` as clients post them; the messages of those refused as invalid.

        Valid alerts are stored even when others of the batch are refused, as Alertmanager does.
        """
        errors: list[str] = []
        accepted: list[StoredAlert] = []
        for alert in alerts:
            starts, ends, timeout = alert.starts_at_ms, alert.ends_at_ms, False
            if not starts:
                starts = ends or now_ms
            if not ends:
                ends, timeout = now_ms + self.resolve_timeout_ms, True
            self.metrics.received["firing" if ends > now_ms else "resolved"] += 1
            fixed = replace(
                alert,
                labels=labels_of(alert.labels),
                starts_at_ms=starts,
                ends_at_ms=ends,
            )
            problem = validate(fixed)
            if problem is not None:
                self.metrics.invalid += 1
                errors.append(problem)
                continue
            accepted.append(StoredAlert(fixed, fingerprint(dict(fixed.labels)), now_ms, timeout))
        self.put(accepted)
        return errors

    def put(self, alerts: Sequence[StoredAlert]) -> None:
        """Store normalised alerts (merging with overlapping ones) and tell the subscribers."""
        for incoming in alerts:
            alert = incoming
            old = self._alerts.get(alert.fingerprint)
            if old is not None and _overlaps(old, alert):
                alert = merge(old, alert)
            self._alerts[alert.fingerprint] = alert
            self._changed.add(alert.fingerprint)
            self._deleted.discard(alert.fingerprint)
            for listener in list(self._listeners):
                listener(alert)

    def restore(self, alerts: Iterable[StoredAlert]) -> None:
        """Put back alerts read from disk (no merging, nothing to write back)."""
        for alert in alerts:
            self._alerts[alert.fingerprint] = alert

    def take_changes(self) -> tuple[list[StoredAlert], list[str]]:
        """The alerts stored and the fingerprints dropped since the last call."""
        changed = [self._alerts[fp] for fp in self._changed if fp in self._alerts]
        deleted = list(self._deleted)
        self._changed, self._deleted = set(), set()
        return changed, deleted

    def untake(self, changed: Iterable[StoredAlert], deleted: Iterable[str]) -> None:
        """Mark changes again that could not be written (they go with the next save)."""
        for alert in changed:
            if alert.fingerprint not in self._deleted:
                self._changed.add(alert.fingerprint)
        for fp in deleted:
            if fp not in self._alerts:
                self._deleted.add(fp)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every alert stored from now on, after every alert stored so
        far; returns the function that unsubscribes."""
        self._listeners.append(listener)
        for alert in list(self._alerts.values()):
            listener(alert)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def get(self, fp: str) -> StoredAlert | None:
        """The alert with fingerprint ``fp``."""
        return self._alerts.get(fp)

    def __iter__(self) -> Iterator[StoredAlert]:
        return iter(list(self._alerts.values()))

    def __len__(self) -> int:
        return len(self._alerts)

    def firing(self, now_ms: int) -> list[Mapping[str, str]]:
        """The label sets of the alerts firing at ``now_ms`` (inhibition's sources)."""
        return [a.labels for a in self._alerts.values() if not a.resolved_at(now_ms)]

    def gc(self, now_ms: int) -> int:
        """Drop the alerts resolved by ``now_ms``; how many went."""
        gone = [fp for fp, a in self._alerts.items() if a.resolved_at(now_ms)]
        for fp in gone:
            del self._alerts[fp]
            self._changed.discard(fp)
            self._deleted.add(fp)
            for hook in self.on_delete:
                hook(fp)
        return len(gone)


__all__ = [
    "DEFAULT_RESOLVE_TIMEOUT_MS",
    "GC_INTERVAL_MS",
    "AlertStore",
    "Listener",
    "StoredAlert",
    "merge",
    "validate",
]
