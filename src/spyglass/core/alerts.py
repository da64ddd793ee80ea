"""Alerts as Prometheus hands them to Alertmanager: the value type rules and alerting share.

Alerting rules produce ``Alert`` values; an ``AlertSink`` takes them for delivery (the
in-process router, external Alertmanagers named in prometheus.yml). On the wire an alert is
Alertmanager API v2's ``PostableAlert``: ``labels``, ``annotations``, ``startsAt``, ``endsAt`` and
``generatorURL``, times as RFC 3339 with milliseconds in UTC, which is how Prometheus writes them.
An alert whose ``endsAt`` has passed is resolved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from spyglass.core.labels import Labels

ALERTNAME = "alertname"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: its identity (``labels``), its texts and its time span in ms (0: not set)."""

    labels: Labels
    annotations: Labels = ()
    starts_at_ms: int = 0
    ends_at_ms: int = 0
    generator_url: str = ""

    @property
    def name(self) -> str:
        """The ``alertname`` label."""
        return dict(self.labels).get(ALERTNAME, "")

    def resolved_at(self, now_ms: int) -> bool:
        """Whether the alert has ended by ``now_ms``."""
        return self.ends_at_ms != 0 and self.ends_at_ms <= now_ms


class AlertSink(Protocol):
    """Where alerting rules put their alerts."""

    def send(self, alerts: Sequence[Alert]) -> None:
        """Take ``alerts`` for delivery; returns at once, never waiting on the network."""
        ...


class FanOut:
    """An ``AlertSink`` handing every batch to several sinks, in order."""

    def __init__(self, *sinks: AlertSink) -> None:
        self.sinks = sinks

    def send(self, alerts: Sequence[Alert]) -> None:
        """Give ``alerts`` to each sink."""
        for sink in self.sinks:
            sink.send(alerts)


def format_time(ms: int) -> str:
    """``ms`` as Alertmanager's API writes times: RFC 3339, milliseconds, UTC (``...Z``)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def to_postable(alert: Alert) -> dict[str, Any]:
    """The ``PostableAlert`` JSON object of ``alert`` (times left out when not set)."""
    out: dict[str, Any] = {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
    }
    if alert.starts_at_ms:
        out["startsAt"] = format_time(alert.starts_at_ms)
    if alert.ends_at_ms:
        out["endsAt"] = format_time(alert.ends_at_ms)
    if alert.generator_url:
        out["generatorURL"] = alert.generator_url
    return out


def encode_postable(alerts: Sequence[Alert]) -> bytes:
    """The body of ``POST /api/v2/alerts`` carrying ``alerts``."""
    return json.dumps([to_postable(a) for a in alerts], separators=(",", ":")).encode()


__all__ = [
    "ALERTNAME",
    "Alert",
    "AlertSink",
    "FanOut",
    "encode_postable",
    "format_time",
    "to_postable",
]
