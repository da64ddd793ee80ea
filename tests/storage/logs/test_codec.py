"""The logs WAL codec: every batch comes back equal, and damaged records are a ParseError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import ParseError, Unavailable
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.storage.logs import LogsCodec
from spyglass.storage.logs._codec import decode_batch, encode_batch

# Any text, lone surrogates included: what was acknowledged must replay exactly.
text = st.text(st.characters(codec=None), max_size=20)
names = st.text(st.sampled_from("abc_xyz"), min_size=1, max_size=5)
streams = st.dictionaries(names, text.filter(bool), min_size=1, max_size=4).map(
    lambda d: tuple(sorted(d.items()))
)
records = st.builds(
    LogRecord,
    timestamp_ns=st.integers(-(2**63), 2**63 - 1),
    line=text,
    stream=streams,
    metadata=st.dictionaries(text, text, max_size=3),
    observed_ns=st.integers(-(2**63), 2**63 - 1),
    severity_text=text,
    severity_number=st.integers(0, 24),
    trace_id=text,
    span_id=text,
    resource=st.dictionaries(text, text, max_size=3),
)


@given(st.lists(records, max_size=12))
def test_a_batch_round_trips_exactly(rows: list[LogRecord]) -> None:
    batch = LogBatch.of(rows)
    assert decode_batch(encode_batch(batch)) == batch


@given(st.lists(records, min_size=1, max_size=5), st.data())
def test_a_cut_or_altered_record_is_a_parse_error_never_a_crash(
    rows: list[LogRecord], data: st.DataObject
) -> None:
    payload = encode_batch(LogBatch.of(rows))
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
    assert isinstance(got, LogBatch)  # a flip inside a string may still decode


def test_the_codec_refuses_a_record_over_the_limit() -> None:
    batch = LogBatch.of([LogRecord(1, "x" * 100, (("a", "b"),))])
    encoder = LogsCodec().segment_encoder()
    with pytest.raises(Unavailable):
        encoder.encode(batch, 50)
    reader = LogsCodec().reader()
    assert reader.complete(1, reader.read(encoder.encode(batch, 1 << 20))) == batch
