"""Loki push bodies: JSON and snappy protobuf decode to the records Loki would store, Loki's
limits refuse what Loki refuses with Loki's messages, and no body crashes the decoder."""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import zlib
from typing import Any

import cramjam
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spyglass.ingest.loki as loki
from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.limits import LogLimits
from spyglass.core.logs import LogRecord
from spyglass.ingest.loki import (
    PushRequest,
    decode_push,
    format_stream_labels,
    parse_stream_labels,
)

NOW = 1_760_000_000_000_000_000
LIMITS = LogLimits()


def test_public_surface() -> None:
    assert sorted(loki.__all__) == [
        "Admission",
        "ColumnPush",
        "JSON_TYPE",
        "LabelsError",
        "PushRequest",
        "PushResult",
        "RawStream",
        "admit",
        "admit_columns",
        "check_stream",
        "decode_json",
        "decode_proto",
        "decode_push",
        "format_stream_labels",
        "inflate",
        "parse_stream_labels",
    ]


def json_push(streams: list[dict[str, Any]]) -> bytes:
    return json.dumps({"streams": streams}).encode()


def proto_push(streams: list[tuple[str, list[tuple[int, str, dict[str, str]]]]]) -> bytes:
    req = PushRequest()
    for labels, entries in streams:
        s = req.streams.add()
        s.labels = labels.encode()
        for ts, line, meta in entries:
            e = s.entries.add()
            e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 1_000_000_000)
            e.line = line.encode()
            for k, v in meta.items():
                p = e.structuredMetadata.add()
                p.name, p.value = k.encode(), v.encode()
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def test_json_push_with_structured_metadata_and_gzip() -> None:
    body = json_push(
        [
            {
                "stream": {"app": "api", "env": "prod", "empty": ""},
                "values": [[str(NOW), "first"], [str(NOW + 1), "second", {"trace_id": "abc"}]],
            }
        ]
    )
    stream = (("app", "api"), ("env", "prod"))
    want = [
        LogRecord(NOW, "first", stream),
        LogRecord(NOW + 1, "second", stream, {"trace_id": "abc"}),
    ]
    for encoding, data in [
        ("", body),
        ("gzip", gzip.compress(body)),
        ("deflate", zlib.compress(body)),
    ]:
        got = decode_push(data, "application/json", encoding, LIMITS, NOW)
        assert list(got.batch) == want
        assert got.refused == 0


def test_invalid_utf8_in_a_json_line_is_stored_with_u_fffd_not_refused() -> None:
    """A line of a file in another encoding is stored with U+FFFD, as from a protobuf push
    (and as Loki takes such bytes), not refused with the rest of the shipper's batch."""
    lines = [b"caf\xe9 \xff latin-1", b"fine", b"caf\xc3"]
    body = (
        b'{"streams": [{"stream": {"job": "app"}, "values": ['
        + b", ".join(b'["%d", "%s"]' % (NOW + i, line) for i, line in enumerate(lines))
        + b"]}]}"
    )
    got = decode_push(body, "application/json", "", LIMITS, NOW)
    assert [r.line for r in got.batch] == ["caf\ufffd \ufffd latin-1", "fine", "caf\ufffd"]
    assert got.refused == 0


@given(st.lists(st.binary(max_size=12), min_size=1, max_size=4))
def test_any_line_bytes_read_alike_from_json_and_protobuf(lines: list[bytes]) -> None:
    """Whatever bytes a line holds (quotes and backslashes escaped for JSON), the JSON push
    stores the line the protobuf push of the same bytes stores."""

    def escape(raw: bytes) -> bytes:
        out = bytearray()
        for b in raw:
            out += b"\\u%04x" % b if b < 0x20 or b in b'"\\' else bytes([b])
        return bytes(out)

    body = (
        b'{"streams": [{"stream": {"job": "app"}, "values": ['
        + b", ".join(b'["%d", "%s"]' % (NOW + i, escape(x)) for i, x in enumerate(lines))
        + b"]}]}"
    )
    req = PushRequest()
    stream = req.streams.add()
    stream.labels = b'{job="app"}'
    for i, raw in enumerate(lines):
        e = stream.entries.add()
        e.timestamp.seconds, e.timestamp.nanos = divmod(NOW + i, 1_000_000_000)
        e.line = raw
    proto = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
    from_json = decode_push(body, "application/json", "", LIMITS, NOW)
    from_proto = decode_push(proto, "application/x-protobuf", "", LIMITS, NOW)
    assert list(from_json.batch) == list(from_proto.batch)


def test_protobuf_push_as_promtail_sends_it() -> None:
    body = proto_push(
        [
            (
                '{job="varlogs", filename="/var/log/a.log"}',
                [(NOW, "hello", {}), (NOW + 5, "bye", {"user": "7"})],
            )
        ]
    )
    got = decode_push(body, "application/x-protobuf", "", LIMITS, NOW)
    stream = (("filename", "/var/log/a.log"), ("job", "varlogs"))
    assert list(got.batch) == [
        LogRecord(NOW, "hello", stream),
        LogRecord(NOW + 5, "bye", stream, {"user": "7"}),
    ]


def test_limits_refuse_entries_with_lokis_messages_and_keep_the_rest() -> None:
    limits = LogLimits(max_line_size=10, max_labels_per_stream=2)
    week = 7 * 86_400 * 10**9
    body = json_push(
        [
            {"stream": {"a": "1"}, "values": [[str(NOW), "ok"], [str(NOW - week - 1), "old"],
                                               [str(NOW + 11 * 60 * 10**9), "new"],
                                               [str(NOW), "x" * 11]]},
            {"stream": {"a": "1", "b": "2", "c": "3"}, "values": [[str(NOW), "many labels"]]},
            {"stream": {}, "values": [[str(NOW), "no labels"]]},
            {"stream": {"0bad": "x"}, "values": [[str(NOW), "bad name"]]},
        ]
    )  # fmt: skip
    got = decode_push(body, "application/json", "", limits, NOW)
    assert [r.line for r in got.batch] == ["ok"]
    assert got.refused == 6
    text = got.error_text()
    assert (
        "entry for stream '{a=\"1\"}' has timestamp too old: 2025-10-02T08:53:19Z, "
        "oldest acceptable timestamp is: 2025-10-02T08:53:20Z" in text
    )
    assert "entry for stream '{a=\"1\"}' has timestamp too new: 2025-10-09T09:04:20Z" in text
    assert (
        "Max entry size '10' bytes exceeded for stream '{a=\"1\"}' while adding an entry "
        "with length '11' bytes" in text
    )
    assert "has 3 label names; limit 2" in text
    assert "error at least one label pair is required per stream" in text
    assert "error parsing labels" in text
    assert text.endswith("total ignored: 6 out of 7")


def test_line_size_counts_utf8_bytes_and_truncation_cuts_at_a_character() -> None:
    limits = LogLimits(max_line_size=5, max_line_size_truncate=True)
    body = json_push([{"stream": {"a": "1"}, "values": [[str(NOW), "ééé"]]}])  # 6 bytes
    got = decode_push(body, "application/json", "", limits, NOW)
    assert [r.line for r in got.batch] == ["éé"]
    assert got.refused == 0


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (b"{not json", "application/json", ""),
        (b'{"streams": {}}', "application/json", ""),
        (
            b'{"streams": [{"stream": {"a": "1"}, "values": [[1, "ts is a number"]]}]}',
            "application/json",
            "",
        ),
        (b'{"streams": [{"stream": {"a": "1"}, "values": [["-5", "x"]]}]}', "application/json", ""),
        (b'{"streams": [{"stream": {"a": 1}, "values": []}]}', "application/json", ""),
        (b"\xff\xfe not snappy", "application/x-protobuf", ""),
        (bytes(cramjam.snappy.compress_raw(b"\x0a\x05\x0a\x03{a")), "", ""),
        (b"not gzip", "application/json", "gzip"),
        (b"{}", "application/json", "br"),
    ],
)
def test_malformed_bodies_are_bad_input(body: bytes, content_type: str, encoding: str) -> None:
    with pytest.raises(BadInput):
        decode_push(body, content_type, encoding, LIMITS, NOW)


def test_a_gzip_bomb_stops_at_the_body_limit() -> None:
    bomb = gzip.compress(b"{" + b" " * 1_000_000 + b"}")
    with pytest.raises(LimitExceeded):
        decode_push(bomb, "application/json", "gzip", LIMITS, NOW, max_body_bytes=1000)


def test_stream_label_strings_parse_as_loki_does() -> None:
    assert parse_stream_labels('{b="2", a="x\\"y\\n\\u00e9"}') == (("a", 'x"y\né'), ("b", "2"))
    assert parse_stream_labels("{a=`raw\\n`,}") == (("a", "raw\\n"),)
    assert parse_stream_labels("{}") == ()
    for bad in [
        'a="b"',
        '{a="b"',
        "{a=b}",
        '{1a="b"}',
        '{a="b" c="d"}',
        '{a="\\q"}',
        '{a="b", a="c"}',
    ]:
        with pytest.raises(BadInput):
            parse_stream_labels(bad)


label_values = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=10)
label_sets = st.dictionaries(
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,5}", fullmatch=True), label_values, max_size=4
)


@given(label_sets)
def test_formatted_labels_parse_back(labels: dict[str, str]) -> None:
    pairs = tuple(sorted(labels.items()))
    assert parse_stream_labels(format_stream_labels(pairs)) == pairs


@given(st.binary(max_size=300), st.sampled_from(["application/json", "application/x-protobuf"]))
def test_any_body_is_records_or_bad_input_never_a_crash(body: bytes, content_type: str) -> None:
    with contextlib.suppress(BadInput):
        decode_push(body, content_type, "", LIMITS, NOW)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(json_values)
def test_any_json_document_is_records_or_bad_input(doc: Any) -> None:
    body = json.dumps(
        {"streams": [doc]} if not isinstance(doc, dict) else {"streams": [doc, doc]}
    ).encode()
    with contextlib.suppress(BadInput):
        decode_push(body, "application/json", "", LIMITS, NOW)


@given(st.binary(max_size=200))
def test_any_snappy_wrapped_bytes_are_records_or_bad_input(raw: bytes) -> None:
    with contextlib.suppress(BadInput):
        decode_push(bytes(cramjam.snappy.compress_raw(raw)), "", "", LIMITS, NOW)


json_lines = st.text(max_size=30)  # lone surrogates too: JSON escapes allow them
json_stamps = st.one_of(
    st.integers(NOW - 10 * 86_400 * 10**9, NOW + 86_400 * 10**9).map(str),
    st.sampled_from(["", "12a", "-5", "99999999999999999999", "9223372036854775808", "007"]),
)
json_entries = st.one_of(
    st.tuples(json_stamps, json_lines).map(list),
    st.tuples(json_stamps, json_lines, st.just({})).map(list),
    st.tuples(json_stamps, json_lines, st.dictionaries(st.just("t"), st.text(max_size=3))).map(
        list
    ),
    st.tuples(json_stamps, st.integers()).map(list),
)
json_streams = st.lists(
    st.fixed_dictionaries(
        {
            "stream": st.sampled_from(
                [{"a": "b"}, {"a": "b", "c": ""}, {}, {"1x": "y"}, {"a": "v" * 30}]
            ),
            "values": st.lists(json_entries, max_size=5),
        }
    ),
    max_size=3,
)
push_limits = st.builds(
    LogLimits,
    max_line_size=st.sampled_from([0, 8, 256]),
    max_line_size_truncate=st.booleans(),
    max_label_value_length=st.sampled_from([0, 20]),
)


@given(json_streams, push_limits)
def test_a_json_push_reads_alike_as_columns_and_as_records(
    streams: list[dict[str, Any]], lim: LogLimits
) -> None:
    body = json.dumps({"streams": streams}).encode()
    refused: BadInput | None = None
    try:
        slow = loki.admit(loki.read_json(json.loads(body)), lim, NOW)
    except BadInput as exc:
        refused = exc
    if refused is not None:
        with pytest.raises(BadInput, match=re.escape(str(refused))):
            decode_push(body, "application/json", "", lim, NOW)
        return
    fast = decode_push(body, "application/json", "", lim, NOW)
    assert (list(fast.batch), fast.refused, fast.messages) == (
        list(slow.batch),
        slow.refused,
        slow.messages,
    )


def test_a_json_push_of_plain_lines_is_kept_as_columns() -> None:
    body = json_push(
        [
            {"stream": {"app": "api"}, "values": [[str(NOW), "héllo"], [str(NOW + 1), ""]]},
            {"stream": {"app": "web"}, "values": [[str(NOW + 2), "x"]]},
            {"stream": {"app": "api"}, "values": [[str(NOW + 3), "again"]]},
        ]
    )
    got = decode_push(body, "application/json", "", LIMITS, NOW)
    columns = got.batch.columns
    assert columns is not None
    # Equal label sets sent as two streams are one stream of the batch.
    assert columns.streams == ((("app", "api"),), (("app", "web"),))
    assert columns.stream_index.tolist() == [0, 0, 1, 0]
    assert list(got.batch) == [
        LogRecord(NOW, "héllo", (("app", "api"),)),
        LogRecord(NOW + 1, "", (("app", "api"),)),
        LogRecord(NOW + 2, "x", (("app", "web"),)),
        LogRecord(NOW + 3, "again", (("app", "api"),)),
    ]


def test_stream_label_strings_are_parsed_once_and_their_errors_kept() -> None:
    from spyglass.ingest.loki._labels import stream_labels  # noqa: PLC0415 - private helper

    text = '{job="varlogs", app="x"}'
    first = stream_labels(text)
    assert first == parse_stream_labels(text)
    assert stream_labels(text) is first  # the same object: not parsed again
    bad = stream_labels('{job="unterminated}')
    assert isinstance(bad, BadInput)
    assert str(bad).startswith("error parsing labels '{job=\"unterminated}' with error:")
    assert stream_labels('{job="unterminated}') is bad
