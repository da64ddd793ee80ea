"""Alert values: an alert instance's state as rules track it, and an alert as it is sent.

Times are milliseconds since the epoch; ``None`` stands for Go's zero time (never fired, not
resolved, never sent). ``Alert`` is a snapshot for readers (the API, tests); the rule keeps its
own mutable ``AlertInstance`` per label set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote_plus

from spyglass.core.labels import Labels

AlertState = Literal["inactive", "pending", "firing"]
"""``inactive`` alerts are resolved ones kept (and re-sent) for a while after they stopped."""

RESOLVED_RETENTION_MS = 15 * 60 * 1000
"""How long a resolved alert is kept and re-sent, as Prometheus' ``resolvedRetention``."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of an alerting rule: a label set the expression returned, and its history."""

    labels: Labels
    annotations: Labels
    state: AlertState
    value: float
    active_at_ms: int
    fired_at_ms: int | None = None
    resolved_at_ms: int | None = None
    last_sent_at_ms: int | None = None
    valid_until_ms: int | None = None
    keep_firing_since_ms: int | None = None


@dataclass
class AlertInstance:
    """The mutable state behind an ``Alert``, kept by its rule between evaluations."""

    labels: Labels
    annotations: Labels
    state: AlertState
    value: float
    active_at_ms: int
    fired_at_ms: int | None = None
    resolved_at_ms: int | None = None
    last_sent_at_ms: int | None = None
    valid_until_ms: int | None = None
    keep_firing_since_ms: int | None = None

    def snapshot(self) -> Alert:
        """A frozen copy for readers."""
        return Alert(
            self.labels,
            self.annotations,
            self.state,
            self.value,
            self.active_at_ms,
            self.fired_at_ms,
            self.resolved_at_ms,
            self.last_sent_at_ms,
            self.valid_until_ms,
            self.keep_firing_since_ms,
        )

    def needs_sending(self, now_ms: int, resend_delay_ms: int) -> bool:
        """Prometheus' rule: never while pending; at once when newly resolved; else every
        ``resend_delay``."""
        if self.state == "pending":
            return False
        if self.resolved_at_ms is not None and (
            self.last_sent_at_ms is None or self.resolved_at_ms > self.last_sent_at_ms
        ):
            return True
        last = self.last_sent_at_ms
        return last is None or last + resend_delay_ms < now_ms


@dataclass(frozen=True, slots=True)
class OutgoingAlert:
    """An alert to hand to Alertmanager (or Spyglass's router), shaped as Prometheus sends it.

    ``starts_at_ms`` is when it fired; ``ends_at_ms`` is when it was resolved, or, while it
    fires, how long it stays valid without news (four evaluation intervals or resend delays).
    External labels are not added here: the sender adds them, as Prometheus' notifier does.
    """

    labels: Labels
    annotations: Labels
    starts_at_ms: int
    ends_at_ms: int
    generator_url: str
    state: AlertState
    active_at_ms: int
    value: float

    @property
    def resolved(self) -> bool:
        """Whether this tells the receiver the alert is over."""
        return self.state == "inactive"


def generator_url(external_url: str, expr: str) -> str:
    """Prometheus' link back to the expression in its table view."""
    return f"{external_url}/graph?g0.expr={quote_plus(expr)}&g0.tab=1"


__all__ = [
    "RESOLVED_RETENTION_MS",
    "Alert",
    "AlertInstance",
    "AlertState",
    "OutgoingAlert",
    "generator_url",
]
