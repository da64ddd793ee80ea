"""Span values: the public names, and a span's end and a batch's order."""

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import spyglass.core.spans as spans
import spyglass.ingest.zipkin as zipkin
from spyglass.core.spans import Span, SpanBatch
from spyglass.ingest.otlp._traces_wire import scan


def test_public_names() -> None:
    assert sorted(spans.__all__) == [
        "MAX_TIME_NS",
        "SPAN_KINDS",
        "STATUS_CODES",
        "Span",
        "SpanBatch",
        "SpanColumns",
        "SpanEvent",
        "SpanLink",
        "Texts",
        "gather",
    ]
    assert zipkin.__all__ == ["decode_zipkin_spans"]


def test_end_and_concat() -> None:
    a = Span("1" * 32, "2" * 16, "a", start_ns=100, duration_ns=50)
    b = Span("1" * 32, "3" * 16, "b", start_ns=120, duration_ns=5)
    assert a.end_ns == 150
    joined = SpanBatch.concat([SpanBatch((a,)), SpanBatch((b,))])
    assert [s.name for s in joined] == ["a", "b"]
    assert len(joined) == 2


def _scanned(service: str, n: int, first: int) -> SpanBatch:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = service
    scope = rs.scope_spans.add()
    scope.scope.name = service + "-lib"
    for i in range(first, first + n):
        span = scope.spans.add(
            trace_id=(i + 1).to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"), name=f"op{i}"
        )
        span.attributes.add(key="i").value.int_value = i
        if i % 2:
            span.events.add(name="e", time_unix_nano=i)
            span.links.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    scanned = scan(req.SerializeToString())
    assert scanned is not None
    return SpanBatch(columns=scanned.columns)


def test_column_batches_concatenate_to_the_same_spans() -> None:
    """Resources, scopes, attributes, events and links keep pointing at their own spans."""
    parts = [_scanned("a", 3, 0), _scanned("b", 0, 10), _scanned("c", 4, 20)]
    joined = SpanBatch.concat(parts)
    assert joined.columns is not None
    assert joined.spans == tuple(s for p in parts for s in p.spans)
    assert [s.service_name for s in joined] == ["a"] * 3 + ["c"] * 4
    assert joined.spans[4].attributes == {"i": "21"}
    assert joined.spans[4].events[0].timestamp_ns == 21
    mixed = SpanBatch.concat([parts[0], SpanBatch(parts[2].spans)])
    assert mixed.columns is None
    assert mixed.spans == joined.spans
