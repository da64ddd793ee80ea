"""OTLP trace requests written straight to protobuf bytes (``spyglass.sdk._otlp_wire``).

What ``encode_spans`` writes must parse to what OpenTelemetry's own encoder builds for the same
spans: any batch of the SDK's spans, the middleware's own server spans, and the edges (values
that cannot be encoded, mappings, the empty batch, the within-batch cache, lengths of several
bytes). The module's two deliberate differences are masked on our side before comparing and
checked on their own, as documented: a span's and a link's ``flags`` carry the W3C trace flags
in their low byte besides the "is remote" bits, and a link carries its trace state.
"""

from __future__ import annotations

import difflib
import itertools
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import text_format
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.exporter.otlp.proto.common.trace_encoder import (
    encode_spans as opentelemetry_encode_spans,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceState

from spyglass.sdk._otlp_wire import encode_spans
from spyglass.sdk._tracing import setup_tracing

# SpanFlags bits: the context's "is remote" is known, and it is remote.
HAS_IS_REMOTE, IS_REMOTE = 0x100, 0x200
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1
WIRE_LOGGER = "spyglass.sdk.tracing"


class Keep(SpanExporter):
    """Keeps every span it is given."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def ours(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """Our encoding of ``spans``, parsed."""
    return ExportTraceServiceRequest.FromString(encode_spans(spans))


def pb_spans(request: ExportTraceServiceRequest) -> Iterator[PbSpan]:
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            yield from scope_spans.spans


def context_of(span: ReadableSpan) -> SpanContext:
    context = span.get_span_context()
    assert context is not None
    return context


def flags_of(context: SpanContext, is_remote: bool) -> int:
    """The documented ``flags``: the W3C trace flags in the low byte, and the remote bits."""
    return int(context.trace_flags) | HAS_IS_REMOTE | (IS_REMOTE if is_remote else 0)


def check_and_mask_documented_differences(
    request: ExportTraceServiceRequest, spans: Sequence[ReadableSpan]
) -> None:
    """Assert the documented differences on our parsed ``request`` of ``spans``, then take them
    out: what remains must be what OpenTelemetry's encoder writes."""
    by_id = {(context_of(s).trace_id, context_of(s).span_id): s for s in spans}
    for pb_span in pb_spans(request):
        span = by_id[
            int.from_bytes(pb_span.trace_id, "big"), int.from_bytes(pb_span.span_id, "big")
        ]
        parent = span.parent
        assert pb_span.flags == flags_of(context_of(span), parent is not None and parent.is_remote)
        pb_span.flags &= ~0xFF
        assert len(pb_span.links) == len(span.links)
        for pb_link, link in zip(pb_span.links, span.links, strict=True):
            assert pb_link.flags == flags_of(link.context, link.context.is_remote)
            assert pb_link.trace_state == link.context.trace_state.to_header()
            pb_link.flags &= ~0xFF
            pb_link.trace_state = ""


def assert_encodes_as_opentelemetry(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """Our encoding of ``spans`` is OpenTelemetry's but for the documented differences; it is
    returned parsed, unmasked."""
    request = ours(spans)
    masked = ExportTraceServiceRequest()
    masked.CopyFrom(request)
    check_and_mask_documented_differences(masked, spans)
    theirs = opentelemetry_encode_spans(spans)
    # Message equality compares doubles bit for bit (-0.0 is not 0.0) and repeated fields in
    # order, so grouping and its order are compared too.
    assert masked == theirs, text_diff(theirs, masked)
    return request


def text_diff(theirs: ExportTraceServiceRequest, ours: ExportTraceServiceRequest) -> str:
    """Where two requests differ, in protobuf's text format."""
    return "\n".join(
        difflib.unified_diff(
            text_format.MessageToString(theirs).splitlines(),
            text_format.MessageToString(ours).splitlines(),
            "opentelemetry",
            "ours (masked)",
            lineterm="",
        )
    )


def readable_span(
    name: str = "span",
    span_id: int = 0x51,
    *,
    attributes: Mapping[str, Any] | None = None,
    trace_flags: int = trace.TraceFlags.SAMPLED,
    parent: SpanContext | None = None,
    links: Sequence[Link] = (),
    events: Sequence[Event] = (),
    resource: Resource | None = None,
    scope: InstrumentationScope | None = None,
) -> ReadableSpan:
    """A finished span built directly, as exporters receive them."""
    return ReadableSpan(
        name=name,
        context=SpanContext(
            0x7A, span_id, is_remote=False, trace_flags=trace.TraceFlags(trace_flags)
        ),
        parent=parent,
        resource=resource if resource is not None else Resource({"service.name": "wire"}),
        attributes=attributes,
        events=events,
        links=links,
        kind=SpanKind.SERVER,
        status=Status(StatusCode.ERROR, "failed"),
        start_time=1_700_000_000_000_000_000,
        end_time=1_700_000_000_123_456_789,
        instrumentation_scope=scope if scope is not None else InstrumentationScope("wire", "1"),
    )


# -- what the SDK accepts, drawn -------------------------------------------------------------

# Few keys, so attributes repeat across spans, events and links and the cache is used.
keys = st.one_of(
    st.sampled_from(["a", "b", "http.route", "ключ", "", "\ud800"]), st.text(max_size=6)
)
ints = st.one_of(
    st.sampled_from([INT64_MIN, INT64_MAX, -1, 0, 1, 127, 128, 300]),
    st.integers(INT64_MIN, INT64_MAX),
)
# Never NaN: NaN != NaN, so a message holding one never equals another.
floats = st.one_of(
    st.sampled_from([math.inf, -math.inf, 0.0, -0.0, 1.0]), st.floats(allow_nan=False)
)
strings = st.one_of(st.sampled_from(["", "x", "GET", "é", "😀" * 40]), st.text(max_size=12))
scalars = st.one_of(strings, st.booleans(), ints, floats)
homogeneous = st.one_of(
    *(
        st.lists(st.one_of(kind, st.none()), max_size=4)
        for kind in (strings, st.booleans(), ints, floats)
    )
)
# OpenTelemetry's AnyValue beyond the spec's primitive attributes: bytes, None, heterogeneous and
# nested sequences, mappings. The SDK keeps them all.
any_values = st.recursive(
    st.one_of(scalars, st.binary(max_size=6), st.none()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
# Kept by the SDK, dropped by both encoders with a log line.
unencodable = st.sampled_from([2**63, INT64_MIN - 1, 2**64, "\ud800", (1, 2**64)])
# Values a dict takes for equal (True == 1 == 1.0, 0.0 == -0.0) but the wire does not: the
# within-batch cache must keep them apart.
look_alikes = st.sampled_from([False, 0, 0.0, -0.0, True, 1, 1.0])
attribute_values = st.one_of(scalars, look_alikes, homogeneous, any_values, unencodable)
attribute_maps = st.one_of(
    st.dictionaries(keys, attribute_values, max_size=4),
    st.dictionaries(st.sampled_from(["a", "b"]), look_alikes, max_size=2),
)
timestamps = st.one_of(st.sampled_from([0, 1, UINT64_MAX]), st.integers(0, UINT64_MAX))
trace_states = st.lists(
    st.tuples(
        st.sampled_from(["k", "k2", "vendor@sys", "a-b"]), st.sampled_from(["v", "0", "x y"])
    ),
    max_size=3,
    unique_by=lambda pair: pair[0],
).map(TraceState)
span_contexts = st.builds(
    SpanContext,
    trace_id=st.integers(1, 2**128 - 1),
    span_id=st.integers(1, UINT64_MAX),
    is_remote=st.booleans(),
    trace_flags=st.integers(0, 255).map(trace.TraceFlags),
    trace_state=trace_states,
)
remote_contexts = st.builds(
    SpanContext,
    trace_id=st.integers(1, 2**128 - 1),
    span_id=st.integers(1, UINT64_MAX),
    is_remote=st.just(True),
    trace_flags=st.integers(0, 255).map(trace.TraceFlags),
    trace_state=trace_states,
)
small_limits = st.sampled_from([0, 1, 2, 128])


@dataclass(frozen=True)
class ResourcePlan:
    attributes: dict[str, Any]
    schema_url: str | None
    # max_span_attributes, max_events, max_links, max_event_attributes, max_link_attributes
    counts: tuple[int, int, int, int, int]
    max_attribute_length: int | None
    max_span_attribute_length: int | None

    def limits(self) -> SpanLimits:
        span_attributes, events, links, event_attributes, link_attributes = self.counts
        return SpanLimits(
            max_span_attributes=span_attributes,
            max_events=events,
            max_links=links,
            max_event_attributes=event_attributes,
            max_link_attributes=link_attributes,
            max_attribute_length=self.max_attribute_length,
            max_span_attribute_length=self.max_span_attribute_length,
        )


@dataclass(frozen=True)
class ScopePlan:
    name: str
    version: str | None
    schema_url: str | None
    attributes: dict[str, Any]


@dataclass(frozen=True)
class SpanPlan:
    resource: int
    scope: int
    name: str
    kind: SpanKind
    attributes: dict[str, Any]
    later_attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any], int]]
    links: list[tuple[SpanContext, dict[str, Any]]]
    # (code, description, given as a Status object)
    status: tuple[StatusCode, str | None, bool]
    # None: a root; an int: the span made that many spans before (a local parent), or a root
    # when there is none; a SpanContext: a remote parent.
    parent: int | SpanContext | None
    start_time: int | None
    end_time: int | None


@dataclass(frozen=True)
class BatchPlan:
    resources: list[ResourcePlan]
    scopes: list[ScopePlan]
    spans: list[SpanPlan]


resource_plans = st.builds(
    ResourcePlan,
    attributes=attribute_maps,
    schema_url=st.one_of(
        st.none(), st.sampled_from(["", "https://opentelemetry.io/schemas/1.21.0"])
    ),
    counts=st.tuples(small_limits, small_limits, small_limits, small_limits, small_limits),
    max_attribute_length=st.sampled_from([None, 0, 3]),
    max_span_attribute_length=st.sampled_from([None, 2, 5]),
)
scope_plans = st.builds(
    ScopePlan,
    name=st.text(max_size=8),
    version=st.one_of(st.none(), st.text(max_size=4)),
    schema_url=st.one_of(st.none(), st.text(max_size=8)),
    attributes=attribute_maps,
)


@st.composite
def batch_plans(draw: st.DrawFn) -> BatchPlan:
    resources = draw(st.lists(resource_plans, min_size=1, max_size=3))
    scopes = draw(st.lists(scope_plans, min_size=1, max_size=3))
    span_plans = st.builds(
        SpanPlan,
        resource=st.integers(0, len(resources) - 1),
        scope=st.integers(0, len(scopes) - 1),
        name=st.text(max_size=10),
        kind=st.sampled_from(SpanKind),
        attributes=attribute_maps,
        later_attributes=attribute_maps,
        events=st.lists(st.tuples(st.text(max_size=5), attribute_maps, timestamps), max_size=2),
        links=st.lists(st.tuples(span_contexts, attribute_maps), max_size=2),
        status=st.tuples(
            st.sampled_from(StatusCode),
            st.sampled_from([None, "", "why", "причина"]),
            st.booleans(),
        ),
        parent=st.one_of(st.none(), st.integers(1, 4), remote_contexts),
        start_time=st.one_of(st.none(), timestamps),
        end_time=st.one_of(st.none(), timestamps),
    )
    spans = draw(st.lists(span_plans, min_size=1, max_size=5))
    return BatchPlan(resources, scopes, spans)


def sdk_spans(plan: BatchPlan) -> list[ReadableSpan]:
    """The spans OpenTelemetry's SDK exports when it carries out ``plan``: one provider per
    resource (with that resource's limits), one tracer per scope, spans ended in plan order."""
    keep = Keep()
    providers = []
    for resource in plan.resources:
        provider = TracerProvider(
            sampler=ALWAYS_ON,  # spans under an unsampled remote parent are exported too
            resource=Resource.create(resource.attributes, resource.schema_url),
            shutdown_on_exit=False,
            span_limits=resource.limits(),
        )
        provider.add_span_processor(SimpleSpanProcessor(keep))
        providers.append(provider)
    tracers = {
        (r, s): provider.get_tracer(
            scope.name, scope.version, schema_url=scope.schema_url, attributes=scope.attributes
        )
        for r, provider in enumerate(providers)
        for s, scope in enumerate(plan.scopes)
    }
    made: list[trace.Span] = []
    for span_plan in plan.spans:
        parent = span_plan.parent
        if isinstance(parent, SpanContext):
            context = trace.set_span_in_context(trace.NonRecordingSpan(parent))
        elif parent is not None and made:
            context = trace.set_span_in_context(made[-min(parent, len(made))])
        else:
            context = None
        span = tracers[span_plan.resource, span_plan.scope].start_span(
            span_plan.name,
            context,
            kind=span_plan.kind,
            attributes=span_plan.attributes,
            links=[Link(linked, attributes) for linked, attributes in span_plan.links],
            start_time=span_plan.start_time,
        )
        span.set_attributes(span_plan.later_attributes)
        for name, attributes, timestamp in span_plan.events:
            span.add_event(name, attributes, timestamp)
        code, description, as_object = span_plan.status
        if as_object:
            span.set_status(Status(code, description))
        else:
            span.set_status(code, description)
        span.end(span_plan.end_time)
        made.append(span)
    for provider in providers:
        provider.shutdown()
    assert len(keep.spans) == len(plan.spans)
    return keep.spans


# -- any batch of the SDK's spans ------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(plan=batch_plans())
def test_any_batch_of_sdk_spans_encodes_as_opentelemetrys_encoder_does(plan: BatchPlan) -> None:
    """Spans of any name, kind, attributes of every type the SDK keeps (those no encoder can
    write included), events, links, status, parent (none, local, remote) and trace state,
    under tight limits, from interleaved resources and scopes: our bytes parse to
    OpenTelemetry's request (grouped alike, in the same order) but for the documented
    differences, which hold as documented."""
    assert_encodes_as_opentelemetry(sdk_spans(plan))


# -- the middleware's own server spans -------------------------------------------------------

server_operations = st.lists(
    st.one_of(
        st.tuples(st.just("set_attribute"), keys, attribute_values),
        st.tuples(st.just("add_event"), st.text(max_size=5), attribute_maps, timestamps),
        st.tuples(st.just("add_link"), span_contexts, attribute_maps),
        st.tuples(
            st.just("set_status"), st.sampled_from(StatusCode), st.sampled_from([None, "why"])
        ),
        st.tuples(st.just("child"), st.text(max_size=5)),
    ),
    max_size=8,
)
server_spans = st.tuples(
    st.text(max_size=10),  # name
    st.integers(1, 2**128 - 1),  # trace ID
    # The middleware's own attributes: method, route, addresses... valid keys, string values.
    st.dictionaries(st.sampled_from(["http.request.method", "http.route", "url.path"]), strings),
    server_operations,
)


@settings(max_examples=100, deadline=None)
@given(requests=st.lists(server_spans, min_size=1, max_size=4))
def test_the_middlewares_server_spans_encode_as_opentelemetrys_encoder_does(
    requests: list[tuple[str, int, dict[str, str], list[Any]]],
) -> None:
    """The middleware's own sampled SERVER spans (and the application's child spans of
    them), as its provider's batch processor hands them over, encode as OpenTelemetry's
    encoder encodes them, but for the documented differences."""
    keep = Keep()
    provider = setup_tracing(
        "svc", exporter=keep, set_global=False, instrument_libraries=False, sample_ratio=1.0
    )
    try:
        fast = provider.spyglass_fast_root
        app_tracer = provider.get_tracer("app")
        for name, trace_id, attributes, operations in requests:
            span = fast.server_span(
                name, trace_id, fast.new_span_id(), dict(attributes), otel_context.Context()
            )
            for operation, *args in operations:
                if operation == "set_attribute":
                    span.set_attribute(*args)
                elif operation == "add_event":
                    span.add_event(*args)
                elif operation == "add_link":
                    span.add_link(*args)
                elif operation == "set_status":
                    span.set_status(*args)
                else:
                    app_tracer.start_span(args[0], trace.set_span_in_context(span)).end()
            span.end()
        provider.force_flush()
    finally:
        provider.shutdown()
    assert len(keep.spans) == len(requests) + sum(
        op[0] == "child" for *_, operations in requests for op in operations
    )
    assert_encodes_as_opentelemetry(keep.spans)


# -- the documented differences on their own -------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    trace_flags=st.integers(0, 255),
    parent=st.one_of(st.none(), span_contexts),
    links=st.lists(span_contexts, max_size=3),
)
def test_flags_carry_the_w3c_trace_flags_and_whether_the_parent_or_link_is_remote(
    trace_flags: int, parent: SpanContext | None, links: list[SpanContext]
) -> None:
    """A span's ``flags`` are its trace flags (any byte) with 0x100 set and 0x200 set iff its
    parent is remote; a link's likewise from the linked context, and a link carries the
    linked context's trace state in its header form."""
    span = readable_span(trace_flags=trace_flags, parent=parent, links=[Link(c) for c in links])
    (pb_span,) = pb_spans(assert_encodes_as_opentelemetry([span]))
    remote_parent = parent is not None and parent.is_remote
    assert pb_span.flags == trace_flags | HAS_IS_REMOTE | (IS_REMOTE if remote_parent else 0)
    assert [(link.flags, link.trace_state) for link in pb_span.links] == [
        (
            int(c.trace_flags) | HAS_IS_REMOTE | (IS_REMOTE if c.is_remote else 0),
            c.trace_state.to_header(),
        )
        for c in links
    ]


def test_a_link_carries_its_trace_state_in_header_form() -> None:
    linked = SpanContext(
        0x1, 0x2, is_remote=True, trace_state=TraceState([("k", "v"), ("k2", "v2")])
    )
    (pb_span,) = pb_spans(ours([readable_span(links=[Link(linked)])]))
    assert pb_span.links[0].trace_state == "k=v,k2=v2"
    assert pb_span.links[0].flags == HAS_IS_REMOTE | IS_REMOTE


# -- what cannot be encoded ------------------------------------------------------------------


def test_an_int_beyond_int64_is_left_out_with_an_error_naming_its_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    span = readable_span(attributes={"before": "a", "too.big": 2**64, "after": 1, "last": True})
    with caplog.at_level(logging.ERROR, logger=WIRE_LOGGER):
        (pb_span,) = pb_spans(assert_encodes_as_opentelemetry([span]))
    assert [kv.key for kv in pb_span.attributes] == ["before", "after", "last"]
    assert [
        r.levelno for r in caplog.records if r.name == WIRE_LOGGER and "too.big" in r.getMessage()
    ] == [logging.ERROR]


def test_a_span_whose_name_is_not_unicode_is_left_out_and_the_rest_of_the_batch_encoded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OpenTelemetry's encoder fails the whole batch on such a span; ours drops that one."""
    first, bad, last = (
        readable_span("first", 1),
        readable_span("\ud800", 2),
        readable_span("last", 3),
    )
    with caplog.at_level(logging.ERROR, logger=WIRE_LOGGER):
        request = ours([first, bad, last])
    assert [s.name for s in pb_spans(request)] == ["first", "last"]
    assert request == ours([first, last])
    assert_encodes_as_opentelemetry([first, last])
    with pytest.raises(UnicodeEncodeError):
        opentelemetry_encode_spans([first, bad, last])
    assert [r.levelno for r in caplog.records if r.name == WIRE_LOGGER] == [logging.ERROR]


def test_spans_whose_scope_cannot_be_encoded_are_left_out_and_the_rest_encoded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A scope (or resource) field that is not valid Unicode loses its own spans only."""
    good = Resource({"service.name": "good"})
    bad_scope = InstrumentationScope("lib", schema_url="https://x/\udc80")
    spans = [
        readable_span("kept", 1, resource=good),
        readable_span("lost", 2, resource=Resource({"service.name": "bad"}), scope=bad_scope),
    ]
    with caplog.at_level(logging.ERROR, logger=WIRE_LOGGER):
        request = ours(spans)
    assert [s.name for s in pb_spans(request)] == ["kept"]
    assert "1 spans" in caplog.text


# -- values and the request's shape ----------------------------------------------------------


def test_a_mapping_value_encodes_as_a_kvlist_value() -> None:
    value = {"a": 1, "nested": {"b": [True, "x", None], "c": b"\x00\xff"}, "s": "t"}
    (pb_span,) = pb_spans(assert_encodes_as_opentelemetry([readable_span(attributes={"m": value})]))
    (kv,) = pb_span.attributes
    assert kv.value.WhichOneof("value") == "kvlist_value"
    assert [entry.key for entry in kv.value.kvlist_value.values] == ["a", "nested", "s"]
    nested = kv.value.kvlist_value.values[1].value
    assert nested.WhichOneof("value") == "kvlist_value"
    assert nested.kvlist_value.values[1].value.bytes_value == b"\x00\xff"


def test_an_empty_batch_is_an_empty_request() -> None:
    assert encode_spans([]) == b""
    assert ExportTraceServiceRequest.FromString(b"") == ExportTraceServiceRequest()
    assert ExportTraceServiceRequest() == opentelemetry_encode_spans([])


@pytest.mark.parametrize("values", list(itertools.permutations([True, 1, 1.0])))
def test_the_cache_keeps_apart_values_that_compare_equal_across_types(
    values: tuple[Any, ...],
) -> None:
    """True == 1 == 1.0 to a dict: under one key on three spans of a batch they still encode
    as bool_value, int_value and double_value."""
    spans = [readable_span(span_id=n + 1, attributes={"k": v}) for n, v in enumerate(values)]
    request = assert_encodes_as_opentelemetry(spans)
    expected = {bool: "bool_value", int: "int_value", float: "double_value"}
    assert [s.attributes[0].value.WhichOneof("value") for s in pb_spans(request)] == [
        expected[type(v)] for v in values
    ]


@pytest.mark.parametrize("values", [(0.0, -0.0), (-0.0, 0.0)])
def test_the_cache_keeps_negative_zero_apart_from_zero(values: tuple[float, float]) -> None:
    """0.0 == -0.0 (and they hash alike) to a dict, but they are different doubles on the
    wire: under one key on two spans of a batch each keeps its own sign."""
    spans = [readable_span(span_id=n + 1, attributes={"k": v}) for n, v in enumerate(values)]
    request = ours(spans)
    assert [math.copysign(1.0, s.attributes[0].value.double_value) for s in pb_spans(request)] == [
        math.copysign(1.0, v) for v in values
    ]
    assert_encodes_as_opentelemetry(spans)


def test_a_string_over_127_bytes_and_a_batch_over_16_kib_parse() -> None:
    """Lengths of two bytes (a 200-byte string) and of three (the batch's resource and scope
    groups, over 16 KiB) are written as protobuf reads them."""
    multibyte = "é" * 100
    spans = [
        readable_span(span_id=n + 1, attributes={"s": multibyte, "pad": "p" * 300})
        for n in range(60)
    ]
    encoded = encode_spans(spans)
    assert 16 * 1024 < len(encoded) < 2**21
    request = assert_encodes_as_opentelemetry(spans)
    assert [s.attributes[0].value.string_value for s in pb_spans(request)] == [multibyte] * 60


def test_a_string_over_2_mib_parses() -> None:
    """A length of four bytes."""
    huge = "x" * (2**21 + 1)
    (pb_span,) = pb_spans(assert_encodes_as_opentelemetry([readable_span(attributes={"h": huge})]))
    assert pb_span.attributes[0].value.string_value == huge


def test_dropped_counts_of_several_bytes_parse() -> None:
    span = ReadableSpan(
        name="limited",
        context=SpanContext(0x7A, 0x51, is_remote=False),
        resource=Resource({}),
        attributes=BoundedAttributes(1, {f"k{n}": n for n in range(200)}),
        events=BoundedList.from_seq(1, [Event("e", timestamp=1)] * 20_000),
        links=BoundedList.from_seq(1, [Link(SpanContext(0x1, 0x2, is_remote=True))] * 130),
    )
    (pb_span,) = pb_spans(assert_encodes_as_opentelemetry([span]))
    assert (
        pb_span.dropped_attributes_count,
        pb_span.dropped_events_count,
        pb_span.dropped_links_count,
    ) == (199, 19_999, 129)


def test_spans_are_grouped_by_resource_then_scope_in_the_order_first_seen() -> None:
    one, two = Resource({"service.name": "one"}), Resource({"service.name": "two"})
    a, b = InstrumentationScope("a"), InstrumentationScope("b", "2", "https://schema/b")
    spans = [
        readable_span("1", 1, resource=one, scope=b),
        readable_span("2", 2, resource=two, scope=a),
        readable_span("3", 3, resource=one, scope=a),
        readable_span("4", 4, resource=one, scope=b),
        readable_span("5", 5, resource=Resource({"service.name": "two"}), scope=a),
    ]
    request = assert_encodes_as_opentelemetry(spans)
    assert [
        (
            rs.resource.attributes[0].value.string_value,
            [(ss.scope.name, [s.name for s in ss.spans]) for ss in rs.scope_spans],
        )
        for rs in request.resource_spans
    ] == [("one", [("b", ["1", "4"]), ("a", ["3"])]), ("two", [("a", ["2", "5"])])]
    assert request.resource_spans[0].scope_spans[0].schema_url == "https://schema/b"
