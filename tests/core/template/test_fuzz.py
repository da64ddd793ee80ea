"""Properties of the template engine under hostile and random input.

Whatever text arrives (a rule file, an alertmanager.yml), parsing and running it either works
or raises ``TemplateError``, within a bounded time; and a parsed template prints back to text
that parses to the same template and renders the same output.
"""

from __future__ import annotations

import contextlib
import functools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.template import (
    QuerySample,
    Template,
    TemplateError,
    TemplateSet,
    expand_alert_template,
    notification_data,
    prometheus_functions,
)
from spyglass.core.template._printing import format_float

FUNCS = prometheus_functions(query=lambda q: [QuerySample({"job": q}, 1.5)], timestamp_ms=0)
DATA = {"A": {"B": [1, 2.5, "x"]}, "b": [True, None], "s": "héllo", "n": 3}

TOKENS = [
    "{{", "}}", "{{- ", " -}}", "{{/*", "*/}}", " ", "\n", ".", ".A", ".B", ".b", ".s", "$",
    "$x", "$y", ":=", "=", "|", "(", ")", ",", '"s"', "`r`", "'c'", "1", "-3", "2.5", "0x1F",
    "1e3", "1+2i", "true", "nil", "if", "else", "end", "range", "with", "define", "template",
    "block", "break", "continue", '"t"', "print", "printf", '"%d %s %v"', "len", "index",
    "slice", "eq", "lt", "and", "or", "not", "html", "js", "urlquery", "call", "humanize",
    "query", "first", "value", "label", "title", "reReplaceAll", '"a(b"', "text", "{", "}",
    "@", "é", "\t", "{{end}}", "{{else}}", '{{define "t"}}', '{{template "t" .}}',
]  # fmt: skip


def run(text: str, data: object = DATA) -> str | None:
    """Parse and run ``text``; ``None`` when it fails with a TemplateError."""
    template = Template("fuzz", funcs=FUNCS, max_steps=20_000, max_output=100_000)
    try:
        template.parse(text)
        return template.execute(data)
    except TemplateError:
        return None


FUZZ = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=200))
def test_any_text_parses_or_fails_with_a_template_error(text: str) -> None:
    run(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_template_token_soup_parses_or_fails_with_a_template_error(text: str) -> None:
    run(text)


# Loaded once: parsing Alertmanager's default templates for every example was most of this
# test's time, and ``render`` works on a copy of the set, so no example sees another's text.
_DEFAULT_SET = TemplateSet.load()


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=20).map("".join))
def test_alert_and_notification_templates_fail_only_with_template_errors(text: str) -> None:
    with contextlib.suppress(TemplateError):
        expand_alert_template(text, name="fuzz", labels={"job": "a"}, value=1.0)
    with contextlib.suppress(TemplateError):
        _DEFAULT_SET.render(text, notification_data("r", []))


# --- valid templates from a small grammar ------------------------------------------------------

_ARGS = st.sampled_from(
    [".", ".A", ".A.B", ".n", ".s", "$", "$.n", "1", "2.5", '"x"', "`y`", "true", "nil", "'c'"]
)
_FUNCS = st.sampled_from(["print", "len", "html", "not", "and", "or", "eq", "index"])


_NOT_NIL = _ARGS.filter(lambda a: a != "nil")


@st.composite
def _command(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(_NOT_NIL)
    name = draw(_FUNCS)
    args = draw(st.lists(_ARGS, min_size=1, max_size=3))
    return " ".join([name, *args])


@st.composite
def _pipeline(draw: st.DrawFn) -> str:
    first = draw(_COMMAND)
    rest = draw(st.lists(st.sampled_from(["print", "html", "len", "not", "urlquery"]), max_size=2))
    return " | ".join([first, *rest])


# Each strategy is made once and drawn from many times: one made afresh for every draw cost
# Hypothesis more time validating it than the test spent parsing and running templates.
_COMMAND = _command()
_PIPELINE = _pipeline()
_TEXT = st.text(alphabet="ab \n-.", max_size=5)


@functools.cache
def _template(depth: int = 0) -> st.SearchStrategy[str]:
    """Templates nested up to ``depth`` 3 (the same strategy for the same depth)."""
    return _template_at(depth)


@st.composite
def _template_at(draw: st.DrawFn, depth: int) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 5 if depth < 3 else 1))
        if kind == 0:
            parts.append(draw(_TEXT))
        elif kind == 1:
            parts.append("{{" + draw(_PIPELINE) + "}}")
        elif kind == 2:
            body = draw(_template(depth + 1))
            other = draw(_template(depth + 1))
            keyword = draw(st.sampled_from(["if", "with", "range"]))
            tail = draw(st.sampled_from(["", "{{else}}" + other]))
            parts.append(f"{{{{{keyword} {draw(_PIPELINE)}}}}}{body}{tail}{{{{end}}}}")
        elif kind == 3:
            parts.append("{{$v := " + draw(_PIPELINE) + "}}{{$v}}")
        elif kind == 4:
            parts.append("{{- " + draw(_PIPELINE) + " -}}")
        else:
            parts.append('{{template "sub" ' + draw(_ARGS) + "}}")
    return "".join(parts)


@settings(max_examples=300, deadline=2000)
@given(_template())
def test_a_parsed_template_prints_back_to_an_equivalent_template(text: str) -> None:
    source = '{{define "sub"}}[{{.}}]{{end}}' + text
    template = Template("t", max_steps=20_000).parse(source)
    printed = str(template.lookup("t"))
    again = Template("t", max_steps=20_000).parse('{{define "sub"}}[{{.}}]{{end}}' + printed)
    assert str(again.lookup("t")) == printed
    outputs = []
    for t in (template, again):
        try:
            outputs.append(t.execute(DATA))
        except TemplateError as exc:
            outputs.append("error: " + exc.message.split(": ", 2)[-1])
    assert outputs[0] == outputs[1]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_shortest_float_formatting_reads_back_exactly(value: float) -> None:
    for fmt in ("g", "e", "f"):
        assert float(format_float(value, fmt, -1)) == value


@given(st.one_of(st.floats(), st.integers(-(2**70), 2**70), st.text(max_size=12)))
def test_humanizers_return_text_or_fail_with_a_template_error(value: object) -> None:
    for name in ("humanize", "humanize1024", "humanizeDuration", "humanizePercentage"):
        out = run("{{ " + name + " . }}", value)
        if isinstance(value, float | int):
            assert out  # numbers always humanize
        if isinstance(value, float) and math.isnan(value):
            assert out == ("NaN%" if name == "humanizePercentage" else "NaN")
