"""The logs WAL codec: every batch comes back equal (batches of columns too, in the same bytes),
and damaged records are a ParseError."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import ParseError, Unavailable
from spyglass.core.logs import LogBatch, LogColumns, LogRecord
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


plain_lines = st.lists(
    st.tuples(
        st.integers(0, 2**63 - 1),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
        streams,
    ),
    min_size=1,
    max_size=12,
)


@given(plain_lines)
def test_a_batch_of_columns_is_written_as_its_records_and_read_back_as_columns(
    rows: list[tuple[int, str, tuple[tuple[str, str], ...]]],
) -> None:
    """Plain lines in columns take the same bytes as the same records (one layout, whichever
    the producer), and a record of plain lines replays as columns, equal to the records."""
    ids: dict[tuple[tuple[str, str], ...], int] = {}
    index = [ids.setdefault(stream, len(ids)) for _, _, stream in rows]
    data = [line.encode() for _, line, _ in rows]
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    columns = LogColumns(
        tuple(ids),
        np.array(index, np.uint32),
        np.array([ts for ts, _, _ in rows], np.int64),
        b"".join(data),
        offsets,
    )
    records = LogBatch.of(LogRecord(ts, line, stream) for ts, line, stream in rows)
    payload = encode_batch(LogBatch(columns=columns))
    assert payload == encode_batch(records)
    back = decode_batch(payload)
    assert back.columns is not None
    assert back == records


def test_records_with_side_data_or_lone_surrogates_replay_as_records() -> None:
    stream = (("a", "b"),)
    for record in (
        LogRecord(1, "x", stream, severity_text="WARN"),
        LogRecord(1, "x", stream, trace_id="ab"),
        LogRecord(1, "x", stream, observed_ns=5),
        LogRecord(1, "lone \ud800", stream),
    ):
        back = decode_batch(encode_batch(LogBatch.of([record])))
        assert back.columns is None
        assert list(back) == [record]


@given(plain_lines, st.data())
def test_a_damaged_record_of_plain_lines_is_a_parse_error_never_a_crash(
    rows: list[tuple[int, str, tuple[tuple[str, str], ...]]], data: st.DataObject
) -> None:
    payload = encode_batch(LogBatch.of(LogRecord(ts, line, s) for ts, line, s in rows))
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
    assert len(got.records) == len(got)  # columns that read back as records
