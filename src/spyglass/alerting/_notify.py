"""Notifications: what the router hands a receiver's integrations, and how they answer.

The dispatcher flushes an aggregation group as one ``Notification``: the receiver's name, the
group's key and labels, and the alerts to tell about (firing and, where the integration sends
resolved ones, resolved), in Alertmanager's order. Each integration of the receiver (one entry of
``webhook_configs``, ``email_configs``...) is a ``Sender`` built from its config entry by the
builder registered for its config key in ``SENDER_BUILDERS``. A sender renders its templates,
delivers, and either returns or raises ``NotifyError`` saying whether a retry could succeed; the
router retries with backoff, keeps the notification log and counts every attempt, so senders
do none of that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from spyglass.core.alerts import Alert
from spyglass.core.errors import SpyglassError
from spyglass.core.labels import Labels
from spyglass.core.template import AlertInput, Data, TemplateSet, notification_data


@dataclass(frozen=True, slots=True)
class Notification:
    """One flush of an aggregation group for one receiver.

    ``alerts`` are in the order Alertmanager sends them; an alert is resolved when its
    ``ends_at_ms`` is set and not after ``now_ms``. ``truncated`` counts alerts a sender's
    ``max_alerts`` leaves out (senders apply that limit themselves).
    """

    receiver: str
    group_key: str
    group_labels: Labels
    alerts: tuple[Alert, ...]
    now_ms: int
    external_url: str = ""

    @property
    def firing(self) -> tuple[Alert, ...]:
        """The alerts still firing at ``now_ms``."""
        return tuple(a for a in self.alerts if not a.resolved_at(self.now_ms))

    @property
    def resolved(self) -> tuple[Alert, ...]:
        """The alerts resolved by ``now_ms``."""
        return tuple(a for a in self.alerts if a.resolved_at(self.now_ms))

    def template_data(self, alerts: tuple[Alert, ...] | None = None) -> Data:
        """Alertmanager's template data (``.Receiver``, ``.GroupLabels``, ``.Alerts``...)."""
        return notification_data(
            self.receiver,
            [_input(a) for a in (self.alerts if alerts is None else alerts)],
            group_labels=dict(self.group_labels),
            external_url=self.external_url,
            now=dt.datetime.fromtimestamp(self.now_ms / 1000, dt.UTC),
        )


class NotifyError(SpyglassError):
    """A delivery failed. ``retry`` says whether sending the same again could succeed.

    ``reason`` is a short label for metrics, as Alertmanager's
    ``alertmanager_notifications_failed_total{reason=...}`` has it: ``clientError``,
    ``serverError``, ``other``.
    """

    def __init__(self, message: str, *, retry: bool, reason: str = "other") -> None:
        self.retry = retry
        self.reason = reason
        super().__init__(message)


class Sender(Protocol):
    """One integration of a receiver, ready to deliver."""

    @property
    def kind(self) -> str:
        """The integration's name as Alertmanager labels it: ``webhook``, ``email``, ``slack``..."""
        ...

    @property
    def send_resolved(self) -> bool:
        """Whether resolved alerts are told about (the config's ``send_resolved``)."""
        ...

    async def send(self, notification: Notification) -> None:
        """Deliver ``notification``; raise ``NotifyError`` on failure, never anything else."""
        ...


@dataclass(frozen=True)
class SenderEnv:
    """What building a sender needs besides its config entry."""

    templates: TemplateSet
    external_url: str = ""
    # The config's global section, for defaults a sender resolves itself (smtp_*, slack_api_url).
    globals: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)


SenderBuilder = Callable[[Any, SenderEnv], Sender]

# Config key (``webhook_configs``...) -> builder. Modules that implement an integration register
# here; a receiver entry whose key has no builder is reported at config load, not at send time.
SENDER_BUILDERS: dict[str, SenderBuilder] = {}


def _input(alert: Alert) -> AlertInput:
    return AlertInput(
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        starts_at=_time(alert.starts_at_ms),
        ends_at=_time(alert.ends_at_ms) if alert.ends_at_ms else None,
        generator_url=alert.generator_url,
    )


def _time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


__all__ = [
    "SENDER_BUILDERS",
    "Notification",
    "NotifyError",
    "Sender",
    "SenderBuilder",
    "SenderEnv",
]
