"""Tracing set-up: the SDK's shortcuts decide and describe exactly what OpenTelemetry would,
and sampling follows OpenTelemetry's OTEL_TRACES_SAMPLER variables unless code sets a ratio.

The middleware decides sampling for new root spans itself (``FastRoot``) and gives the
provider a resource whose hash is computed once; both must be indistinguishable from the
OpenTelemetry SDK's own ``TraceIdRatioBased`` sampler and ``Resource``.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import random
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Decision, TraceIdRatioBased
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.sdk.conftest import get_root_once, run
from tests.support.otlp import OtlpReceiver

from spyglass.sdk import current_request_id, get_logger, instrument
from spyglass.sdk._request_id import TRACE_CONTEXT_KEY
from spyglass.sdk._tracing import (
    FastRoot,
    _span_context_is_its_tuple,
    context_ops,
    root_ratio_from_env,
    setup_tracing,
)

ratios = st.one_of(st.sampled_from([0.0, 0.1, 0.5, 1.0]), st.floats(0.0, 1.0))
trace_ids = st.integers(min_value=1, max_value=(1 << 128) - 1)


@settings(max_examples=200)
@given(ratio=ratios, trace_id=trace_ids)
def test_fast_root_samples_what_trace_id_ratio_based_samples(ratio: float, trace_id: int) -> None:
    fast = FastRoot(ratio)
    sampled = (trace_id & ((1 << 64) - 1)) < fast.bound
    decision = TraceIdRatioBased(ratio).should_sample(None, trace_id, "GET /").decision
    assert sampled == (decision is Decision.RECORD_AND_SAMPLE)


def test_unsampled_root_span_draws_its_span_id_once_when_asked() -> None:
    drawn: list[int] = []

    def new_span_id() -> int:
        drawn.append(0xABC + len(drawn))
        return drawn[-1]

    span = FastRoot(0.0).unsampled_span(0x1234, new_span_id)
    assert drawn == []  # nothing asked yet: nothing drawn
    assert not span.is_recording()
    ctx = span.get_span_context()
    assert (ctx.trace_id, ctx.span_id, ctx.trace_flags.sampled, ctx.is_remote) == (
        0x1234,
        0xABC,
        False,
        False,
    )
    assert span.get_span_context() is ctx
    assert drawn == [0xABC]


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[object] = []

    def export(self, spans: object) -> SpanExportResult:
        self.spans.extend(spans)  # type: ignore[call-overload]
        return SpanExportResult.SUCCESS


def test_spans_carry_a_resource_equal_to_opentelemetrys_own() -> None:
    keep = Keep()
    provider = setup_tracing(
        "checkout", exporter=keep, instrument_libraries=False, set_global=False
    )
    try:
        provider.get_tracer("t").start_span("work").end()
        provider.force_flush()
    finally:
        provider.shutdown()
    (span,) = keep.spans
    expected = Resource.create({"service.name": "checkout"})
    resource = span.resource  # type: ignore[attr-defined]
    assert resource == expected
    assert hash(resource) == hash(expected)
    assert resource.attributes["service.name"] == "checkout"


def test_request_spans_share_one_scope_whichever_path_made_them(otlp: OtlpReceiver) -> None:
    """A sampled new root's span (made by the middleware) and a continued trace's (made by the
    SDK's Tracer), exported in one batch, are under one instrumentation scope, as two spans of
    one Tracer are."""

    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", home)])
    inst = instrument(
        app, service="s", otlp_endpoint=otlp.url, sample_ratio=1.0, logging=False,
        instrument_libraries=False,
    )  # fmt: skip
    assert inst.tracer_provider.spyglass_fast_root is not None  # new roots: the middleware's
    try:
        with TestClient(app) as client:
            client.get("/")
            client.get("/", headers=SAMPLED_PARENT)
        assert inst.force_flush()
    finally:
        inst.shutdown()
    (request,) = otlp.requests
    (resource_spans,) = request.resource_spans
    (scope_spans,) = resource_spans.scope_spans
    assert scope_spans.scope.name == "spyglass.sdk"
    assert len(scope_spans.spans) == 2


def test_an_apps_random_seed_does_not_make_span_ids_repeat() -> None:
    """Trace and span IDs come from the SDK's own generator, as request IDs do: an app that
    seeds ``random`` gets distinct IDs, and making spans leaves its ``random`` sequence alone."""
    provider = setup_tracing("ids", exporter=Keep(), instrument_libraries=False, set_global=False)
    tracer = provider.get_tracer("t")
    try:
        contexts = []
        for _ in range(2):
            random.seed(7)
            span = tracer.start_span("work")
            span.end()
            contexts.append(span.get_span_context())
            assert random.random() == random.Random(7).random()
    finally:
        provider.shutdown()
    first, second = contexts
    assert first.trace_id != second.trace_id
    assert first.span_id != second.span_id


def test_the_middlewares_context_operations_are_opentelemetrys_own_in_effect() -> None:
    """With OpenTelemetry's stock runtime context the middleware sets and resets the current
    context on its ContextVar directly; what it sets is what OpenTelemetry's API then reads
    (and current_request_id() the request ID), and a span put in a context keeps the context's
    other values."""
    ops = context_ops()
    # The direct path is taken: an OpenTelemetry release that changes its internals makes
    # this fail, rather than the middleware quietly taking the slower path.
    assert isinstance(getattr(ops.attach, "__self__", None), contextvars.ContextVar)
    span = trace.NonRecordingSpan(
        trace.SpanContext(1, 2, is_remote=False, trace_flags=trace.TraceFlags(1))
    )
    parent = otel_context.set_value("tenant", "acme")
    before = otel_context.get_current()
    assert ops.get() is before
    token = ops.attach(ops.request_context(span, parent, "req-1"))
    try:
        assert trace.get_current_span() is span
        assert otel_context.get_value("tenant") == "acme"
        assert current_request_id() == "req-1"
        assert ops.get() is otel_context.get_current()
    finally:
        ops.detach(token)
    assert otel_context.get_current() is before
    assert current_request_id() is None
    root = ops.request_context(span, otel_context.Context(), "req-2")
    assert trace.get_current_span(root) is span
    assert otel_context.get_value(TRACE_CONTEXT_KEY, root) == "req-2"


def test_a_sampled_server_spans_context_is_what_span_context_makes() -> None:
    """The middleware's sampled span makes its SpanContext without the constructor's checks
    (its IDs are drawn valid); with the installed OpenTelemetry that shortcut is taken, so a
    release that changes SpanContext's fields fails here, and the result is the same."""
    provider = setup_tracing(
        "s", sample_ratio=1.0, exporter=Keep(), instrument_libraries=False, set_global=False
    )
    try:
        fast = provider.spyglass_fast_root
        span = fast.server_span("GET /", 0xABC, 0xDEF, {}, otel_context.Context())
        made = span.get_span_context()
        expected = trace.SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=made.trace_flags)
        span.end()
    finally:
        provider.shutdown()
    assert _span_context_is_its_tuple(made.trace_flags)
    assert type(made) is trace.SpanContext
    assert made == expected
    assert (made.trace_id, made.span_id, made.is_remote, made.is_valid) == (
        0xABC,
        0xDEF,
        False,
        True,
    )
    assert made.trace_flags.sampled
    assert made.trace_state == expected.trace_state


def test_another_runtime_context_gets_opentelemetrys_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """A runtime context other than the stock one (OTEL_PYTHON_CONTEXT chooses it) is used
    through OpenTelemetry's API, whatever it keeps the context in."""

    class Recording(ContextVarsRuntimeContext):
        def __init__(self) -> None:
            super().__init__()
            self.attached: list[Any] = []

        def attach(self, context: Any) -> Any:
            self.attached.append(context)
            return super().attach(context)

    runtime = Recording()
    monkeypatch.setattr(otel_context, "_RUNTIME_CONTEXT", runtime)
    ops = context_ops()
    assert ops.attach is otel_context.attach
    ctx = ops.request_context(trace.INVALID_SPAN, otel_context.Context(), "req-1")
    token = ops.attach(ctx)
    try:
        assert current_request_id() == "req-1"
    finally:
        ops.detach(token)
    assert runtime.attached == [ctx]


SAMPLED_PARENT = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
UNSAMPLED_PARENT = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}


def _serve(headers: dict[str, str], count: int, **options: Any) -> tuple[list[Any], Any, Any]:
    """(spans, instrumentation, last response) of ``count`` requests with ``headers`` to an
    instrumented one-route app whose handler logs "handled"."""
    log = get_logger("t")

    async def home(request: Any) -> PlainTextResponse:
        log.info("handled")
        return PlainTextResponse("ok")

    keep = Keep()
    app = Starlette(routes=[Route("/", home)])
    options = {"logging": False, **options}
    inst = instrument(app, service="s", span_exporter=keep, instrument_libraries=False, **options)
    try:
        with TestClient(app) as client:
            for _ in range(count):
                response = client.get("/", headers=headers)
                assert response.status_code == 200
        inst.force_flush()
    finally:
        inst.shutdown()
    return keep.spans, inst, response


def _server_spans(headers: dict[str, str], **options: Any) -> list[Any]:
    """Spans an instrumented app records for 20 requests with ``headers``."""
    return _serve(headers, 20, **options)[0]


@pytest.mark.parametrize(
    ("env", "headers", "expected"),
    [
        ({}, {}, 20),  # OpenTelemetry's default: parentbased_always_on
        ({}, UNSAMPLED_PARENT, 0),
        ({"OTEL_TRACES_SAMPLER": "always_off"}, SAMPLED_PARENT, 0),
        ({"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, {}, 0),
        ({"OTEL_TRACES_SAMPLER": "parentbased_always_off"}, SAMPLED_PARENT, 20),
        ({"OTEL_TRACES_SAMPLER": "always_on"}, UNSAMPLED_PARENT, 20),
        ({"OTEL_TRACES_SAMPLER": "PARENTBASED_TRACEIDRATIO",
          "OTEL_TRACES_SAMPLER_ARG": "0"}, {}, 0),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
          "OTEL_TRACES_SAMPLER_ARG": "0"}, SAMPLED_PARENT, 20),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"},
         SAMPLED_PARENT, 0),
        # What OpenTelemetry's SDK does with a bad argument: sample everything (a number out of
        # range made releases before 1.45 raise instead; the SDK samples everything there too).
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, {}, 20),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, {}, 20),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
          "OTEL_TRACES_SAMPLER_ARG": "-1"}, {}, 20),
        ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
          "OTEL_TRACES_SAMPLER_ARG": "nan"}, UNSAMPLED_PARENT, 0),
    ],
)  # fmt: skip
def test_sampling_follows_the_otel_traces_sampler_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], headers: dict[str, str], expected: int
) -> None:
    for name in ("OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spans = _server_spans(headers)
    assert len(spans) == expected
    if headers == SAMPLED_PARENT and expected:
        # Children of the caller's span, in the caller's trace.
        assert {s.context.trace_id for s in spans} == {0x0AF7651916CD43DD8448EB211C80319C}
        assert {s.parent.span_id for s in spans} == {0xB7AD6B7169203331}


def test_a_sample_ratio_in_code_wins_over_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    assert len(_server_spans({}, sample_ratio=1.0)) == 20
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    assert _server_spans({}, sample_ratio=0.0) == []


_SAMPLERS = st.sampled_from(
    ["always_on", "always_off", "parentbased_always_on", "parentbased_always_off",
     "traceidratio", "parentbased_traceidratio", "TraceIdRatio", "jaeger_remote", ""]
)  # fmt: skip
_ARGS = st.one_of(
    st.none(), st.sampled_from(["0", "1", "0.25", "-1", "1.5", "nan", "half", ""]),
    st.floats(0.0, 1.0).map(repr),
)  # fmt: skip


@settings(max_examples=200)
@given(name=_SAMPLERS, arg=_ARGS, trace_id=trace_ids)
def test_root_decision_from_the_variables_matches_opentelemetrys_sampler(
    name: str, arg: str | None, trace_id: int
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OTEL_TRACES_SAMPLER", name)
        if arg is None:
            mp.delenv("OTEL_TRACES_SAMPLER_ARG", raising=False)
        else:
            mp.setenv("OTEL_TRACES_SAMPLER_ARG", arg)
        fast = FastRoot(root_ratio_from_env())
        try:
            sdk_sampler = TracerProvider().sampler  # reads the same variables
        except ValueError:
            # Releases before 1.45 refuse a ratio outside [0, 1] (1.45 samples every trace, as
            # the SDK does on every release: see the parametrized test above).
            assert name.lower() in ("traceidratio", "parentbased_traceidratio")
            assert arg is not None
            assert not 0.0 <= float(arg) <= 1.0
            sdk_sampler = ALWAYS_ON
    sampled = (trace_id & ((1 << 64) - 1)) < fast.bound
    decision = sdk_sampler.should_sample(None, trace_id, "GET /").decision
    assert sampled == (decision is Decision.RECORD_AND_SAMPLE), (name, arg)


def test_otel_sdk_disabled_turns_tracing_off_trace_context_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    stream = io.StringIO()
    spans, inst, r = _serve(SAMPLED_PARENT, 1, sample_ratio=0.0, log_stream=stream, logging=True)
    assert spans == []
    [line] = [json.loads(x) for x in stream.getvalue().splitlines() if '"handled"' in x]
    assert line["request_id"] == r.headers["x-request-id"]
    assert "trace_id" not in line
    assert "span_id" not in line
    assert inst.tracer_provider is None


@pytest.mark.parametrize(
    "variable", ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"]
)
def test_the_export_timeout_variables_are_honoured(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A collector that accepts connections and never answers holds a flush for the timeout the
    OpenTelemetry variable sets (seconds, as OpenTelemetry's Python exporter reads it), not for
    the SDK's own default of 5 s. The margin is wide on purpose: this pins which timeout
    applies, not how fast anything runs."""
    monkeypatch.setenv(variable, "0.3")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshakes; nobody ever reads or answers
        port = silent.getsockname()[1]
        provider = setup_tracing(
            "slow-collector",
            endpoint=f"http://127.0.0.1:{port}",
            sample_ratio=1.0,
            instrument_libraries=False,
            set_global=False,
        )
        try:
            provider.get_tracer("t").start_span("work").end()
            started = time.monotonic()
            flushed = provider.force_flush(timeout_millis=20_000)
            waited = time.monotonic() - started
        finally:
            provider.shutdown()
    assert flushed  # the batch was handed over and given up on, not still pending
    assert waited < 3.0, f"flush waited {waited:.1f} s: the variable's 0.3 s was not used"


def _serve_traced(
    home: Any,
    route: str,
    provider: list[Any],
    *,
    sample_ratio: float,
    path: str = "/",
    count: int = 1,
    status: int = 200,
) -> list[Any]:
    """The spans exported for ``count`` GETs of ``path`` (each answered ``status``) to an
    instrumented app whose one ``route`` is served by ``home``; ``provider`` gets the app's
    tracer provider before the first request, so the handler can make spans of its own."""
    keep = Keep()
    app = Starlette(routes=[Route(route, home)])
    inst = instrument(
        app, service="s", span_exporter=keep, instrument_libraries=False, logging=False,
        sample_ratio=sample_ratio,
    )  # fmt: skip
    provider.append(inst.tracer_provider)
    try:
        with TestClient(app) as client:
            for _ in range(count):
                assert client.get(path).status_code == status
        inst.force_flush()
    finally:
        inst.shutdown()
    return keep.spans


def test_unsampled_requests_have_a_current_span_children_follow() -> None:
    """An unsampled request's handler sees a valid, unsampled current span of its own trace,
    which the handler's own spans join unsampled."""
    from opentelemetry import trace  # noqa: PLC0415

    seen: list[tuple[Any, Any]] = []
    provider: list[Any] = []

    async def home(request: Any) -> PlainTextResponse:
        current = trace.get_current_span().get_span_context()
        child = provider[0].get_tracer("app").start_span("work")
        child.end()
        seen.append((current, child))
        return PlainTextResponse("ok")

    assert _serve_traced(home, "/", provider, sample_ratio=0.0, count=5) == []
    assert len({current.trace_id for current, _ in seen}) == 5
    # The flags the SDK gives an unsampled new root: "random" set where it knows that flag.
    sdk_root = TracerProvider(sampler=ALWAYS_OFF).get_tracer("t").start_span("root")
    for current, child in seen:
        assert current.is_valid
        assert not current.trace_flags.sampled
        assert current.trace_flags == sdk_root.get_span_context().trace_flags
        assert not child.is_recording()
        assert child.get_span_context().trace_id == current.trace_id


@pytest.mark.parametrize(
    ("ratio", "headers"), [(0.0, {}), (1.0, {}), (1.0, SAMPLED_PARENT), (0.0, UNSAMPLED_PARENT)]
)
def test_the_request_id_stays_current_in_the_applications_own_spans(
    ratio: float, headers: dict[str, str]
) -> None:
    """With tracing on, the request ID is kept in OpenTelemetry's context beside the request's
    span: the handler's own spans and baggage, and a plain function run in the thread pool,
    still see the ID the response echoes."""
    from opentelemetry import baggage  # noqa: PLC0415

    seen: dict[str, list[str | None]] = {"async": [], "sync": []}
    provider: list[Any] = []

    async def home(request: Any) -> PlainTextResponse:
        seen["async"].append(current_request_id())
        with provider[0].get_tracer("app").start_as_current_span("work"):
            seen["async"].append(current_request_id())
            token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
            try:
                seen["async"].append(current_request_id())
            finally:
                otel_context.detach(token)
        return PlainTextResponse("ok")

    def home_sync(request: Any) -> PlainTextResponse:
        seen["sync"].append(current_request_id())
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", home), Route("/sync", home_sync)])
    inst = instrument(
        app, service="s", span_exporter=Keep(), instrument_libraries=False, logging=False,
        sample_ratio=ratio,
    )  # fmt: skip
    provider.append(inst.tracer_provider)
    try:
        with TestClient(app) as client:
            echoed = [client.get("/", headers=headers).headers["x-request-id"]]
            echoed.append(client.get("/sync", headers=headers).headers["x-request-id"])
    finally:
        inst.shutdown()
    assert seen["async"] == [echoed[0]] * 3
    assert seen["sync"] == [echoed[1]]
    assert current_request_id() is None


def test_a_context_extracted_from_a_carrier_keeps_the_request_id_only_when_derived() -> None:
    """What docs/sdk.md says of code that continues a trace from a carrier inside a request:
    a context extracted on its own hides the request ID until detached, one extracted into
    the current context keeps it."""
    from opentelemetry import propagate  # noqa: PLC0415

    ops = context_ops()
    token = ops.attach(ops.request_context(trace.INVALID_SPAN, otel_context.Context(), "rid-1"))
    try:
        for context, expected in ((None, None), (otel_context.get_current(), "rid-1")):
            inner = otel_context.attach(propagate.extract(SAMPLED_PARENT, context=context))
            try:
                assert current_request_id() == expected
                assert trace.get_current_span().get_span_context().trace_id == int(
                    SAMPLED_PARENT["traceparent"].split("-")[1], 16
                )
            finally:
                otel_context.detach(inner)
            assert current_request_id() == "rid-1"
    finally:
        ops.detach(token)


def test_a_request_whose_span_cannot_be_made_keeps_its_request_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When making the request's span fails, the request is served without one and its ID is
    kept in a context variable of its own instead."""
    import spyglass.sdk._tracing as tracing_module  # noqa: PLC0415

    def broken_span_class() -> Any:
        def make(trace_id: int, new_span_id: Any) -> Any:
            raise RuntimeError("no span today")

        return make

    monkeypatch.setattr(tracing_module, "_unsampled_span_class", broken_span_class)
    seen: list[tuple[str | None, bool]] = []

    async def home(request: Any) -> PlainTextResponse:
        seen.append((current_request_id(), trace.get_current_span().get_span_context().is_valid))
        return PlainTextResponse("ok")

    response = get_root_once(home, span_exporter=Keep(), sample_ratio=0.0)
    assert response.status_code == 200
    assert seen == [(response.headers["x-request-id"], False)]
    assert "starting a span failed" in caplog.text
    assert current_request_id() is None


def _get_root() -> dict[str, Any]:
    """The ASGI scope of ``GET /`` from a client on loopback."""
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"t")], "client": ("127.0.0.1", 5), "server": ("127.0.0.1", 80),
    }  # fmt: skip


async def _empty_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_what_the_server_schedules_as_a_response_ends_does_not_keep_the_request(
    ratio: float,
) -> None:
    """While the server sends a response's last body message it runs outside the request's
    context: a timer it schedules then (uvicorn's keep-alive timer copies the current context
    and keeps it for seconds) neither logs under the finished request's IDs nor keeps its span
    and trace context alive. The handler before and a background task after still see both."""
    from opentelemetry import context as otel_context  # noqa: PLC0415
    from opentelemetry import trace  # noqa: PLC0415
    from starlette.background import BackgroundTask  # noqa: PLC0415

    def ids() -> tuple[str | None, int]:
        return current_request_id(), trace.get_current_span().get_span_context().trace_id

    seen: dict[str, tuple[str | None, int]] = {}

    async def home(request: Any) -> PlainTextResponse:
        seen["handler"] = ids()
        return PlainTextResponse("ok", background=BackgroundTask(lambda: seen.update(after=ids())))

    app = Starlette(routes=[Route("/", home)])
    inst = instrument(
        app, service="s", span_exporter=Keep(), instrument_libraries=False, logging=False,
        sample_ratio=ratio,
    )  # fmt: skip
    kept: list[Any] = []
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            kept.append(contextvars.copy_context())  # what loop.call_later() keeps

    scope = _get_root()
    try:
        run(inst.app(scope, _empty_body, send))
    finally:
        inst.shutdown()
    request_id, trace_id = seen["handler"]
    assert request_id is not None
    assert trace_id != 0
    assert seen["after"] == (request_id, trace_id)
    assert dict(sent[0]["headers"])[b"x-request-id"] == request_id.encode()
    (timer_context,) = kept
    assert timer_context.run(ids) == (None, 0)
    assert timer_context.run(otel_context.get_current) == {}


def test_an_outer_middlewares_span_is_current_while_the_last_message_is_sent() -> None:
    """Around an outer tracing middleware (OpenTelemetry's own ASGI one, say) the request's
    span is a child of the outer span, and the last body message is sent under the outer
    span again, not under none: what the outer middleware does while sending stays in its
    trace."""
    from opentelemetry import context as otel_context  # noqa: PLC0415
    from opentelemetry import trace  # noqa: PLC0415

    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    keep = Keep()
    app = Starlette(routes=[Route("/", home)])
    inst = instrument(
        app, service="s", span_exporter=keep, instrument_libraries=False, logging=False,
        sample_ratio=1.0,
    )  # fmt: skip
    outer_span = trace.NonRecordingSpan(
        trace.SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=trace.TraceFlags(1))
    )
    current_at_send: list[trace.SpanContext] = []

    async def send(message: dict[str, Any]) -> None:
        current_at_send.append(trace.get_current_span().get_span_context())

    async def outer_middleware() -> None:
        token = otel_context.attach(trace.set_span_in_context(outer_span))
        try:
            await inst.app(scope, _empty_body, send)
            assert trace.get_current_span() is outer_span
        finally:
            otel_context.detach(token)

    scope = _get_root()
    try:
        run(outer_middleware())
        inst.force_flush()
    finally:
        inst.shutdown()
    (request_span,) = keep.spans
    assert request_span.parent.span_id == 0xDEF
    start, last = current_at_send
    assert start.span_id == request_span.context.span_id
    assert last.span_id == 0xDEF


def test_a_response_sent_from_another_task_is_served_and_leaves_the_context_clean(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An app that sends its response from a task of its own (the request's context copied)
    is served whole; the middleware's context is restored without an error logged."""
    from opentelemetry import trace  # noqa: PLC0415

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return

        async def respond() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            await send({"type": "http.response.body", "body": b"b"})

        await asyncio.create_task(respond())

    inst = instrument(app, service="s", span_exporter=Keep(), instrument_libraries=False,
                      logging=False)  # fmt: skip
    try:
        response = TestClient(inst.app).get("/")  # not entered: this app has no lifespan
    finally:
        inst.shutdown()
    assert response.status_code == 200
    assert response.text == "ab"
    assert current_request_id() is None
    assert not trace.get_current_span().get_span_context().is_valid
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


# -- the middleware's own server span against the SDK's --------------------------------------

attribute_keys = st.sampled_from(["a", "b", "c", "http.route", ""])
attribute_values = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.binary(max_size=8),
    st.lists(st.integers(0, 9), max_size=3),
    st.lists(st.text(max_size=3), max_size=3),
    st.none(),
    st.just({"not": "allowed"}),
)
attribute_maps = st.dictionaries(attribute_keys, attribute_values, max_size=4)
span_operations = st.lists(
    st.one_of(
        st.tuples(st.just("set_attribute"), attribute_keys, attribute_values),
        st.tuples(st.just("set_attributes"), attribute_maps),
        st.tuples(st.just("add_event"), st.sampled_from(["e", "f"]), attribute_maps,
                  st.sampled_from([None, 1_700_000_000_000_000_000])),
        st.tuples(st.just("add_link"), st.integers(0, 2), attribute_maps),
        st.tuples(st.just("set_status"), st.sampled_from(["ERROR", "OK", "UNSET"]),
                  st.sampled_from([None, "why"]), st.booleans()),
        st.tuples(st.just("update_name"), st.sampled_from(["renamed", "GET /x"])),
        st.tuples(st.just("record_exception"), st.sampled_from(["boom", ""]), attribute_maps),
        st.tuples(st.just("end")),
    ),
    max_size=12,
)  # fmt: skip


def _apply(span: Any, operations: list[Any], error: BaseException) -> None:
    from opentelemetry import trace  # noqa: PLC0415

    for op, *args in operations:
        if op == "set_attribute":
            span.set_attribute(*args)
        elif op == "set_attributes":
            span.set_attributes(args[0])
        elif op == "add_event":
            span.add_event(args[0], args[1], args[2])
        elif op == "add_link":
            context = trace.SpanContext(0x77, 0x88 + args[0], is_remote=True) if args[0] else None
            span.add_link(context, args[1])  # a link without a valid context is ignored
        elif op == "set_status":
            code = trace.StatusCode[args[0]]
            if args[2]:
                span.set_status(trace.Status(code, args[1]))
            else:
                span.set_status(code, args[1])
        elif op == "update_name":
            span.update_name(args[0])
        elif op == "record_exception":
            span.record_exception(error, args[1])
        else:
            span.end(end_time=1_800_000_000_000_000_000)
    span.end(end_time=1_800_000_000_000_000_000)


@settings(max_examples=150, deadline=None)
@given(
    # The middleware's own attributes: valid keys, string values.
    initial=attribute_maps.map(lambda m: {k: v for k, v in m.items() if k and isinstance(v, str)}),
    operations=span_operations,
    max_attributes=st.sampled_from([2, 128, None]),  # None: no limit
    max_length=st.sampled_from([None, 3]),
    max_events=st.sampled_from([1, 128]),
)
def test_the_middlewares_server_span_exports_what_the_sdks_span_would(
    initial: dict[str, Any],
    operations: list[Any],
    max_attributes: int | None,
    max_length: int | None,
    max_events: int,
) -> None:
    """Whatever an application does to the request's span (attributes of any type, valid or
    not, events, links, statuses, renames, exceptions, calls after the end), under any span
    limits, the span the middleware makes for a sampled new root reaches processors and
    encodes to OTLP exactly as the SDK's own span from the same calls would (start times and
    times the SDK draws itself aside)."""
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import (  # noqa: PLC0415
        encode_spans,
    )
    from opentelemetry.sdk.trace import SpanLimits, SynchronousMultiSpanProcessor  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: PLC0415
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope  # noqa: PLC0415

    from spyglass.sdk._tracing import TRACER_NAME, server_span_class  # noqa: PLC0415

    limits = SpanLimits(
        max_span_attributes=SpanLimits.UNSET if max_attributes is None else max_attributes,
        max_span_attribute_length=max_length,
        max_events=max_events, max_links=1, max_event_attributes=2, max_link_attributes=2,
        max_attribute_length=max_length,
    )  # fmt: skip
    resource = Resource.create({"service.name": "s"})
    error = ValueError("bad")
    try:
        raise error
    except ValueError:
        pass  # give it a traceback

    class Ids:
        def generate_trace_id(self) -> int:
            return 0xABC

        def generate_span_id(self) -> int:
            return 0xDEF

        def is_trace_id_random(self) -> bool:
            return True  # as the SDK's own generator says

    theirs, ours = Keep(), Keep()
    provider = TracerProvider(resource=resource, span_limits=limits, id_generator=Ids())  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(theirs))
    sdk_span = provider.get_tracer(TRACER_NAME).start_span(
        "GET /", kind=trace.SpanKind.SERVER, attributes=dict(initial)
    )
    processors = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
    processors.add_span_processor(SimpleSpanProcessor(ours))
    server_span = server_span_class(processors, resource, limits, InstrumentationScope(TRACER_NAME))
    own_span = server_span("GET /", 0xABC, 0xDEF, dict(initial), None)
    _apply(sdk_span, operations, error)
    _apply(own_span, operations, error)

    def encoded(spans: list[Any]) -> Any:
        request = encode_spans(spans)
        for span in request.resource_spans[0].scope_spans[0].spans:
            span.start_time_unix_nano = 0
            for event in span.events:
                if event.time_unix_nano != 1_700_000_000_000_000_000:
                    event.time_unix_nano = 0  # drawn by each span itself
        return request

    assert len(theirs.spans) == len(ours.spans) == 1
    assert encoded(ours.spans) == encoded(theirs.spans)
    mine, sdks = ours.spans[0], theirs.spans[0]
    assert (mine.dropped_attributes, mine.dropped_events, mine.dropped_links) == (
        sdks.dropped_attributes, sdks.dropped_events, sdks.dropped_links,
    )  # fmt: skip
    assert not own_span.is_recording()


def test_a_sampled_request_span_takes_the_applications_additions() -> None:
    """The handler's own additions to the sampled request span (an attribute, an event, a
    child span) arrive with it over the pipeline, and an error status from a 500 sticks."""
    from opentelemetry import trace  # noqa: PLC0415

    provider: list[Any] = []

    async def home(request: Any) -> PlainTextResponse:
        span = trace.get_current_span()
        span.set_attribute("app.user", "ann")
        span.add_event("cache miss", {"key": "k"})
        with provider[0].get_tracer("app").start_as_current_span("work"):
            pass
        return PlainTextResponse("no", status_code=503)

    spans = _serve_traced(
        home, "/items/{id}", provider, sample_ratio=1.0, path="/items/3", status=503
    )
    by_name = {span.name: span for span in spans}
    server, child = by_name["GET /items/{id}"], by_name["work"]
    assert server.kind is trace.SpanKind.SERVER
    assert server.parent is None
    assert child.parent.span_id == server.context.span_id
    assert child.context.trace_id == server.context.trace_id
    assert server.attributes["app.user"] == "ann"
    assert server.attributes["http.route"] == "/items/{id}"
    assert server.attributes["http.response.status_code"] == 503
    assert server.attributes["error.type"] == "503"
    assert server.status.status_code is trace.StatusCode.ERROR
    assert [(e.name, dict(e.attributes)) for e in server.events] == [("cache miss", {"key": "k"})]
    assert server.resource.attributes["service.name"] == "s"
    assert server.instrumentation_scope.name == "spyglass.sdk"
    assert server.start_time <= child.start_time <= child.end_time <= server.end_time


# A forked worker (a prefork server that loaded the app first) makes a sampled request; the
# resource of its span, the SDK Tracer's spans' and the provider's are printed as JSON.
_FORKED_WORKER = r"""
import asyncio, json, os
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from spyglass.sdk import instrument

class Keep(SpanExporter):
    def __init__(self):
        self.spans = []
    def export(self, spans):
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

async def home(request):
    return PlainTextResponse("ok")

keep = Keep()
app = Starlette(routes=[Route("/", home)])
inst = instrument(app, service="forked", span_exporter=keep, sample_ratio=1.0, logging=False,
                  instrument_libraries=False)
provider = inst.tracer_provider
before = dict(provider.resource.attributes)
pid = os.fork()
if pid:
    _, status = os.waitpid(pid, 0)
    raise SystemExit(os.waitstatus_to_exitcode(status))

async def get_root():
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/", "raw_path": b"/",
             "query_string": b"", "root_path": "", "headers": [(b"host", b"t")],
             "client": ("127.0.0.1", 5), "server": ("127.0.0.1", 80)}
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)
    return sent[0]["status"]

status = asyncio.run(get_root())
provider.get_tracer("t").start_span("work").end()
inst.force_flush()
spans = {span.name: span for span in keep.spans}
print(json.dumps({
    "status": status,
    "fast": provider.spyglass_fast_root is not None,
    "parent": before,
    "child": dict(provider.resource.attributes),
    "request_span": dict(spans["GET /"].resource.attributes),
    "tracer_span": dict(spans["work"].resource.attributes),
}))
inst.shutdown()
os._exit(0)
"""


def test_a_forked_workers_request_spans_carry_the_providers_resource() -> None:
    """In a worker forked after instrument() ran, the middleware's own spans carry the resource
    the provider has there, as the Tracer's spans do (OpenTelemetry 1.45 gives the child a new
    ``service.instance.id``; 1.27 keeps the parent's resource, and so do both kinds of span)."""
    out = subprocess.run(
        [sys.executable, "-c", _FORKED_WORKER],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["status"] == 200
    assert seen["fast"]
    assert seen["request_span"] == seen["child"] == seen["tracer_span"]
    assert seen["child"]["service.name"] == "forked"
