"""LogQL parsing: Loki's error wording with positions, and property tests that the parser never
crashes on any input and that printing a tree and parsing it back gives the same tree."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ParseError
from spyglass.logs import LogQLParseError, LogQuery, parse_query


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "parse error at line 1, col 1: syntax error: unexpected $end"),
        ("{app=}", "parse error at line 1, col 6: syntax error: unexpected }, expecting STRING"),
        ('{app="a"} |~ "("', "parse error at line 1, col 14: error parsing regexp: "
         "missing closing ): `(`"),
        ('sum(rate({a="b"}[1x]))', "parse error at line 1, col 18: syntax error: unexpected "
         "NUMBER, expecting DURATION"),
        ('{a="b"}\n| json | x > ip("1.2.3.4")', "parse error at line 2, col 14: syntax error: "
         "unexpected ip"),
        ('{a=~".*"}', "queries require at least one regexp or equality matcher"),
    ],
)  # fmt: skip
def test_errors_read_like_lokis(query: str, message: str) -> None:
    with pytest.raises(LogQLParseError) as info:
        parse_query(query)
    assert message in str(info.value)


def test_a_log_query_keeps_its_stages_in_order() -> None:
    expr = parse_query('{app="a"} |= "x" | logfmt --strict level | level="error" | drop a')
    assert isinstance(expr, LogQuery)
    assert [type(s).__name__ for s in expr.stages] == [
        "LineFilter",
        "Parser",
        "LabelFilter",
        "DropKeep",
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_never_crashes_on_arbitrary_text(text: str) -> None:
    """Any input parses or raises a ParseError that carries a position."""
    error: ParseError | None = None
    try:
        parse_query(text)
    except ParseError as exc:
        error = exc
    if error is not None:
        assert error.line >= 1
        assert error.column >= 1


_TOKENS = [
    "{", "}", "(", ")", "[", "]", ",", "=", "!=", "=~", "!~", "|=", "|~", "|>", "|", ">", "<=",
    "==", "+", "-", "*", "/", "%", "^", "and", "or", "unless", "by", "without", "on", "bool",
    "ignoring", "group_left", "json", "logfmt", "--strict", "regexp", "pattern", "unwrap",
    "line_format", "label_format", "drop", "keep", "ip", "offset", "rate", "sum",
    "count_over_time", "quantile_over_time", "topk", "vector", "label_replace", "app", '"a"',
    '"(?i)x"', "`<a> <_>`", "1", "0.5", "0x1p3", "5m", "1h30m", "10MB", "#c\n",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=25))
def test_never_crashes_on_token_soup(tokens: list[str]) -> None:
    """Sequences of LogQL's own tokens (closer to real mistakes) parse or fail cleanly."""
    with contextlib.suppress(ParseError):
        parse_query(" ".join(tokens))


_label = st.sampled_from(["app", "env", "level", "status", "pod"])
_value = st.text(alphabet='abc"\\ \n.*é', max_size=6)
_matcher = st.builds(
    lambda n, op, v: f"{n}{op}{json_quote(v)}",
    _label,
    st.sampled_from(["=", "!="]),
    _value,
)


def json_quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


_selector = st.builds(
    lambda ms: '{app="x"' + "".join(", " + m for m in ms) + "}", st.lists(_matcher, max_size=3)
)
_stage = st.one_of(
    st.builds(lambda op, v: f"{op} {json_quote(v)}", st.sampled_from(["|=", "!=", "|~ ", "!~"]),
              st.sampled_from(["a", "b.c", "(?i)err"])),
    st.just('|= ip("10.0.0.0/8") or "x"'),
    st.just("| json"),
    st.just('| json a="b.c", d="e[0]"'),
    st.just("| logfmt --keep-empty x, y=\"z\""),
    st.just('| regexp "(?P<a>\\\\w+)"'),
    st.just('| pattern "<a> <_>"'),
    st.just("| unpack"),
    st.just('| line_format "{{.a}}"'),
    st.just('| label_format a=b, c="{{.d}}"'),
    st.just('| drop a, b="c"'),
    st.just("| keep a"),
    st.just("| decolorize"),
    st.builds(lambda n, op, v: f"| {n} {op} {v}", _label,
              st.sampled_from(["==", ">", "<=", "!="]),
              st.sampled_from(["1", "2.5", "1s", "1h30m", "10MB", "-3"])),
    st.just('| a="1" or b=~"2" and c!="3"'),
)  # fmt: skip
_log = st.builds(
    lambda sel, stages: " ".join([sel, *stages]), _selector, st.lists(_stage, max_size=4)
)
_range_op = st.sampled_from(["count_over_time", "rate", "bytes_over_time", "absent_over_time"])
_metric = st.one_of(
    st.builds(lambda op, log, r: f"{op}({log} [{r}])", _range_op, _log,
              st.sampled_from(["1m", "5m", "1h30m"])),
    st.builds(lambda log: f"quantile_over_time(0.9, {log} | unwrap duration(x) [5m]) by (app)",
              _log),
)  # fmt: skip
_expr = st.recursive(
    _metric,
    lambda inner: st.one_of(
        st.builds(lambda e: f"sum by (app) ({e})", inner),
        st.builds(lambda e: f"topk(2, {e})", inner),
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner,
                  st.sampled_from(["+", "/", "> bool", "and", "or on (app)", "* ignoring (x)"]),
                  inner),
        st.builds(lambda e: f"{e} * 2", inner),
        st.builds(lambda e: f'label_replace({e}, "d", "$1", "app", "(.*)")', inner),
    ),
    max_leaves=4,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(_log, _expr))
def test_print_parse_round_trip(query: str) -> None:
    """str() of a tree parses back to the same tree, and printing is stable."""
    tree = parse_query(query)
    printed = str(tree)
    again = parse_query(printed)
    assert again == tree
    assert str(again) == printed
