"""The "Why?" panels of the Alerts and Incident pages: what to ask ``/api/spyglass/v1/why``.

A panel carries a PromQL expression and a window; ``frontend/src/why.js`` asks the why API
only when the panel is opened (the answer may take a second) and draws the ranked label values
and the other signals' findings. This module chooses the question:

- an alert of a rule: the rule's expression; for an alert from elsewhere (an external
  Prometheus posting to ``/api/v2/alerts``), the ``g0.expr`` of its ``generatorURL``, and when
  it names none, the reason the panel has nothing to ask;
- the window: from a few minutes before the alert became active (or the incident began), since
  a rate or a ``for`` clause crosses a threshold minutes after what it measures changed, to the
  incident's end, or for an alert at most ``ALERT_WINDOW_MS`` past its activation, or now. The
  why API compares it with the hour before.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from spyglass.server.ui._format import utc

# How far before an alert's activation the window starts: the change it reports came first.
LEAD_MS = 5 * 60_000
# An alert's window ends this long after its activation at most: what made it fire came then.
ALERT_WINDOW_MS = 15 * 60_000
MIN_WINDOW_MS = 60_000


@dataclass(frozen=True)
class WhyQuestion:
    """What one panel asks: ``query`` over the window ending at ``time_ms``, or, when
    ``query`` is empty, ``reason`` says why there is nothing to ask."""

    title: str
    query: str = ""
    time_ms: int = 0
    window_ms: int = 0
    reason: str = ""

    @property
    def time_s(self) -> str:
        """The window's end in Unix seconds, as the why API takes ``time``."""
        return f"{self.time_ms / 1000:.3f}"

    @property
    def ends(self) -> str:
        """The window's end in UTC, for the panel's heading."""
        return utc(self.time_ms)

    @property
    def minutes(self) -> int:
        """The window's length in whole minutes (at least 1)."""
        return max(self.window_ms // 60_000, 1)

    @property
    def window(self) -> str:
        """The window's length as a duration the why API takes (``1234s``)."""
        return f"{max(self.window_ms // 1000, 1)}s"


def generator_expression(url: str) -> str:
    """The expression a Prometheus ``generatorURL`` graphs (its ``g0.expr``), or ``""``."""
    if not url:
        return ""
    values = parse_qs(urlsplit(url).query).get("g0.expr", [])
    return values[0].strip() if values else ""


def _window(start_ms: int, end_ms: int) -> tuple[int, int]:
    begin = start_ms - LEAD_MS
    return end_ms, max(end_ms - begin, MIN_WINDOW_MS)


def alert_question(title: str, expr: str, active_at_ms: int, now_ms: int) -> WhyQuestion:
    """The panel of an alert of a rule whose expression is ``expr``."""
    if not expr:
        return WhyQuestion(title, reason="The alert names no expression to explain.")
    end, window = _window(active_at_ms, min(now_ms, active_at_ms + ALERT_WINDOW_MS))
    return WhyQuestion(title, expr, end, window)


def incident_questions(
    incident: dict[str, object], start_ms: int, end_ms: int
) -> list[WhyQuestion]:
    """One panel per distinct expression of the incident's alerts, over its window; one that
    says why there is none when no alert names an expression."""
    alerts = incident.get("alerts")
    entries = list(alerts.values()) if isinstance(alerts, dict) else []
    end, window = _window(start_ms, end_ms)
    seen: dict[str, WhyQuestion] = {}
    names: list[str] = []
    for entry in entries:
        labels = entry.get("labels", {}) if isinstance(entry, dict) else {}
        name = str(labels.get("alertname", "alert")) if isinstance(labels, dict) else "alert"
        names.append(name)
        url = entry.get("generator_url", "") if isinstance(entry, dict) else ""
        expr = generator_expression(str(url or ""))
        if expr and expr not in seen:
            seen[expr] = WhyQuestion(name, expr, end, window)
    if seen:
        return list(seen.values())
    if not entries:
        reason = "No alert joined this incident, so no expression to explain."
    else:
        shown = ", ".join(sorted(set(names)))
        reason = (
            f"The incident's alerts ({shown}) came without a generatorURL naming an "
            "expression (g0.expr), so there is nothing to explain."
        )
    return [WhyQuestion("Why?", reason=reason)]


__all__ = [
    "ALERT_WINDOW_MS",
    "LEAD_MS",
    "WhyQuestion",
    "alert_question",
    "generator_expression",
    "incident_questions",
]
