"""Promtail's one-entry stages behave as Promtail documents them: parsers fill the extracted map
(and never fail an entry), ``labels``/``structured_metadata`` copy values as strings,
``output``/``template`` rewrite, ``drop`` and ``match`` filter, and bad stage configs are errors
naming file, line and field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.agent.helpers import NOW, entry, pipeline, run

from spyglass.agent import Entry, PathError, parse_logfmt, parse_path, value_text
from spyglass.core.errors import ConfigError

JSON_STAGES = """
- json:
    expressions:
      level:
      user: request.user.id
      agent: 'request."user-agent"'
      first_tag: tags[0]
      last_tag: tags[-1]
      request:
      took: duration_ms
- labels:
    level:
    user:
- structured_metadata:
    agent:
- output:
    source: msg_missing
"""


def test_json_expressions_labels_and_structured_metadata() -> None:
    p, _ = pipeline(JSON_STAGES)
    line = json.dumps(
        {
            "level": "error",
            "request": {"user": {"id": 42}, "user-agent": "curl/8"},
            "tags": ["a", "b", "c"],
            "duration_ms": 12.5,
        }
    )
    (e,) = run(p, line)
    assert e.labels == {"filename": "/var/log/app.log", "level": "error", "user": "42"}
    assert e.metadata == {"agent": "curl/8"}
    assert e.extracted["first_tag"] == "a"
    assert e.extracted["last_tag"] == "c"
    assert e.extracted["took"] == 12.5
    # Objects come out as JSON text with sorted keys, as Go marshals a map.
    assert e.extracted["request"] == '{"user":{"id":42},"user-agent":"curl/8"}'
    assert e.line == line  # output's source is missing: the line stays


def test_a_line_that_is_not_json_passes_unchanged_unless_drop_malformed() -> None:
    p, _ = pipeline("- json: {expressions: {level: }}\n- labels: {level: }")
    (e,) = run(p, "plain text line")
    assert e.labels == {"filename": "/var/log/app.log"}
    p, drops = pipeline("- json: {expressions: {level: }, drop_malformed: true}")
    assert run(p, "plain text line", '{"level": "info"}')[0].extracted["level"] == "info"
    assert drops.by_reason == {"json_malformed": 1}


def test_json_source_reads_an_extracted_value() -> None:
    p, _ = pipeline(
        "- json: {expressions: {inner: }}\n- json: {expressions: {code: status}, source: inner}"
    )
    (e,) = run(p, json.dumps({"inner": {"status": 503}}))
    assert e.extracted["code"] == 503
    assert value_text(e.extracted["code"]) == "503"


def test_regex_named_groups_and_output() -> None:
    p, _ = pipeline(
        r"""
- regex:
    expression: '^(?P<ts>\S+) (?P<level>[A-Z]+) (?P<msg>.*)$'
- labels: {level: }
- output: {source: msg}
"""
    )
    (e,) = run(p, "2025-01-01T00:00:00Z WARN disk almost full")
    assert e.labels["level"] == "WARN"
    assert e.line == "disk almost full"
    # No match: nothing extracted, the line is kept.
    (e,) = run(p, "garbage")
    assert e.line == "garbage"
    assert "level" not in e.labels


def test_regex_finds_the_first_match_anywhere_in_the_line() -> None:
    p, _ = pipeline(r"- regex: {expression: 'user=(?P<user>\w+)'}")
    (e,) = run(p, "GET / user=alice user=bob")
    assert e.extracted["user"] == "alice"


def test_logfmt_mapping() -> None:
    p, _ = pipeline("- logfmt: {mapping: {level: , who: user, took: }}\n- labels: {level: , who: }")
    (e,) = run(p, 'level=info user="Ann Lee" msg="took 3s" took=3s')
    assert e.labels == {"filename": "/var/log/app.log", "level": "info", "who": "Ann Lee"}
    assert e.extracted["took"] == "3s"
    assert "msg" not in e.extracted


def test_static_labels_labeldrop_labelallow() -> None:
    p, _ = pipeline(
        "- static_labels: {env: prod, team: web}\n- labeldrop: [team]\n"
        "- labelallow: [env, filename]"
    )
    (e,) = run(p, "x", labels={"filename": "/f", "host": "h"})
    assert e.labels == {"env": "prod", "filename": "/f"}


def test_template_sets_an_extracted_value() -> None:
    p, _ = pipeline(
        """
- logfmt: {mapping: {level: }}
- template:
    source: level
    template: '{{ ToUpper .Value }}'
- template:
    source: summary
    template: '{{ .level }}: {{ .Entry }}'
- labels: {level: }
- output: {source: summary}
"""
    )
    (e,) = run(p, "level=warn msg=hi")
    assert e.labels["level"] == "WARN"
    assert e.line == "WARN: level=warn msg=hi"


def test_drop_conditions_all_must_hold() -> None:
    p, drops = pipeline(
        """
- logfmt: {mapping: {level: , path: }}
- drop: {source: level, value: debug}
- drop: {expression: healthz, drop_counter_reason: health}
- drop: {source: [level, path], separator: '|', expression: '^info\\|/metrics$'}
- drop: {longer_than: 30B}
- drop: {older_than: 1h, source: level}
"""
    )
    lines = [
        "level=debug path=/a",
        "level=info path=/healthz",
        "level=info path=/metrics",
        "level=info path=/ok",
        "level=info path=/ok msg=a-much-longer-line-than-thirty-bytes",
    ]
    out = run(p, *lines)
    assert [e.line for e in out] == ["level=info path=/ok"]
    assert drops.by_reason == {"drop_stage": 3, "health": 1}


def test_drop_older_than_uses_the_entry_time() -> None:
    p, drops = pipeline("- drop: {older_than: 1h}")
    gone: list[Entry] = []

    assert p.feed(entry("old", ts=NOW - 2 * 3600 * 10**9), NOW, gone) == []
    assert len(p.feed(entry("new", ts=NOW - 60 * 10**9), NOW, gone)) == 1
    assert drops.by_reason == {"drop_stage": 1}
    assert [e.line for e in gone] == ["old"]


def test_match_runs_stages_on_matching_streams_and_drops() -> None:
    p, drops = pipeline(
        """
- match:
    selector: '{app="api"}'
    stages:
      - logfmt: {mapping: {level: }}
      - labels: {level: }
- match:
    selector: '{app=~"noise|spam"}'
    action: drop
    drop_counter_reason: noisy
"""
    )
    (api,) = run(p, "level=error", labels={"app": "api"})
    assert api.labels["level"] == "error"
    (web,) = run(p, "level=error", labels={"app": "web"})
    assert "level" not in web.labels
    assert run(p, "x", labels={"app": "spam"}) == []
    assert drops.by_reason == {"noisy": 1}


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("- jsn: {}", 1, "pipeline_stages[0].jsn", 'unknown pipeline stage "jsn"'),
        (
            "- json: {expressions: {a: 'a | b'}}",
            1,
            "pipeline_stages[0].json.expressions",
            "unsupported JMESPath",
        ),
        (
            "- regex:\n    expression: '(?P<a>x'",
            2,
            "pipeline_stages[0].regex.expression",
            "missing closing )",
        ),
        (
            "- regex: {expression: 'no groups'}",
            1,
            "pipeline_stages[0].regex.expression",
            "named capture",
        ),
        (
            "- labels: {'bad-name': x}",
            1,
            "pipeline_stages[0].labels.bad-name",
            "invalid label name",
        ),
        ("- output: {}", 1, "pipeline_stages[0].output.source", "required"),
        ("- drop: {value: x}", 1, "pipeline_stages[0].drop.value", "must contain a source"),
        ("- drop: {separator: x}", 1, "pipeline_stages[0].drop", "at least one of"),
        ("- multiline: {max_lines: 3}", 1, "pipeline_stages[0].multiline.firstline", "firstline"),
        ("- timestamp: {source: t}", 1, "pipeline_stages[0].timestamp.format", "format"),
        (
            "- timestamp: {source: t, format: RFC3339, location: Mars/Base}",
            1,
            "pipeline_stages[0].timestamp.location",
            "unknown time zone",
        ),
        (
            "- json: {expresions: {a: }}",
            1,
            "pipeline_stages[0].json.expresions",
            "field expresions not found",
        ),
        (
            "- json: {expressions: {a: }}\n  regex: {expression: '(?P<a>.)'}",
            1,
            "pipeline_stages[0]",
            "only one key",
        ),
        (
            "- match: {selector: 'app=api', action: drop}",
            1,
            "pipeline_stages[0].match.selector",
            "selector",
        ),
        (
            "- template: {source: x, template: '{{ .a '}",
            1,
            "pipeline_stages[0].template.template",
            "template",
        ),
    ],
)
def test_bad_stage_configs_name_file_line_and_field(
    text: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        pipeline(text)
    err = info.value
    assert err.file == "promtail.yaml"
    assert err.line == line
    assert err.field == field
    assert message in err.message


def test_jmespath_subset() -> None:
    assert parse_path('a.b[0]."c d"[-1]') == ("a", "b", 0, "c d", -1)
    for bad in ("a[*]", "a || b", "length(a)", "a.", ".a", ""):
        with pytest.raises(PathError):
            parse_path(bad)


_KEYS = st.text(alphabet="abcxyz_09", min_size=1, max_size=8).filter(lambda k: not k[0].isdigit())


@given(
    st.lists(st.one_of(_KEYS, st.integers(-5, 5)), min_size=1, max_size=6).filter(
        lambda p: isinstance(p[0], str)
    )
)
def test_any_path_of_keys_and_indexes_reads_back(path: list[str | int]) -> None:
    text = path[0]
    assert isinstance(text, str)
    for step in path[1:]:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    assert parse_path(text) == tuple(path)


@given(st.text(max_size=60))
def test_any_expression_parses_or_is_a_path_error(text: str) -> None:
    try:
        steps = parse_path(text)
    except PathError:
        return
    assert steps


_VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), _VALUES, max_size=6))
def test_logfmt_reads_back_what_go_logfmt_writes(pairs: dict[str, str]) -> None:
    def quote(v: str) -> str:
        if v and all(c > " " and c not in '="\\' for c in v):
            return v
        return json.dumps(v, ensure_ascii=False)

    line = " ".join(f"{k}={quote(v)}" for k, v in pairs.items())
    got, error = parse_logfmt(line)
    assert error is None
    assert dict(got) == pairs


@given(st.text(max_size=80))
def test_logfmt_never_fails_on_any_line(line: str) -> None:
    pairs, _ = parse_logfmt(line)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_convert_as_go_formats_them_f_minus_one(x: float) -> None:
    text = value_text(x)
    assert text is not None
    assert "e" not in text.lower()
    assert float(text) == x
