"""The spans WAL codec: every batch comes back equal, and damaged records are a ParseError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import ParseError, Unavailable
from spyglass.core.spans import SPAN_KINDS, STATUS_CODES, Span, SpanBatch, SpanEvent, SpanLink
from spyglass.storage.traces import SpansCodec
from spyglass.storage.traces._codec import decode_batch, encode_batch

# Any text, lone surrogates included: what was acknowledged must replay exactly.
text = st.text(st.characters(codec=None), max_size=12)
attrs = st.dictionaries(text, text, max_size=3)
ns = st.integers(-(2**63), 2**63 - 1)
events = st.builds(SpanEvent, timestamp_ns=ns, name=text, attributes=attrs)
links = st.builds(SpanLink, trace_id=text, span_id=text, trace_state=text, attributes=attrs)
spans = st.builds(
    Span,
    trace_id=text,
    span_id=text,
    name=text,
    start_ns=ns,
    duration_ns=ns,
    service_name=text,
    parent_span_id=text,
    kind=st.sampled_from(SPAN_KINDS),
    status_code=st.sampled_from(STATUS_CODES),
    status_message=text,
    trace_state=text,
    attributes=attrs,
    resource=attrs,
    scope_name=text,
    scope_version=text,
    events=st.lists(events, max_size=3).map(tuple),
    links=st.lists(links, max_size=2).map(tuple),
)


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
