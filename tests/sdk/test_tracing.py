"""Tracing set-up: the SDK's shortcuts decide and describe exactly what OpenTelemetry would.

The middleware decides sampling for new root spans itself (``FastRoot``) and gives the
provider a resource whose hash is computed once; both must be indistinguishable from the
OpenTelemetry SDK's own ``TraceIdRatioBased`` sampler and ``Resource``.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

from spyglass.sdk._tracing import FastRoot, setup_tracing

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
