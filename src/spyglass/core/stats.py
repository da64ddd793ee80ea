"""Statistics as Prometheus metrics: a table of fields read from a snapshot at scrape time.

Whoever owns counters (a signal's store, a decoder, the scrape manager) keeps them as plain
attributes and offers a ``stats()`` snapshot; a ``StatsCollector`` turns the snapshot into metric
families when ``/metrics`` is scraped, so the hot paths do no metric bookkeeping of their own
(the model of prometheus client_python's custom collectors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector


@dataclass(frozen=True, slots=True)
class StatField:
    """How one field of a stats snapshot becomes a metric."""

    attr: str
    name: str
    kind: str  # "counter", "gauge" or "summary" (attr is the sum, count_attr the count)
    help: str
    count_attr: str = ""


class StatsCollector(Collector):
    """Reads a stats snapshot at scrape time and exposes the listed fields.

    With ``label``, ``snapshot`` returns several snapshots by that label's value (one per signal,
    say), and each field becomes one family with a sample per value.
    """

    def __init__(
        self, snapshot: Callable[[], Any], fields: Sequence[StatField], *, label: str = ""
    ) -> None:
        self._snapshot = snapshot
        self._fields = tuple(fields)
        self._label = label

    def collect(self) -> Iterable[Metric]:
        snaps: Mapping[str, Any] = self._snapshot() if self._label else {"": self._snapshot()}
        names = [self._label] if self._label else []
        for f in self._fields:
            if f.kind == "summary":
                family: Any = SummaryMetricFamily(f.name, f.help, labels=names)
            elif f.kind == "counter":
                family = CounterMetricFamily(f.name, f.help, labels=names)
            else:
                family = GaugeMetricFamily(f.name, f.help, labels=names)
            for value, stats in snaps.items():
                labels = [value] if self._label else []
                number = float(getattr(stats, f.attr))
                if f.kind == "summary":
                    family.add_metric(labels, int(getattr(stats, f.count_attr)), number)
                else:
                    family.add_metric(labels, number)
            yield family


__all__ = ["StatField", "StatsCollector"]
