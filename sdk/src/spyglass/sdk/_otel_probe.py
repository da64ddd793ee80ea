"""Set-up checks of the OpenTelemetry internals the middleware's fast path relies on.

For a new root the middleware decides sampling from the trace ID itself and makes its own
spans (``_tracing.FastRoot``, ``_tracing.server_span_class``): a sampled one is a
``ReadableSpan`` whose private fields it sets itself and hands to the span processors' ``on_start``
and ``on_end``, with ``BoundedAttributes``, ``BoundedList`` and ``Event`` for what the
application adds; an unsampled one is a ``NonRecordingSpan`` that keeps its context in
``_context``. None of that is OpenTelemetry's public API, and a release may change any of it. So
``setup_tracing`` does not go by version numbers: before it takes the fast path it checks here that
those names are there, that the calls bind, and that a span made the fast way reads, to everything
OpenTelemetry and exporters read, as the SDK's own span from the same calls, and that the
provider's sampler decides new roots as the fast path does. Anything missing or different is
reported, and every request span then goes through OpenTelemetry's Tracer: slower, correct.
"""

from __future__ import annotations

import inspect
from typing import Any

# What ReadableSpan's constructor sets: the middleware's span never calls that constructor and
# sets these itself (on its class or in its own __init__), and ReadableSpan's properties,
# ``to_json`` and exporters read them.
READABLE_SPAN_FIELDS = frozenset(
    (
        "_name",
        "_context",
        "_kind",
        "_parent",
        "_start_time",
        "_end_time",
        "_attributes",
        "_events",
        "_links",
        "_resource",
        "_status",
        "_instrumentation_info",
        "_instrumentation_scope",
    )
)
# A root span's IDs and times for the comparison (any valid values do).
_TRACE_ID, _SPAN_ID = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331
_START = 1_700_000_000_000_000_000


def fast_span_problems(server_span_class: Any, resource: Any, limits: Any, scope: Any) -> list[str]:
    """What keeps the middleware's own spans from standing in for the SDK's with the installed
    OpenTelemetry; empty when nothing does.

    ``server_span_class(processor, resource, limits, scope)`` makes the class of the sampled
    spans, as for the real pipeline; the other arguments are the provider's.
    """
    try:
        problems = [*_field_problems(resource), *_call_problems()]
        if not problems:
            problems = _span_problems(server_span_class, resource, limits, scope)
    except Exception as exc:  # noqa: BLE001 - whatever breaks here is a reason not to go fast
        problems = [f"checking the fast path raised {type(exc).__name__}: {exc}"]
    return problems


def sampler_problems(sampler: Any, bound: int) -> list[str]:
    """Whether ``sampler`` samples a new root exactly when its trace ID's low 64 bits are below
    ``bound``, as the fast path decides; checked on the trace IDs around the bound."""
    from opentelemetry.trace import SpanKind  # noqa: PLC0415 - optional dependency

    low = (1 << 64) - 1
    edges = {1, 2, bound - 1, bound, bound + 1, low, low + 1}
    trace_ids = sorted(t for edge in edges for t in (edge, edge | (1 << 127)) if 0 < t < (1 << 128))
    try:
        for trace_id in trace_ids:
            result = sampler.should_sample(None, trace_id, "probe", SpanKind.SERVER)
            if result.decision.is_sampled() != ((trace_id & low) < bound):
                return [
                    f"the sampler {sampler.get_description()} decides trace ID "
                    f"{trace_id:032x} otherwise than its ratio"
                ]
    except Exception as exc:  # noqa: BLE001 - same
        return [f"asking the sampler raised {type(exc).__name__}: {exc}"]
    return []


def _field_problems(resource: Any) -> list[str]:
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency
    from opentelemetry.sdk.trace import ReadableSpan  # noqa: PLC0415

    problems = []
    fields = set(vars(ReadableSpan("probe", resource=resource)))
    if fields != READABLE_SPAN_FIELDS:
        added = ", ".join(sorted(fields - READABLE_SPAN_FIELDS)) or "none"
        gone = ", ".join(sorted(READABLE_SPAN_FIELDS - fields)) or "none"
        problems.append(f"ReadableSpan's fields changed (new: {added}; gone: {gone})")
    context = trace.SpanContext(_TRACE_ID, _SPAN_ID, is_remote=False)
    if set(vars(trace.NonRecordingSpan(context))) != {"_context"}:
        problems.append("NonRecordingSpan keeps more than its _context")
    return problems


def _call_problems() -> list[str]:
    """The processor calls the middleware's span makes, bound to their signatures."""
    from opentelemetry.sdk.trace import SpanProcessor, SynchronousMultiSpanProcessor  # noqa: PLC0415

    problems = []
    for cls in (SpanProcessor, SynchronousMultiSpanProcessor):
        for method, args, kwargs in (
            ("on_start", (None, None), {"parent_context": None}),
            ("on_end", (None, None), {}),
        ):
            try:
                inspect.signature(getattr(cls, method)).bind(*args, **kwargs)
            except (AttributeError, TypeError, ValueError) as exc:
                problems.append(f"{cls.__name__}.{method} cannot be called as before: {exc}")
    return problems


def _span_problems(server_span_class: Any, resource: Any, limits: Any, scope: Any) -> list[str]:
    """One root SERVER span made each way from the same calls, compared as processors see it."""
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency
    from opentelemetry.sdk.trace import (  # noqa: PLC0415
        SpanProcessor,
        SynchronousMultiSpanProcessor,
        TracerProvider,
    )
    from opentelemetry.sdk.trace.id_generator import IdGenerator  # noqa: PLC0415
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON  # noqa: PLC0415

    class Recorder(SpanProcessor):
        def __init__(self) -> None:
            self.started: list[Any] = []
            self.ended: list[Any] = []

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            self.started.append(span)

        def on_end(self, span: Any) -> None:
            self.ended.append(span)

    class FixedIds(IdGenerator):
        def generate_trace_id(self) -> int:
            return _TRACE_ID

        def generate_span_id(self) -> int:
            return _SPAN_ID

        def is_trace_id_random(self) -> bool:
            return True  # as the SDK's own generator says

    attributes: dict[str, Any] = {
        "http.request.method": "GET",
        "http.route": "/probe",
        "server.port": 8000,
    }
    theirs = Recorder()
    provider = TracerProvider(
        sampler=ALWAYS_ON,
        resource=resource,
        shutdown_on_exit=False,
        id_generator=FixedIds(),
        span_limits=limits,
    )
    provider.add_span_processor(theirs)
    try:
        sdk_span = provider.get_tracer(scope.name).start_span(
            "GET /probe", kind=trace.SpanKind.SERVER, attributes=dict(attributes), start_time=_START
        )
        _use(sdk_span)
    finally:
        provider.shutdown()
    ours = Recorder()
    processors = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
    processors.add_span_processor(ours)
    own_span = server_span_class(processors, resource, limits, scope)(
        "GET /probe", _TRACE_ID, _SPAN_ID, dict(attributes), None
    )
    own_span._start_time = _START  # the one field the span draws itself
    _use(own_span)
    if ours.started != [own_span] or ours.ended != [own_span]:
        return ["span processors did not get the span's start and end"]
    if len(theirs.ended) != 1:
        return ["the SDK's span did not reach its processor"]
    (sdk_view,) = theirs.ended
    problems = []
    if _view(own_span) != _view(sdk_view):
        problems.append("a span made the fast way reads otherwise than the SDK's")
    if own_span.to_json() != sdk_view.to_json():
        problems.append("ReadableSpan.to_json reads the span made the fast way otherwise")
    return problems


def _use(span: Any) -> None:
    """What the middleware and an application do to a request's span, each call once."""
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency

    span.set_attribute("http.response.status_code", 500)
    span.set_attributes({"app.flag": True, "app.share": 0.5, "app.tags": ("a", "b")})
    span.add_event("cache miss", {"key": "k"}, timestamp=_START + 1)
    span.add_link(trace.SpanContext(0x77, 0x88, is_remote=True), {"link": 1})
    span.record_exception(ValueError("probe"), {"extra": "x"}, timestamp=_START + 2)
    span.set_status(trace.Status(trace.StatusCode.ERROR, "probe"))
    span.update_name("GET /probe/{id}")
    span.end(end_time=_START + 3)


def _view(span: Any) -> tuple[Any, ...]:
    """What exporters and processors read from a finished span, through its public API."""
    return (
        span.name,
        span.context,
        span.get_span_context(),
        span.kind,
        span.parent,
        span.start_time,
        span.end_time,
        (span.status.status_code, span.status.description),
        dict(span.attributes),
        [(e.name, e.timestamp, dict(e.attributes)) for e in span.events],
        [(link.context, dict(link.attributes)) for link in span.links],
        span.resource,
        span.instrumentation_scope,
        (span.dropped_attributes, span.dropped_events, span.dropped_links),
    )


__all__ = ["READABLE_SPAN_FIELDS", "fast_span_problems", "sampler_problems"]
