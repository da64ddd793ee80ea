"""RED metrics derived from spans: ``SpanMetrics``, a listener of trace ingest.

Trace ingest calls every listener with each ``SpanBatch`` it accepted (from a worker thread);
``SpanMetrics`` counts the batch into in-memory series named and labelled as Tempo's
metrics-generator names them (a batch of ``SpanColumns`` grouped by label set with numpy, one
update per group, to the same values as span by span):

- ``traces_spanmetrics_calls_total{service, span_name, span_kind, status_code}``: spans;
- ``traces_spanmetrics_duration_seconds`` (``_bucket{le}``, ``_sum``, ``_count``), same labels:
  span durations, in Tempo's default buckets (2 ms doubling to 16.384 s), each bucket's latest
  span kept as its exemplar (``trace_id``);
- the service graph (``_servicegraph``): ``traces_service_graph_request_total{client, server}``,
  ``..._failed_total`` and the ``..._server_seconds``/``..._client_seconds`` histograms.

Label values are OTLP's enum names, as Tempo writes them: ``span_kind="SPAN_KIND_SERVER"``,
``status_code="STATUS_CODE_ERROR"``. Tempo has since renamed its histogram
``traces_spanmetrics_latency``; Spyglass keeps the ``_duration_seconds`` name its dashboards and
issue #21 use (docs/decisions.md).

Every collection interval (15 s, Tempo's default) ``flush`` writes every active series' cumulative
value, stamped with the collection time, through the metrics ``SampleSink`` (so the samples take
the WAL and batch-writer path of any remote_write) and the exemplars through an
``ExemplarSink``. Stamping at collection rather than at each span's end keeps every series'
timestamps increasing however late or out of order spans arrive (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from prometheus_client.registry import Collector

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import Labels
from spyglass.core.spans import SPAN_KINDS, STATUS_CODES, SpanBatch, SpanColumns
from spyglass.core.stats import StatField, StatsCollector
from spyglass.storage.ports import ExemplarSink, SampleSink
from spyglass.traces._registry import Registry
from spyglass.traces._servicegraph import DEFAULT_MAX_PENDING, DEFAULT_WAIT_MS, ServiceGraph

log = logging.getLogger(__name__)

# Tempo's span-metrics default buckets: prometheus.ExponentialBuckets(0.002, 2, 14).
SPAN_METRICS_BUCKETS: tuple[float, ...] = tuple(0.002 * 2**i for i in range(14))
DEFAULT_INTERVAL_MS = 15_000  # Tempo's collection_interval
DEFAULT_STALE_AFTER_MS = 15 * 60_000  # Tempo's stale_duration
DEFAULT_MAX_SERIES = 10_000  # label sets per metric family

_FIELDS = (
    StatField(
        "spans_measured",
        "spyglass_span_metrics_spans_measured",
        "counter",
        "Spans counted into traces_spanmetrics_* series.",
    ),
    StatField(
        "spans_dropped",
        "spyglass_span_metrics_spans_dropped",
        "counter",
        "Spans not counted because their label set would have gone over the series limit.",
    ),
    StatField(
        "active_series",
        "spyglass_span_metrics_active_series",
        "gauge",
        "Series span metrics and the service graph write at each collection.",
    ),
    StatField(
        "edges_unpaired",
        "spyglass_service_graph_unpaired_spans",
        "counter",
        "Client or server spans whose other half did not arrive in time to make an edge.",
    ),
    StatField(
        "edges_dropped",
        "spyglass_service_graph_dropped_spans",
        "counter",
        "Client or server spans not paired because too many were waiting, or edges over the "
        "series limit.",
    ),
    StatField(
        "flush_failures",
        "spyglass_span_metrics_flush_failures",
        "counter",
        "Collections storage refused (the next one writes the same cumulative values again).",
    ),
)


@dataclass(frozen=True, slots=True)
class SpanMetricsStats:
    """What ``SpanMetrics`` counted, for ``/metrics``."""

    spans_measured: int
    spans_dropped: int
    active_series: int
    edges_unpaired: int
    edges_dropped: int
    flush_failures: int


def _kind(kind: str) -> str:
    return "SPAN_KIND_" + kind.upper()


def _status(status: str) -> str:
    return "STATUS_CODE_" + status.upper()


class SpanMetrics:
    """Span metrics and the service graph, written to ``sink`` every ``interval_ms``.

    A ``Callable[[SpanBatch], None]`` for trace ingest, and a component (``start`` runs the
    collection loop, ``stop`` writes a last collection). ``clock`` returns seconds since the
    epoch; tests pass a fake one and call ``flush`` themselves.
    """

    name = "span-metrics"

    def __init__(
        self,
        sink: SampleSink,
        exemplars: ExemplarSink | None = None,
        *,
        clock: Callable[[], float] = time.time,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        stale_after_ms: int = DEFAULT_STALE_AFTER_MS,
        max_series: int = DEFAULT_MAX_SERIES,
        buckets: tuple[float, ...] = SPAN_METRICS_BUCKETS,
        service_graph: bool = True,
        service_graph_wait_ms: int = DEFAULT_WAIT_MS,
        service_graph_max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.sink = sink
        self.exemplars = exemplars
        self.clock = clock
        self.interval_ms = interval_ms
        self.registry = Registry(
            interval_ms=interval_ms, stale_after_ms=stale_after_ms, max_series=max_series
        )
        self.calls = self.registry.counter("traces_spanmetrics_calls_total")
        self.duration = self.registry.histogram("traces_spanmetrics_duration_seconds", buckets)
        self.graph = (
            ServiceGraph(
                self.registry, wait_ms=service_graph_wait_ms, max_pending=service_graph_max_pending
            )
            if service_graph
            else None
        )
        self.spans_measured = 0
        self.spans_dropped = 0
        self.flush_failures = 0
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._count_lock = threading.Lock()
        # label sets of recent (service, name, kind, status), so a batch of spans of one
        # operation builds its label tuple once
        self._labels: dict[tuple[str, str, str, str], Labels] = {}

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def __call__(self, batch: SpanBatch) -> None:
        """Count the spans of an accepted batch (trace ingest calls this from worker threads:
        one batch at a time)."""
        with self._count_lock:
            if batch.columns is not None:
                self._count_columns(batch.columns)
            else:
                self._count_spans(batch)

    def _count_spans(self, batch: SpanBatch) -> None:
        now_ms = self._now_ms()
        measured = dropped = 0
        for span in batch.spans:
            key = (span.service_name, span.name, span.kind, span.status_code)
            labels = self._labels.get(key)
            if labels is None:
                labels = _dimensions(*key)
                if len(self._labels) < 4 * self.registry.max_series:
                    self._labels[key] = labels
            if self.calls.inc(labels, now_ms):
                seconds = max(span.duration_ns, 0) / 1e9  # negative durations count as 0
                self.duration.observe(labels, seconds, now_ms, span.trace_id)
                measured += 1
            else:
                dropped += 1
            if self.graph is not None:
                self.graph.add(span, now_ms)
        self.spans_measured += measured
        self.spans_dropped += dropped

    def _count_columns(self, c: SpanColumns) -> None:
        """``__call__`` on columns: spans grouped by (service, name, kind, status) with numpy,
        then one counter update and one histogram update per group, in the order each group
        first appears (so a full family refuses the same groups the span-by-span path
        would)."""
        now_ms = self._now_ms()
        n = len(c)
        if not n:
            return
        names = c.name.tolist()
        name_ids = {name: i for i, name in enumerate(dict.fromkeys(names))}
        name_code = np.fromiter(map(name_ids.__getitem__, names), np.int64, n)
        key = ((c.resource_index * len(name_ids) + name_code) * len(SPAN_KINDS) + c.kind) * len(
            STATUS_CODES
        ) + c.status
        _, first, group, counts = np.unique(
            key, return_index=True, return_inverse=True, return_counts=True
        )
        seconds = np.maximum(c.duration_ns, 0) / 1e9  # negative durations count as 0
        # Every span's bucket, each (group, bucket)'s count and latest span (its exemplar), at
        # once; then per group only the counts and the values' running sum are added.
        buckets = self.duration.buckets
        width = len(buckets) + 1
        cell = group * width + np.searchsorted(buckets, seconds, side="left")
        per_cell = np.bincount(cell, minlength=len(counts) * width).reshape(-1, width).tolist()
        seen, from_end = np.unique(cell[::-1], return_index=True)
        latest = n - 1 - from_end
        exemplars: dict[int, dict[int, tuple[str, float]]] = {}
        for k, trace_id, value in zip(
            seen.tolist(),
            c.trace_id.take(latest).tolist(),
            seconds[latest].tolist(),
            strict=True,
        ):
            exemplars.setdefault(k // width, {})[k % width] = (trace_id, value)
        order = np.argsort(group, kind="stable").tolist()  # each group's spans, in span order
        bounds = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=bounds[1:])
        cuts = bounds.tolist()
        values = seconds.tolist()
        resource_index = c.resource_index.tolist()
        kinds = c.kind.tolist()
        statuses = c.status.tolist()
        first_of = first.tolist()
        count_of = counts.tolist()
        measured = dropped = 0
        for g in np.argsort(first, kind="stable").tolist():
            i = first_of[g]
            count = count_of[g]
            dims = (
                c.services[resource_index[i]],
                names[i],
                SPAN_KINDS[kinds[i]],
                STATUS_CODES[statuses[i]],
            )
            labels = self._labels.get(dims)
            if labels is None:
                labels = _dimensions(*dims)
                if len(self._labels) < 4 * self.registry.max_series:
                    self._labels[dims] = labels
            if self.calls.inc(labels, now_ms, float(count)):
                self.duration.observe_counts(
                    labels,
                    per_cell[g],
                    [values[r] for r in order[cuts[g] : cuts[g + 1]]],
                    exemplars.get(g, {}),
                    now_ms,
                )
                measured += count
            else:
                dropped += count
        if self.graph is not None:
            self.graph.add_columns(c, now_ms)
        self.spans_measured += measured
        self.spans_dropped += dropped

    async def flush(self) -> None:
        """Write every active series' value now (and the exemplars seen since the last flush).

        Storage refusing the samples (a full buffer, a failing disk) is logged and counted, not
        raised: the next flush writes the same cumulative values, so only a point is missing.
        """
        async with self._flush_lock:
            now_ms = self._now_ms()
            if self.graph is not None:
                self.graph.expire(now_ms)
            batch, exemplars = self.registry.collect(now_ms)
            if not len(batch):
                return
            try:
                await self.sink.append(batch)
                if exemplars and self.exemplars is not None:
                    await self.exemplars.append_exemplars(exemplars)
            except (SpyglassError, OSError) as exc:
                self.flush_failures += 1
                log.warning("span metrics: could not store %d samples: %s", len(batch), exc)

    # -- component ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Collect every ``interval_ms`` until ``stop``."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="span-metrics")

    async def stop(self) -> None:
        """End the loop and write a last collection, so spans counted since the last one are
        stored before storage stops."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_ms / 1000)
            try:
                await self.flush()
            except Exception:  # a bug here must not end the loop for good
                log.exception("span metrics: collection failed")

    def routes(self) -> tuple[()]:
        """Span metrics serve no routes: they are queried with PromQL."""
        return ()

    def collectors(self) -> list[Collector]:
        """What was measured, dropped and is active, on ``/metrics``."""
        return [StatsCollector(self.stats, _FIELDS)]

    def stats(self) -> SpanMetricsStats:
        """A snapshot of the counters."""
        graph = self.graph
        return SpanMetricsStats(
            spans_measured=self.spans_measured,
            spans_dropped=self.spans_dropped,
            active_series=self.registry.active_series,
            edges_unpaired=graph.unpaired if graph else 0,
            edges_dropped=(graph.dropped + graph.dropped_edges) if graph else 0,
            flush_failures=self.flush_failures,
        )


def _dimensions(service: str, name: str, kind: str, status: str) -> Labels:
    # Sorted by name: service, span_kind, span_name, status_code (empty values dropped, as
    # Prometheus drops empty labels).
    pairs = (
        ("service", service),
        ("span_kind", _kind(kind)),
        ("span_name", name),
        ("status_code", _status(status)),
    )
    return tuple(p for p in pairs if p[1])


__all__ = ["DEFAULT_INTERVAL_MS", "SPAN_METRICS_BUCKETS", "SpanMetrics", "SpanMetricsStats"]
