"""The columnar OTLP metrics reader (``_metrics_wire`` and ``_metrics_columns``) against upb's
objects (``MetricsConverter.convert``).

Whatever request the columnar path takes, it must give the very batch the object path gives
(series, fingerprints, timestamps, values bit for bit with staleness markers, metadata) and
refuse the same series under the same limits; what it does not take it must leave to the
object path, which words the errors and the partial success. Damaged bodies are refused where
upb refuses them and read alike where upb reads them.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from tests.ingest.otlp.damage import damaged

from spyglass.core.errors import BadInput
from spyglass.core.exemplars import Exemplar
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import STALE_NAN, SampleBatch
from spyglass.ingest._protowire import NotOurs
from spyglass.ingest.otlp import MetricsConverter, decode_otlp_metrics_report, metric_name
from spyglass.ingest.otlp._cache import SeriesCache
from spyglass.ingest.otlp._convert import Conversion
from spyglass.ingest.otlp._metrics_columns import scanned_batch
from spyglass.ingest.otlp._metrics_wire import scan
from spyglass.ingest.otlp._names import Kind

LIMITS = IngestLimits()
CUMULATIVE = m.AGGREGATION_TEMPORALITY_CUMULATIVE
T_NS = 1_700_000_000_123_456_789

_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8)
_KEYS = st.one_of(
    st.sampled_from(["http.method", "route", "job", "instance", "a.b", "a_b", "0x", "", "__x__"]),
    _TEXT,
)
_SCALARS = st.one_of(
    st.builds(lambda v: AnyValue(string_value=v), st.sampled_from(["GET", "POST", "", "/a"])),
    st.builds(lambda v: AnyValue(string_value=v), _TEXT),
    st.builds(lambda v: AnyValue(bool_value=v), st.booleans()),
    st.builds(lambda v: AnyValue(int_value=v), st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: AnyValue(double_value=v), st.floats()),
    st.builds(lambda v: AnyValue(bytes_value=v), st.binary(max_size=4)),
    st.just(AnyValue()),
)


def _nested(values: list[AnyValue]) -> AnyValue:
    value = AnyValue()
    value.array_value.values.extend(values)
    return value


_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=2).map(_nested))
_ATTRIBUTES = st.lists(st.builds(lambda k, v: KeyValue(key=k, value=v), _KEYS, _VALUES), max_size=4)
# A few attribute lists per request, so that series repeat across points and metrics.
_TIMES = st.one_of(st.integers(0, 2**64 - 1), st.integers(T_NS, T_NS + 10**12))
_FLOATS = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1.0, 0.5, math.inf, 1e300]))
# Now and then a count near 2**64: bucket totals past 64 bits are left to the object path.
_COUNTS = st.integers(0, 19).flatmap(
    lambda i: st.sampled_from([2**63, 2**64 - 1, 2**53 + 1]) if i == 0 else st.integers(0, 10**6)
)


@st.composite
def _exemplar(draw: st.DrawFn) -> m.Exemplar:
    e = m.Exemplar(time_unix_nano=draw(_TIMES))
    if draw(st.booleans()):
        e.as_double = draw(_FLOATS)
    else:
        e.as_int = draw(st.integers(-(2**63), 2**63 - 1))
    e.trace_id = draw(st.sampled_from([b"", b"\x01" * 16, bytes(16)]))
    e.span_id = draw(st.sampled_from([b"", b"\x02" * 8]))
    e.filtered_attributes.extend(draw(_ATTRIBUTES))
    if draw(st.booleans()):
        e.filtered_attributes.add(key="user").value.string_value = "u" * draw(st.integers(0, 130))
    return e


_EXEMPLARS = _exemplar()


@st.composite
def _number_point(draw: st.DrawFn, attributes: list[list[KeyValue]]) -> m.NumberDataPoint:
    p = m.NumberDataPoint(time_unix_nano=draw(_TIMES), start_time_unix_nano=draw(_TIMES))
    p.attributes.extend(draw(st.sampled_from(attributes)))
    which = draw(st.sampled_from(["double", "int", "none"]))
    if which == "double":
        p.as_double = draw(_FLOATS)
    elif which == "int":
        p.as_int = draw(st.integers(-(2**63), 2**63 - 1))
    p.flags = draw(st.sampled_from([0, 1, 2, 3, 2**32 - 1]))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        p.exemplars.append(draw(_EXEMPLARS))
    return p


@st.composite
def _histogram_point(draw: st.DrawFn, attributes: list[list[KeyValue]]) -> m.HistogramDataPoint:
    p = m.HistogramDataPoint(time_unix_nano=draw(_TIMES), count=draw(_COUNTS))
    p.attributes.extend(draw(st.sampled_from(attributes)))
    if draw(st.booleans()):
        p.sum = draw(_FLOATS)
    bounds = draw(st.lists(_FLOATS, max_size=4))
    p.explicit_bounds.extend(bounds)
    p.bucket_counts.extend(draw(st.lists(_COUNTS, max_size=5)))
    p.flags = draw(st.sampled_from([0, 1]))
    if draw(st.booleans()):
        p.min = draw(_FLOATS)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        p.exemplars.append(draw(_EXEMPLARS))
    return p


@st.composite
def _summary_point(draw: st.DrawFn, attributes: list[list[KeyValue]]) -> m.SummaryDataPoint:
    p = m.SummaryDataPoint(time_unix_nano=draw(_TIMES), count=draw(_COUNTS), sum=draw(_FLOATS))
    p.attributes.extend(draw(st.sampled_from(attributes)))
    for _ in range(draw(st.integers(0, 3))):
        p.quantile_values.add(quantile=draw(_FLOATS), value=draw(_FLOATS))
    p.flags = draw(st.sampled_from([0, 1]))
    return p


def _rarely(usual: list[Any], rare: list[Any]) -> st.SearchStrategy[Any]:
    # What sends a request to the object path (a rejection) in one metric of 60 or so, so
    # that most generated requests (up to 24 metrics) exercise the columnar path.
    return st.integers(0, 59).flatmap(
        lambda i: st.sampled_from(rare) if i == 0 else st.sampled_from(usual)
    )


@st.composite
def _metric(draw: st.DrawFn, attributes: list[list[KeyValue]]) -> m.Metric:
    metric = m.Metric(
        name=draw(_rarely(["http.requests", "latency", "x_count", "a.b", "b"], ["!!", "", "ü"])),
        unit=draw(st.sampled_from(["", "s", "By/s", "1", "{request}", "ms"])),
        description=draw(st.sampled_from(["", "Requests.", "Ünïcode"])),
    )
    kind = draw(_rarely(["gauge", "sum", "histogram", "summary"], ["exponential", "none"]))
    temporality = draw(_rarely([CUMULATIVE], [m.AGGREGATION_TEMPORALITY_DELTA, 0]))
    n = st.integers(0, 4)
    if kind == "gauge":
        metric.gauge.data_points.extend(draw(st.lists(_number_point(attributes), max_size=4)))
        if not metric.gauge.data_points:
            metric.gauge.SetInParent()
    elif kind == "sum":
        metric.sum.is_monotonic = draw(st.booleans())
        metric.sum.aggregation_temporality = temporality
        metric.sum.data_points.extend(draw(st.lists(_number_point(attributes), max_size=4)))
    elif kind == "histogram":
        metric.histogram.aggregation_temporality = temporality
        metric.histogram.data_points.extend(
            draw(st.lists(_histogram_point(attributes), max_size=3))
        )
    elif kind == "summary":
        metric.summary.data_points.extend(draw(st.lists(_summary_point(attributes), max_size=3)))
        if not metric.summary.data_points:
            metric.summary.SetInParent()
    elif kind == "exponential":
        metric.exponential_histogram.aggregation_temporality = CUMULATIVE
        for _ in range(draw(n)):
            metric.exponential_histogram.data_points.add(count=1)
    return metric


@st.composite
def _requests(draw: st.DrawFn) -> ExportMetricsServiceRequest:
    attributes = draw(st.lists(_ATTRIBUTES, min_size=1, max_size=3))
    req = ExportMetricsServiceRequest()
    for _ in range(draw(st.integers(0, 3))):
        rm = req.resource_metrics.add()
        if draw(st.booleans()):
            rm.resource.attributes.add(key="service.name").value.string_value = draw(
                st.sampled_from(["api", "", "db"])
            )
        if draw(st.booleans()):
            rm.resource.attributes.add(key="service.instance.id").value.string_value = "i-1"
        if draw(st.booleans()):
            rm.resource.attributes.extend(draw(_ATTRIBUTES))
        for _ in range(draw(st.integers(0, 2))):
            sm = rm.scope_metrics.add()
            if draw(st.booleans()):
                sm.scope.name = draw(_TEXT)
            sm.metrics.extend(draw(st.lists(_metric(attributes), max_size=4)))
    return req


def _exemplar_rows(conv: Conversion) -> list[tuple[object, ...]]:
    return [
        (e.series, e.labels, struct.pack("<d", e.value), e.timestamp_ms) for e in conv.exemplars
    ]


def _same_batch(got: SampleBatch, want: SampleBatch) -> None:
    assert dict(got.series) == dict(want.series)
    assert got.fingerprints.tolist() == want.fingerprints.tolist()
    assert got.timestamps.tolist() == want.timestamps.tolist()
    # Bit for bit: staleness markers are one NaN among many.
    assert got.values.view(np.uint64).tolist() == want.values.view(np.uint64).tolist()
    assert dict(got.metadata) == dict(want.metadata)


def _outcome(convert: object) -> Conversion | str:
    try:
        return convert()  # type: ignore[operator,no-any-return]
    except BadInput as e:
        return str(e)


def _object_path(raw: bytes, limits: IngestLimits) -> Conversion | str:
    try:
        req = ExportMetricsServiceRequest.FromString(raw)
    except Exception:  # noqa: BLE001 - whatever upb refuses
        return "malformed"
    return _outcome(lambda: MetricsConverter().convert(req, limits))


def _columnar(raw: bytes, limits: IngestLimits) -> Conversion | str | None:
    """The columnar path's answer, ``None`` when it leaves the request to the object path."""
    scanned = scan(raw)
    if scanned is None:
        return None
    try:
        return _outcome(lambda: Conversion(*_batch(scanned_batch(scanned, SeriesCache(), limits))))
    except NotOurs:
        return None


def _batch(
    got: tuple[SampleBatch, list[Exemplar]],
) -> tuple[SampleBatch, int, list[str], list[Exemplar]]:
    return got[0], 0, [], got[1]


def _naming(metric: m.Metric) -> Kind:
    kind = metric.WhichOneof("data")
    if kind == "gauge":
        return Kind.GAUGE
    if kind == "sum" and metric.sum.is_monotonic:
        return Kind.COUNTER
    return Kind.OTHER


def _bucket_total(p: m.HistogramDataPoint) -> int:
    return sum(list(p.bucket_counts)[: len(p.explicit_bounds)])


def _left_to_objects(req: ExportMetricsServiceRequest) -> bool:
    """What the columnar path declines on purpose (module docstrings): rejections, exponential
    histograms, bucket counts past 64 bits."""
    for rm in req.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                data = getattr(metric, kind)
                if kind == "exponential_histogram":
                    return True
                if kind in ("sum", "histogram") and data.aggregation_temporality != CUMULATIVE:
                    return True
                if not metric_name(metric.name, metric.unit, _naming(metric)):
                    return True
                for p in data.data_points:
                    if kind == "histogram" and _bucket_total(p) >= 2**64:
                        return True  # past 64 bits: Python's ints, not numpy's
    return False


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_requests())
def test_the_columnar_path_converts_every_request_as_the_object_path_does(
    req: ExportMetricsServiceRequest,
) -> None:
    """Series, fingerprints, times, values bit for bit, metadata and target_info equal the
    object path's, for every kind of metric, odd values, huge counts and times past int64."""
    raw = req.SerializeToString()
    want = _object_path(raw, LIMITS)
    got = _columnar(raw, LIMITS)
    if got is None:
        assert _left_to_objects(req)
        return
    assert isinstance(got, Conversion), got
    assert isinstance(want, Conversion), want
    _same_batch(got.batch, want.batch)
    assert (want.rejected_points, want.errors) == (0, [])
    assert _exemplar_rows(got) == _exemplar_rows(want)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_requests(), st.integers(1, 12), st.integers(1, 6))
def test_limits_refuse_the_same_series_either_way(
    req: ExportMetricsServiceRequest, longest: int, most: int
) -> None:
    """Under tight limits the first series refused (and its message) is the same."""
    limits = IngestLimits(max_label_value_length=longest, max_labels_per_series=most)
    raw = req.SerializeToString()
    got = _columnar(raw, limits)
    if got is None:
        return
    want = _object_path(raw, limits)
    if isinstance(want, str):
        assert got == want
    else:
        assert isinstance(got, Conversion), got
        _same_batch(got.batch, want.batch)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_requests(), st.data())
def test_damaged_bodies_are_refused_or_read_as_upb_reads_them(
    req: ExportMetricsServiceRequest, data: st.DataObject
) -> None:
    """A byte changed, the body cut short or bytes inserted: where upb refuses the body, the
    receiver answers upb's error; where upb reads it, the same batch (or the object path)."""
    raw = damaged(req.SerializeToString(), data)
    want = _object_path(raw, LIMITS)
    got = _columnar(raw, LIMITS)
    if want == "malformed":
        assert got is None
        with pytest.raises(BadInput, match="malformed protobuf ExportMetricsServiceRequest"):
            MetricsConverter().convert_protobuf(raw, LIMITS)
        return
    if got is not None:
        assert isinstance(got, Conversion)
        assert isinstance(want, Conversion)
        _same_batch(got.batch, want.batch)


@given(st.binary(max_size=300))
def test_any_bytes_are_refused_or_read_as_upb_reads_them(raw: bytes) -> None:
    """Random bytes never crash the columnar reader."""
    got = _columnar(raw, LIMITS)
    if got is None:
        return
    want = _object_path(raw, LIMITS)
    assert isinstance(got, Conversion)
    assert isinstance(want, Conversion)
    _same_batch(got.batch, want.batch)


def _sdk_like() -> ExportMetricsServiceRequest:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    for key, value in (("service.name", "api"), ("telemetry.sdk.language", "python")):
        rm.resource.attributes.add(key=key).value.string_value = value
    metrics = rm.scope_metrics.add().metrics
    counter = metrics.add(name="http.server.requests", unit="{request}", description="Served.")
    counter.sum.is_monotonic = True
    counter.sum.aggregation_temporality = CUMULATIVE
    hist = metrics.add(name="http.server.duration", unit="ms")
    hist.histogram.aggregation_temporality = CUMULATIVE
    summary = metrics.add(name="rpc.latency", unit="s")
    for route in ("/a", "/b", "/c"):
        attrs = [
            KeyValue(key="http.route", value=AnyValue(string_value=route)),
            KeyValue(key="http.status_code", value=AnyValue(int_value=200)),
        ]
        counter.sum.data_points.add(time_unix_nano=T_NS, as_int=7, attributes=attrs)
        p = hist.histogram.data_points.add(time_unix_nano=T_NS, count=10, sum=12.5)
        p.attributes.extend(attrs)
        p.explicit_bounds.extend([5.0, 10.0, 25.0])
        p.bucket_counts.extend([2, 3, 4, 1])
        q = summary.summary.data_points.add(time_unix_nano=T_NS, count=4, sum=2.0)
        q.attributes.extend(attrs)
        q.quantile_values.add(quantile=0.5, value=0.4)
        q.quantile_values.add(quantile=0.99, value=0.9)
    stale = metrics.add(name="queue.depth").gauge.data_points.add(time_unix_nano=T_NS, flags=1)
    stale.attributes.add(key="queue").value.string_value = "q"
    return req


def test_a_typical_sdk_export_takes_the_columnar_path() -> None:
    """What an SDK sends (a service resource with other attributes, counters, histograms,
    summaries, a stale gauge) is read as columns, to the object path's batch."""
    raw = _sdk_like().SerializeToString()
    got = _columnar(raw, LIMITS)
    assert isinstance(got, Conversion)
    want = _object_path(raw, LIMITS)
    assert isinstance(want, Conversion)
    _same_batch(got.batch, want.batch)
    names = {dict(labels)["__name__"] for labels in got.batch.series.values()}
    assert names == {
        "http_server_requests_total",
        "http_server_duration_milliseconds_bucket",
        "http_server_duration_milliseconds_sum",
        "http_server_duration_milliseconds_count",
        "rpc_latency_seconds",
        "rpc_latency_seconds_sum",
        "rpc_latency_seconds_count",
        "queue_depth",
        "target_info",
    }
    buckets = [
        (dict(got.batch.series[int(fp)])["le"], float(v))
        for fp, v in zip(got.batch.fingerprints, got.batch.values, strict=True)
        if dict(got.batch.series[int(fp)]).get("http_route") == "/a"
        and "le" in dict(got.batch.series[int(fp)])
    ]
    assert buckets == [("5", 2.0), ("10", 5.0), ("25", 9.0), ("+Inf", 10.0)]
    stale = got.batch.values[-2]  # the gauge's point, before target_info
    assert struct.pack("<d", stale) == struct.pack("<d", STALE_NAN)


def test_a_series_sent_again_is_found_in_the_cache() -> None:
    """The second export of the same series builds no label set: the receiver's cache holds
    one entry per series, and the batch is the same."""
    converter = MetricsConverter()
    raw = _sdk_like().SerializeToString()
    first = converter.convert_protobuf(raw, LIMITS)
    cached = converter.cached_series
    second = converter.convert_protobuf(raw, LIMITS)
    assert converter.cached_series == cached == len(first.batch.series)
    _same_batch(second.batch, first.batch)


def test_protobuf_bodies_with_rejections_still_report_partial_success() -> None:
    """A delta sum is left to the object path, which stores the rest and reports the points."""
    req = _sdk_like()
    delta = req.resource_metrics[0].scope_metrics[0].metrics.add(name="deltas")
    delta.sum.aggregation_temporality = m.AGGREGATION_TEMPORALITY_DELTA
    delta.sum.data_points.add(time_unix_nano=T_NS, as_int=1)
    report = decode_otlp_metrics_report(req.SerializeToString(), "application/x-protobuf", LIMITS)
    assert report.rejected_points == 1
    assert "deltas: delta or unspecified sum" in report.error_message
    assert len(report.batch.series) == 35  # the 34 series of _sdk_like and target_info


def test_a_malformed_body_gets_upbs_error() -> None:
    """The columnar reader declines a broken body; the answer is upb's BadInput."""
    body = _sdk_like().SerializeToString() + b"\x0a\x05\x12"
    with pytest.raises(BadInput, match="malformed protobuf ExportMetricsServiceRequest"):
        decode_otlp_metrics_report(body, "application/x-protobuf", LIMITS)


def _deep(levels: int) -> AnyValue:
    value = AnyValue(string_value="leaf")
    for _ in range(levels):
        outer = AnyValue()
        outer.array_value.values.append(value)
        value = outer
    return value


@pytest.mark.parametrize("levels", [1, 16, 17, 45])
def test_nested_attribute_values_are_read_alike_whatever_their_depth(levels: int) -> None:
    """Arrays in arrays: up to 16 deep read as columns, deeper left to the object path (upb
    counts nesting from the request, which an attribute read alone would not), to the same
    batch either way."""
    req = _sdk_like()
    point = req.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0]
    point.attributes.add(key="deep").value.CopyFrom(_deep(levels))
    raw = req.SerializeToString()
    got = _columnar(raw, LIMITS)
    want = _object_path(raw, LIMITS)
    assert isinstance(want, Conversion)
    if levels <= 16:
        assert isinstance(got, Conversion)
        _same_batch(got.batch, want.batch)
    else:
        assert got is None
    _same_batch(MetricsConverter().convert_protobuf(raw, LIMITS).batch, want.batch)
