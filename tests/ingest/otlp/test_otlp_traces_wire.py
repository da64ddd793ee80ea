"""The columnar OTLP traces reader (``ingest.otlp._traces_wire``) against the upb one.

Whatever request the columnar reader takes, it must read to the same spans, the same rejections
and, through the WAL and the insert, the same stored rows as upb's objects; whatever it does
not take it must leave to upb (``None``), never read differently or crash.
"""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from tests.ingest.otlp.damage import damaged

from spyglass.core.errors import BadInput
from spyglass.core.limits import SpanLimitReport, SpanLimits, limit_spans
from spyglass.core.spans import SpanBatch
from spyglass.ingest.otlp import decode_otlp_traces
from spyglass.ingest.otlp._traces import spans_from_request
from spyglass.ingest.otlp._traces_wire import scan
from spyglass.storage.traces._codec import decode_batch, encode_batch
from spyglass.storage.traces._insert import columns_table, spans_table

_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
_KEYS = st.one_of(st.sampled_from(["http.method", "db.system", "service.name", "k", ""]), _TEXT)


def _any_value(depth: int = 0) -> st.SearchStrategy[AnyValue]:
    scalars = [
        st.builds(lambda v: AnyValue(string_value=v), _TEXT),
        st.builds(lambda v: AnyValue(bool_value=v), st.booleans()),
        st.builds(lambda v: AnyValue(int_value=v), st.integers(-(2**63), 2**63 - 1)),
        st.builds(lambda v: AnyValue(double_value=v), st.floats()),
        st.builds(lambda v: AnyValue(bytes_value=v), st.binary(max_size=8)),
        st.just(AnyValue()),
    ]
    if depth < 2:
        inner = _any_value(depth + 1)
        scalars.append(
            st.lists(inner, max_size=3).map(
                lambda vs: _with(AnyValue(), lambda a: a.array_value.values.extend(vs))
            )
        )
        scalars.append(
            st.lists(st.tuples(_TEXT, inner), max_size=3).map(
                lambda kvs: _with(
                    AnyValue(),
                    lambda a: a.kvlist_value.values.extend(
                        KeyValue(key=k, value=v) for k, v in kvs
                    ),
                )
            )
        )
    return st.one_of(*scalars)


def _with(message: AnyValue, fill: object) -> AnyValue:
    fill(message)  # type: ignore[operator]
    return message


_ATTRIBUTES = st.lists(
    st.one_of(
        st.builds(lambda k, v: KeyValue(key=k, value=v), _KEYS, _any_value()),
        st.builds(lambda k: KeyValue(key=k), _KEYS),  # no value at all
    ),
    max_size=6,
)
_TIMES = st.one_of(
    st.integers(0, 2**64 - 1), st.integers(1_700_000_000 * 10**9, 1_800_000_000 * 10**9)
)


@st.composite
def _ids(draw: st.DrawFn, size: int) -> bytes:
    return draw(
        st.one_of(
            st.binary(min_size=size, max_size=size),
            st.just(bytes(size)),  # all zero: invalid
            st.binary(max_size=size + 2),  # a wrong length, or none
            st.just(b"\xff" * size),
        )
    )


@st.composite
def _spans(draw: st.DrawFn) -> PbSpan:
    span = PbSpan(
        trace_id=draw(_ids(16)),
        span_id=draw(_ids(8)),
        parent_span_id=draw(st.binary(max_size=9)),
        trace_state=draw(_TEXT),
        name=draw(_TEXT),
        kind=draw(st.integers(-(2**31), 2**31 - 1) | st.integers(0, 7)),
        start_time_unix_nano=draw(_TIMES),
        end_time_unix_nano=draw(_TIMES),
        dropped_attributes_count=draw(st.integers(0, 3)),
        flags=draw(st.integers(0, 2**32 - 1)),
    )
    span.attributes.extend(draw(_ATTRIBUTES))
    if draw(st.booleans()):
        span.status.code = draw(st.integers(-(2**31), 2**31 - 1) | st.integers(0, 3))
        span.status.message = draw(_TEXT)
    for _ in range(draw(st.integers(0, 2))):
        event = span.events.add(time_unix_nano=draw(_TIMES), name=draw(_TEXT))
        event.attributes.extend(draw(_ATTRIBUTES))
    for _ in range(draw(st.integers(0, 2))):
        link = span.links.add(
            trace_id=draw(_ids(16)), span_id=draw(_ids(8)), trace_state=draw(_TEXT)
        )
        link.attributes.extend(draw(_ATTRIBUTES))
    return span


@st.composite
def _requests(draw: st.DrawFn) -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(0, 3))):
        rs = req.resource_spans.add()
        if draw(st.booleans()):
            rs.resource.attributes.extend(draw(_ATTRIBUTES))
            rs.resource.attributes.add(key="service.name").value.string_value = draw(_TEXT)
        rs.schema_url = draw(_TEXT)
        for _ in range(draw(st.integers(0, 2))):
            ss = rs.scope_spans.add()
            if draw(st.booleans()):
                ss.scope.name = draw(_TEXT)
                ss.scope.version = draw(_TEXT)
            ss.spans.extend(draw(st.lists(_spans(), max_size=5)))
    return req


def _has_duplicate_keys(req: ExportTraceServiceRequest) -> bool:
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                keys = [kv.key for kv in span.attributes]
                if len(keys) != len(set(keys)):
                    return True
    return False


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_requests())
def test_the_columnar_reader_reads_every_request_as_upb_does(
    req: ExportTraceServiceRequest,
) -> None:
    """Spans, rejections, the WAL record and the stored rows equal the object path's, for
    attributes of every AnyValue type, events, links, statuses, odd ids and times past int64."""
    body = req.SerializeToString()
    reference = spans_from_request(ExportTraceServiceRequest.FromString(body))
    scanned = scan(body)
    if scanned is None:
        # A dict keeps a repeated key once, in its first place: left to upb. Nothing else is.
        assert _has_duplicate_keys(req)
        return
    assert scanned.columns.spans() == reference.batch.spans
    assert (scanned.rejected, scanned.error_message) == (
        reference.rejected,
        reference.error_message,
    )
    batch = SpanBatch(columns=scanned.columns)
    replayed = decode_batch(encode_batch(batch))
    assert replayed.columns is not None
    assert replayed.spans == reference.batch.spans
    if len(batch):
        assert columns_table(replayed.columns).equals(spans_table(reference.batch.spans))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_requests(), st.integers(0, 3), st.integers(0, 6), st.integers(0, 2))
def test_span_limits_cut_columns_as_they_cut_spans(
    req: ExportTraceServiceRequest, most: int, longest: int, nested: int
) -> None:
    """Limits on a columnar batch keep it whole when nothing is over, and otherwise cut it to
    the spans and report the object path's cuts give."""
    body = req.SerializeToString()
    scanned = scan(body)
    if scanned is None:
        return
    limits = SpanLimits(
        max_attributes_per_span=most,
        max_attribute_value_length=longest,
        max_events_per_span=nested,
        max_links_per_span=nested,
    )
    reference = spans_from_request(ExportTraceServiceRequest.FromString(body)).batch
    got, report = limit_spans(SpanBatch(columns=scanned.columns), limits)
    want, want_report = limit_spans(reference, limits)
    assert got.spans == want.spans
    assert _cuts(report) == _cuts(want_report)


def _cuts(report: SpanLimitReport) -> tuple[int, int, int, int]:
    return (
        report.truncated_values,
        report.dropped_attributes,
        report.dropped_events,
        report.dropped_links,
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_requests(), st.data())
def test_damaged_bodies_are_left_to_upb_or_read_as_upb_reads_them(
    req: ExportTraceServiceRequest, data: st.DataObject
) -> None:
    """A body with a byte changed, cut short or with bytes inserted: where upb refuses it the
    columnar reader declines it (so the client gets upb's error); where upb reads it, the
    columnar reader reads the same spans or declines."""
    raw = damaged(req.SerializeToString(), data)
    try:
        reference = spans_from_request(ExportTraceServiceRequest.FromString(raw))
    except Exception:  # noqa: BLE001 - whatever upb refuses, the reader must decline
        assert scan(raw) is None
        return
    scanned = scan(raw)
    if scanned is not None:
        assert scanned.columns.spans() == reference.batch.spans
        assert scanned.rejected == reference.rejected


@given(st.binary(max_size=300))
def test_any_bytes_are_declined_or_read_as_upb_reads_them(raw: bytes) -> None:
    """Random bytes never crash the columnar reader."""
    scanned = scan(raw)
    if scanned is None:
        return
    reference = spans_from_request(ExportTraceServiceRequest.FromString(raw))
    assert scanned.columns.spans() == reference.batch.spans


def test_a_typical_export_is_read_into_columns() -> None:
    """What an SDK sends (service resource, scope, server/client spans with string and int
    attributes, an exception event) takes the columnar path, not upb's objects."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "api"
    ss = rs.scope_spans.add()
    ss.scope.name = "opentelemetry.instrumentation.fastapi"
    now = time.time_ns()
    for i in range(50):
        span = ss.spans.add(
            trace_id=bytes([1 + i % 7]) * 16,
            span_id=(i + 1).to_bytes(8, "big"),
            name="GET /items/{id}",
            kind=PbSpan.SPAN_KIND_SERVER,
            start_time_unix_nano=now,
            end_time_unix_nano=now + 1_500_000,
        )
        span.attributes.add(key="http.method").value.string_value = "GET"
        span.attributes.add(key="http.status_code").value.int_value = 200
        span.attributes.add(key="ratio").value.double_value = 0.25
        span.status.code = 2 if i % 10 == 0 else 0
        if i % 10 == 0:
            span.events.add(time_unix_nano=now, name="exception")
    body = req.SerializeToString()
    conversion = decode_otlp_traces(body, "application/x-protobuf")
    assert conversion.batch.columns is not None
    spans = conversion.batch.spans
    assert len(spans) == 50
    assert spans[0].attributes == {"http.method": "GET", "http.status_code": "200", "ratio": "0.25"}
    assert spans[0].status_code == "Error"
    assert spans[0].events[0].name == "exception"
    assert spans[1].kind == "Server"
    assert spans[1].duration_ns == 1_500_000
    assert spans[0].service_name == "api"


def test_a_malformed_body_still_gets_upbs_error() -> None:
    """The columnar reader declines a broken body; the decoder answers with upb's BadInput."""
    body = ExportTraceServiceRequest().SerializeToString() + b"\x0a\x05\x12"
    with pytest.raises(BadInput, match="malformed protobuf"):
        decode_otlp_traces(body, "application/x-protobuf")


def test_doubles_are_written_as_the_object_path_writes_them() -> None:
    """NaN, infinities, integers and exponents: the same text either way."""
    req = ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    values = [math.nan, math.inf, -math.inf, 3.0, 1e21, 1.5e-7, -0.0, 0.1]
    span = ss.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    for i, v in enumerate(values):
        span.attributes.add(key=f"d{i}").value.double_value = v
    body = req.SerializeToString()
    scanned = scan(body)
    assert scanned is not None
    reference = spans_from_request(ExportTraceServiceRequest.FromString(body))
    assert scanned.columns.spans() == reference.batch.spans
    assert scanned.columns.spans()[0].attributes["d0"] == "NaN"
