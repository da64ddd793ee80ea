"""LogQL parsing: Loki's error wording with positions, and property tests that the parser never
crashes on any input and that printing a tree and parsing it back gives the same tree."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.logs.strategies import log_queries, metric_queries

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


@settings(max_examples=300, deadline=None)
@given(st.one_of(log_queries, metric_queries))
def test_print_parse_round_trip(query: str) -> None:
    """str() of a tree parses back to the same tree, and printing is stable."""
    tree = parse_query(query)
    printed = str(tree)
    again = parse_query(printed)
    assert again == tree
    assert str(again) == printed
