"""The error events' record format: every event round-trips through its JSON and through a WAL
record, payloads with lone surrogates and NaN included; anything else is a ``ParseError``."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.error_events import event

from spyglass.core.error_events import ErrorBatch, ErrorEvent, Exception_, Frame
from spyglass.core.errors import ParseError
from spyglass.storage.errors._codec import (
    ErrorsCodec,
    decode_batch,
    dumps,
    encode_batch,
    loads,
)

text = st.text(max_size=20)  # any code point, lone surrogates included
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)
frames = st.builds(
    Frame,
    function=text,
    module=text,
    filename=text,
    abs_path=text,
    lineno=st.none() | st.integers(-(2**40), 2**40),
    context_line=text,
    in_app=st.none() | st.booleans(),
)
exceptions = st.builds(
    Exception_,
    type=text,
    value=text,
    module=text,
    frames=st.lists(frames, max_size=3).map(tuple),
    handled=st.none() | st.booleans(),
)
events = st.builds(
    ErrorEvent,
    project_id=st.integers(1, 2**63 - 1),
    event_id=st.text("0123456789abcdef", min_size=32, max_size=32),
    timestamp_ns=st.integers(0, 2**63 - 1),
    received_ns=st.integers(0, 2**63 - 1),
    level=text,
    release=text,
    message=text,
    exceptions=st.lists(exceptions, max_size=2).map(tuple),
    stack=st.lists(frames, max_size=2).map(tuple),
    fingerprint=st.lists(text, max_size=3).map(tuple),
    tags=st.dictionaries(text, text, max_size=3),
    user_id=text,
    trace_id=text,
    payload=st.dictionaries(text, json_values, max_size=4),
    issue_key=text,
)


@given(events)
def test_an_event_round_trips_through_its_json(e: ErrorEvent) -> None:
    back = loads(dumps(e))
    assert back == e
    assert dumps(e).isascii()  # lone surrogates travel as escapes


@given(st.lists(events, max_size=4))
def test_a_batch_round_trips_through_a_wal_record(items: list[ErrorEvent]) -> None:
    batch = ErrorBatch(tuple(items))
    codec = ErrorsCodec()
    payload = codec.segment_encoder().encode(batch, 1 << 30)
    assert codec.reader().read(payload) == batch


def test_nan_and_infinity_in_a_payload_come_back() -> None:
    e = event(1, payload={"extra": {"ratio": math.nan, "big": math.inf}})
    back = loads(dumps(e))
    assert math.isnan(back.payload["extra"]["ratio"])
    assert back.payload["extra"]["big"] == math.inf


@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_a_parse_error_or_a_batch(data: bytes) -> None:
    try:
        batch = decode_batch(data)
    except ParseError:
        return
    assert isinstance(batch, ErrorBatch)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"\x02[]", "version 2"),
        (b"\x01{", "not JSON"),
        (b"\x01{}", "not a JSON array of objects"),
        (b'\x01[{"event_id": "x"}]', "not a stored error event"),
    ],
)
def test_a_damaged_record_says_what_is_wrong(payload: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        decode_batch(payload)


def test_a_field_of_the_wrong_type_is_refused() -> None:
    data: dict[str, Any] = json.loads(dumps(event(1)))
    data["timestamp_ns"] = "soon"
    with pytest.raises(ParseError, match="expected an integer"):
        loads(json.dumps(data))
    assert encode_batch(ErrorBatch(())) == b"\x01[]"
