"""Template variable interpolation pinned to Grafana's documented behaviour for Prometheus
(https://grafana.com/docs/grafana/latest/dashboards/variables/variable-syntax/ and the
Prometheus data source's escaping)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.dashboards import (
    VariableValue,
    interpolate,
    multi,
    prometheus_regex_escape,
    prometheus_string_escape,
    regex_escape,
)

ONE = VariableValue.single("api", name="job")
TWO = multi(["api", "web"], name="job")


@pytest.mark.parametrize(
    "text",
    ['up{job="$job"}', 'up{job="${job}"}', 'up{job="[[job]]"}'],
)
def test_the_three_syntaxes_put_in_a_single_value(text: str) -> None:
    assert interpolate(text, {"job": ONE}) == 'up{job="api"}'


def test_multi_value_becomes_a_regex_alternation_for_prometheus() -> None:
    assert interpolate('up{job=~"$job"}', {"job": TWO}) == 'up{job=~"(api|web)"}'


def test_multi_value_with_one_selected_has_no_parentheses() -> None:
    assert interpolate("$job", {"job": multi(["api"])}) == "api"


def test_multi_value_regex_characters_are_escaped_inside_a_promql_string() -> None:
    # Grafana's prometheusSpecialRegexEscape: "a.b" -> a\\.b in the PromQL string literal.
    assert interpolate("$v", {"v": multi(["a.b", "c+d"])}) == "(a\\\\.b|c\\\\+d)"


def test_single_value_escapes_backslash_and_quote_for_a_string_literal() -> None:
    assert prometheus_string_escape("it's a\\b") == "it\\\\'s a\\\\b"
    assert interpolate("$v", {"v": VariableValue.single("x'y")}) == "x\\\\'y"


def test_prometheus_regex_escape_doubles_backslashes() -> None:
    assert prometheus_regex_escape("a\\d") == "a\\\\\\\\d"


def test_all_with_custom_all_value_is_put_in_unescaped() -> None:
    all_value = VariableValue(("a.b", "c"), ("a.b", "c"), multi=True, is_all=True, all_value=".*")
    assert interpolate('up{job=~"$job"}', {"job": all_value}) == 'up{job=~".*"}'


def test_all_without_all_value_is_every_option() -> None:
    all_value = VariableValue(("a", "b", "c"), multi=True, is_all=True)
    assert interpolate("$job", {"job": all_value}) == "(a|b|c)"


def test_all_text_format_says_all() -> None:
    all_value = VariableValue(("a", "b"), multi=True, is_all=True, all_value=".*")
    assert interpolate("${job:text}", {"job": all_value}) == "All"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("csv", "api,web"),
        ("pipe", "api|web"),
        ("raw", "api,web"),
        ("regex", "(api|web)"),
        ("glob", "{api,web}"),
        ("json", '["api","web"]'),
        ("doublequote", '"api","web"'),
        ("singlequote", "'api','web'"),
        ("sqlstring", "'api','web'"),
        ("text", "api + web"),
        ("queryparam", "var-job=api&var-job=web"),
        ("percentencode", "api%2Cweb"),
        ("lucene", '("api" OR "web")'),
        ("distributed", "api,job=web"),
    ],
)
def test_formats_of_a_multi_value(fmt: str, expected: str) -> None:
    assert interpolate(f"${{job:{fmt}}}", {"job": TWO}) == expected


def test_bracket_syntax_takes_a_format_too() -> None:
    assert interpolate("[[job:csv]]", {"job": TWO}) == "api,web"


def test_regex_format_escapes_with_one_backslash() -> None:
    assert interpolate("${v:regex}", {"v": VariableValue.single("a.b/c")}) == "a\\.b\\/c"
    assert regex_escape("(x)") == "\\(x\\)"


def test_sqlstring_doubles_quotes_and_singlequote_escapes_them() -> None:
    v = {"v": VariableValue.single("o'k")}
    assert interpolate("${v:sqlstring}", v) == "'o''k'"
    assert interpolate("${v:singlequote}", v) == "'o\\'k'"


def test_unknown_format_falls_back_to_glob() -> None:
    assert interpolate("${job:nonsense}", {"job": TWO}) == "{api,web}"


def test_unknown_variables_stay_as_written() -> None:
    assert (
        interpolate("$nope ${nope} [[nope]] $__interval", {})
        == "$nope ${nope} [[nope]] $__interval"
    )


def test_a_longer_name_is_not_a_shorter_variable() -> None:
    assert interpolate("$jobs $job", {"job": ONE}) == "$jobs api"


def test_custom_all_value_may_hold_variables_and_loops_end() -> None:
    loop = VariableValue(("a",), multi=True, is_all=True, all_value="$x")
    assert interpolate("$x", {"x": loop}) == "$x"
    nested = VariableValue(("a",), multi=True, is_all=True, all_value="${env}-.*")
    assert interpolate("$x", {"x": nested, "env": ONE}) == "api-.*"


def test_default_format_applies_only_to_references_without_one() -> None:
    assert interpolate("$job ${job:pipe}", {"job": TWO}, "csv") == "api,web api|web"


names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
values = st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.dictionaries(names, st.lists(values, min_size=1, max_size=3)))
def test_any_text_interpolates_without_error(text: str, variables: dict[str, list[str]]) -> None:
    scope = {n: multi(vs, name=n) for n, vs in variables.items()}
    out = interpolate(text, scope)
    if "$" not in text and "[[" not in text:
        assert out == text
    for fmt in ("csv", "regex", "json", "queryparam", "lucene", "nonsense"):
        interpolate(text, scope, fmt)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40).filter(lambda s: "$" not in s and "[" not in s), names, values)
def test_a_reference_becomes_its_value(prefix: str, name: str, value: str) -> None:
    scope = {name: VariableValue.single(value)}
    for ref in (f"${{{name}}}", f"[[{name}]]", f"${{{name}:raw}}"):
        assert interpolate(prefix + ref, scope, "raw") == prefix + value
