"""OTLP traces as the OpenTelemetry SDK exports them become spans with every field kept; a bad
body gets a clear error and spans without ids are counted as rejected, not stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from tests.support.required import need_conformance

from spyglass.core.errors import BadInput
from spyglass.core.spans import MAX_TIME_NS
from spyglass.ingest.otlp import decode_otlp_traces
from spyglass.storage.traces._codec import decode_batch, encode_batch

PROTOBUF = "application/x-protobuf"


def _sdk_body() -> bytes:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("shop.orders", "1.4")
    with tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.route", "/orders")
        root.set_attribute("http.status_code", 500)
        with tracer.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT) as child:
            child.add_event("retry", {"attempt": 2})
        try:
            raise ValueError("no stock")
        except ValueError as exc:
            root.record_exception(exc)
            root.set_status(Status(StatusCode.ERROR, "no stock"))
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def test_spans_from_the_real_sdk_keep_every_field() -> None:
    conversion = decode_otlp_traces(_sdk_body(), PROTOBUF)
    assert conversion.rejected == 0
    child, root = conversion.batch.spans
    assert (root.name, root.kind, root.service_name) == ("POST /orders", "Server", "checkout")
    assert (root.status_code, root.status_message) == ("Error", "no stock")
    assert root.attributes["http.status_code"] == "500"
    assert root.resource["service.name"] == "checkout"
    assert (root.scope_name, root.scope_version) == ("shop.orders", "1.4")
    assert root.events[0].name == "exception"
    assert root.events[0].attributes["exception.type"] == "ValueError"
    assert root.parent_span_id == ""
    assert child.parent_span_id == root.span_id
    assert child.trace_id == root.trace_id
    assert len(root.trace_id) == 32
    assert len(root.span_id) == 16
    assert child.kind == "Client"
    assert child.events[0].attributes == {"attempt": "2"}
    assert root.start_ns <= child.start_ns
    assert child.end_ns <= root.end_ns


def test_the_otlp_json_example_is_accepted() -> None:
    path = need_conformance("otlp/trace.json", "opentelemetry-proto's example trace request")
    conversion = decode_otlp_traces(path.read_bytes(), "application/json")
    [span] = conversion.batch.spans
    assert span.trace_id == "5b8efff798038103d269b633813fc60c"
    assert span.span_id == "eee19b7ec3c1b174"
    assert span.parent_span_id == "eee19b7ec3c1b173"
    assert (span.kind, span.service_name, span.duration_ns) == ("Server", "my.service", 10**9)
    assert span.attributes == {"my.span.attr": "some value"}


def test_spans_without_ids_are_rejected_and_counted() -> None:
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {"traceId": "", "spanId": "eee19b7ec3c1b174", "name": "a"},
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "",
                                "name": "b",
                            },
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "01",
                                "name": "c",
                            },
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "ok",
                            },
                        ]
                    }
                ]
            }
        ]
    }
    conversion = decode_otlp_traces(json.dumps(body).encode(), "application/json")
    assert [s.name for s in conversion.batch] == ["ok"]
    assert conversion.rejected == 3
    assert conversion.error_message == "span 'a' has an invalid trace id"


def test_times_past_int64_nanoseconds_are_cut_and_the_batch_still_encodes() -> None:
    """OTLP's times are unsigned 64-bit; one past 2262 is cut to the latest time Spyglass
    keeps, so the span is stored (its WAL record encodes) rather than failing the request."""
    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes([1] * 16), bytes([2] * 8), "far"
    span.start_time_unix_nano, span.end_time_unix_nano = 2**64 - 10, 2**64 - 1
    event = span.events.add()
    event.time_unix_nano, event.name = 2**64 - 1, "later"
    late = req.resource_spans[0].scope_spans[0].spans.add()
    late.trace_id, late.span_id, late.name = bytes([1] * 16), bytes([3] * 8), "ends late"
    late.start_time_unix_nano, late.end_time_unix_nano = 1_000, 2**64 - 1
    conversion = decode_otlp_traces(req.SerializeToString(), "application/x-protobuf")
    far, ends_late = conversion.batch.spans
    assert (far.start_ns, far.duration_ns) == (MAX_TIME_NS, 0)
    assert far.events[0].timestamp_ns == MAX_TIME_NS
    assert (ends_late.start_ns, ends_late.duration_ns) == (1_000, MAX_TIME_NS - 1_000)
    assert decode_batch(encode_batch(conversion.batch)) == conversion.batch


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"\xff\xff", PROTOBUF, "malformed protobuf"),
        (b"[]", "application/json", "must be an object"),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}',
            "application/json",
            "not hex",
        ),
        (b"{}", "text/plain", "unsupported content type"),
    ],
)
def test_bad_bodies_say_what_is_wrong(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        decode_otlp_traces(body, content_type)


@given(st.binary(max_size=200))
def test_any_protobuf_bytes_decode_or_fail_cleanly(body: bytes) -> None:
    try:
        decode_otlp_traces(body, PROTOBUF)
    except BadInput:
        return
