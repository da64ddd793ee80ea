"""Alertmanager's matchers: both syntaxes, their error messages, printing and matching."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.alerting import Matcher, MatcherError, format_matchers, parse_matcher, parse_matchers
from spyglass.alerting._matchers import (
    parse_classic_matchers,
    parse_utf8_matchers,
    sort_matchers,
)
from spyglass.core.matchers import MatchOp

EQ, NE, RE, NRE = MatchOp.EQUAL, MatchOp.NOT_EQUAL, MatchOp.REGEX, MatchOp.NOT_REGEX


def triples(matchers: tuple[Matcher, ...]) -> list[tuple[str, str, str]]:
    return [(m.name, m.op.value, m.value) for m in matchers]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("{}", []),
        ('severity="critical"', [("severity", "=", "critical")]),
        ("severity=critical", [("severity", "=", "critical")]),
        ("{team=db, env!=staging,}", [("team", "=", "db"), ("env", "!=", "staging")]),
        ('service=~"api|web"', [("service", "=~", "api|web")]),
        ("service!~api-.*", [("service", "!~", "api-.*")]),
        ('"dotted.name"="x"', [("dotted.name", "=", "x")]),
        ('région="Île-de-France"', [("région", "=", "Île-de-France")]),
        ("emoji=🙂ok", [("emoji", "=", "🙂ok")]),
        ('msg="a \\"quoted\\" word, a comma"', [("msg", "=", 'a "quoted" word, a comma')]),
        ('path="C:\\\\temp\\n"', [("path", "=", "C:\\temp\n")]),
    ],
)
def test_utf8_syntax(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert triples(parse_utf8_matchers(text)) == expected
    assert triples(parse_matchers(text)) == expected


def test_utf8_syntax_reads_go_escapes_the_classic_syntax_keeps() -> None:
    assert triples(parse_utf8_matchers('code="\\u00e9\\x41"')) == [("code", "=", "éA")]
    # Where the two parsers disagree, Alertmanager (and so Spyglass) uses the classic reading.
    assert triples(parse_matchers('code="\\u00e9\\x41"')) == [("code", "=", "\\u00e9\\x41")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (",", "0:1: unexpected ,: expected label name"),
        ("{", "0:1: end of input: expected close brace"),
        ("}", "0:1: }: expected opening brace"),
        ("{a=b", "0:4: end of input: expected close brace"),
        ("a=b}", "0:4: }: expected opening brace"),
        ("a", "end of input: expected an operator such as '=', '!=', '=~' or '!~'"),
        ("a=", "end of input: expected label value"),
        (
            "a!b",
            "1:2: !: expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~'",
        ),
        ('a="b', '2:4: "b: missing end ": expected label value'),
        ('a="\\q"', '2:6: "\\q": invalid input'),
        ("a=b c", "4:5: unexpected c: expected a comma or close brace"),
        ("a=b~", "3:4: ~: invalid input: expected a comma or close brace"),
        ("a=~(", "failed to create matcher: error parsing regexp: missing closing ): `^(?:()$`"),
    ],
)
def test_utf8_syntax_errors_say_what_alertmanager_says(text: str, message: str) -> None:
    with pytest.raises(MatcherError) as info:
        parse_utf8_matchers(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{foo=bar, baz!=qux}", [("foo", "=", "bar"), ("baz", "!=", "qux")]),
        ("job=", [("job", "=", "")]),
        ("a=b c d", [("a", "=", "b c d")]),
        ('a="x,y", b=z', [("a", "=", "x,y"), ("b", "=", "z")]),
        ("tricky=~~~", [("tricky", "=~", "~~")]),
        ('a="\\d+"', [("a", "=", "\\d+")]),
        ('a="b\\n"', [("a", "=", "b\n")]),
        ("a=b\\", [("a", "=", "b\\")]),
    ],
)
def test_classic_syntax(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert triples(parse_classic_matchers(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (",", "bad matcher format: "),
        ("invalid-name=x", "bad matcher format: invalid-name=x"),
        ('job="value', 'matcher value contains unescaped double quote: "value'),
        ('a=foo"bar', 'matcher value contains unescaped double quote: foo"bar'),
        ('a=~"[z"', "error parsing regexp: missing closing ]: `[z)$`"),
    ],
)
def test_classic_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(MatcherError) as info:
        parse_classic_matchers(text)
    assert str(info.value) == message


def test_fallback_accepts_classic_only_input_with_a_warning_that_shows_the_fix() -> None:
    warnings: list[str] = []
    matchers = parse_matchers("a=b c", warnings=warnings)
    assert triples(matchers) == [("a", "=", "b c")]
    assert len(warnings) == 1
    assert 'a="b c"' in warnings[0]
    with pytest.raises(MatcherError):
        parse_matchers("a=b c", mode="utf8")
    assert triples(parse_matchers("a=b c", mode="classic")) == [("a", "=", "b c")]


def test_fallback_reports_the_classic_error_when_neither_parser_reads_the_input() -> None:
    with pytest.raises(MatcherError, match="bad matcher format"):
        parse_matchers("=x")


def test_fallback_prefers_the_classic_reading_when_the_two_disagree() -> None:
    warnings: list[str] = []
    # The classic parser keeps an unknown escape as written; the UTF-8 one reads "\\t" as a tab.
    matchers = parse_matchers('a="x\\ty"', warnings=warnings)
    assert triples(matchers) == [("a", "=", "x\\ty")]
    assert len(warnings) == 1
    assert "classic" in warnings[0]


def test_single_matcher_rejects_braces_and_lists() -> None:
    assert triples((parse_matcher("a=b"),)) == [("a", "=", "b")]
    with pytest.raises(MatcherError, match="unexpected open or close brace"):
        parse_matcher("{a=b}")
    with pytest.raises(MatcherError, match="expected 1 matcher, found 2"):
        parse_matcher("a=b,c=d", mode="utf8")


def test_regexes_are_anchored_and_dot_does_not_match_a_newline() -> None:
    m = Matcher.of("service", "=~", "api|web")
    assert m.matches({"service": "api"})
    assert not m.matches({"service": "api2"})
    assert not m.matches({})
    dot = Matcher.of("msg", "=~", "a.b")
    assert dot.matches_value("axb")
    assert not dot.matches_value("a\nb")
    assert Matcher.of("x", "!~", ".+").matches({})
    assert Matcher.of("x", "=", "").matches({"y": "1"})
    assert not Matcher.of("x", "!=", "").matches({"y": "1"})


def test_printing_and_order_follow_alertmanager() -> None:
    ms = sort_matchers(
        [
            Matcher.of("b", "=", "1"),
            Matcher.of("a", "!=", 'q"\\\n'),
            Matcher.of("a", "=", 'q"\\\n'),
            Matcher.of("has space", "=~", "x"),
        ]
    )
    assert format_matchers(ms) == ('{a="q\\"\\\\\\n",a!="q\\"\\\\\\n",b="1","has space"=~"x"}')


legacy_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
utf8_names = st.text(min_size=1, max_size=10)
values = st.text(max_size=16)
regexes = st.sampled_from(["", "a|b", ".*", "5..", "[a-z]+", "foo\\.bar", "(?i)Err.*", "\\d{2,3}"])


@st.composite
def matchers(draw: st.DrawFn) -> Matcher:
    name = draw(st.one_of(legacy_names, utf8_names))
    op = draw(st.sampled_from(list(MatchOp)))
    value = draw(regexes if op in (RE, NRE) else values)
    return Matcher.of(name, op, value)


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.lists(matchers(), max_size=4))
def test_parse_of_print_is_the_same_matchers(ms: list[Matcher]) -> None:
    printed = format_matchers(ms)
    assert list(parse_matchers(printed)) == ms
    for m in ms:
        assert parse_matcher(str(m)) == m


@_SETTINGS
@given(st.text(max_size=40))
def test_any_input_parses_or_fails_with_a_matcher_error(text: str) -> None:
    for mode in ("fallback", "utf8", "classic"):
        try:
            parse_matchers(text, mode=mode)  # type: ignore[arg-type]
        except MatcherError as exc:
            message = str(exc)
            assert message


@_SETTINGS
@given(st.text(alphabet='ab=!~,{}" \\\n\tn', max_size=24))
def test_syntax_heavy_input_parses_or_fails_with_a_matcher_error(text: str) -> None:
    for parse in (parse_utf8_matchers, parse_classic_matchers):
        try:
            parse(text)
        except MatcherError as exc:
            message = str(exc)
            assert message
