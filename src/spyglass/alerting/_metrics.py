"""The router's own metrics, under Alertmanager's names and labels.

Dashboards and alerts written for Alertmanager (``alertmanager_notifications_failed_total``,
``alertmanager_alerts``...) work on Spyglass unchanged. Counters are plain numbers the store,
dispatcher and pipeline bump; gauges are read when ``/metrics`` is scraped.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

# Alertmanager's buckets for alertmanager_notification_latency_seconds.
LATENCY_BUCKETS = (1.0, 5.0, 10.0, 15.0, 20.0)
ALERT_STATES = ("active", "suppressed", "unprocessed")


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds


@dataclass
class RouterMetrics:
    """Counters of alerts received and notifications attempted, by Alertmanager's labels."""

    received: Counter[str] = field(default_factory=Counter)  # by status: firing, resolved
    invalid: int = 0
    notifications: Counter[str] = field(default_factory=Counter)  # by integration
    failed: Counter[tuple[str, str]] = field(default_factory=Counter)  # integration, reason
    requests: Counter[str] = field(default_factory=Counter)
    requests_failed: Counter[str] = field(default_factory=Counter)
    latency: dict[str, _Histogram] = field(default_factory=dict)
    integrations: tuple[str, ...] = ()

    def observe_latency(self, integration: str, seconds: float) -> None:
        """One request's duration."""
        self.latency.setdefault(integration, _Histogram()).observe(seconds)


class RouterCollector(Collector):
    """``alertmanager_*`` metrics of one router."""

    def __init__(
        self,
        metrics: RouterMetrics,
        alert_states: Callable[[], Mapping[str, int]],
        aggregation_groups: Callable[[], int],
    ) -> None:
        self.metrics = metrics
        self.alert_states = alert_states
        self.aggregation_groups = aggregation_groups

    def collect(self) -> Iterable[Metric]:
        """Every metric, integrations Alertmanager knows listed even before their first use."""
        return list(self._collect())

    def _collect(self) -> Iterator[Metric]:
        m = self.metrics
        states = self.alert_states()
        alerts = GaugeMetricFamily(
            "alertmanager_alerts", "How many alerts by state.", labels=["state"]
        )
        for state in ALERT_STATES:
            alerts.add_metric([state], states.get(state, 0))
        yield alerts
        received = CounterMetricFamily(
            "alertmanager_alerts_received",
            "The total number of received alerts.",
            labels=["status"],
        )
        for status in ("firing", "resolved"):
            received.add_metric([status], m.received[status])
        yield received
        yield CounterMetricFamily(
            "alertmanager_alerts_invalid",
            "The total number of received alerts that were invalid.",
            value=m.invalid,
        )
        yield GaugeMetricFamily(
            "alertmanager_dispatcher_aggregation_groups",
            "Number of active aggregation groups",
            value=self.aggregation_groups(),
        )
        names = sorted({*m.integrations, *m.notifications, *m.requests})
        total = CounterMetricFamily(
            "alertmanager_notifications",
            "The total number of attempted notifications.",
            labels=["integration"],
        )
        failed = CounterMetricFamily(
            "alertmanager_notifications_failed",
            "The total number of failed notifications.",
            labels=["integration", "reason"],
        )
        requests = CounterMetricFamily(
            "alertmanager_notification_requests",
            "The total number of attempted notification requests.",
            labels=["integration"],
        )
        requests_failed = CounterMetricFamily(
            "alertmanager_notification_requests_failed",
            "The total number of failed notification requests.",
            labels=["integration"],
        )
        latency = HistogramMetricFamily(
            "alertmanager_notification_latency_seconds",
            "The latency of notifications in seconds.",
            labels=["integration"],
        )
        for name in names:
            total.add_metric([name], m.notifications[name])
            for reason in ("clientError", "serverError", "other"):
                failed.add_metric([name, reason], m.failed[name, reason])
            requests.add_metric([name], m.requests[name])
            requests_failed.add_metric([name], m.requests_failed[name])
            h = m.latency.get(name, _Histogram())
            cumulative, running = [], 0
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), h.buckets, strict=True):
                running += count
                cumulative.append((_bound(bound), running))
            latency.add_metric([name], cumulative, sum_value=h.total)
        yield from (total, failed, requests, requests_failed, latency)


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


__all__ = ["ALERT_STATES", "LATENCY_BUCKETS", "RouterCollector", "RouterMetrics"]
