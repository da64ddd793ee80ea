"""The notification pipeline: what a flushed aggregation group goes through before anyone is told.

Stages in Alertmanager's order, each one narrowing the alerts:

    inhibition → active time intervals → mute time intervals → silences →
    for each integration of the receiver, side by side: dedup → retry → notification log

Inhibition, silences and time intervals mark what they hold back (``Marker``) for the API.
Dedup asks the notification log what the integration was last told about the group and lets the
flush through only when the firing set changed, when there are newly resolved alerts and the
integration sends resolved ones, when everything has resolved since the last notification, or
when ``repeat_interval`` has passed. The ``spyglass:`` section's extensions (``Beyond``) hold
flapping alerts and alerts in quiet hours after the silences, skip the repeat of a fully
acknowledged group, and send unacknowledged alerts on to escalation receivers. Retry keeps
trying retryable failures with exponential backoff until the flush's deadline (the group's
``group_interval``); a success is logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from spyglass.alerting._alertstore import AlertStore, StoredAlert
from spyglass.alerting._beyond import Beyond
from spyglass.alerting._clock import Clock
from spyglass.alerting._config import InhibitRule
from spyglass.alerting._history import NotificationHistory, delivery
from spyglass.alerting._inhibitor import Inhibitor
from spyglass.alerting._marker import Marker
from spyglass.alerting._metrics import RouterMetrics
from spyglass.alerting._nflog import Entry, NotificationLog, ReceiverKey
from spyglass.alerting._notify import Notification, NotifyError, Sender
from spyglass.alerting._routing import RouteOptions
from spyglass.alerting._silencer import NoSilences, Silencer
from spyglass.alerting._timeintervals import TimeInterval, active_intervals
from spyglass.core.errors import SpyglassError
from spyglass.core.labels import Labels
from spyglass.core.template import fingerprint

log = logging.getLogger("spyglass.alerting")

# github.com/cenkalti/backoff's defaults, which Alertmanager's retry stage uses.
BACKOFF_INITIAL_S = 0.5
BACKOFF_MULTIPLIER = 1.5
BACKOFF_RANDOMIZATION = 0.5
BACKOFF_MAX_S = 60.0


@dataclass(frozen=True, slots=True)
class Flush:
    """What a flush knows besides its alerts: Alertmanager's pipeline context."""

    group_key: str
    group_labels: Labels
    options: RouteOptions
    now_ms: int
    deadline_ms: int


@dataclass(frozen=True, slots=True)
class Integration:
    """A built sender and its place in the notification log."""

    key: ReceiverKey
    sender: Sender


@dataclass
class Pipeline:
    """Everything a flush needs, rebuilt on every config (re)load."""

    integrations: Mapping[str, Sequence[Integration]]
    nflog: NotificationLog
    store: AlertStore
    marker: Marker
    clock: Clock
    metrics: RouterMetrics
    inhibit_rules: Sequence[InhibitRule] = ()
    intervals: Mapping[str, tuple[TimeInterval, ...]] = field(default_factory=dict)
    silencer: Silencer = field(default_factory=NoSilences)
    # What the file's spyglass: section adds (flapping, quiet hours, acknowledgement,
    # escalation); None when it has none.
    beyond: Beyond | None = None
    # Every delivery that ended, for the notification history (None: not kept).
    history: NotificationHistory | None = None
    external_url: str = ""
    rng: random.Random = field(default_factory=random.Random)

    async def run(self, flush: Flush, alerts: Sequence[StoredAlert]) -> bool:
        """Take one flush through every stage; whether every integration succeeded.

        Firing alerts come with no end (the dispatcher clears it, as Alertmanager does).
        """
        kept = self.filter(flush, alerts)
        waiting = False
        if self.beyond is not None:
            kept, waiting = self.beyond.hold(kept, self.marker, flush.now_ms)
        if not kept:
            return not waiting
        integrations = list(self.integrations.get(flush.options.receiver, ()))
        runs = [self._integration(i, flush, kept) for i in integrations]
        if self.beyond is not None:
            firing = [a for a in kept if not a.resolved_at(flush.now_ms)]
            due = await self.beyond.escalations(firing, flush.now_ms)
            for receiver, escalated in due.items():
                # The escalation receiver's integrations, logged under this group's key with
                # the receiver's name: told once, then again after repeat_interval.
                to = replace(flush, options=replace(flush.options, receiver=receiver))
                for i in self.integrations.get(receiver, ()):
                    integrations.append(i)
                    runs.append(self._integration(i, to, escalated))
        results = await asyncio.gather(*runs, return_exceptions=True)
        ok = not waiting
        for integration, result in zip(integrations, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                # A sender's bug or an unreachable state store fails this integration only.
                log.error(
                    "notify for receiver %s, integration %s[%d] of group %s failed",
                    integration.key.receiver,
                    integration.key.integration,
                    integration.key.index,
                    flush.group_key,
                    exc_info=result,
                )
                ok = False
            else:
                ok = ok and result
        return ok

    def filter(self, flush: Flush, alerts: Sequence[StoredAlert]) -> list[StoredAlert]:
        """The stages before the receiver: inhibition, time intervals, silences (marking)."""
        now = flush.now_ms
        kept = []
        inhibitor = Inhibitor(self.inhibit_rules, self.store.firing(now))
        for a in alerts:
            found = inhibitor.inhibiting(a.labels)
            self.marker.set_inhibited(
                a.fingerprint, () if found is None else (fingerprint(found[1]),)
            )
            if found is None:
                kept.append(a)
        if not kept:
            return []
        when = dt.datetime.fromtimestamp(now / 1000, dt.UTC)
        active_names = flush.options.active_time_intervals
        muted: list[str] = []
        if active_names and not active_intervals(self.intervals, active_names, when):
            muted = list(active_names)
        elif flush.options.mute_time_intervals:
            muted = active_intervals(self.intervals, flush.options.mute_time_intervals, when)
        for a in kept:
            self.marker.set_muted(a.fingerprint, muted)
        if muted:
            log.debug("notifications for %s held back by time intervals %s", flush.group_key, muted)
            return []
        out = []
        for a in kept:
            silences = self.silencer.mutes(a.labels, now)
            self.marker.set_silenced(a.fingerprint, silences)
            if not silences:
                out.append(a)
        return out

    async def _integration(
        self, integration: Integration, flush: Flush, alerts: Sequence[StoredAlert]
    ) -> bool:
        now = flush.now_ms
        firing = frozenset(a.fingerprint for a in alerts if not a.resolved_at(now))
        resolved = frozenset(a.fingerprint for a in alerts if a.resolved_at(now))
        entry = await self.nflog.query(flush.group_key, integration.key, now)
        sender = integration.sender
        if (
            self.beyond is not None
            and entry is not None
            and firing
            and firing <= entry.firing
            and not (sender.send_resolved and not resolved <= entry.resolved)
            and await self.beyond.acknowledged([a for a in alerts if a.fingerprint in firing])
        ):
            return True  # acknowledged: nothing new to tell, so no repeat
        if not needs_update(
            entry,
            firing,
            resolved,
            repeat_interval_ms=flush.options.repeat_interval_ms,
            send_resolved=sender.send_resolved,
            now_ms=now,
        ):
            return True
        name = sender.kind
        self.metrics.notifications[name] += 1
        sent: list[StoredAlert] = []
        try:
            if sender.send_resolved:
                sent = list(alerts)
            else:
                sent = [a for a in alerts if not a.resolved_at(now)]
            if sent:
                await self._retry(integration, flush, sent)
        except NotifyError as exc:
            self.metrics.failed[name, exc.reason] += 1
            log.error(
                "notify for receiver %s, integration %s[%d] of group %s failed: %s",
                integration.key.receiver,
                name,
                integration.key.index,
                flush.group_key,
                exc,
            )
            await self._remember(integration, flush, sent, str(exc))
            return False
        await self.nflog.log(flush.group_key, integration.key, firing, resolved, now)
        await self._remember(integration, flush, sent)
        return True

    async def _remember(
        self,
        integration: Integration,
        flush: Flush,
        sent: Sequence[StoredAlert],
        error: str = "",
    ) -> None:
        if self.history is None or not sent:
            return
        now = flush.now_ms
        entry = delivery(
            self.clock.now_ms(),
            receiver=integration.key.receiver,
            integration=integration.key.integration,
            index=integration.key.index,
            group_key=flush.group_key,
            alertnames=[a.alert.name for a in sent],
            firing=sum(1 for a in sent if not a.resolved_at(now)),
            resolved=sum(1 for a in sent if a.resolved_at(now)),
            error=error,
        )
        try:
            await asyncio.to_thread(self.history.record, entry)
        except SpyglassError as exc:  # the history is for people; it never fails a delivery
            log.warning("notification history: %s", exc)

    async def _retry(
        self, integration: Integration, flush: Flush, alerts: Sequence[StoredAlert]
    ) -> None:
        sender = integration.sender
        name = sender.kind
        notification = Notification(
            receiver=integration.key.receiver,
            group_key=flush.group_key,
            group_labels=flush.group_labels,
            alerts=tuple(a.alert for a in alerts),
            now_ms=flush.now_ms,
            external_url=self.external_url,
        )
        interval = BACKOFF_INITIAL_S
        attempt = 0
        last: NotifyError | None = None
        while True:
            attempt += 1
            remaining = (flush.deadline_ms - self.clock.now_ms()) / 1000
            if remaining <= 0:
                raise _gave_up(integration, attempt - 1, last)
            started = time.perf_counter()
            try:
                await asyncio.wait_for(sender.send(notification), timeout=remaining)
            except (NotifyError, TimeoutError) as exc:
                err = (
                    exc
                    if isinstance(exc, NotifyError)
                    else NotifyError("context deadline exceeded", retry=False)
                )
                self.metrics.observe_latency(name, time.perf_counter() - started)
                self.metrics.requests[name] += 1
                self.metrics.requests_failed[name] += 1
                if not err.retry:
                    raise NotifyError(
                        f"{integration.key.receiver}/{name}[{integration.key.index}]: notify retry "
                        f"canceled due to unrecoverable error after {attempt} attempts: {err}",
                        retry=False,
                        reason=err.reason,
                    ) from None
                log.warning(
                    "notify attempt %d for receiver %s, integration %s[%d] failed, will retry: %s",
                    attempt,
                    integration.key.receiver,
                    name,
                    integration.key.index,
                    err,
                )
                last = err
            else:
                self.metrics.observe_latency(name, time.perf_counter() - started)
                self.metrics.requests[name] += 1
                if attempt > 1:
                    log.info(
                        "notify success for receiver %s, integration %s[%d] after %d attempts",
                        integration.key.receiver,
                        name,
                        integration.key.index,
                        attempt,
                    )
                return
            delay = interval * (1 + BACKOFF_RANDOMIZATION * (2 * self.rng.random() - 1))
            interval = min(interval * BACKOFF_MULTIPLIER, BACKOFF_MAX_S)
            remaining = (flush.deadline_ms - self.clock.now_ms()) / 1000
            await self.clock.sleep(min(delay, max(remaining, 0)))


def _gave_up(integration: Integration, attempts: int, last: NotifyError | None) -> NotifyError:
    reason = last.reason if last is not None else "other"
    detail = f": {last}" if last is not None else ""
    return NotifyError(
        f"{integration.key.receiver}/{integration.sender.kind}[{integration.key.index}]: notify "
        f"retry canceled after {attempts} attempts{detail}",
        retry=False,
        reason=reason,
    )


def needs_update(
    entry: Entry | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    *,
    repeat_interval_ms: int,
    send_resolved: bool,
    now_ms: int,
) -> bool:
    """Alertmanager's dedup decision for one integration."""
    if entry is None:
        # Never notified: only firing alerts are worth telling about.
        return bool(firing)
    if not firing <= entry.firing:
        return True
    if not firing:
        # Everything resolved: tell (whatever send_resolved says, so the log forgets the
        # firing alerts), unless nothing was ever told firing since the last notification.
        return bool(entry.firing)
    if send_resolved and not resolved <= entry.resolved:
        return True
    return entry.timestamp_ms < now_ms - repeat_interval_ms


def cleared(alert: StoredAlert, now_ms: int) -> StoredAlert:
    """The alert as a flush at ``now_ms`` hands it on: a firing alert has no end yet."""
    if alert.resolved_at(now_ms):
        return alert
    return replace(alert, alert=replace(alert.alert, ends_at_ms=0))


__all__ = [
    "Flush",
    "Integration",
    "Pipeline",
    "cleared",
    "needs_update",
]
