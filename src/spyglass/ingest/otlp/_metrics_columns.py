"""``ScannedMetrics`` -> ``SampleBatch``: each series' labels worked out once, every sample moved
as columns.

The same series arrive in every export, so a series is known by what it is built from: its
resource's identity, its Prometheus name, its ``le``/``quantile`` label and the raw bytes of
its point's attributes. The request's rows are grouped by those with numpy first, then each
group (a series, not a sample) is one look-up in the receiver's ``SeriesCache``; only a series
not seen before has its attributes parsed (upb) and its label set built, checked and hashed,
with the very functions the object path (``_convert``) uses. Metric names and metadata are
worked out once per distinct (name, unit, description, kind) in the request.

Exemplars (a few per request) are kept as the object path keeps them, from upb's objects.
What the object path rejects and counts (delta temporality, metric names with no valid
character) raises ``NotOurs``: such requests are converted object by object, which words the
partial-success messages. So does a point attribute nesting arrays or maps deeply
(``_labels.is_shallow``).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from google.protobuf.message import DecodeError
from opentelemetry.proto.metrics.v1.metrics_pb2 import HistogramDataPoint, NumberDataPoint

from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import Labels
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import MetricMetadata, SampleBatch
from spyglass.core.spans import Texts
from spyglass.ingest._protowire import NotOurs
from spyglass.ingest.otlp._cache import Key, SeriesCache
from spyglass.ingest.otlp._labels import (
    IDENTIFYING,
    INF_BUCKET,
    TARGET_INFO,
    attribute_labels,
    bound_label,
    exemplar_of,
    exemplar_value,
    identity,
    is_shallow,
    label_set,
    quantile_label,
)
from spyglass.ingest.otlp._metrics_wire import (
    BUCKET_ROW,
    COUNT_ROW,
    GAUGE,
    HISTOGRAM,
    INF_ROW,
    QUANTILE_ROW,
    SUM,
    SUM_ROW,
    SUMMARY,
    VALUE,
    ScannedMetrics,
)
from spyglass.ingest.otlp._names import Kind, metric_name, unit_name

_SUFFIX = {
    VALUE: "",
    SUM_ROW: "_sum",
    COUNT_ROW: "_count",
    BUCKET_ROW: "_bucket",
    INF_ROW: "_bucket",
    QUANTILE_ROW: "",
}
# What a metric is for naming and metadata: a gauge, a counter (monotonic cumulative sum), a
# non-monotonic sum, a histogram or a summary (0: no data, nothing emitted).
_FORMS = {
    1: (Kind.GAUGE, "gauge"),
    2: (Kind.COUNTER, "counter"),
    3: (Kind.OTHER, "gauge"),
    4: (Kind.OTHER, "histogram"),
    5: (Kind.OTHER, "summary"),
}
_COUNTER_FORM, _HISTOGRAM_FORM = 2, 4


def scanned_batch(
    scanned: ScannedMetrics, cache: SeriesCache, limits: IngestLimits
) -> tuple[SampleBatch, list[Exemplar]]:
    """The batch and exemplars the object path makes of the same request (``_convert``'s
    rules); raises ``BadInput`` for a series ``limits`` refuse and ``NotOurs`` for what the
    object path rejects (module docstring)."""
    s = scanned
    form = _forms(s)
    name_code, names = _codes(s.names)
    unit_code, units = _codes(s.units)
    # The Prometheus name of each metric, worked out per distinct (name, unit, form).
    by_name, name_first, _ = _groups(name_code, unit_code, form)
    prom: list[str] = []
    for i in name_first.tolist():
        f = int(form[i])
        name = metric_name(names[name_code[i]], units[unit_code[i]], _FORMS[f][0]) if f else ""
        if f and not name:
            raise NotOurs  # rejected and counted by the object path
        prom.append(name)
    ident = [identity(r.attributes) for r in s.resources]
    point_resource = s.metric_resource[s.point_metric]
    targets = _targets(s, point_resource, ident)
    rows = _Rows(s, cache, limits, ident, form)
    fps = rows.fingerprints(prom, by_name, targets)

    exemplars = _exemplars(s, form, fps, rows.series) if s.exemplars else []
    ts = s.point_ms[s.row_point]
    values = s.row_value
    if targets:
        row_resource = point_resource[s.row_point]
        where = [int(np.searchsorted(row_resource, r, side="right")) for r, _, _ in targets]
        fps = np.insert(fps, where, [rows.target_fps[r] for r, _, _ in targets])
        ts = np.insert(ts, where, [newest for _, newest, _ in targets])
        values = np.insert(values, where, 1.0)
    metadata = _metadata(
        s,
        form,
        units=(unit_code, units),
        prom=prom,
        by_name=by_name,
        target_resources=[r for r, _, _ in targets],
    )
    return SampleBatch(rows.series, fps, ts, values, metadata), exemplars


def _forms(s: ScannedMetrics) -> npt.NDArray[np.int64]:
    """Each metric's form (``_FORMS``); ``NotOurs`` for a sum or histogram that is not
    cumulative, which the object path rejects and counts."""
    form = np.zeros(len(s.kinds), np.int64)
    is_sum = s.kinds == SUM
    is_histogram = s.kinds == HISTOGRAM
    if np.any((is_sum | is_histogram) & ~s.cumulative):
        raise NotOurs
    form[s.kinds == GAUGE] = 1
    form[is_sum & s.monotonic] = 2
    form[is_sum & ~s.monotonic] = 3
    form[is_histogram] = _HISTOGRAM_FORM
    form[s.kinds == SUMMARY] = 5
    return form


def _targets(
    s: ScannedMetrics, point_resource: npt.NDArray[np.int64], ident: list[dict[str, str]]
) -> list[tuple[int, int, dict[str, str]]]:
    """Per resource that gets a ``target_info`` (other attributes than its identity, and a
    point): the resource, its newest point's time and the series' labels before the name."""
    if not len(point_resource):
        return []
    starts = np.flatnonzero(np.r_[True, point_resource[1:] != point_resource[:-1]])
    newest = np.maximum.reduceat(s.point_ms, starts).tolist()
    out = []
    for r, ms in zip(point_resource[starts].tolist(), newest, strict=True):
        others = [kv for kv in s.resources[r].attributes if kv.key not in IDENTIFYING]
        if others:
            base = attribute_labels(others)
            base.update(ident[r])
            out.append((r, ms, base))
    return out


class _Rows:
    """The fingerprint of every row: rows grouped by what their series is built from, one
    cache look-up per group."""

    def __init__(
        self,
        s: ScannedMetrics,
        cache: SeriesCache,
        limits: IngestLimits,
        ident: list[dict[str, str]],
        form: npt.NDArray[np.int64],
    ) -> None:
        self.s = s
        self.cache = cache
        self.known = cache.for_limits(limits)
        self.limits = limits
        self.ident = ident
        self.ident_items = [tuple(i.items()) for i in ident]
        self.form = form
        self.series: dict[int, Labels] = {}
        self.target_fps: dict[int, int] = {}
        self._bases: dict[tuple[int, int], dict[str, str]] = {}

    def fingerprints(
        self,
        prom: list[str],
        by_name: npt.NDArray[np.int64],
        targets: list[tuple[int, int, dict[str, str]]],
    ) -> npt.NDArray[np.uint64]:
        s = self.s
        attr_code, attr_keys = _array_codes(s.attributes)
        metric = s.point_metric[s.row_point]
        resource = s.metric_resource[metric]
        name = by_name[metric]
        code = attr_code[s.row_point]
        inverse, first, _ = _groups(resource, name, code, s.row_part, s.row_bits.view(np.int64))
        bounds = s.row_bits.view(np.float64)[first].tolist()
        # One look-up per series; a series not seen before has its attributes read first, all
        # of them, so that a malformed one is upb's error before any limit is checked.
        keys: list[Key] = []
        hits: list[tuple[int, Labels] | None] = []
        missed: list[tuple[int, Labels]] = []
        for r, n, a, part, bound, m in zip(
            resource[first].tolist(),
            name[first].tolist(),
            code[first].tolist(),
            s.row_part[first].tolist(),
            bounds,
            metric[first].tolist(),
            strict=True,
        ):
            series = prom[n] + _SUFFIX[part]
            extra = _extra(part, bound)
            key = (self.ident_items[r], series, extra, attr_keys[a])
            hit = self.known.get(key)
            if hit is None:
                missed.append(
                    (len(keys), label_set(self._base(a, r, attr_keys[a], m), series, extra))
                )
            keys.append(key)
            hits.append(hit)
        # New series checked in the order the object path meets them (``target_info`` after
        # its resource's), so that the first one ``limits`` refuse is the one it names.
        pending = iter(targets)
        target = next(pending, None)
        first_resource = resource[first]
        for u, labels in missed:
            while target is not None and target[0] < first_resource[u]:
                self._target(*target)
                target = next(pending, None)
            hits[u] = self.cache.admit(self.known, keys[u], labels, self.limits)
        while target is not None:
            self._target(*target)
            target = next(pending, None)
        known = cast("list[tuple[int, Labels]]", hits)
        self.series.update(known)
        fps = np.fromiter(map(itemgetter(0), known), np.uint64, len(known))
        return fps[inverse]

    def _target(self, r: int, _newest: int, base: dict[str, str]) -> None:
        # As the object path keys it, so either path finds what the other cached.
        key = ("target_info", (), tuple(base.items()))
        hit = self.known.get(key)
        if hit is None:
            labels = label_set(base, "target_info", ())
            hit = self.cache.admit(self.known, key, labels, self.limits)
        self.target_fps[r] = hit[0]
        self.series[hit[0]] = hit[1]

    def _base(self, a: int, r: int, encoded: bytes, metric: int) -> dict[str, str]:
        """A point's labels before the name (its attributes, then the resource's identity)."""
        base = self._bases.get((a, r))
        if base is None:
            reader = HistogramDataPoint if self.form[metric] == _HISTOGRAM_FORM else NumberDataPoint
            try:
                attributes = reader.FromString(encoded).attributes
            except DecodeError:
                raise NotOurs from None
            if not is_shallow(attributes):
                raise NotOurs
            base = attribute_labels(attributes)
            base.update(self.ident[r])
            self._bases[a, r] = base
        return base


def _exemplars(
    s: ScannedMetrics,
    form: npt.NDArray[np.int64],
    fps: npt.NDArray[np.uint64],
    series: dict[int, Labels],
) -> list[Exemplar]:
    """Exemplars of counters (on the counter's series) and histograms (on the first bucket
    whose bound holds the value, ``+Inf`` at the latest), as the object path keeps them; those
    of other metrics are dropped."""
    first = np.zeros(len(s.point_ms) + 1, np.int64)
    np.cumsum(np.bincount(s.row_point, minlength=len(s.point_ms)), out=first[1:])
    out: list[Exemplar] = []
    for point, e in s.exemplars:
        f = form[s.point_metric[point]]
        a, b = int(first[point]), int(first[point + 1])
        if f == _COUNTER_FORM:
            row = a
        elif f == _HISTOGRAM_FORM:
            value = exemplar_value(e)
            parts = s.row_part[a:b].tolist()
            bounds = s.row_bits[a:b].view(np.float64).tolist()
            row = next(
                (a + i for i, (p, bound) in enumerate(zip(parts, bounds, strict=True))
                 if (p == BUCKET_ROW and value <= bound) or p == INF_ROW),
                b - 1,
            )  # fmt: skip
        else:
            continue
        kept = exemplar_of(series[int(fps[row])], e)
        if kept is not None:
            out.append(kept)
    return out


def _extra(part: int, bound: float) -> tuple[tuple[str, str], ...]:
    if part == BUCKET_ROW:
        return bound_label(bound)
    if part == INF_ROW:
        return INF_BUCKET
    if part == QUANTILE_ROW:
        return quantile_label(bound)
    return ()


def _metadata(
    s: ScannedMetrics,
    form: npt.NDArray[np.int64],
    *,
    units: tuple[npt.NDArray[np.int64], list[Any]],
    prom: list[str],
    by_name: npt.NDArray[np.int64],
    target_resources: list[int],
) -> dict[str, MetricMetadata]:
    """One entry per emitted family, the last metric of a name winning, as in the object path
    (which sets it metric by metric, ``target_info``'s after its resource's metrics)."""
    with_data = np.flatnonzero(form > 0)
    unit_code, unit_text = units
    desc_code, descs = _codes(s.descriptions)
    _, first, last = _groups(by_name[with_data], desc_code[with_data])
    events: list[tuple[float, str, MetricMetadata]] = []
    for i, at in zip(with_data[first].tolist(), with_data[last].tolist(), strict=True):
        mtype = _FORMS[int(form[i])][1]
        unit = unit_name(unit_text[unit_code[i]])
        events.append((at, prom[by_name[i]], MetricMetadata(mtype, descs[desc_code[i]], unit)))
    for r in target_resources:
        after = int(np.searchsorted(s.metric_resource, r, side="right")) - 0.5
        events.append((after, "target_info", TARGET_INFO))
    events.sort(key=lambda e: e[0])
    return {name: meta for _, name, meta in events}


def _codes(texts: Texts) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """A code per string (equal strings, equal codes) and the distinct strings, by code."""
    return _array_codes(
        pa.Array.from_buffers(
            pa.large_string(),
            len(texts),
            [None, pa.py_buffer(texts.offsets), pa.py_buffer(texts.data)],
        )
    )


def _array_codes(array: pa.Array) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """``_codes`` of an Arrow array."""
    encoded = array.dictionary_encode()
    codes = encoded.indices.to_numpy().astype(np.int64)
    return codes, encoded.dictionary.to_pylist()


def _groups(
    *keys: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rows grouped by equal ``keys``, groups numbered in order of first appearance: each
    row's group, and each group's first and last row."""
    n = len(keys[0])
    if not n:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    order = np.lexsort(keys[::-1])
    change = np.zeros(n, np.bool_)
    change[0] = True
    for k in keys:
        ordered = k[order]
        change[1:] |= ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(change)
    # lexsort is stable: in sorted order a group's rows keep their order.
    first = order[starts]
    last = order[np.r_[starts[1:], n] - 1]
    rank = np.argsort(first)
    renumber = np.empty(len(first), np.int64)
    renumber[rank] = np.arange(len(first))
    inverse = np.empty(n, np.int64)
    inverse[order] = renumber[np.cumsum(change) - 1]
    return inverse, first[rank], last[rank]


__all__ = ["scanned_batch"]
