"""The pipeline's parsers and value readers: examples pinned to Loki's behaviour, and property
tests that they round-trip what they should and never fail other than the way they promise."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.logs._parsers import ExtractError, json_all, json_paths, logfmt, unpack
from spyglass.logs._patterns import compile_pattern
from spyglass.logs._units import (
    go_duration_seconds,
    go_parse_bytes,
    go_parse_float,
    literal_duration_ns,
)

_KEY = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_VALUE = st.text(alphabet='abc xyz=019.-_"\\', min_size=1, max_size=12)


def _logfmt_value(value: str) -> str:
    if any(c in value for c in ' ="\\'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


@given(st.dictionaries(_KEY, _VALUE, min_size=1, max_size=6))
def test_logfmt_reads_back_what_logfmt_writes(pairs: dict[str, str]) -> None:
    line = " ".join(f"{k}={_logfmt_value(v)}" for k, v in pairs.items())
    assert dict(logfmt(line, (), strict=True, keep_empty=False)) == pairs


@given(st.text(max_size=60))
def test_logfmt_only_fails_as_logfmt_parser_err(line: str) -> None:
    kinds = set()
    try:
        logfmt(line, (), strict=True, keep_empty=True)
    except ExtractError as exc:
        kinds.add(exc.kind)
    assert kinds <= {"LogfmtParserErr"}
    logfmt(line, (), strict=False, keep_empty=True)  # lenient mode never fails


@given(st.text(max_size=60))
def test_json_parsers_only_fail_as_json_parser_err(line: str) -> None:
    kinds = set()
    for parse in (json_all, unpack, lambda text: json_paths(text, (("a", "a.b[0]"),))):
        try:
            parse(line)
        except ExtractError as exc:
            kinds.add(exc.kind)
    assert kinds <= {"JSONParserErr"}


def test_json_flattens_keeps_number_text_and_first_duplicate() -> None:
    line = '{"a":{"b":{"c":1e3}},"a.b":true,"x":null,"arr":[1],"d":"1","d":"2","9z":"n"}'
    assert dict(json_all(line)) == {"a_b_c": "1e3", "a_b": "true", "d": "1", "_9z": "n"}


@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.sampled_from([" ", ", ", "|"])),
        min_size=1,
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_a_pattern_extracts_the_values_a_line_was_built_from(parts: list[tuple[str, str]]) -> None:
    names = [f"f{i}" for i in range(len(parts))]
    expression = "".join(f"<{n}>{sep}" for n, (_, sep) in zip(names, parts, strict=True))
    line = "".join(f"{value}{sep}" for value, sep in parts)
    got = compile_pattern(expression, line_filter=False).extract(line)
    assert got == [(n, value) for n, (value, _) in zip(names, parts, strict=True)]


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(["ns", "us", "µs", "ms", "s", "m", "h"])),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)
def test_go_durations_add_up_their_parts(parts: list[tuple[int, str]], negative: bool) -> None:
    scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    text = ("-" if negative else "") + "".join(f"{n}{unit}" for n, unit in parts)
    want = sum(n * scale[unit] for n, unit in parts) * (-1 if negative else 1)
    assert math.isclose(go_duration_seconds(text), want, rel_tol=1e-9, abs_tol=1e-9)


@given(st.text(max_size=20))
def test_value_readers_fail_only_with_value_error(text: str) -> None:
    for read in (go_duration_seconds, go_parse_bytes, go_parse_float, literal_duration_ns):
        with contextlib.suppress(ValueError):
            read(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", 'time: missing unit in duration "5"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("oops", 'time: invalid duration "oops"'),
    ],
)
def test_duration_errors_are_gos(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        go_duration_seconds(text)


def test_bytes_read_as_go_humanize_does() -> None:
    assert go_parse_bytes("1.5KB") == 1500
    assert go_parse_bytes("2,048") == 2048
    assert go_parse_bytes("1 kib") == 1024
    assert go_parse_bytes("1.5B") == 1
    with pytest.raises(ValueError, match="unhandled size name: xb"):
        go_parse_bytes("1XB")
    with pytest.raises(ValueError, match='parsing "": invalid syntax'):
        go_parse_bytes("oops")
