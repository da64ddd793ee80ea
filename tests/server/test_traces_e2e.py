"""Traces end to end on a real ``spyglass serve``: two services instrumented with the
OpenTelemetry Python SDK, on loopback, service A calling service B over HTTP with W3C trace
context propagation; A exports over OTLP/HTTP, B over OTLP/gRPC, and B is also instrumented
with ``sentry_sdk`` (its OTLP integration linking events to the current span), which captures
the exception B records. Jaeger's query API shows the whole trace (tree, attributes, status,
events), the services, operations and the A -> B dependency; the errors API shows B's grouped
issue with its event in that trace, and the trace's page links to the issue; after ``kill -9``
everything acknowledged reads back the same. Bad pushes (malformed protobuf, wrong-length ids,
giant attributes) get OTLP's answers and the server keeps serving."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace import Status as OtelStatus
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sentry_sdk.integrations.otlp import OTLPIntegration
from sentry_sdk.scope import remove_external_propagation_context
from tests.support.servers import free_port, spyglass, stop

PROPAGATOR = TraceContextTextMapPropagator()


class Acknowledged(SpanExporter):
    """Exports through ``inner`` and keeps each export's result: what the server acknowledged."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.results: list[SpanExportResult] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()


def provider(service: str, exporter: SpanExporter) -> TracerProvider:
    p = TracerProvider(resource=Resource.create({"service.name": service, "team": "payments"}))
    p.add_span_processor(SimpleSpanProcessor(exporter))
    return p


@pytest.fixture
def service_b() -> Iterator[tuple[str, list[TracerProvider]]]:
    """Service B: an HTTP server whose handler continues the caller's trace, records an
    exception and sets an error status. Its tracer provider is put in the list by the test."""
    providers: list[TracerProvider] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            tracer = providers[0].get_tracer("shop.payments", "2.1")
            ctx = PROPAGATOR.extract({k.lower(): v for k, v in self.headers.items()})
            with tracer.start_as_current_span(
                "GET /pay", context=ctx, kind=SpanKind.SERVER,
                attributes={"http.method": "GET", "http.route": "/pay"},
            ) as server_span, tracer.start_as_current_span("charge card") as charge:  # fmt: skip
                charge.set_attribute("payment.amount", 42.5)
                charge.set_attribute("payment.currency", "EUR")
                charge.add_event("card checked", {"card.brand": "visa"})
                try:
                    raise ValueError("card declined")
                except ValueError as exc:
                    charge.record_exception(exc)
                    charge.set_status(OtelStatus(StatusCode.ERROR, "card declined"))
                    sentry_sdk.capture_exception(exc)  # inside the span: the event names it
                server_span.set_attribute("http.status_code", 402)
            self.send_response(402)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", providers
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sentry() -> Iterator[Callable[[str], None]]:
    """``sentry_sdk.init`` for service B as its docs show it beside OpenTelemetry (the OTLP
    integration links each event to the current OpenTelemetry span; B's spans already go over
    OTLP, so it sets up no exporter of its own); the SDK is off again after the test."""

    def init(dsn: str) -> None:
        sentry_sdk.init(
            dsn=dsn,
            release="payments@2.1",
            environment="e2e",
            default_integrations=False,
            auto_enabling_integrations=False,
            integrations=[OTLPIntegration(setup_otlp_traces_exporter=False)],
        )
        # at start-up, for every thread: B's handlers run in threads of their own
        sentry_sdk.get_global_scope().set_tag("service", "payments")

    try:
        yield init
    finally:
        sentry_sdk.init()  # no DSN: the SDK is off again for the other tests
        sentry_sdk.get_global_scope().remove_tag("service")
        remove_external_propagation_context()


def get(url: str, path: str, **params: object) -> Any:
    r = httpx.get(url + path, params=params, timeout=30)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return r.json()


def test_two_instrumented_services_through_the_jaeger_api_and_a_kill_9(
    tmp_path: Path,
    service_b: tuple[str, list[TracerProvider]],
    sentry: Callable[[str], None],
) -> None:
    b_url, b_providers = service_b
    data = tmp_path / "data"
    grpc_port = free_port()
    args = ("--flush-interval", "1h", "--otlp-grpc-address", f"127.0.0.1:{grpc_port}")
    with spyglass(data, *args) as sg:
        a_export = Acknowledged(HttpExporter(endpoint=sg.url + "/v1/traces", timeout=30))
        b_export = Acknowledged(GrpcExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True,
                                             timeout=30))  # fmt: skip
        a = provider("checkout", a_export)
        b_providers.append(provider("payments", b_export))
        sentry(sg.url.replace("http://", "http://public@") + "/7")
        tracer = a.get_tracer("shop.checkout")
        began = time.time_ns()
        with tracer.start_as_current_span("GET /checkout", kind=SpanKind.SERVER) as root:
            root.set_attribute("http.route", "/checkout")
            root.set_attribute("user.tier", "gold")
            with tracer.start_as_current_span("GET /pay", kind=SpanKind.CLIENT) as call:
                call.set_attribute("peer.service", "payments")
                headers: dict[str, str] = {}
                PROPAGATOR.inject(headers)
                request = urllib.request.Request(b_url + "/pay", headers=headers)
                try:
                    urllib.request.urlopen(request, timeout=10)
                except urllib.error.HTTPError as exc:
                    call.set_attribute("http.status_code", exc.code)
        trace_id = f"{root.get_span_context().trace_id:032x}"
        for p in (a, b_providers[0]):
            assert p.force_flush(30_000)
        sentry_sdk.flush(timeout=30)
        # Every span was acknowledged, over HTTP and over gRPC.
        assert a_export.results == [SpanExportResult.SUCCESS] * 2
        assert b_export.results == [SpanExportResult.SUCCESS] * 2

        before = check_trace(sg.url, trace_id, began)  # /api/dependencies flushed these
        error = check_error(sg.url, trace_id, before)
        bad_input_keeps_the_server_serving(sg.url, trace_id)  # these stay in the WAL only
        giant = get(sg.url, "/api/traces/" + "03" * 16)
        for p in (a, b_providers[0]):
            p.shutdown()
        stop(sg, signal.SIGKILL)
    with spyglass(data, "--flush-interval", "1h") as sg:
        assert get(sg.url, f"/api/traces/{trace_id}") == before
        assert get(sg.url, "/api/traces/" + "03" * 16) == giant
        services = get(sg.url, "/api/services")["data"]
        assert services == ["bulk", "checkout", "legacy", "payments"]
        assert httpx.get(f"{sg.url}/api/errors/events/{error['eventID']}").json() == error
        assert "spyglass_wal_replayed_spans_total 2.0" in httpx.get(sg.url + "/metrics").text


def check_trace(url: str, trace_id: str, began: int) -> dict[str, Any]:
    """The trace through Jaeger's API: tree, attributes, status, events; services, operations,
    search and dependencies. Returns the trace as answered."""
    body = get(url, f"/api/traces/{trace_id}")
    (trace,) = body["data"]
    spans = {s["operationName"] + "@" + trace["processes"][s["processID"]]["serviceName"]: s
             for s in trace["spans"]}  # fmt: skip
    assert sorted(spans) == ["GET /checkout@checkout", "GET /pay@checkout", "GET /pay@payments",
                             "charge card@payments"]  # fmt: skip
    root = spans["GET /checkout@checkout"]
    call = spans["GET /pay@checkout"]
    served = spans["GET /pay@payments"]
    charge = spans["charge card@payments"]

    def parent(span: dict[str, Any]) -> str | None:
        refs = [r["spanID"] for r in span["references"] if r["refType"] == "CHILD_OF"]
        return refs[0] if refs else None

    def tags(span: dict[str, Any]) -> dict[str, Any]:
        return {t["key"]: t["value"] for t in span["tags"]}

    # The tree, across the HTTP call: propagation carried the trace into service B.
    assert parent(root) is None
    assert parent(call) == root["spanID"]
    assert parent(served) == call["spanID"]
    assert parent(charge) == served["spanID"]
    assert tags(root)["user.tier"] == "gold"
    assert tags(root)["span.kind"] == "server"
    assert tags(call)["span.kind"] == "client"
    assert tags(call)["http.status_code"] == "402"
    # B's error status, its custom attributes and events (the exception as OTel records it).
    charge_tags = tags(charge)
    assert charge_tags["error"] is True
    assert charge_tags["otel.status_code"] == "ERROR"
    assert charge_tags["otel.status_description"] == "card declined"
    assert charge_tags["payment.amount"] == "42.5"
    assert charge_tags["otel.scope.name"] == "shop.payments"
    assert charge_tags["otel.scope.version"] == "2.1"
    events = [{f["key"]: f["value"] for f in log["fields"]} for log in charge["logs"]]
    assert events[0] == {"event": "card checked", "card.brand": "visa"}
    assert events[1]["event"] == "exception"
    assert events[1]["exception.type"] == "ValueError"
    assert events[1]["exception.message"] == "card declined"
    assert "Traceback" in events[1]["exception.stacktrace"]
    process = trace["processes"][charge["processID"]]
    assert {"key": "team", "type": "string", "value": "payments"} in process["tags"]
    assert root["startTime"] >= began // 1000

    assert sorted(get(url, "/api/services")["data"]) == ["checkout", "payments"]
    assert get(url, "/api/services/payments/operations")["data"] == ["GET /pay", "charge card"]
    ops = get(url, "/api/operations", service="checkout", spanKind="client")["data"]
    assert ops == [{"name": "GET /pay", "spanKind": "client"}]
    found = get(url, "/api/traces", service="payments", tags=json.dumps({"error": "true"}),
                lookback="1h", limit=20)["data"]  # fmt: skip
    assert [t["traceID"] for t in found] == [trace_id]
    found = get(url, "/api/traces", service="checkout", minDuration="1h")["data"]
    assert found == []
    deps = get(url, "/api/dependencies", endTs=time.time_ns() // 1_000_000, lookback=3_600_000)
    assert deps["data"] == [{"parent": "checkout", "child": "payments", "callCount": 1}]
    return body


def check_error(url: str, trace_id: str, trace: dict[str, Any]) -> dict[str, Any]:
    """B's exception, as sentry_sdk sent it, through the errors API: one issue, grouped and
    counted, its event in the trace at the span that recorded the exception; the trace's page
    links to the issue. Returns the event as answered."""
    (issue,) = get(url, "/api/errors/issues")["issues"]
    assert issue["title"] == "ValueError: card declined"
    assert issue["culprit"].endswith(" in do_GET")
    assert (issue["count"], issue["status"], issue["projectId"]) == (1, "unresolved", "7")
    assert issue["firstRelease"] == issue["lastRelease"] == "payments@2.1"
    detail = get(url, f"/api/errors/issues/{issue['id']}")
    assert detail["services"] == [{"name": "payments", "count": 1}]
    assert detail["environments"] == [{"name": "e2e", "count": 1}]
    (event,) = get(url, f"/api/errors/issues/{issue['id']}/events")["events"]
    (charge,) = [s for s in trace["data"][0]["spans"] if s["operationName"] == "charge card"]
    assert (event["traceId"], event["spanId"]) == (trace_id, charge["spanID"])
    (raised,) = event["exceptions"]
    assert (raised["type"], raised["value"]) == ("ValueError", "card declined")
    assert raised["frames"][-1]["function"] == "do_GET"
    assert 'raise ValueError("card declined")' in raised["frames"][-1]["contextLine"]
    assert {"key": "service", "value": "payments"} in event["tags"]
    page = httpx.get(f"{url}/traces/{trace_id}")
    assert page.status_code == 200
    assert f'href="/errors/{issue["id"]}"' in page.text
    return dict(get(url, f"/api/errors/events/{event['eventID']}"))


def bad_input_keeps_the_server_serving(url: str, trace_id: str) -> None:
    pb = {"Content-Type": "application/x-protobuf"}
    r = httpx.post(url + "/v1/traces", content=b"\x0a\x05\xff\xff", headers=pb)
    assert r.status_code == 400
    assert Status.FromString(r.content).code == 3
    assert "malformed protobuf" in Status.FromString(r.content).message
    # A wrong-length trace id, and a span with a giant attribute: one left out, one cut.
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "bulk"
    spans = rs.scope_spans.add().spans
    short = spans.add()
    short.trace_id, short.span_id, short.name = b"\x01" * 8, b"\x02" * 8, "short id"
    giant = spans.add()
    giant.trace_id, giant.span_id, giant.name = b"\x03" * 16, b"\x04" * 8, "giant"
    giant.start_time_unix_nano = giant.end_time_unix_nano = time.time_ns()
    attr = giant.attributes.add()
    attr.key, attr.value.string_value = "blob", "x" * 5_000_000
    r = httpx.post(url + "/v1/traces", content=req.SerializeToString(), headers=pb, timeout=60)
    assert r.status_code == 200
    answer = ExportTraceServiceResponse.FromString(r.content)
    assert answer.partial_success.rejected_spans == 1
    assert "invalid trace id" in answer.partial_success.error_message
    assert "1 attribute values truncated" in answer.partial_success.error_message
    (stored,) = get(url, "/api/traces/" + "03" * 16)["data"][0]["spans"]
    assert {"key": "blob", "type": "string", "value": "x" * 16_384} in stored["tags"]
    # Zipkin reporters reach the same store.
    zipkin = [{"traceId": "00000000000000aa", "id": "00000000000000bb", "name": "legacy",
               "timestamp": time.time_ns() // 1000, "duration": 10,
               "localEndpoint": {"serviceName": "legacy"}}]  # fmt: skip
    assert httpx.post(url + "/api/v2/spans", json=zipkin).status_code == 202
    assert httpx.post(url + "/api/v2/spans", content=b"[{").status_code == 400
    assert get(url, "/api/traces/aa")["data"][0]["spans"][0]["operationName"] == "legacy"
    metrics = httpx.get(url + "/metrics").text
    assert "spyglass_traces_truncated_attribute_values_total 1.0" in metrics
    assert "spyglass_traces_rejected_spans_total 1.0" in metrics
    assert "spyglass_storage_spans_appended_total" in metrics
    # Still serving what it had.
    assert get(url, f"/api/traces/{trace_id}")["data"][0]["traceID"] == trace_id
