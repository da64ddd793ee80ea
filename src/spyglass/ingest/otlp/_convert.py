"""OTLP ``ExportMetricsServiceRequest`` -> ``SampleBatch``, as Prometheus' OTLP receiver does it.

Choices, each matching Prometheus (2.x/3.x defaults) unless said otherwise:

* Resource: ``service.namespace``/``service.name`` -> ``job`` (``"ns/name"``, only when
  ``service.name`` is set), ``service.instance.id`` -> ``instance``; these override data point
  attributes of the same name. Any other resource attributes go on one ``target_info`` gauge
  (value 1) per resource, stamped with the newest data point time of that resource.
* Scope name/version are not added as labels (Prometheus' default; the OTel spec's
  ``otel_scope_*`` labels are opt-in there).
* Data point attributes become labels through ``label_name``; attributes that sanitise to the
  same name are joined with ``;`` in the order of their original keys.
* Sum: cumulative monotonic -> counter (``_total``), cumulative non-monotonic -> gauge.
  Delta sums and delta histograms are rejected (not stored) and counted, as Prometheus does
  without its experimental delta conversion: turning deltas into counters needs state across
  requests that a stateless receiver does not have.
* Histogram -> ``_bucket{le}`` (cumulative, ``+Inf`` = count), ``_sum`` (when set), ``_count``.
* Summary -> ``{quantile}`` series, ``_sum``, ``_count``.
* ExponentialHistogram: rejected and counted (native histograms are not stored yet).
* Timestamps: nanoseconds -> milliseconds (truncated). ``NO_RECORDED_VALUE`` -> staleness marker
  on every series of the point.
* Metadata: one entry per emitted family (the counter name with ``_total``, histogram and
  summary base names), with the description as help and the Prometheus unit word.

Two paths apply these rules: ``_Converter`` here walks upb's objects (OTLP/JSON, and any
protobuf request the other does not read); protobuf bodies, over HTTP or gRPC, are first read
as columns (``_metrics_wire``) and converted with a look-up per series and numpy per sample
(``_metrics_columns``), to the same batch, leaving to this path what it rejects and counts.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from spyglass.core.errors import BadInput
from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import Labels
from spyglass.core.limits import IngestLimits, check_series_count
from spyglass.core.samples import STALE_NAN, MetricMetadata, SampleBatch
from spyglass.ingest._protowire import NotOurs
from spyglass.ingest._series_cache import DEFAULT_MAX_BYTES
from spyglass.ingest.otlp._cache import DEFAULT_CACHE_SIZE, SeriesCache
from spyglass.ingest.otlp._labels import (
    IDENTIFYING,
    INF_BUCKET,
    TARGET_INFO,
    attribute_labels,
    bound_label,
    exemplar_of,
    exemplar_value,
    identity,
    label_set,
    quantile_label,
)
from spyglass.ingest.otlp._metrics_columns import scanned_batch
from spyglass.ingest.otlp._metrics_wire import scan
from spyglass.ingest.otlp._names import Kind, metric_name, unit_name

_CUMULATIVE = 2  # AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
_NO_RECORDED_VALUE = 1  # DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK


@dataclass
class Conversion:
    """The batch plus what was left out: OTLP's partial-success numbers."""

    batch: SampleBatch
    rejected_points: int = 0
    errors: list[str] = field(default_factory=list)
    # Exemplars of monotonic sums (on the counter's series) and histograms (on the bucket
    # their value falls in), as Prometheus' OTLP translator attaches them.
    exemplars: list[Exemplar] = field(default_factory=list)

    @property
    def error_message(self) -> str:
        """One line for ``ExportMetricsPartialSuccess.error_message`` (first few reasons)."""
        if not self.errors:
            return ""
        shown = "; ".join(self.errors[:5])
        more = len(self.errors) - 5
        return shown + (f"; and {more} more" if more > 0 else "")


class MetricsConverter:
    """Converts OTLP metrics requests, remembering label sets it has checked and counting the
    data points it leaves out (reported to clients as partial success).

    Whoever runs a receiver makes one and keeps it (its counters belong on that server's
    ``/metrics``); there is no process-wide instance. Safe to share between threads.
    """

    def __init__(
        self, cache_size: int = DEFAULT_CACHE_SIZE, cache_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self._cache = SeriesCache(cache_size, cache_bytes)
        self._lock = threading.Lock()
        self.points_rejected = 0

    @property
    def cached_series(self) -> int:
        """How many label sets the cache holds now."""
        return len(self._cache)

    @property
    def cached_series_bytes(self) -> int:
        """About how many bytes those label sets take."""
        return self._cache.bytes

    def convert(self, req: Any, limits: IngestLimits) -> Conversion:
        """Convert an ``ExportMetricsServiceRequest`` (module doc: the rules).

        Raises ``BadInput``/``LimitExceeded`` when a resulting series breaks ``limits``; points
        Prometheus would not store either are left out and counted in the ``Conversion``.
        """
        conv = _Converter(limits, self._cache)
        for rm in req.resource_metrics:
            conv.resource(rm)
        batch = conv.build()
        check_series_count(len(batch.series), limits)
        if conv.rejected:
            with self._lock:
                self.points_rejected += conv.rejected
        return Conversion(batch, conv.rejected, conv.errors, conv.exemplars)

    def convert_protobuf(self, raw: bytes, limits: IngestLimits) -> Conversion:
        """``convert`` for a protobuf ``ExportMetricsServiceRequest`` still in its bytes.

        Read as columns (``_metrics_wire``, ``_metrics_columns``) when the request is in the
        shape those read, to the same batch ``convert`` gives; otherwise parsed by upb and
        converted object by object, which also words the errors (``BadInput``)."""
        scanned = scan(raw)
        if scanned is not None:
            try:
                batch, exemplars = scanned_batch(scanned, self._cache, limits)
            except NotOurs:
                pass
            else:
                check_series_count(len(batch.series), limits)
                return Conversion(batch, exemplars=exemplars)
        try:
            req = ExportMetricsServiceRequest.FromString(raw)
        except (DecodeError, RecursionError) as e:
            raise BadInput(f"otlp: malformed protobuf ExportMetricsServiceRequest: {e}") from None
        return self.convert(req, limits)


class _Converter:
    """One request's conversion; label sets go through the receiver's ``SeriesCache``."""

    def __init__(self, limits: IngestLimits, cache: SeriesCache) -> None:
        self.limits = limits
        self.cache = cache
        self.known = cache.for_limits(limits)
        self.series: dict[int, Labels] = {}
        self.fps: list[int] = []
        self.tss: list[int] = []
        self.vals: list[float] = []
        self.metadata: dict[str, MetricMetadata] = {}
        self.rejected = 0
        self.errors: list[str] = []
        self.exemplars: list[Exemplar] = []

    def build(self) -> SampleBatch:
        return SampleBatch(
            self.series,
            np.array(self.fps, dtype=np.uint64),
            np.array(self.tss, dtype=np.int64),
            np.array(self.vals, dtype=np.float64),
            self.metadata,
        )

    def reject(self, points: int, reason: str) -> None:
        self.rejected += points
        self.errors.append(reason)

    def add(
        self,
        base: dict[str, str],
        name: str,
        extra: tuple[tuple[str, str], ...],
        ts_ms: int,
        value: float,
    ) -> Labels:
        # The series is known by what it is built from (name, extra labels, the point's
        # labels in attribute order), so a series seen before costs a tuple and a look-up, not
        # building, filtering and sorting its label set again.
        key = (name, extra, tuple(base.items()))
        hit = self.known.get(key)
        if hit is None:
            hit = self.cache.admit(self.known, key, label_set(base, name, extra), self.limits)
        fp, labels = hit
        self.series[fp] = labels
        self.fps.append(fp)
        self.tss.append(ts_ms)
        self.vals.append(value)
        return labels

    def exemplar(self, series: Labels, e: Any) -> None:
        """Keep one OTLP exemplar of ``series`` (``exemplar_of``: dropped when too long)."""
        kept = exemplar_of(series, e)
        if kept is not None:
            self.exemplars.append(kept)

    def resource(self, rm: Any) -> None:
        ident = identity(rm.resource.attributes)
        newest = -1
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                newest = max(newest, self.metric(metric, ident))
        others = [kv for kv in rm.resource.attributes if kv.key not in IDENTIFYING]
        if others and newest >= 0:
            base = attribute_labels(others)
            base.update(ident)
            self.add(base, "target_info", (), newest, 1.0)
            self.metadata["target_info"] = TARGET_INFO

    def metric(self, metric: Any, identity: dict[str, str]) -> int:
        """Add one metric's points; returns the newest timestamp (ms) seen, -1 if none."""
        kind = metric.WhichOneof("data")
        if kind == "gauge":
            return self.numbers(metric, metric.gauge.data_points, Kind.GAUGE, "gauge", identity)
        if kind == "sum":
            s = metric.sum
            if s.aggregation_temporality != _CUMULATIVE:
                self.reject(len(s.data_points), f"{metric.name}: delta or unspecified sum")
                return -1
            naming, mtype = (Kind.COUNTER, "counter") if s.is_monotonic else (Kind.OTHER, "gauge")
            return self.numbers(metric, s.data_points, naming, mtype, identity)
        if kind == "histogram":
            h = metric.histogram
            if h.aggregation_temporality != _CUMULATIVE:
                self.reject(len(h.data_points), f"{metric.name}: delta or unspecified histogram")
                return -1
            return self.histogram(metric, identity)
        if kind == "summary":
            return self.summary(metric, identity)
        if kind == "exponential_histogram":
            self.reject(
                len(metric.exponential_histogram.data_points),
                f"{metric.name}: exponential histograms are not supported yet",
            )
            return -1
        return -1  # no data: nothing to store, nothing rejected

    def _name(self, metric: Any, naming: Kind, points: int) -> str:
        name = metric_name(metric.name, metric.unit, naming)
        if not name:
            self.reject(points, f"metric name {metric.name!r} has no valid characters")
        return name

    def _meta(self, name: str, mtype: str, metric: Any) -> None:
        self.metadata[name] = MetricMetadata(mtype, metric.description, unit_name(metric.unit))

    def _points(
        self, metric: Any, points: Any, naming: Kind, mtype: str, identity: dict[str, str]
    ) -> Iterator[tuple[str, Any, int, bool, dict[str, str]]]:
        """Per data point: the series name, the point, its time in ms, whether it holds no
        recorded value (a staleness marker) and its labels. Nothing when the name is invalid."""
        name = self._name(metric, naming, len(points))
        if not name:
            return
        self._meta(name, mtype, metric)
        for p in points:
            base = attribute_labels(p.attributes)
            base.update(identity)
            yield name, p, p.time_unix_nano // 1_000_000, bool(p.flags & _NO_RECORDED_VALUE), base

    def numbers(
        self, metric: Any, points: Any, naming: Kind, mtype: str, identity: dict[str, str]
    ) -> int:
        newest = -1
        for name, p, ts, stale, base in self._points(metric, points, naming, mtype, identity):
            if stale:
                value = STALE_NAN
            elif p.WhichOneof("value") == "as_int":
                value = float(p.as_int)
            else:
                value = p.as_double
            labels = self.add(base, name, (), ts, value)
            if naming is Kind.COUNTER:
                for e in p.exemplars:
                    self.exemplar(labels, e)
            newest = max(newest, ts)
        return newest

    def histogram(self, metric: Any, identity: dict[str, str]) -> int:
        points = metric.histogram.data_points
        newest = -1
        for name, p, ts, stale, base in self._points(
            metric, points, Kind.OTHER, "histogram", identity
        ):
            if p.HasField("sum"):
                self.add(base, name + "_sum", (), ts, STALE_NAN if stale else p.sum)
            self.add(base, name + "_count", (), ts, STALE_NAN if stale else float(p.count))
            cumulative = 0
            buckets: list[tuple[float, Labels]] = []
            for bound, count in zip(p.explicit_bounds, p.bucket_counts, strict=False):
                cumulative += count
                le = bound_label(bound)
                value = STALE_NAN if stale else float(cumulative)
                buckets.append((bound, self.add(base, name + "_bucket", le, ts, value)))
            value = STALE_NAN if stale else float(p.count)
            buckets.append((math.inf, self.add(base, name + "_bucket", INF_BUCKET, ts, value)))
            for e in p.exemplars:
                v = exemplar_value(e)
                # The first bucket whose bound holds the value (``le`` is inclusive).
                series = next((labels for bound, labels in buckets if v <= bound), buckets[-1][1])
                self.exemplar(series, e)
            newest = max(newest, ts)
        return newest

    def summary(self, metric: Any, identity: dict[str, str]) -> int:
        points = metric.summary.data_points
        newest = -1
        for name, p, ts, stale, base in self._points(
            metric, points, Kind.OTHER, "summary", identity
        ):
            self.add(base, name + "_sum", (), ts, STALE_NAN if stale else p.sum)
            self.add(base, name + "_count", (), ts, STALE_NAN if stale else float(p.count))
            for q in p.quantile_values:
                quantile = quantile_label(q.quantile)
                self.add(base, name, quantile, ts, STALE_NAN if stale else q.value)
            newest = max(newest, ts)
        return newest


def convert_metrics_request_report(
    req: Any, limits: IngestLimits, *, converter: MetricsConverter | None = None
) -> Conversion:
    """Like ``convert_metrics_request``, also saying how many points were rejected and why."""
    if converter is None:
        converter = MetricsConverter()
    return converter.convert(req, limits)


def convert_metrics_request(
    req: Any, limits: IngestLimits, *, converter: MetricsConverter | None = None
) -> SampleBatch:
    """Convert an ``ExportMetricsServiceRequest`` into a ``SampleBatch`` (module doc: the rules).

    Raises ``BadInput``/``LimitExceeded`` when a resulting series breaks ``limits``. Points
    Prometheus would not store (delta temporality, exponential histograms) are left out; use
    ``convert_metrics_request_report`` to learn how many. Without a ``converter`` a fresh one is
    used, so nothing is remembered between calls; a server passes the one it keeps.
    """
    return convert_metrics_request_report(req, limits, converter=converter).batch


__all__ = [
    "Conversion",
    "MetricsConverter",
    "convert_metrics_request",
    "convert_metrics_request_report",
]
