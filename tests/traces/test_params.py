"""Jaeger's query parameters read as Jaeger reads them: Go durations, trace ids, and tags as
JSON, logfmt or ``tag=key:value``, with Jaeger's error texts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import BadInput
from spyglass.traces import parse_go_duration, parse_logfmt, parse_tags, parse_trace_id

UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
         "m": 60 * 10**9, "h": 3600 * 10**9}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("1.5s", 1_500_000_000),
        ("100ms", 100_000_000),
        ("1h15m30.918273645s", 4_530_918_273_645),
        ("-1.5h", -5_400_000_000_000),
        ("+5us", 5_000),
        ("2µs", 2_000),
        (".5ms", 500_000),
        ("5.s", 5_000_000_000),
        ("1.0000000001s", 1_000_000_000),  # below a nanosecond is dropped
    ],
)
def test_go_durations(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("1", 'time: missing unit in duration "1"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        (".s", 'time: invalid duration ".s"'),
        ("-", 'time: invalid duration "-"'),
        ("3000000h", 'time: invalid duration "3000000h"'),
    ],
)
def test_bad_go_durations_say_what_go_says(text: str, message: str) -> None:
    with pytest.raises(BadInput) as err:
        parse_go_duration(text)
    assert str(err.value) == message


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(UNITS))), min_size=1,
                max_size=4), st.booleans())  # fmt: skip
def test_a_go_duration_is_the_sum_of_its_parts(parts: list[tuple[int, str]], neg: bool) -> None:
    text = ("-" if neg else "") + "".join(f"{n}{u}" for n, u in parts)
    total = sum(n * UNITS[u] for n, u in parts)
    assert parse_go_duration(text) == (-total if neg else total)


@given(st.text(max_size=12))
def test_any_text_is_a_duration_or_bad_input(text: str) -> None:
    message = ""
    try:
        parse_go_duration(text)
    except BadInput as exc:
        message = str(exc)
    assert message == "" or message.startswith("time: ")


def test_trace_ids_widen_and_lower() -> None:
    assert parse_trace_id("ABC") == "0" * 29 + "abc"
    assert parse_trace_id("a" * 32) == "a" * 32
    with pytest.raises(BadInput, match="cannot be longer than 32 hex characters"):
        parse_trace_id("a" * 33)
    with pytest.raises(BadInput, match='parsing "xyz": invalid syntax'):
        parse_trace_id("xyz")
    with pytest.raises(BadInput, match="invalid syntax"):
        parse_trace_id("")


@given(st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=32))
def test_a_hex_trace_id_round_trips(text: str) -> None:
    parsed = parse_trace_id(text)
    assert len(parsed) == 32
    assert int(parsed, 16) == int(text, 16)


def test_tags_as_json_logfmt_and_tag_parameters() -> None:
    assert parse_tags([], ['{"error":"true","http.status_code":"500"}']) == {
        "error": "true",
        "http.status_code": "500",
    }
    # logfmt, as typed into the Jaeger UI or Grafana: quoted values, a bare key means true.
    assert parse_tags([], ['http.route="/a b" error  level=warn']) == {
        "http.route": "/a b",
        "error": "true",
        "level": "warn",
    }
    assert parse_tags(["db.statement:SELECT 1:2"], ['{"x":"y"}']) == {
        "db.statement": "SELECT 1:2",
        "x": "y",
    }
    with pytest.raises(BadInput, match="malformed 'tag' parameter, expecting key:value"):
        parse_tags(["novalue"], [])
    with pytest.raises(BadInput, match="malformed 'tags' parameter, cannot unmarshal JSON"):
        parse_tags([], ['{"a":'])
    with pytest.raises(BadInput, match="cannot unmarshal number into Go value of type string"):
        parse_tags([], ['{"a":1}'])


logfmt_keys = st.text(st.characters(blacklist_categories=["Z", "C"], blacklist_characters='="\\'),
                      min_size=1, max_size=8)  # fmt: skip
logfmt_values = st.text(st.characters(blacklist_categories=["C"]), max_size=8)


@given(st.dictionaries(logfmt_keys, logfmt_values, max_size=5))
def test_logfmt_round_trips(tags: dict[str, str]) -> None:
    text = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in tags.items())
    assert parse_logfmt(text) == tags
    assert parse_tags([], [json.dumps(tags)]) == tags
