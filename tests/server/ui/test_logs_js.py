"""The logs page's pure modules run in Node, checked against Spyglass's own LogQL engine.

- ``logql.js``: the lexer the editor highlights with covers any text exactly, token after
  token; a string it quotes reads back as the same value through the LogQL parser; "filter for
  value" edits (a matcher added to the selector, a label filter after a parser) give queries
  the parser accepts and that select what they say; the completion context knows a label name
  from a label's value and a pipeline stage.
- ``logfields.js``: the fields it finds in a JSON or logfmt line are the ones Loki's (and so
  Spyglass's) ``| json`` and ``| logfmt`` extract, so a field's filter finds the same lines;
  levels and trace ids come from labels, fields and text as documented.
- ``logstate.js``: the URL reads back as the same state.
"""

from __future__ import annotations

import json
import string
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.core.logs import LogRecord
from spyglass.logs import LogQuery, parse_query
from spyglass.logs._parsers import json_all, logfmt
from spyglass.logs._pipeline import compile_pipeline

SRC = REPO / "frontend" / "src"
RUN = """
import * as logql from %s;
import * as fields from %s;
import * as state from %s;
const fns = { ...logql, ...fields, ...state };
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([name, ...args]) => fns[name](...args));
  process.stdout.write(JSON.stringify(out));
});
"""
# Each example is one Node process (a batch of calls), so few examples of many cases each.
JS_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def call_js(node: str, calls: list[list[Any]]) -> list[Any]:
    modules = ("logql.js", "logfields.js", "logstate.js")
    script = RUN % tuple(json.dumps((SRC / f).as_uri()) for f in modules)
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(calls), capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result: list[Any] = json.loads(out.stdout)
    return result


# Text a person might type, LogQL's punctuation well represented.
query_text = st.text(
    alphabet=st.sampled_from([*string.ascii_letters, *string.digits, *' _{}()[]|=!~"`#,<>.-\n\\']),
    max_size=60,
)
label_name = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in {"by", "without", "on", "bool", "offset", "or", "and", "unless"}
)
# Any text but lone surrogates (they are not text a line or a label can hold).
value_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@JS_SETTINGS
@given(texts=st.lists(query_text, min_size=1, max_size=20))
def test_the_lexer_covers_any_text_token_after_token(node: str, texts: list[str]) -> None:
    for text, tokens in zip(texts, call_js(node, [["tokens", t] for t in texts]), strict=True):
        assert "".join(t["text"] for t in tokens) == text
        assert all(t["end"] > t["start"] for t in tokens)


def test_the_lexer_names_what_the_editor_colours(node: str) -> None:
    [tokens] = call_js(
        node, [["tokens", 'sum by (level) (rate({app="a"} |= `x` | json | d > 5s [1m])) # c']]
    )
    styled = [(t["style"], t["text"]) for t in tokens if t["style"]]
    assert styled == [
        ("variableName.function", "sum"), ("modifier", "by"), ("paren", "("),
        ("labelName", "level"), ("paren", ")"), ("paren", "("),
        ("variableName.function", "rate"), ("paren", "("), ("brace", "{"),
        ("labelName", "app"), ("operator", "="), ("string", '"a"'), ("brace", "}"),
        ("operator", "|="), ("string", "`x`"), ("operator", "|"), ("keyword", "json"),
        ("operator", "|"), ("labelName", "d"), ("operator", ">"), ("unit", "5s"),
        ("squareBracket", "["), ("unit", "1m"), ("squareBracket", "]"), ("paren", ")"),
        ("paren", ")"), ("comment", "# c"),
    ]  # fmt: skip


@JS_SETTINGS
@given(values=st.lists(value_text, min_size=1, max_size=20))
def test_a_quoted_value_reads_back_as_the_same_value(node: str, values: list[str]) -> None:
    quoted = call_js(node, [["quoteString", v] for v in values])
    for value, literal in zip(values, quoted, strict=True):
        expr = parse_query('{app="x", a=' + literal + "}")
        assert isinstance(expr, LogQuery)
        assert [m.value for m in expr.matchers] == ["x", value]


def _passes(query: str, record: LogRecord) -> bool:
    expr = parse_query(query)
    assert isinstance(expr, LogQuery)
    return compile_pipeline(expr.stages).run(record) is not None and all(
        m.matches_value(dict(record.stream).get(m.name, "")) for m in expr.matchers
    )


@JS_SETTINGS
@given(
    cases=st.lists(
        st.tuples(label_name, value_text, st.sampled_from(["=", "!="])), min_size=1, max_size=10
    )
)
def test_filter_for_a_stream_label_adds_a_matcher_the_parser_reads(
    node: str, cases: list[tuple[str, str, str]]
) -> None:
    base = '{service_name="api"} |= "x"'
    queries = call_js(node, [["addStreamMatcher", base, n, op, v] for n, v, op in cases])
    # Adding the same matcher again leaves the query as it was.
    again_calls = [
        ["addStreamMatcher", q, n, op, v] for q, (n, v, op) in zip(queries, cases, strict=True)
    ]
    twice = call_js(node, again_calls)
    for query, again, (name, value, op) in zip(queries, twice, cases, strict=True):
        expr = parse_query(query)
        assert isinstance(expr, LogQuery)
        last = expr.matchers[-1]
        assert (last.name, str(last.op.value), last.value) == (name, op, value)
        assert again == query


@JS_SETTINGS
@given(
    cases=st.lists(
        st.tuples(
            st.dictionaries(label_name, value_text.filter(bool), min_size=1, max_size=5),
            st.integers(min_value=0),
            st.sampled_from(["=", "!="]),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_filter_for_a_json_field_keeps_exactly_the_lines_with_that_value(
    node: str, cases: list[tuple[dict[str, str], int, str]]
) -> None:
    picked = [(fields, sorted(fields)[pick % len(fields)], op) for fields, pick, op in cases]
    queries = call_js(
        node,
        [
            ["addLabelFilter", '{service_name="api"}', name, op, fields[name], "json"]
            for fields, name, op in picked
        ],
    )
    for query, (fields, name, op) in zip(queries, picked, strict=True):
        assert query.startswith('{service_name="api"} | json | ')
        stream = (("service_name", "api"),)
        record = LogRecord(1, json.dumps(fields), stream)
        other = LogRecord(1, json.dumps({**fields, name: fields[name] + "x"}), stream)
        assert _passes(query, record) is (op == "=")
        assert _passes(query, other) is (op == "!=")


json_value = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
json_key = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_.\- ]{0,6}", fullmatch=True)


@JS_SETTINGS
@given(
    docs=st.lists(
        st.dictionaries(
            json_key,
            st.one_of(json_value, st.dictionaries(json_key, json_value, max_size=3)),
            max_size=5,
        ),
        min_size=1,
        max_size=10,
    )
)
def test_json_fields_are_what_the_json_parser_extracts(
    node: str, docs: list[dict[str, Any]]
) -> None:
    lines = [json.dumps(d) for d in docs]
    for line, found in zip(lines, call_js(node, [["jsonFields", x] for x in lines]), strict=True):
        # The engine keeps the first of two keys that sanitize to one name, as Loki does.
        expected: dict[str, str] = {}
        for k, v in json_all(line):
            expected.setdefault(k, v)
        got: dict[str, str] = {}
        for k, v in found:
            got.setdefault(k, v)
        assert got == expected


logfmt_line = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters[:6] + string.digits[:3] + ' ="\\_.-\t')),
    max_size=40,
)


@JS_SETTINGS
@given(lines=st.lists(logfmt_line, min_size=1, max_size=20))
def test_logfmt_fields_are_what_the_logfmt_parser_extracts(node: str, lines: list[str]) -> None:
    for line, found in zip(lines, call_js(node, [["logfmtFields", x] for x in lines]), strict=True):
        expected = logfmt(line, (), strict=False, keep_empty=False)
        assert [tuple(p) for p in found] == expected


def test_a_line_is_json_logfmt_or_plain(node: str) -> None:
    got = call_js(
        node,
        [
            ["parseLine", '{"a": {"b.c": 1}, "ok": true, "n": null}'],
            ["parseLine", 'level=warn msg="queue slow" depth=3'],
            ["parseLine", "just words here"],
            ["parseLine", "{not json"],
        ],
    )
    assert got == [
        {"parser": "json", "fields": [["a_b_c", "1"], ["ok", "true"]]},
        {"parser": "logfmt", "fields": [["level", "warn"], ["msg", "queue slow"], ["depth", "3"]]},
        {"parser": None, "fields": []},
        {"parser": None, "fields": []},
    ]


def test_the_level_comes_from_a_label_then_a_field_then_the_text(node: str) -> None:
    got = call_js(
        node,
        [
            ["levelOf", {"level": "ERR"}, {"level": "info"}, "INFO x"],
            ["levelOf", {"detected_level": "warn"}, {}, ""],
            ["levelOf", {}, {"severity": "Fatal"}, ""],
            ["levelOf", {}, {}, "2026-12-07 12:00:01 DEBUG cache miss"],
            ["levelOf", {}, {}, "[WARN] disk"],
            ["levelOf", {}, {}, "an errorless line"],
            ["levelOf", {"level": "loud"}, {}, "nothing"],
        ],
    )
    assert got == ["error", "warning", "critical", "debug", "warning", "unknown", "unknown"]


def test_the_trace_id_comes_from_a_label_or_a_field_when_it_is_hex(node: str) -> None:
    got = call_js(
        node,
        [
            ["traceIdOf", {"trace_id": "ABCDEF0123456789"}, {}],
            ["traceIdOf", {}, {"traceID": "4bf92f3577b34da6a3ce929d0e0e4736"}],
            ["traceIdOf", {"trace_id": "<script>"}, {}],
            ["traceIdOf", {}, {}],
        ],
    )
    assert got == ["abcdef0123456789", "4bf92f3577b34da6a3ce929d0e0e4736", None, None]


def test_completion_knows_names_values_and_stages(node: str) -> None:
    got = call_js(
        node,
        [
            ["completionContext", "{", 1],
            ["completionContext", '{app="a", ser', 13],
            ["completionContext", '{app="a", service_name="ap', 26],
            ["completionContext", "{app=", 5],
            ["completionContext", '{app="a"} | js', 14],
            ["completionContext", "cou", 3],
            ["completionContext", '{app="a"} |= "er', 16],
            ["completionContext", "# {a", 4],
        ],
    )
    assert got == [
        {"kind": "labelName", "from": 1},
        {"kind": "labelName", "from": 10},
        {"kind": "labelValue", "label": "service_name", "from": 24, "quoted": True},
        {"kind": "labelValue", "label": "app", "from": 5, "quoted": False},
        {"kind": "stage", "from": 12},
        {"kind": "function", "from": 0},
        None,
        None,
    ]


def test_the_histogram_counts_the_query_by_level(node: str) -> None:
    got = call_js(
        node,
        [
            ["histogramQuery", '{a="b"} |= "x" # note', 60],
            ["histogramStep", 3_600_000],
            ["histogramStep", 7 * 86_400_000],
            ["isLogQuery", ' # c\n{a="b"}'],
            ["isLogQuery", 'rate({a="b"}[1m])'],
        ],
    )
    assert got[0] == 'sum by (level, severity_text) (count_over_time({a="b"} |= "x" [1m]))'
    assert parse_query(got[0])
    assert got[1:] == [60, 7200, True, False]


@JS_SETTINGS
@given(
    states=st.lists(
        st.fixed_dictionaries(
            {
                "query": st.text(max_size=30),
                "from": st.sampled_from(["now-1h", "now/d", "1796637102000"]),
                "to": st.sampled_from(["now", "now-5m"]),
                "limit": st.integers(min_value=1, max_value=5000),
                "direction": st.sampled_from(["backward", "forward"]),
            }
        ),
        min_size=1,
        max_size=10,
    )
)
def test_the_url_reads_back_as_the_same_state(node: str, states: list[dict[str, Any]]) -> None:
    searches = call_js(node, [["writeLogState", s] for s in states])
    assert call_js(node, [["readLogState", q] for q in searches]) == states
