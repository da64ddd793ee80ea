"""Cumulative counters and histograms kept in the process and written out as samples.

What Tempo's metrics-generator registry does for span metrics and the service graph: spans
increment series in memory; every collection interval ``collect`` turns every active series into
samples stamped with the collection time (plus exemplars from the histograms), which the caller
hands to the metrics ``SampleSink`` like any other ingest. Details kept from Tempo:

- a series seen for the first time is first written as 0, so ``rate`` and ``increase`` count its
  first increments (a series that starts at 5 would lose them); Tempo writes that 0 at the end of
  the previous minute, Spyglass one collection interval before the first value, where a scrape
  would have seen it, which also never lands before samples of an earlier run of the process;
- a series not updated for ``stale_after_ms`` (15 minutes) is forgotten, so a service that went
  away stops costing memory (a later span starts it again from 0, which PromQL reads as a reset);
- each family holds at most ``max_series`` label sets: an update that would add one more is
  refused (the caller counts it), so a flood of distinct span names cannot grow memory without
  bound.

Not thread-hostile: every method takes the registry's lock, so spans may arrive on worker threads
while the event loop collects.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import METRIC_NAME, Labels
from spyglass.core.samples import BatchBuilder, MetricMetadata, SampleBatch


def format_le(bound: float) -> str:
    """A bucket bound as Prometheus' Go client writes ``le`` (``1`` not ``1.0``, ``+Inf``)."""
    if bound == float("inf"):
        return "+Inf"
    if bound == int(bound) and abs(bound) < 1e15:
        return str(int(bound))
    return repr(bound)


@dataclass(slots=True)
class _CounterSeries:
    value: float = 0.0
    updated_ms: int = 0
    new: bool = True


@dataclass(slots=True)
class _HistogramSeries:
    counts: list[int]  # per bucket, not cumulative; the last one is +Inf
    total: float = 0.0
    count: int = 0
    updated_ms: int = 0
    new: bool = True
    # The latest observation per bucket since the last collection, as (trace id, value).
    exemplars: dict[int, tuple[str, float]] = field(default_factory=dict)


class _Family:
    def __init__(self, registry: Registry, name: str) -> None:
        self.registry = registry
        self.name = name

    def _room(self, size: int) -> bool:
        return size < self.registry.max_series


class Counter(_Family):
    """A counter family: ``name`` with one series per label set."""

    def __init__(self, registry: Registry, name: str) -> None:
        super().__init__(registry, name)
        self.series: dict[Labels, _CounterSeries] = {}

    def inc(self, labels: Labels, now_ms: int, amount: float = 1.0) -> bool:
        """Add ``amount`` to the series ``labels`` (sorted, without ``__name__``); ``False``
        when the series is new and the family is full, so nothing was counted."""
        with self.registry.lock:
            s = self.series.get(labels)
            if s is None:
                if not self._room(len(self.series)):
                    return False
                s = self.series[labels] = _CounterSeries()
            s.value += amount
            s.updated_ms = now_ms
            return True


class Histogram(_Family):
    """A histogram family with fixed upper bounds (``_bucket{le}``, ``_sum``, ``_count``)."""

    def __init__(self, registry: Registry, name: str, buckets: tuple[float, ...]) -> None:
        super().__init__(registry, name)
        if list(buckets) != sorted(set(buckets)) or not buckets:
            raise ValueError("buckets must be distinct and ascending")
        self.buckets = tuple(b for b in buckets if b != float("inf"))
        self.les = (*(format_le(b) for b in self.buckets), "+Inf")
        self.series: dict[Labels, _HistogramSeries] = {}

    def observe(self, labels: Labels, value: float, now_ms: int, trace_id: str = "") -> bool:
        """Count ``value`` in the series ``labels``; ``trace_id`` becomes the exemplar of its
        bucket. ``False`` as for ``Counter.inc``."""
        with self.registry.lock:
            s = self.series.get(labels)
            if s is None:
                if not self._room(len(self.series)):
                    return False
                s = self.series[labels] = _HistogramSeries([0] * (len(self.buckets) + 1))
            # ``le`` is inclusive: a value equal to a bound falls in that bound's bucket.
            i = bisect.bisect_left(self.buckets, value)
            s.counts[i] += 1
            s.total += value
            s.count += 1
            s.updated_ms = now_ms
            if trace_id:
                s.exemplars[i] = (trace_id, value)
            return True

    def observe_counts(
        self,
        labels: Labels,
        counts: list[int],
        values: list[float],
        exemplars: dict[int, tuple[str, float]],
        now_ms: int,
    ) -> bool:
        """``observe`` each of ``values`` in order, given already counted into buckets
        (``counts``, one per bucket and +Inf) with each bucket's last (trace id, value):
        one update of the series for many observations. The sum is added value by value, so
        it is the same float as one ``observe`` after another. ``False`` as for
        ``Counter.inc``."""
        with self.registry.lock:
            s = self.series.get(labels)
            if s is None:
                if not self._room(len(self.series)):
                    return False
                s = self.series[labels] = _HistogramSeries([0] * (len(self.buckets) + 1))
            mine = s.counts
            for i, k in enumerate(counts):
                if k:
                    mine[i] += k
            total = s.total
            for v in values:
                total += v
            s.total = total
            s.count += len(values)
            s.updated_ms = now_ms
            for i, (trace_id, value) in exemplars.items():
                if trace_id:
                    s.exemplars[i] = (trace_id, value)
            return True


class Registry:
    """The families of one generator (span metrics, service graph) and their collection."""

    def __init__(self, *, interval_ms: int, stale_after_ms: int, max_series: int) -> None:
        if interval_ms <= 0 or max_series <= 0:
            raise ValueError("interval_ms and max_series must be positive")
        self.interval_ms = interval_ms
        self.stale_after_ms = stale_after_ms
        self.max_series = max_series
        self.lock = threading.Lock()
        self._counters: list[Counter] = []
        self._histograms: list[Histogram] = []

    def counter(self, name: str) -> Counter:
        """A new counter family."""
        c = Counter(self, name)
        self._counters.append(c)
        return c

    def histogram(self, name: str, buckets: tuple[float, ...]) -> Histogram:
        """A new histogram family."""
        h = Histogram(self, name, buckets)
        self._histograms.append(h)
        return h

    @property
    def active_series(self) -> int:
        """Series written at each collection (a histogram's buckets, sum and count each count)."""
        with self.lock:
            n = sum(len(c.series) for c in self._counters)
            return n + sum(len(h.series) * (len(h.les) + 2) for h in self._histograms)

    def collect(self, now_ms: int) -> tuple[SampleBatch, list[Exemplar]]:
        """Every active series' value at ``now_ms``, and the exemplars seen since the last
        collection; forgets series not updated for ``stale_after_ms`` first."""
        out = BatchBuilder()
        exemplars: list[Exemplar] = []
        first_ms = now_ms - self.interval_ms
        with self.lock:
            self._drop_stale(now_ms - self.stale_after_ms)
            for c in self._counters:
                if c.series:
                    out.metadata[c.name] = MetricMetadata("counter")
                for labels, s in c.series.items():
                    series = _named(c.name, labels)
                    if s.new:
                        out.add(series, first_ms, 0.0)
                        s.new = False
                    out.add(series, now_ms, s.value)
            for h in self._histograms:
                if h.series:
                    out.metadata[h.name] = MetricMetadata("histogram")
                for labels, hs in h.series.items():
                    exemplars += _collect_histogram(
                        h, labels, hs, out, now_ms=now_ms, first_ms=first_ms
                    )
        return out.build(), exemplars

    def _drop_stale(self, before_ms: int) -> None:
        for c in self._counters:
            for k in [k for k, s in c.series.items() if s.updated_ms < before_ms]:
                del c.series[k]
        for h in self._histograms:
            for k in [k for k, hs in h.series.items() if hs.updated_ms < before_ms]:
                del h.series[k]


def _collect_histogram(
    h: Histogram,
    labels: Labels,
    s: _HistogramSeries,
    out: BatchBuilder,
    *,
    now_ms: int,
    first_ms: int,
) -> list[Exemplar]:
    """Add one histogram series' samples to ``out``; its exemplars since the last collection."""
    exemplars = []
    cumulative = 0
    for i, le in enumerate(h.les):
        cumulative += s.counts[i]
        bucket = _named(f"{h.name}_bucket", (*labels, ("le", le)))
        if s.new:
            out.add(bucket, first_ms, 0.0)
        out.add(bucket, now_ms, float(cumulative))
        seen = s.exemplars.get(i)
        if seen is not None:
            trace_id, value = seen
            exemplars.append(Exemplar(bucket, (("trace_id", trace_id),), value, now_ms))
    for suffix, value in (("_sum", s.total), ("_count", float(s.count))):
        series = _named(h.name + suffix, labels)
        if s.new:
            out.add(series, first_ms, 0.0)
        out.add(series, now_ms, value)
    s.new = False
    s.exemplars.clear()
    return exemplars


def _named(name: str, labels: Labels) -> Labels:
    """``labels`` plus ``__name__``, sorted (``__name__`` sorts before lower-case names, but
    not before every name a user may pick, so sort rather than prepend)."""
    return tuple(sorted(((METRIC_NAME, name), *labels)))


__all__ = ["Counter", "Histogram", "Registry", "format_le"]
