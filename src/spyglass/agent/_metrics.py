"""The agent's own metrics, under Promtail's names so Promtail dashboards and alerts work on it.

``promtail_read_bytes_total`` / ``promtail_read_lines_total`` (per path),
``promtail_files_active_total``, ``promtail_sent_entries_total`` / ``promtail_sent_bytes_total``
/ ``promtail_dropped_entries_total`` (per client host; drops also per reason: ``4xx``,
``rate_limited``, ``max_retries``),
``promtail_request_duration_seconds`` (per host and status code), ``logentry_dropped_lines_total``
(entries a ``drop`` or ``match`` stage dropped, per ``drop_counter_reason``), and
``promtail_file_bytes_total`` (size of each tailed file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from spyglass.agent._stage import Drops


class _DropsCollector(Collector):
    def __init__(self, drops: Drops) -> None:
        self.drops = drops

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "logentry_dropped_lines",
            "Entries dropped by a pipeline stage, by drop_counter_reason.",
            labels=["reason"],
        )
        for reason, count in sorted(self.drops.by_reason.items()):
            family.add_metric([reason], count)
        yield family


class AgentMetrics:
    """The agent's collectors, in their own registry."""

    def __init__(self, drops: Drops, file_sizes: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.read_bytes = Counter(
            "promtail_read_bytes", "Bytes read from tailed files.", ["path"], registry=r
        )
        self.read_lines = Counter(
            "promtail_read_lines", "Lines read from tailed files.", ["path"], registry=r
        )
        self.files_active = Gauge("promtail_files_active_total", "Files being tailed.", registry=r)
        self.sent_entries = Counter(
            "promtail_sent_entries",
            "Entries acknowledged by a push endpoint.",
            ["host"],
            registry=r,
        )
        self.sent_bytes = Counter(
            "promtail_sent_bytes",
            "Line bytes acknowledged by a push endpoint.",
            ["host"],
            registry=r,
        )
        self.dropped_entries = Counter(
            "promtail_dropped_entries",
            "Entries dropped after a push failed for good.",
            ["host", "reason"],
            registry=r,
        )
        self.request_duration = Histogram(
            "promtail_request_duration_seconds",
            "Push request latency.",
            ["host", "status_code"],
            registry=r,
        )
        file_bytes = Gauge(
            "promtail_file_bytes_total", "Size of each tailed file.", ["path"], registry=r
        )
        self._file_bytes = file_bytes
        self._file_sizes = file_sizes
        r.register(_DropsCollector(drops))

    def refresh(self) -> None:
        """Bring the file-size gauges up to date (before an exposition)."""
        self._file_bytes.clear()
        for path, size in self._file_sizes().items():
            self._file_bytes.labels(path).set(size)


__all__ = ["AgentMetrics"]
