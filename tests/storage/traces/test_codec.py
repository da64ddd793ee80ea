"""The spans WAL codec: every batch comes back equal, and damaged records are a ParseError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from tests.storage.span_strategies import spans_of

from spyglass.core.errors import ParseError, Unavailable
from spyglass.core.spans import Span, SpanBatch
from spyglass.ingest.otlp._traces_wire import scan
from spyglass.storage.traces import SpansCodec
from spyglass.storage.traces._codec import decode_batch, encode_batch

# Any text, lone surrogates included: what was acknowledged must replay exactly.
text = st.text(st.characters(codec=None), max_size=12)
ns = st.integers(-(2**63), 2**63 - 1)
spans = spans_of(text, ns)


@given(st.lists(spans, max_size=8))
def test_a_batch_round_trips_exactly(rows: list[Span]) -> None:
    batch = SpanBatch(tuple(rows))
    assert decode_batch(encode_batch(batch)) == batch


def test_spans_sharing_a_resource_share_it_after_replay() -> None:
    """A resource is written once per record and decoded into one map the spans share (the
    inserter builds its column once per distinct resource)."""
    res = {"service.name": "api", "host.name": "h1"}
    batch = SpanBatch(tuple(Span("a" * 32, f"{i:016x}", "op", i, 1, resource=res) for i in (1, 2)))
    back = decode_batch(encode_batch(batch))
    assert back == batch
    assert back.spans[0].resource is back.spans[1].resource


@given(st.lists(spans, min_size=1, max_size=4), st.data())
def test_a_cut_or_altered_record_is_a_parse_error_never_a_crash(
    rows: list[Span], data: st.DataObject
) -> None:
    payload = encode_batch(SpanBatch(tuple(rows)))
    cut = data.draw(st.integers(0, len(payload) - 1))
    with pytest.raises(ParseError):
        decode_batch(payload[:cut])
    flipped = bytearray(payload)
    i = data.draw(st.integers(0, len(payload) - 1))
    flipped[i] ^= data.draw(st.integers(1, 255))
    try:
        got = decode_batch(bytes(flipped))
    except ParseError:
        return
    assert isinstance(got, SpanBatch)  # a flip inside a string or number may still decode


def test_the_codec_refuses_a_record_over_the_limit() -> None:
    batch = SpanBatch((Span("a" * 32, "b" * 16, "x" * 100, 1, 1),))
    with pytest.raises(Unavailable, match="exceeds the WAL record limit"):
        SpansCodec().segment_encoder().encode(batch, 50)
    reader = SpansCodec().reader()
    payload = SpansCodec().segment_encoder().encode(batch, 10_000)
    assert reader.complete(1, reader.read(payload)) == batch


def _columns_batch(names: list[str], attributes: list[dict[str, str]]) -> SpanBatch:
    """Spans read from an OTLP body by the columnar reader (a version 2 record)."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "api"
    scope = rs.scope_spans.add()
    scope.scope.name = "lib"
    for i, (name, attrs) in enumerate(zip(names, attributes, strict=False)):
        span = scope.spans.add(
            trace_id=bytes([i + 1]) * 16, span_id=bytes([i + 1]) * 8, name=name, kind=i % 6
        )
        span.start_time_unix_nano = 1_700_000_000 * 10**9 + i
        span.end_time_unix_nano = span.start_time_unix_nano + 1000 * i
        for k, v in attrs.items():
            span.attributes.add(key=k).value.string_value = v
        if i % 2:
            span.events.add(time_unix_nano=5, name="exception").attributes.add(key="a")
            span.links.add(trace_id=b"\x07" * 16, span_id=b"\x08" * 8, trace_state="x=1")
    scanned = scan(req.SerializeToString())
    assert scanned is not None
    return SpanBatch(columns=scanned.columns)


_valid_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)


@given(
    st.lists(_valid_text, min_size=1, max_size=5),
    st.lists(st.dictionaries(_valid_text, _valid_text, max_size=3), max_size=5),
)
def test_a_columnar_batch_is_written_as_columns_and_read_back_as_them(
    names: list[str], attributes: list[dict[str, str]]
) -> None:
    """Version 2 records: the columns come back as columns, holding the same spans."""
    batch = _columns_batch(names, attributes)
    payload = encode_batch(batch)
    assert payload[0] == 2
    back = decode_batch(payload)
    assert back.columns is not None
    assert back == batch


@given(st.lists(_valid_text, min_size=1, max_size=4), st.data())
def test_a_cut_or_altered_columnar_record_is_a_parse_error_never_a_crash(
    names: list[str], data: st.DataObject
) -> None:
    payload = encode_batch(_columns_batch(names, [{"k": "v"}] * len(names)))
    cut = data.draw(st.integers(0, len(payload) - 1))
    with pytest.raises(ParseError):
        decode_batch(payload[:cut])
    flipped = bytearray(payload)
    i = data.draw(st.integers(0, len(payload) - 1))
    flipped[i] ^= data.draw(st.integers(1, 255))
    try:
        got = decode_batch(bytes(flipped))
    except ParseError:
        return
    assert len(got.spans) == len(got)  # a flip inside a string or number may still decode
