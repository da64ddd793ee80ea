"""Parsing: the tree Spyglass evaluates, and Prometheus-shaped errors for bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ParseError
from spyglass.core.matchers import MatchOp
from spyglass.promql import parse_query
from spyglass.promql._ast import Aggregate, Binary, Call, MatrixSelector, Subquery, VectorSelector


def test_selector_carries_name_matcher_offset_and_at() -> None:
    expr = parse_query('rate(http_requests_total{code=~"5.."}[5m] offset 1m @ 100)')
    assert isinstance(expr, Call)
    assert expr.name == "rate"
    (arg,) = expr.args
    assert isinstance(arg, MatrixSelector)
    assert arg.range_ms == 300_000
    sel = arg.selector
    assert sel.name == "http_requests_total"
    assert [(m.name, m.op) for m in sel.matchers] == [
        ("__name__", MatchOp.EQUAL),
        ("code", MatchOp.REGEX),
    ]
    assert sel.offset_ms == 60_000
    assert sel.at is not None
    assert sel.at.time_ms == 100_000


def test_vector_matching_modifiers() -> None:
    expr = parse_query("a * on(instance) group_left(version) b")
    assert isinstance(expr, Binary)
    assert (expr.card, expr.on, expr.matching, expr.include) == (
        "many-to-one",
        True,
        ("instance",),
        ("version",),
    )


def test_aggregation_and_subquery() -> None:
    expr = parse_query("sum without (job) (max_over_time(x[5m:30s]))")
    assert isinstance(expr, Aggregate)
    assert expr.without
    assert expr.grouping == ("job",)
    inner = expr.expr
    assert isinstance(inner, Call)
    sub = inner.args[0]
    assert isinstance(sub, Subquery)
    assert (sub.range_ms, sub.step_ms) == (300_000, 30_000)
    assert isinstance(sub.expr, VectorSelector)


def test_re2_flags_inside_a_group_are_accepted() -> None:
    expr = parse_query('x{group=~".*((?i)PRO).*"}')
    assert isinstance(expr, VectorSelector)
    assert expr.matchers[1].matches((("group", "production"),))
    assert not expr.matchers[1].matches((("group", "canary"),))


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("sum(rate(x[5m])", "parse error"),
        ('x{a="b"', "parse error"),
        ("rate(x)", "expected type matrix"),
        ("1 and 1", "parse error"),
        ("", "no expression found"),
        ('x{a=~"("}', "parse error"),
    ],
)
def test_malformed_queries_raise_parse_error_with_position(query: str, fragment: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_query(query)
    assert fragment in str(info.value)
    assert info.value.line >= 1
    assert info.value.column >= 1
    assert str(info.value).startswith(f"{info.value.line}:{info.value.column}: ")


def test_error_position_points_at_the_offending_token() -> None:
    with pytest.raises(ParseError) as info:
        parse_query("foo bar")
    assert (info.value.line, info.value.column) == (1, 5)


def test_unclosed_parenthesis_is_located_at_the_open_paren() -> None:
    with pytest.raises(ParseError) as info:
        parse_query("sum(rate(foo[5m])")
    assert str(info.value) == "1:4: parse error: unclosed left parenthesis"


def test_multiline_query_positions() -> None:
    with pytest.raises(ParseError) as info:
        parse_query("sum(\n  rate(x[5m]) foo\n)")
    assert info.value.line == 2


_ALPHABET = st.sampled_from(
    [
        *"abcxyz_:{}[]()\"'`=~!<>+-*/%^@,. 0123456789\n\\",
        "sum",
        "rate",
        "by",
        "offset",
        "5m",
        "on",
        "bool",
        "or",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_ALPHABET, max_size=25).map("".join)))
def test_arbitrary_text_only_raises_parse_error(text: str) -> None:
    """No input crashes or hangs the parser: it parses or raises ParseError."""
    try:
        parse_query(text)
    except ParseError as exc:
        position = (exc.line, exc.column)
        assert min(position) >= 1, position


@pytest.mark.parametrize(
    ("query", "at_ms"),
    [("a @ 100", 100_000), ("a @ -100", -100_000), ("rate(a[5m] @ -1.5)", -1_500)],
)
def test_at_modifier_times_including_before_1970(query: str, at_ms: int) -> None:
    expr = parse_query(query)
    sel = expr.args[0].selector if isinstance(expr, Call) else expr
    assert isinstance(sel, VectorSelector)
    assert sel.at is not None
    assert sel.at.time_ms == at_ms


@pytest.mark.parametrize("query", ["a @ 1e20", "a[100000000y]", 'x{a=~"\\\\z"}'])
def test_out_of_range_values_are_parse_errors(query: str) -> None:
    with pytest.raises(ParseError):
        parse_query(query)


_NUMBERS = st.one_of(
    st.integers(-(10**22), 10**22).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.builds(lambda n: f"x @ {n}", _NUMBERS),
        st.builds(
            lambda n, u: f"x offset {n}{u}",
            st.integers(-(10**22), 10**22),
            st.sampled_from(["ms", "s", "m", "h", "d", "w", "y", ""]),
        ),
        st.builds(
            lambda n, u: f"x[{n}{u}]", st.integers(0, 10**22), st.sampled_from(["ms", "s", "y"])
        ),
        st.builds(lambda n: f"topk({n}, x)", _NUMBERS),
        st.builds(lambda n, m: f"x[{n}s:{m}s]", st.integers(0, 10**20), st.integers(0, 10**20)),
    )
)
def test_extreme_numbers_only_raise_parse_error(text: str) -> None:
    """Numbers at the edges of what the binding can represent never crash parsing."""
    try:
        parse_query(text)
    except ParseError as exc:
        position = (exc.line, exc.column)
        assert min(position) >= 1, position
