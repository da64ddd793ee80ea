"""Flapping: an alert that fires and resolves too often is held and summarised, not paged.

Alertmanager pages every firing of an alert that keeps crossing its threshold; users ask for
what Nagios calls flap detection. ``FlapDetector`` counts each alert's state changes (firing to
resolved and back) in a sliding window. An alert with more than ``max_changes`` changes in
``window_ms`` is flapping: the router holds its notifications and sends one summary alert in
its place (``summary_alert``), named ``AlertFlapping``, with the held alert's labels otherwise,
so it routes as the held alert would. When the alert's changes fall back under the limit, the
summary resolves and the alert is notified normally again.

The detector keeps a few timestamps per alert that changed state inside the window and forgets
the rest, so its memory follows the flapping alerts, not all alerts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from spyglass.core.alerts import ALERTNAME, Alert
from spyglass.core.labels import Labels

SUMMARY_ALERTNAME = "AlertFlapping"
HELD_ALERTNAME_LABEL = "flapping_alertname"


@dataclass(frozen=True, slots=True)
class FlappingPolicy:
    """When an alert counts as flapping: more than ``max_changes`` state changes in the window."""

    max_changes: int = 4
    window_ms: int = 3_600_000

    def __post_init__(self) -> None:
        if self.max_changes < 1:
            raise ValueError("flapping max_changes must be at least 1")
        if self.window_ms <= 0:
            raise ValueError("flapping window must be positive")


@dataclass(frozen=True, slots=True)
class FlapState:
    """What the detector knows of one flapping alert: its changes in the window."""

    changes: int
    first_change_ms: int
    last_change_ms: int


class FlapDetector:
    """Sliding-window counts of each alert's state changes, keyed by fingerprint."""

    def __init__(self, policy: FlappingPolicy) -> None:
        self.policy = policy
        self._firing: dict[str, bool] = {}
        self._changes: dict[str, deque[int]] = {}

    def observe(self, fingerprint: str, firing: bool, now_ms: int) -> None:
        """Record the alert's state at ``now_ms``; a change from the last state counts."""
        before = self._firing.get(fingerprint)
        self._firing[fingerprint] = firing
        if before is None or before == firing:
            return
        changes = self._changes.setdefault(fingerprint, deque())
        changes.append(now_ms)
        self._expire(fingerprint, now_ms)

    def state(self, fingerprint: str, now_ms: int) -> FlapState | None:
        """The alert's changes in the window ending at ``now_ms`` when it is flapping."""
        changes = self._expire(fingerprint, now_ms)
        if len(changes) <= self.policy.max_changes:
            return None
        return FlapState(len(changes), changes[0], changes[-1])

    def flapping(self, fingerprint: str, now_ms: int) -> bool:
        """Whether the alert changed state more than the policy allows in the window."""
        return self.state(fingerprint, now_ms) is not None

    def forget(self, fingerprint: str) -> None:
        """Drop an alert the router no longer holds (garbage-collected)."""
        self._firing.pop(fingerprint, None)
        self._changes.pop(fingerprint, None)

    def _expire(self, fingerprint: str, now_ms: int) -> deque[int]:
        changes = self._changes.get(fingerprint)
        if changes is None:
            return deque()
        start = now_ms - self.policy.window_ms
        while changes and changes[0] < start:
            changes.popleft()
        if not changes:
            del self._changes[fingerprint]
        return changes


def summary_alert(held: Alert, state: FlapState, policy: FlappingPolicy) -> Alert:
    """The alert the router sends in place of the flapping ``held`` one."""
    name = held.name
    labels: Labels = tuple(
        sorted(
            [(k, v) for k, v in held.labels if k != ALERTNAME]
            + [(ALERTNAME, SUMMARY_ALERTNAME), (HELD_ALERTNAME_LABEL, name)]
        )
    )
    minutes = policy.window_ms // 60_000
    text = (
        f"{name} changed state {state.changes} times in the last {minutes}m "
        f"(more than {policy.max_changes}); its notifications are held until it is stable."
    )
    return Alert(
        labels=labels,
        annotations=(("summary", text),),
        starts_at_ms=state.first_change_ms,
        generator_url=held.generator_url,
    )


__all__ = [
    "HELD_ALERTNAME_LABEL",
    "SUMMARY_ALERTNAME",
    "FlapDetector",
    "FlapState",
    "FlappingPolicy",
    "summary_alert",
]
