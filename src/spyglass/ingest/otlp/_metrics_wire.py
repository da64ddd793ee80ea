"""A columnar reading of OTLP's protobuf ``ExportMetricsServiceRequest``: the rows of samples
it stores, as numpy columns, without a Python object per data point.

Reading metrics through upb costs a wrapper object per data point, per attribute and per
``AnyValue``, and the conversion a dict and a tuple per point on top: most of an export's CPU.
This module reads the wire format itself with ``ingest._protowire``'s lockstep walk, one level
of messages at a time (request, resource metrics, scope metrics, metrics, their data, data
points, quantiles): the Python work is per level and per field position, not per point. Each
point's attributes are not read here: their bytes (``ScannedMetrics.attributes``) are what the
conversion knows a series by, so a series sent before costs a dictionary look-up
(``_metrics_columns``). Values, timestamps, staleness and cumulative bucket counts come out as
columns in the order the object path (``_convert``) emits them.

What upb reads here, one object each, is small: each resource, scope and exemplar. Anything
this module does not read exactly as upb would makes ``scan`` return ``None`` and the caller
converts the request object by object, which also words the errors: a singular field written
twice (protobuf merges messages and keeps the last scalar), a data point with both an int and a
double value, a known field with another wire type, repeated numbers not packed or packed in
several pieces, a malformed length or varint, a string that is not UTF-8, a resource, scope or
exemplar attribute nesting arrays or maps deeply (``_labels.is_shallow``), bucket counts that
overflow 64 bits, and what is rare and read with objects anyway: exponential histograms
(rejected) and metric metadata. What ``scan`` accepts, upb reads to the same samples; a
property test compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from numpy.lib.stride_tricks import sliding_window_view
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.metrics.v1.metrics_pb2 import Exemplar
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from spyglass.core.logs import valid_lines
from spyglass.core.samples import STALE_NAN
from spyglass.core.spans import Texts, gather
from spyglass.ingest._protowire import (
    FIXED64,
    LEN,
    VARINT,
    Fields,
    NotOurs,
    column,
    extents,
    fields,
    fixed64,
    get,
    messages,
    parse,
    rows,
    scan_body,
    walk,
)
from spyglass.ingest.otlp._labels import is_shallow

# Metric.data, by field number (0: none).
GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY = 5, 7, 9, 10, 11
# What a row is, within its data point: the point's value, or a histogram's or summary's
# ``_sum``, ``_count``, ``le`` bucket, ``+Inf`` bucket, or a quantile.
VALUE, SUM_ROW, COUNT_ROW, BUCKET_ROW, INF_ROW, QUANTILE_ROW = range(6)

# The fields read at each level, with their wire types; other field numbers are skipped, as
# upb keeps them as unknown fields nobody reads.
_REQUEST = {1: LEN}
_RESOURCE_METRICS = {1: LEN, 2: LEN, 3: LEN}
_SCOPE_METRICS = {1: LEN, 2: LEN, 3: LEN}
_DATA_FIELDS = (GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY)
_METRIC = {1: LEN, 2: LEN, 3: LEN, 12: LEN} | dict.fromkeys(_DATA_FIELDS, LEN)
_DATA = {1: LEN, 2: VARINT, 3: VARINT}  # data_points, aggregation_temporality, is_monotonic
_NUMBER_POINT = {2: FIXED64, 3: FIXED64, 4: FIXED64, 5: LEN, 6: FIXED64, 7: LEN, 8: VARINT}
_HISTOGRAM_POINT = {
    2: FIXED64,  # start_time_unix_nano
    3: FIXED64,  # time_unix_nano
    4: FIXED64,  # count
    5: FIXED64,  # sum
    6: LEN,  # bucket_counts, packed
    7: LEN,  # explicit_bounds, packed
    8: LEN,  # exemplars
    9: LEN,  # attributes
    10: VARINT,  # flags
    11: FIXED64,  # min
    12: FIXED64,  # max
}
_SUMMARY_POINT = {2: FIXED64, 3: FIXED64, 4: FIXED64, 5: FIXED64, 6: LEN, 7: LEN, 8: VARINT}
_QUANTILE = {1: FIXED64, 2: FIXED64}
_CUMULATIVE = 2  # AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
_NO_RECORDED_VALUE = np.uint64(1)  # DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
_NS_PER_MS = np.uint64(1_000_000)
_EMPTY_RESOURCE = Resource()


@dataclass(frozen=True, slots=True)
class ScannedMetrics:
    """A request's metrics, points and sample rows as columns, in request order.

    Metric ``i`` belongs to ``resources[metric_resource[i]]`` (upb's ``Resource``); its data
    kind is ``kinds[i]`` (``GAUGE``...; 0 when it has none). Point ``j`` belongs to metric
    ``point_metric[j]``; ``attributes[j]`` is the encoding of its attribute fields. Row ``k`` is a
    sample of point ``row_point[k]``: ``row_part[k]`` says which (``VALUE``...), ``row_bits[k]``
    holds the bucket bound's or quantile's bits, ``row_value[k]`` its value (``STALE_NAN`` for a
    point flagged as holding no recorded value).
    """

    resources: tuple[Any, ...]
    metric_resource: npt.NDArray[np.int64]
    names: Texts
    descriptions: Texts
    units: Texts
    kinds: npt.NDArray[np.int64]
    cumulative: npt.NDArray[np.bool_]
    monotonic: npt.NDArray[np.bool_]
    point_metric: npt.NDArray[np.int64]
    point_ms: npt.NDArray[np.int64]
    attributes: pa.Array  # binary: equal values, equal attribute lists
    exemplars: tuple[tuple[int, Any], ...]  # (point, upb's ``Exemplar``), in request order
    row_point: npt.NDArray[np.int64]
    row_part: npt.NDArray[np.int64]
    row_bits: npt.NDArray[np.uint64]
    row_value: npt.NDArray[np.float64]


def scan(raw: bytes) -> ScannedMetrics | None:
    """The metrics of the protobuf ``ExportMetricsServiceRequest`` ``raw``, or ``None`` when it
    is not in the shape this module reads (module docstring)."""
    return scan_body(_scan, raw)


def _scan(raw: bytes, buf: npt.NDArray[np.uint8]) -> ScannedMetrics:
    top = walk(raw, [(0, len(raw))], _REQUEST)
    rm = top.of(1)
    rm_fields = walk(raw, extents(rm), _RESOURCE_METRICS)
    resources = _resources(raw, rm_fields.of(1), len(rm))
    sm = rm_fields.of(2)
    sm_fields = walk(raw, extents(sm), _SCOPE_METRICS)
    _check_scopes(raw, sm_fields.of(1), len(sm))
    mt = sm_fields.of(2)
    n_metrics = len(mt)
    by = fields(raw, buf, mt.start, mt.start + mt.size, _METRIC).by_number()
    if len(get(by, 12)) or len(get(by, EXPONENTIAL_HISTOGRAM)):
        raise NotOurs
    # Schema URLs, names, descriptions and units: upb refuses a string that is not UTF-8.
    for f in (rm_fields.of(3), sm_fields.of(3)):
        _utf8(gather(buf, f.start, f.size))
    names, descriptions, units = (
        _utf8(gather(buf, *column(get(by, n), n_metrics))) for n in (1, 2, 3)
    )

    data = _concat([get(by, n) for n in (GAUGE, SUM, HISTOGRAM, SUMMARY)])
    data.once(n_metrics)  # one oneof member per metric: protobuf keeps the last, or merges
    kinds = np.zeros(n_metrics, np.int64)
    kinds[data.msg] = data.number
    data_fields = fields(raw, buf, data.start, data.start + data.size, _DATA).by_number()
    n_data = len(data)
    temporality = get(data_fields, 2)
    temporality.once(n_data)
    cumulative = np.zeros(n_metrics, np.bool_)
    low = temporality.value & np.uint64(0xFFFFFFFF)  # an enum is an int32
    cumulative[data.msg[temporality.msg]] = low == _CUMULATIVE
    flag = get(data_fields, 3)
    flag.once(n_data)
    monotonic = np.zeros(n_metrics, np.bool_)
    monotonic[data.msg[flag.msg]] = flag.value != 0

    dp = get(data_fields, 1)
    point_metric = data.msg[dp.msg]
    point_kind = kinds[point_metric]
    points = _Points(raw, buf, len(dp))
    is_number = (point_kind == GAUGE) | (point_kind == SUM)
    points.numbers(dp, np.flatnonzero(is_number))
    points.histograms(dp, np.flatnonzero(point_kind == HISTOGRAM))
    points.summaries(dp, np.flatnonzero(point_kind == SUMMARY))
    row_point, row_part, row_bits, row_value = points.rows()
    return ScannedMetrics(
        resources=resources,
        metric_resource=sm.msg[mt.msg],
        names=names,
        descriptions=descriptions,
        units=units,
        kinds=kinds,
        cumulative=cumulative,
        monotonic=monotonic,
        point_metric=point_metric,
        point_ms=points.ms,
        attributes=points.attributes(),
        exemplars=points.exemplars(),
        row_point=row_point,
        row_part=row_part,
        row_bits=row_bits,
        row_value=row_value,
    )


class _Points:
    """The data points of a request, read kind by kind into per-point columns and row parts."""

    def __init__(self, raw: bytes, buf: npt.NDArray[np.uint8], n: int) -> None:
        self.raw = raw
        self.buf = buf
        # Every 8-byte little-endian word starting at each byte: gathering by position reads
        # fixed-width fields and packed numbers in one step.
        self.words = np.ndarray((len(buf) - 7,), "<u8", buf, 0, (1,))
        self.n = n
        self.ms = np.zeros(n, np.int64)
        self.stale = np.zeros(n, np.bool_)
        self.row_count = np.zeros(n, np.int64)
        # Per kind of row: (point, index of the row within its point, part, bits, value).
        self.parts: list[tuple[npt.NDArray[Any], ...]] = []
        self.attr: list[Fields] = []  # attribute fields, message = the request's point index
        self.found: list[tuple[int, Any]] = []  # exemplars with their point

    def _read(
        self, dp: Fields, at: npt.NDArray[np.int64], known: dict[int, int]
    ) -> dict[int, Fields]:
        by = fields(self.raw, self.buf, dp.start[at], dp.start[at] + dp.size[at], known).by_number()
        n = len(at)
        self.ms[at] = (fixed64(self.buf, get(by, 3), n) // _NS_PER_MS).astype(np.int64)
        return by

    def _common(
        self, by: dict[int, Fields], at: npt.NDArray[np.int64], attrs: int, flags: int, ex: int
    ) -> None:
        """Staleness, attributes and exemplars (field ``ex``; summaries have none, 0): their
        field numbers differ between kinds of point."""
        for i, a, size in rows(get(by, ex)):
            exemplar = parse(Exemplar, self.raw[a : a + size])
            if not is_shallow(exemplar.filtered_attributes):
                raise NotOurs
            self.found.append((int(at[i]), exemplar))
        flag = get(by, flags)
        flag.once(len(at))
        self.stale[at[flag.msg]] = (flag.value & _NO_RECORDED_VALUE) != 0
        f = get(by, attrs)
        self.attr.append(Fields(at[f.msg], f.number, f.begin, f.start, f.size, f.value))

    def _add(
        self,
        point: npt.NDArray[np.int64],
        index: npt.NDArray[np.int64],
        part: int | npt.NDArray[np.int64],
        bits: npt.NDArray[np.uint64] | None,
        value: npt.NDArray[np.float64],
    ) -> None:
        parts = np.broadcast_to(np.asarray(part, np.int64), point.shape)
        zeros = np.zeros(len(point), np.uint64)
        self.parts.append((point, index, parts, zeros if bits is None else bits, value))

    def numbers(self, dp: Fields, at: npt.NDArray[np.int64]) -> None:
        """Gauge and sum points: one row each, the double or the int (as a double)."""
        by = self._read(dp, at, _NUMBER_POINT)
        n = len(at)
        self._common(by, at, 7, 8, 5)
        as_double, as_int = get(by, 4), get(by, 6)
        _concat([as_double, as_int]).once(n)  # both set: the last one on the wire wins
        value = np.zeros(n, np.float64)
        value[as_double.msg] = self.words[as_double.start].view(np.float64)
        value[as_int.msg] = self.words[as_int.start].view(np.int64).astype(np.float64)
        self.row_count[at] = 1
        self._add(at, np.zeros(n, np.int64), VALUE, None, value)

    def histograms(self, dp: Fields, at: npt.NDArray[np.int64]) -> None:
        """Histogram points: ``_sum`` when set, ``_count``, a cumulative count per explicit
        bound (as many as there are both bounds and counts) and ``+Inf`` (the count)."""
        by = self._read(dp, at, _HISTOGRAM_POINT)
        n = len(at)
        self._common(by, at, 9, 10, 8)
        count = fixed64(self.buf, get(by, 4), n).astype(np.float64)
        has_sum = get(by, 5).once(n)
        total = fixed64(self.buf, get(by, 5), n).view(np.float64)
        counts_at, n_counts = self._packed(get(by, 6), n)
        bounds_at, n_bounds = self._packed(get(by, 7), n)
        nb = np.minimum(n_counts, n_bounds)
        with_sum = has_sum.astype(np.int64)
        self.row_count[at] = with_sum + nb + 2
        self._add(
            at[has_sum], np.zeros(int(has_sum.sum()), np.int64), SUM_ROW, None, total[has_sum]
        )
        self._add(at, with_sum, COUNT_ROW, None, count)
        self._add(at, with_sum + nb + 1, INF_ROW, None, count)
        point = np.repeat(np.arange(n), nb)
        first = np.zeros(n + 1, np.int64)
        np.cumsum(nb, out=first[1:])
        r = np.arange(len(point)) - first[point]
        counts = self.words[counts_at[point] + 8 * r]
        bounds = self.words[bounds_at[point] + 8 * r]
        # Cumulative counts within each point, in 64 bits as Python's ints would be: a total
        # that passes 2**64 shows as a count smaller than the one before it.
        running = np.cumsum(counts, dtype=np.uint64)
        before = np.zeros(n, np.uint64)
        has = nb > 0
        before[has] = running[first[:-1][has]] - counts[first[:-1][has]]
        cumulative = running - before[point]
        if np.any((cumulative[1:] < cumulative[:-1]) & (point[1:] == point[:-1])):
            raise NotOurs
        self._add(
            at[point], with_sum[point] + 1 + r, BUCKET_ROW, bounds, cumulative.astype(np.float64)
        )

    def summaries(self, dp: Fields, at: npt.NDArray[np.int64]) -> None:
        """Summary points: ``_sum``, ``_count`` and one row per quantile."""
        by = self._read(dp, at, _SUMMARY_POINT)
        n = len(at)
        self._common(by, at, 7, 8, 0)
        count = fixed64(self.buf, get(by, 4), n).astype(np.float64)
        total = fixed64(self.buf, get(by, 5), n).view(np.float64)
        qv = get(by, 6)
        qf = fields(self.raw, self.buf, qv.start, qv.start + qv.size, _QUANTILE).by_number()
        nq = len(qv)
        quantile = fixed64(self.buf, get(qf, 1), nq)
        value = fixed64(self.buf, get(qf, 2), nq).view(np.float64)
        per_point = np.bincount(qv.msg, minlength=n)
        first = np.zeros(n + 1, np.int64)
        np.cumsum(per_point, out=first[1:])
        self.row_count[at] = 2 + per_point
        self._add(at, np.zeros(n, np.int64), SUM_ROW, None, total)
        self._add(at, np.ones(n, np.int64), COUNT_ROW, None, count)
        r = np.arange(nq) - first[qv.msg]
        self._add(at[qv.msg], 2 + r, QUANTILE_ROW, quantile, value)

    def _packed(self, field: Fields, n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Where each point's packed 8-byte numbers start, and how many there are."""
        start, size = column(field, n)
        if np.any(size % 8):
            raise NotOurs  # upb refuses a packed fixed-width field cut mid-number
        return start, size // 8

    def rows(
        self,
    ) -> tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.float64],
    ]:
        """Every row in request order: point by point, each point's rows in the object path's
        order; a stale point's values all ``STALE_NAN``."""
        first = np.zeros(self.n + 1, np.int64)
        np.cumsum(self.row_count, out=first[1:])
        total = int(first[-1])
        point = np.zeros(total, np.int64)
        part = np.zeros(total, np.int64)
        bits = np.zeros(total, np.uint64)
        value = np.zeros(total, np.float64)
        for p, index, kind, b, v in self.parts:
            at = first[p] + index
            point[at] = p
            part[at] = kind
            bits[at] = b
            value[at] = v
        value[self.stale[point]] = STALE_NAN
        return point, part, bits, value

    def exemplars(self) -> tuple[tuple[int, Any], ...]:
        """Every exemplar with its point, in request order."""
        return tuple(sorted(self.found, key=lambda found: found[0]))

    def attributes(self) -> pa.Array:
        """Each point's attribute fields, tags and lengths included, back to back: equal
        bytes are equal attribute lists.

        Usually each point's attributes are one run of its bytes: then the array only points
        into the body (Arrow's binary views), no bytes are copied."""
        a = _concat(self.attr)
        order = np.argsort(a.msg, kind="stable")
        a = a.take(order)
        end = a.start + a.size
        counts = np.bincount(a.msg, minlength=self.n)
        per_point = np.zeros(self.n + 1, np.int64)
        np.cumsum(counts, out=per_point[1:])
        same_point = a.msg[1:] == a.msg[:-1]
        if not np.any(same_point & (a.begin[1:] != end[:-1])) and len(self.raw) < 2**31:
            has = counts > 0
            start = np.zeros(self.n, np.int64)
            size = np.zeros(self.n, np.int64)
            start[has] = a.begin[per_point[:-1][has]]
            size[has] = end[per_point[1:][has] - 1] - start[has]
            return _views(self.raw, self.buf, start, size)
        runs = gather(self.buf, a.begin, end - a.begin)
        return pa.Array.from_buffers(
            pa.large_binary(),
            self.n,
            [None, pa.py_buffer(runs.offsets[per_point]), pa.py_buffer(runs.data)],
        )


def _views(
    raw: bytes,
    buf: npt.NDArray[np.uint8],
    start: npt.NDArray[np.int64],
    size: npt.NDArray[np.int64],
) -> pa.Array:
    """``raw[start[i]:start[i] + size[i]]`` as an Arrow binary-view array over ``raw``: 16
    bytes a value, the value itself when it fits in 12, else its first 4 bytes and where it
    is (Arrow's layout)."""
    views = np.zeros((len(start), 16), np.uint8)
    views[:, :4] = size.astype("<i4").view(np.uint8).reshape(-1, 4)
    inline = size <= 12
    head = sliding_window_view(buf, 12)[start]
    views[:, 4:16] = np.where(np.arange(12) < np.minimum(size, 12)[:, None], head, 0)
    long = ~inline
    views[long, 8:12] = 0  # the body is buffer 0
    views[long, 12:16] = start[long].astype("<i4").view(np.uint8).reshape(-1, 4)
    return pa.Array.from_buffers(
        pa.binary_view(), len(start), [None, pa.py_buffer(views), pa.py_buffer(raw)]
    )


def _concat(parts: list[Fields]) -> Fields:
    """The fields of ``parts`` as one, ordered by message (each part's order kept)."""
    msg = np.concatenate([p.msg for p in parts])
    order = np.argsort(msg, kind="stable")
    return Fields(
        msg[order],
        np.concatenate([p.number for p in parts])[order],
        np.concatenate([p.begin for p in parts])[order],
        np.concatenate([p.start for p in parts])[order],
        np.concatenate([p.size for p in parts])[order],
        np.concatenate([p.value for p in parts])[order],
    )


def _utf8(texts: Texts) -> Texts:
    if not valid_lines(texts.data, texts.offsets):
        raise NotOurs
    return texts


def _resources(raw: bytes, field: Fields, n: int) -> tuple[Any, ...]:
    """Each resource metrics' resource, read with upb (a few per request)."""
    found = messages(raw, field, n, Resource)
    if not all(is_shallow(r.attributes) for r in found if r is not None):
        raise NotOurs
    return tuple(_EMPTY_RESOURCE if r is None else r for r in found)


def _check_scopes(raw: bytes, field: Fields, n: int) -> None:
    """Scopes are not stored, but upb would refuse a request with a malformed one."""
    if not all(
        is_shallow(sc.attributes)
        for sc in messages(raw, field, n, InstrumentationScope)
        if sc is not None
    ):
        raise NotOurs


__all__ = [
    "BUCKET_ROW",
    "COUNT_ROW",
    "EXPONENTIAL_HISTOGRAM",
    "GAUGE",
    "HISTOGRAM",
    "INF_ROW",
    "QUANTILE_ROW",
    "SUM",
    "SUMMARY",
    "SUM_ROW",
    "VALUE",
    "ScannedMetrics",
    "scan",
]
