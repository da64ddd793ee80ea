"""The fast path's set-up checks: with the installed OpenTelemetry the middleware makes new
roots' spans itself; when an OpenTelemetry internal it relies on is missing or behaves
otherwise, ``instrument()`` says so once and every request span goes through OpenTelemetry's
own Tracer, exporting the same spans."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable
from typing import Any

import opentelemetry.sdk.util
import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SynchronousMultiSpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.support.otlp import OtlpReceiver

from spyglass.sdk import current_request_id, instrument
from spyglass.sdk._otel_probe import fast_span_problems
from spyglass.sdk._tracing import TRACER_NAME, context_ops, server_span_class, setup_tracing

FALLBACK = "request spans go through OpenTelemetry's own Tracer"
CALLER = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[Any] = []

    def export(self, spans: Any) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _fallback_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("spyglass.sdk") and FALLBACK in r.getMessage()
    ]


def test_the_fast_path_is_taken_with_the_installed_opentelemetry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The fast path is what the benchmark's figures measure: with the OpenTelemetry releases
    the SDK allows, the checks find nothing and no warning is logged. (tests/sdk/
    test_otel_versions.py runs this test on the oldest and newest of them.)"""
    caplog.set_level(logging.INFO)
    provider = setup_tracing(
        "s", sample_ratio=0.1, exporter=Keep(), instrument_libraries=False, set_global=False
    )
    try:
        assert provider.spyglass_fast_root is not None
        resource = provider.resource
    finally:
        provider.shutdown()
    scope = InstrumentationScope(TRACER_NAME, "")
    assert fast_span_problems(server_span_class, resource, SpanLimits(), scope) == []
    assert _fallback_warnings(caplog) == []
    # The middleware's context calls are the ContextVar's own, not the API's.
    assert isinstance(getattr(context_ops().attach, "__self__", None), contextvars.ContextVar)


# Simulated releases whose internals differ from what the fast path relies on.


def _readable_span_grows_a_field(mp: pytest.MonkeyPatch) -> None:
    """ReadableSpan keeps a new private field (its properties may read it)."""
    original = ReadableSpan.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._flags = 0

    mp.setattr(ReadableSpan, "__init__", init)


def _bounded_list_moves(mp: pytest.MonkeyPatch) -> None:
    """BoundedList is no longer in opentelemetry.sdk.util."""
    mp.delattr(opentelemetry.sdk.util, "BoundedList")


def _on_start_renames_its_argument(mp: pytest.MonkeyPatch) -> None:
    """The processors' on_start takes the parent context under another name."""

    def on_start(self: Any, span: Any, context: Any = None) -> None:
        pass

    mp.setattr(SynchronousMultiSpanProcessor, "on_start", on_start)


def _ratio_sampler_reads_56_bits(mp: pytest.MonkeyPatch) -> None:
    """TraceIdRatioBased compares the trace ID's low 56 bits, as the threshold sampling of
    newer OpenTelemetry specifications does, not the 64 the fast path compares."""
    mp.setattr(TraceIdRatioBased, "TRACE_ID_LIMIT", (1 << 56) - 1)


BREAKAGES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "field": (_readable_span_grows_a_field, "ReadableSpan's fields changed (new: _flags"),
    "import": (_bounded_list_moves, "BoundedList"),
    "signature": (_on_start_renames_its_argument, "on_start cannot be called as before"),
    "sampler": (_ratio_sampler_reads_56_bits, "decides trace ID"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_changed_internals_send_request_spans_through_opentelemetrys_tracer(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """Each simulated change is found at set-up: no fast path, one warning naming what differs
    and the installed version; the provider is OpenTelemetry's, exporting as before."""
    breakage, reason = BREAKAGES[name]
    breakage(monkeypatch)
    caplog.set_level(logging.INFO)
    provider = setup_tracing(
        "s", sample_ratio=0.5, exporter=Keep(), instrument_libraries=False, set_global=False
    )
    try:
        assert provider.spyglass_fast_root is None
    finally:
        provider.shutdown()
    (warning,) = _fallback_warnings(caplog)
    assert reason in warning
    assert f"opentelemetry-sdk {_version('opentelemetry-sdk')} " in warning


def _version(distribution: str) -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version(distribution)


async def _ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _item(request: Any) -> PlainTextResponse:
    trace.get_current_span().set_attribute("app.item", int(request.path_params["id"]))
    trace.get_current_span().add_event("looked up", {"cache": "miss"})
    return PlainTextResponse("item")


async def _fail(request: Any) -> PlainTextResponse:
    raise RuntimeError("out of stock")


async def _busy(request: Any) -> PlainTextResponse:
    return PlainTextResponse("busy", status_code=503)


def _exported() -> tuple[list[dict[str, Any]], bool]:
    """What an instrumented app exports over OTLP/HTTP for the same five requests (a continued
    trace; new roots: one whose handler adds an attribute and an event, an exception, a 503, an
    unmatched path), with the IDs and times each run draws taken out; and whether the fast path
    was taken."""
    receiver = OtlpReceiver()
    app = Starlette(
        routes=[
            Route("/", _ok),
            Route("/items/{id}", _item),
            Route("/fail", _fail),
            Route("/busy", _busy),
        ]
    )
    inst = instrument(
        app, service="shop", otlp_endpoint=receiver.url, sample_ratio=1.0, logging=False,
        instrument_libraries=False,
    )  # fmt: skip
    fast = inst.tracer_provider.spyglass_fast_root is not None
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            for n, (path, headers) in enumerate(
                [("/", CALLER), ("/items/3", {}), ("/fail", {}), ("/busy", {}), ("/nowhere", {})]
            ):
                client.get(path, headers={"X-Request-ID": f"req-{n}", **headers})
        assert inst.force_flush()
    finally:
        inst.shutdown()
        receiver.close()
    spans = []
    for request in receiver.requests:
        for resource_spans in request.resource_spans:
            resource = MessageToDict(resource_spans.resource)
            for scope_spans in resource_spans.scope_spans:
                scope = MessageToDict(scope_spans.scope)
                for span in scope_spans.spans:
                    caller = span.parent_span_id == bytes.fromhex("b7ad6b7169203331")
                    assert caller or not span.parent_span_id
                    assert (span.trace_id.hex() == CALLER["traceparent"][3:35]) == caller
                    span.trace_id = span.span_id = span.parent_span_id = b""
                    span.start_time_unix_nano = span.end_time_unix_nano = 0
                    for event in span.events:
                        event.time_unix_nano = 0
                    view = MessageToDict(span)
                    view["attributes"] = sorted(view["attributes"], key=lambda a: a["key"])
                    spans.append({"resource": resource, "scope": scope, "caller": caller, **view})
    return sorted(spans, key=lambda s: json.dumps(s, sort_keys=True)), fast


@pytest.mark.parametrize("name", ["field", "import"])
def test_the_fall_back_exports_the_spans_the_fast_path_does(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """The same requests give the same exported spans (names, kinds, attributes, events,
    statuses, flags, resource, scope, who is whose parent) whichever path made them."""
    caplog.set_level(logging.INFO)
    fast_spans, fast = _exported()
    with monkeypatch.context() as mp:
        BREAKAGES[name][0](mp)
        fallback_spans, fallback_fast = _exported()
    assert (fast, fallback_fast) == (True, False)
    assert len(fast_spans) == 5
    assert {s["name"] for s in fast_spans} == {
        "GET /", "GET /items/{id}", "GET /fail", "GET /busy", "GET",
    }  # fmt: skip
    assert fallback_spans == fast_spans
    assert len(_fallback_warnings(caplog)) == 1  # once, at set-up: not per request


def test_a_changed_runtime_context_is_used_through_the_api(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A stock runtime context that keeps its ContextVar under another name is used through
    OpenTelemetry's API, with one warning; request IDs and spans work as before."""

    runtime = ContextVarsRuntimeContext()
    var = runtime.__dict__.pop("_current_context")
    monkeypatch.setattr(ContextVarsRuntimeContext, "attach", lambda self, ctx: var.set(ctx))
    monkeypatch.setattr(ContextVarsRuntimeContext, "get_current", lambda self: var.get())
    monkeypatch.setattr(ContextVarsRuntimeContext, "detach", lambda self, token: var.reset(token))
    monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", runtime)
    caplog.set_level(logging.INFO)
    seen: list[tuple[str | None, bool]] = []

    async def home(request: Any) -> PlainTextResponse:
        seen.append((current_request_id(), trace.get_current_span().is_recording()))
        return PlainTextResponse("ok")

    keep = Keep()
    app = Starlette(routes=[Route("/", home)])
    inst = instrument(
        app, service="s", span_exporter=keep, sample_ratio=1.0, logging=False,
        instrument_libraries=False,
    )  # fmt: skip
    try:
        with TestClient(app) as client:
            rid = client.get("/").headers["x-request-id"]
        inst.force_flush()
    finally:
        inst.shutdown()
    assert seen == [(rid, True)]
    assert [s.attributes["request.id"] for s in keep.spans] == [rid]
    warnings = [
        r.getMessage() for r in caplog.records if "keeps its current context" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "no _current_context ContextVar" in warnings[0]


@pytest.mark.parametrize(("queue", "batch"), [(None, 64), ("16", 16), ("not a number", 64)])
def test_the_batch_size_reads_the_queue_variable_without_opentelemetrys_private_helper(
    monkeypatch: pytest.MonkeyPatch, queue: str | None, batch: int
) -> None:
    """The batch size is kept within the queue's (OpenTelemetry refuses a batch larger than
    its queue); without BatchSpanProcessor's private helper the SDK reads OTEL_BSP_MAX_QUEUE_SIZE
    itself, as OpenTelemetry does, instead of failing the set-up."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    from spyglass.sdk._tracing import _export_batch_size  # noqa: PLC0415

    monkeypatch.delattr(BatchSpanProcessor, "_default_max_queue_size")
    monkeypatch.delenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", raising=False)
    if queue is None:
        monkeypatch.delenv("OTEL_BSP_MAX_QUEUE_SIZE", raising=False)
    else:
        monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", queue)
    assert _export_batch_size() == batch
