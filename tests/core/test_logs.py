"""Log batches keep their records in the order they were sent, whether built from records or
from columns, and columns read back as the records they stand for."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.labels import Labels
from spyglass.core.logs import LogBatch, LogColumns, LogRecord, valid_lines


def _record(ts: int, line: str) -> LogRecord:
    return LogRecord(timestamp_ns=ts, line=line, stream=(("service_name", "api"),))


def test_concat_keeps_every_record_in_order() -> None:
    first = LogBatch.of([_record(2, "b"), _record(1, "a")])
    second = LogBatch.of([_record(3, "c")])
    joined = LogBatch.concat([first, second])
    assert [r.line for r in joined] == ["b", "a", "c"]
    assert len(joined) == 3
    assert LogBatch.concat([first]) is first


def test_records_default_to_no_side_data() -> None:
    record = _record(1, "x")
    assert dict(record.metadata) == {}
    assert dict(record.resource) == {}
    assert (record.trace_id, record.span_id, record.severity_number) == ("", "", 0)


def columns_of(rows: list[tuple[int, str, Labels]]) -> LogColumns:
    streams: dict[Labels, int] = {}
    index = [streams.setdefault(stream, len(streams)) for _, _, stream in rows]
    data = [line.encode() for _, line, _ in rows]
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return LogColumns(
        tuple(streams),
        np.array(index, np.uint32),
        np.array([ts for ts, _, _ in rows], np.int64),
        b"".join(data),
        offsets,
    )


rows = st.lists(
    st.tuples(
        st.integers(0, 2**63 - 1),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
        st.sampled_from([(("a", "1"),), (("a", "2"), ("b", "x"))]),
    ),
    max_size=8,
)


@given(st.lists(rows, min_size=1, max_size=3))
def test_columns_read_back_and_concatenate_as_their_records(
    parts: list[list[tuple[int, str, Labels]]],
) -> None:
    want = [LogRecord(ts, line, stream) for part in parts for ts, line, stream in part]
    batches = [LogBatch(columns=columns_of(part)) for part in parts]
    assert [r for b in batches for r in b.records] == want
    joined = LogColumns.concat([b.columns for b in batches if b.columns is not None])
    assert list(joined.records()) == want
    assert [joined.line(i) for i in range(len(joined))] == [r.line for r in want]
    # Equal streams of different parts are one stream of the whole.
    assert len(joined.streams) == len({r.stream for r in want})
    assert LogBatch(columns=joined) == LogBatch.of(want)
    assert len(LogBatch(columns=joined)) == len(want)


def test_a_line_is_valid_only_whole_not_as_part_of_its_neighbour() -> None:
    ok = "café ✓".encode()
    assert valid_lines(ok + b"ascii", np.array([0, len(ok), len(ok) + 5]))
    # "é" is two bytes: cut between them, the whole is valid UTF-8 and neither line is.
    cut = ok.index(b"\xa9")
    assert not valid_lines(ok, np.array([0, cut, len(ok)]))
    assert not valid_lines(b"\xff", np.array([0, 1]))


def test_a_batch_counts_its_bytes_by_what_it_holds() -> None:
    """``nbytes`` bounds the log store's pending memory: column batches count their line bytes
    and arrays; record batches their text, a fixed cost per record, and a side map shared by
    many records once."""
    lines = [b"GET /a 200", b"POST /b 500 failed"]
    data = b"".join(lines)
    cols = LogColumns(
        ((("service_name", "api"),)),
        np.zeros(2, np.uint32),
        np.array([1, 2], np.int64),
        data,
        np.array([0, len(lines[0]), len(data)], np.int64),
    )
    arrays = 2 * 4 + 2 * 8 + 3 * 8
    assert len(data) + arrays < LogBatch(columns=cols).nbytes < len(data) + arrays + 1_000
    resource = {f"attribute.{i}": "value" for i in range(20)}
    one = LogBatch.of([LogRecord(1, "x" * 100, (("a", "b"),), resource=resource)])
    many = LogBatch.of(
        [LogRecord(i, "x" * 100, (("a", "b"),), resource=resource) for i in range(10)]
    )
    per_record = (many.nbytes - one.nbytes) // 9
    assert one.nbytes > 20 * 50 + 100  # the map and the line
    assert 100 < per_record < 1_000  # the shared map is not counted again
    assert LogBatch.of([]).nbytes == 0
