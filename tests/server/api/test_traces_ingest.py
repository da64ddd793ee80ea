"""Span pushes through the ASGI app: OTLP/HTTP traces (protobuf, JSON, gzip; partial success for
spans without valid ids and a warning when a span limit cut something; errors as
``google.rpc.Status``) and Zipkin v2 (202; plain-text errors); listeners see each stored batch."""

from __future__ import annotations

import gzip
import json

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.support.required import need_conformance

from spyglass.core.errors import Unavailable
from spyglass.core.limits import IngestLimits, SpanLimits
from spyglass.core.spans import SpanBatch
from spyglass.server.api.traces_ingest import SpanIntake, TracesIngestAPI
from spyglass.storage import MemorySpanStore

PB = {"Content-Type": "application/x-protobuf"}


def decode_status(body: bytes) -> tuple[int, str]:
    """The google.rpc.Status an OTLP exporter reads from an error response."""
    status = Status.FromString(body)
    return status.code, status.message


def make(
    store: object | None = None, limits: SpanLimits | None = None, **kw: object
) -> tuple[TestClient, MemorySpanStore, list[SpanBatch], SpanIntake]:
    memory = MemorySpanStore()
    seen: list[SpanBatch] = []
    intake = SpanIntake(store or memory, limits or SpanLimits(), [seen.append])  # type: ignore[arg-type]
    api = TracesIngestAPI(intake, IngestLimits(**kw))  # type: ignore[arg-type]
    return TestClient(Starlette(routes=api.routes())), memory, seen, intake


def request(*ids: tuple[bytes, bytes], attrs: dict[str, str] | None = None) -> bytes:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "checkout"
    ss = rs.scope_spans.add()
    for trace_id, span_id in ids:
        span = ss.spans.add()
        span.trace_id, span.span_id, span.name = trace_id, span_id, "GET /"
        span.start_time_unix_nano, span.end_time_unix_nano = 1_000, 5_000
        for k, v in (attrs or {}).items():
            a = span.attributes.add()
            a.key, a.value.string_value = k, v
    return req.SerializeToString()


GOOD = (bytes.fromhex("11" * 16), bytes.fromhex("22" * 8))


def test_otlp_protobuf_is_stored_and_listeners_see_it() -> None:
    client, store, seen, _ = make()
    r = client.post("/v1/traces", content=request(GOOD), headers=PB)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(r.content)
    assert not answer.HasField("partial_success")
    (span,) = store.trace("11" * 16)
    assert (span.service_name, span.name, span.duration_ns) == ("checkout", "GET /", 4_000)
    assert [len(b) for b in seen] == [1]


def test_otlp_json_example_and_gzip_on_the_collector_path() -> None:
    client, store, _, _ = make()
    example = need_conformance("otlp/trace.json", "opentelemetry-proto's example trace")
    r = client.post(
        "/otlp/v1/traces",
        content=gzip.compress(example.read_bytes()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {}
    (span,) = store.trace("5b8efff798038103d269b633813fc60c")
    assert (span.name, span.kind, span.parent_span_id) == (
        "I'm a server span",
        "Server",
        "eee19b7ec3c1b173",
    )


def test_spans_with_bad_ids_are_partial_success_the_rest_stored() -> None:
    """A wrong-length or zero id cannot be found again: left out and reported, as OTLP's
    partial success says, while the good spans of the request are stored."""
    client, store, _, intake = make()
    body = request(GOOD, (b"\x01\x02", bytes(8)), (bytes(16), bytes.fromhex("33" * 8)))
    r = client.post("/v1/traces", content=body, headers=PB)
    assert r.status_code == 200
    answer = ExportTraceServiceResponse.FromString(r.content)
    assert answer.partial_success.rejected_spans == 2
    assert "invalid trace id" in answer.partial_success.error_message
    assert len(store.trace("11" * 16)) == 1
    assert intake.counters.rejected_spans == 2


def test_giant_attributes_are_cut_to_the_limits_and_the_sender_told() -> None:
    client, store, _, intake = make(limits=SpanLimits(max_attributes_per_span=2,
                                                      max_attribute_value_length=10))  # fmt: skip
    attrs = {"big": "x" * 1_000_000, "b": "1", "c": "2"}
    r = client.post(
        "/v1/traces",
        content=json.dumps(
            {"resourceSpans": [{"scopeSpans": [{"spans": [{
                "traceId": "11" * 16, "spanId": "22" * 8, "name": "n",
                "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()],
            }]}]}]}
        ),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json() == {
        "partialSuccess": {
            "errorMessage": "span limits: 1 attribute values truncated, 1 attributes dropped"
        }
    }
    (span,) = store.trace("11" * 16)
    assert dict(span.attributes) == {"big": "x" * 10, "b": "1"}
    assert (intake.counters.truncated_values, intake.counters.dropped_attributes) == (1, 1)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"\xff\xff\xff", PB, 400),  # malformed protobuf
        (b"{", {"Content-Type": "application/json"}, 400),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}',
         {"Content-Type": "application/json"}, 400),  # not hex
        (b"x", {"Content-Type": "text/plain"}, 415),
        (b"x" * 2000, PB, 413),
    ],
)  # fmt: skip
def test_bad_otlp_requests_get_a_status_in_the_requests_encoding(
    body: bytes, headers: dict[str, str], status: int
) -> None:
    client, store, seen, _ = make(max_body_bytes=1000)
    r = client.post("/v1/traces", content=body, headers=headers)
    assert r.status_code == status
    if headers["Content-Type"] == "application/json":
        assert r.json()["code"] == 3
    else:
        code, message = decode_status(r.content)
        assert code == 3
        assert message
    assert store.services() == []
    assert seen == []
    assert client.get("/v1/traces").status_code == 405


def test_a_store_that_cannot_take_spans_answers_503_and_no_listener_runs() -> None:
    class Full:
        async def append(self, batch: SpanBatch) -> None:
            raise Unavailable("10000000 spans wait for storage")

    client, _, seen, _ = make(store=Full())
    r = client.post("/v1/traces", content=request(GOOD), headers=PB)
    assert r.status_code == 503
    assert decode_status(r.content)[0] == 14  # UNAVAILABLE: retry
    r = client.post("/api/v2/spans", json=[{"traceId": "1", "id": "2", "name": "x"}])
    assert r.status_code == 503
    assert seen == []


def test_a_failing_listener_does_not_fail_the_push() -> None:
    store = MemorySpanStore()

    def broken(batch: SpanBatch) -> None:
        raise RuntimeError("span metrics bug")

    intake = SpanIntake(store, SpanLimits(), [broken])
    client = TestClient(Starlette(routes=TracesIngestAPI(intake).routes()))
    r = client.post("/v1/traces", content=request(GOOD), headers=PB)
    assert r.status_code == 200
    assert len(store.trace("11" * 16)) == 1
    assert intake.counters.listener_failures == 1


def test_zipkin_v2_json_is_accepted_with_202() -> None:
    client, store, seen, _ = make()
    spans = [
        {"traceId": "5af7183fb1d4cf5f", "id": "352bff9a74ca9ad2", "name": "get /api",
         "kind": "SERVER", "timestamp": 1556604172355737, "duration": 1431,
         "localEndpoint": {"serviceName": "backend"}, "tags": {"error": "timeout"}},
    ]  # fmt: skip
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    r = client.post(
        "/api/v2/spans", content=gzip.compress(json.dumps(spans).encode()), headers=headers
    )
    assert r.status_code == 202
    assert r.content == b""
    (span,) = store.trace("0" * 16 + "5af7183fb1d4cf5f")
    assert (span.service_name, span.status_code, span.status_message) == (
        "backend",
        "Error",
        "timeout",
    )
    assert len(seen) == 1


def test_bad_zipkin_pushes_get_zipkins_plain_text_errors() -> None:
    client, store, _, _ = make()
    r = client.post("/api/v2/spans", content=b"[{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.text.startswith("Malformed reading List<Span> from json")
    r = client.post("/api/v2/spans", json=[{"traceId": "xyz", "id": "1"}])
    assert r.status_code == 400
    r = client.post(
        "/api/v2/spans", content=b"\x0a", headers={"Content-Type": "application/x-thrift"}
    )
    assert r.status_code == 415
    assert store.services() == []
