"""The columnar reading of Loki's protobuf push: what it reads is exactly what upb reads, the
shape Promtail sends is read without upb, and anything else is left to upb.

The strongest check is the property below: for generated pushes (streams, entries with and
without timestamps or lines, non-ASCII text, structured metadata, Loki's limits) ``decode_push``
answers the same records, refusals and messages as the record-by-record path
(``admit(read_proto(...))``).
"""

from __future__ import annotations

from typing import Any

import cramjam
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.limits import LogLimits
from spyglass.core.logs import LogRecord
from spyglass.ingest.loki import PushRequest, admit, decode_push, read_proto, unsnappy
from spyglass.ingest.loki._wire import scan

NOW = 1_760_000_000_000_000_000
DAY = 86_400 * 10**9

Entry = tuple[int | None, str, dict[str, str]]


def request(streams: list[tuple[str, list[Entry]]], hashes: bool = False) -> bytes:
    """The uncompressed ``PushRequest`` of ``streams`` (an entry without a timestamp when it is
    ``None``), as upb serializes it: field order and zero values left out, as Go writes it."""
    req = PushRequest()
    for labels, entries in streams:
        s = req.streams.add()
        s.labels = labels.encode()
        for ts, line, meta in entries:
            e = s.entries.add()
            if ts is not None:
                e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 1_000_000_000)
            e.line = line.encode("utf-8", "surrogatepass")
            for k, v in meta.items():
                p = e.structuredMetadata.add()
                p.name, p.value = k.encode(), v.encode()
        if hashes:
            s.hash = 0xFEDCBA9876543210
    return bytes(req.SerializeToString())


def snappy(raw: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(raw))


def test_a_promtail_push_is_read_as_columns_equal_to_upbs_records() -> None:
    raw = request(
        [
            ('{job="varlogs", filename="/var/log/a.log"}', [(NOW, "hello", {}), (NOW + 5, "", {})]),
            ('{job="api"}', [(NOW + 7, "héllo wörld ✓ " * 20, {}), (None, "no time", {})]),
            ("{}", []),
        ],
        hashes=True,
    )
    columns = scan(raw)
    assert columns is not None
    assert columns.texts == ['{job="varlogs", filename="/var/log/a.log"}', '{job="api"}', "{}"]
    assert columns.counts == [2, 2, 0]
    assert columns.timestamps.tolist() == [NOW, NOW + 5, NOW + 7, 0]
    lines = [
        columns.lines_data[a:b].decode()
        for a, b in zip(columns.offsets[:-1].tolist(), columns.offsets[1:].tolist(), strict=True)
    ]
    want = [r.line for s in read_proto(raw) for r in s.records]
    assert lines == want == ["hello", "", "héllo wörld ✓ " * 20, "no time"]


def test_structured_metadata_and_bad_utf8_are_left_to_upb() -> None:
    with_meta = request([('{a="b"}', [(NOW, "x", {"trace_id": "abc"})])])
    assert scan(with_meta) is None
    got = decode_push(snappy(with_meta), "application/x-protobuf", "", LogLimits(), NOW)
    assert list(got.batch) == [LogRecord(NOW, "x", (("a", "b"),), {"trace_id": "abc"})]
    assert got.batch.columns is None

    req = PushRequest()
    s = req.streams.add()
    s.labels = b'{a="b"}'
    for line in (b"ok \xff bad", b"caf\xc3", b"\xa9 split"):
        e = s.entries.add()
        e.timestamp.seconds = NOW // 10**9
        e.line = line
    raw = req.SerializeToString()
    # The last two lines joined are valid UTF-8 ("café" split mid-character): each alone is not.
    assert scan(raw) is None
    got = decode_push(snappy(raw), "application/x-protobuf", "", LogLimits(), NOW)
    assert [r.line for r in got.batch] == ["ok \ufffd bad", "caf\ufffd", "\ufffd split"]


def test_a_negative_or_far_timestamp_is_left_to_upb_which_refuses_it() -> None:
    for ts in (-(10**9), 2**63 - 1):
        req = PushRequest()
        s = req.streams.add()
        s.labels = b'{a="b"}'
        e = s.entries.add()
        e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 1_000_000_000)
        assert scan(req.SerializeToString()) is None


def test_other_field_layouts_are_left_to_upb() -> None:
    good = request([('{a="b"}', [(NOW, "line", {})])])
    assert scan(good) is not None
    # An unknown field in the request, a stream whose labels follow its entries, and a
    # length running past the end.
    assert scan(good + b"\x10\x01") is None
    entry = good[good.index(b"\x12", 2 + len('{a="b"}')) :]
    labels = b"\x0a\x07" + b'{a="b"}'
    swapped = entry + labels
    assert scan(b"\x0a" + bytes([len(swapped)]) + swapped) is None
    assert scan(good[:-1]) is None


lines = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "a" * 200, 'line with \\n and " quotes']
)
stamps = st.one_of(
    st.none(),
    st.integers(NOW - 10 * DAY, NOW + DAY),
    st.integers(0, 2**63 - 1),
)
metadata = st.one_of(
    st.just({}), st.just({}), st.dictionaries(st.sampled_from(["t", "u"]), st.text(max_size=3))
)
label_texts = st.sampled_from(
    [
        '{a="b"}',
        '{a="b", c="d"}',
        '{a="b",c="d"}',
        "{}",
        '{a=""}',
        "{1=2}",
        '{x="' + "v" * 30 + '"}',
    ]
)
pushes = st.lists(
    st.tuples(label_texts, st.lists(st.tuples(stamps, lines, metadata), max_size=6)), max_size=4
)
limits = st.builds(
    LogLimits,
    max_line_size=st.sampled_from([0, 8, 256]),
    max_line_size_truncate=st.booleans(),
    max_label_value_length=st.sampled_from([0, 20]),
    max_labels_per_stream=st.sampled_from([0, 1, 15]),
)


def outcome(result: Any) -> tuple[list[LogRecord], int, list[str]]:
    return list(result.batch), result.refused, result.messages


@given(pushes, limits, st.booleans())
def test_columns_and_records_answer_every_push_alike(
    streams: list[tuple[str, list[Entry]]], lim: LogLimits, hashes: bool
) -> None:
    raw = request(streams, hashes)
    body = snappy(raw)
    fast = decode_push(body, "application/x-protobuf", "", lim, NOW)
    slow = admit(read_proto(unsnappy(body, 0)), lim, NOW)
    assert outcome(fast) == outcome(slow)
    if all(not meta for _, entries in streams for _, _, meta in entries):
        # Plain lines: read without upb, whatever the limits then refused.
        assert scan(raw) is not None or any(
            ts is not None and ts >= (2**63 - 1) // 10**9 * 10**9
            for _, es in streams
            for ts, _, _ in es
        )


@given(st.binary(max_size=300))
def test_any_bytes_are_columns_none_or_what_upb_reads(raw: bytes) -> None:
    columns = scan(raw)
    if columns is None:
        return
    # Whatever the scan accepts, upb reads to the same entries.
    records = [r for s in read_proto(raw) for r in s.records]
    assert columns.timestamps.tolist() == [r.timestamp_ns for r in records]
    assert columns.lines_data.decode() == "".join(r.line for r in records)
