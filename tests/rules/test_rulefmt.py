"""Rule files load as Prometheus reads them; every error names file, line and field."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ConfigError, SpyglassError
from spyglass.rules import (
    GroupSpec,
    RuleFileError,
    RuleSpec,
    duplicate_rules,
    format_duplicates,
    load_rule_file,
    parse_rule_file,
)

TESTDATA = Path(__file__).parent / "testdata"


def errors_of(text: str, **options: object) -> list[ConfigError]:
    with pytest.raises(RuleFileError) as caught:
        parse_rule_file(text, file="rules.yml", **options)  # type: ignore[arg-type]
    return list(caught.value.errors)


def only_error(text: str, **options: object) -> ConfigError:
    found = errors_of(text, **options)
    assert len(found) == 1, [str(e) for e in found]
    return found[0]


def test_guide_rules_load_with_every_field() -> None:
    rule_file = load_rule_file(TESTDATA / "alerts.yml")
    assert rule_file.rule_count == 5
    availability, http = rule_file.groups
    assert availability.name == "availability"
    assert availability.interval_ms is None
    assert http.interval_ms == 30_000
    down = availability.rules[0]
    assert down == RuleSpec(
        kind="alerting",
        name="InstanceDown",
        expr="up == 0",
        for_ms=300_000,
        labels={"severity": "critical"},
        annotations={
            "summary": "Instance {{ $labels.instance }} down",
            "description": "{{ $labels.instance }} of job {{ $labels.job }} has been down for "
            "more than 5 minutes.",
        },
        line=5,
    )
    assert [r.kind for r in http.rules] == ["recording", "recording", "alerting", "alerting"]
    assert http.rules[0].name == "job:http_requests:rate5m"


def test_group_labels_apply_to_rules_and_rule_labels_win() -> None:
    group = load_rule_file(TESTDATA / "recording.yml").groups[0]
    assert group.labels == {"team": "platform"}
    assert group.rule_labels(group.rules[0]) == {"team": "platform"}
    assert group.rule_labels(group.rules[1]) == {"team": "web"}


def test_group_options() -> None:
    text = """
groups:
  - name: g
    interval: 2m
    query_offset: 0s
    limit: 10
    rules: []
  - name: h
"""
    g, h = parse_rule_file(text).groups
    assert g == GroupSpec(
        name="g", interval_ms=120_000, query_offset_ms=0, limit=10, file="", line=3
    )
    assert h.query_offset_ms is None  # unset: the global rule_query_offset applies
    assert h.rules == ()


def test_empty_file_has_no_rules() -> None:
    assert parse_rule_file("").rule_count == 0
    assert parse_rule_file("groups:\n").rule_count == 0


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "groups:\n  - name: a\n    rules:\n      - record: x\n        alert: y\n"
            "        expr: 1\n",
            4,
            "groups[0].rules[0].record",
            "group \"a\", rule 1, \"y\": only one of 'record' and 'alert' must be set",
        ),
        (
            "groups:\n  - name: a\n    rules:\n      - expr: 1\n",
            4,
            "groups[0].rules[0]",
            "group \"a\", rule 1, \"\": one of 'record' or 'alert' must be set",
        ),
        (
            "groups:\n  - name: a\n    rules:\n      - alert: x\n",
            4,
            "groups[0].rules[0].expr",
            'group "a", rule 1, "x": field \'expr\' must be set in rule',
        ),
        (
            "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: 1\n"
            "        for: 5m\n",
            6,
            "groups[0].rules[0].for",
            'group "a", rule 1, "x": invalid field \'for\' in recording rule',
        ),
        (
            "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: 1\n"
            "        keep_firing_for: 5m\n",
            6,
            "groups[0].rules[0].keep_firing_for",
            'group "a", rule 1, "x": invalid field \'keep_firing_for\' in recording rule',
        ),
        (
            "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: 1\n"
            "        annotations:\n          summary: s\n",
            6,
            "groups[0].rules[0].annotations",
            'group "a", rule 1, "x": invalid field \'annotations\' in recording rule',
        ),
        (
            "groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: 1\n"
            "        labels:\n          __name__: y\n",
            7,
            "groups[0].rules[0].labels.__name__",
            'group "a", rule 1, "x": invalid label name: __name__',
        ),
        (
            'groups:\n  - name: a\n    rules:\n      - record: up{job="a"}\n        expr: 1\n',
            4,
            "groups[0].rules[0].record",
            'group "a", rule 1, "up{job=\\"a\\"}": braces present in the recording rule name; '
            'should it be in expr?: up{job="a"}',
        ),
        (
            "groups:\n  - name: a\n  - name: a\n",
            3,
            "groups[1].name",
            'groupname: "a" is repeated in the same file',
        ),
        ("groups:\n  - rules: []\n", 2, "groups[0].name", "Groupname must not be empty"),
        (
            "groups:\n  - name: a\n    labels:\n      __name__: x\n",
            4,
            "groups[0].labels.__name__",
            "invalid label name: __name__",
        ),
    ],
)
def test_validation_errors_name_line_and_field(
    text: str, line: int, field: str, message: str
) -> None:
    error = only_error(text)
    assert (error.file, error.line, error.field) == ("rules.yml", line, field)
    assert error.message == message
    assert str(error) == f"rules.yml:{line}: {field}: {message}"


def test_bad_promql_reports_parser_position_and_file_line() -> None:
    text = "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: sum(rate(x[5m])\n"
    error = only_error(text)
    assert error.line == 5
    assert error.field == "groups[0].rules[0].expr"
    assert error.message.startswith('group "a", rule 1, "x": could not parse expression: 1:4: ')
    assert "unclosed left parenthesis" in error.message


def test_bad_promql_in_block_scalar_points_at_its_own_line() -> None:
    text = (
        "groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: |\n"
        "          sum(rate(x[5m]))\n          > bool )\n"
    )
    error = only_error(text)
    assert error.line == 7  # the expression's second line
    assert "could not parse expression: 2:" in error.message


def test_template_syntax_in_expr_gets_a_hint() -> None:
    text = (
        "groups:\n  - name: a\n    rules:\n      - alert: x\n"
        "        expr: up{instance={{ $labels.instance }}} == 0\n"
    )
    error = only_error(text)
    assert "could not parse expression: 1:13: " in error.message
    assert error.message.endswith(
        "(the expression is PromQL, not a template: '{{ ... }}' works only in labels and "
        "annotations)"
    )


def test_all_errors_are_reported_not_just_the_first() -> None:
    text = """
groups:
  - name: a
    rules:
      - record: x
        alert: y
      - expr: 1
  - name: a
"""
    found = errors_of(text)
    # Prometheus' order: group by group, each group's own errors before its rules'.
    assert [(e.line, e.field) for e in found] == [
        (5, "groups[0].rules[0].record"),
        (5, "groups[0].rules[0].expr"),
        (7, "groups[0].rules[1]"),
        (8, "groups[1].name"),
    ]


def test_unknown_fields_are_errors_with_a_suggestion() -> None:
    text = (
        "groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: 1\n"
        "        annotation:\n          a: b\n"
    )
    error = only_error(text)
    assert error.line == 6
    assert error.field == "groups[0].rules[0].annotation"
    assert error.message == (
        "field annotation not found in type rulefmt.Rule (did you mean 'annotations'?)"
    )
    loaded = parse_rule_file(text, ignore_unknown_fields=True)
    assert loaded.rule_count == 1


def test_type_errors_use_gos_wording() -> None:
    text = (
        "groups:\n  - name: [a]\n    limit: many\n    rules:\n      - alert: x\n"
        "        expr: 1\n        for: 5\n"
    )
    found = errors_of(text)
    assert [(e.line, e.field, e.message) for e in found] == [
        (2, "groups[0].name", "cannot unmarshal !!seq into string"),
        (3, "groups[0].limit", "cannot unmarshal !!str `many` into int"),
        (
            7,
            "groups[0].rules[0].for",
            "not a valid duration string: \"5\" (durations need a unit, e.g. '5m' or '5s')",
        ),
    ]


def test_duplicate_keys_are_errors() -> None:
    text = "groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: 1\n        expr: 2\n"
    error = only_error(text)
    assert (error.line, error.field) == (6, "groups[0].rules[0].expr")
    assert error.message == 'mapping key "expr" already defined at line 5'


def test_rules_pasted_without_groups_say_how_to_wrap_them() -> None:
    error = only_error("- alert: InstanceDown\n  expr: up == 0\n  for: 5m\n")
    assert error.line == 1
    assert error.message.startswith("cannot unmarshal !!seq into rulefmt.RuleGroups (rules must")
    assert "'groups:'" in error.message
    assert "'- name: <group name>'" in error.message
    single = errors_of("alert: InstanceDown\nexpr: up == 0\n")
    assert single[0].message.startswith("field alert not found in type rulefmt.RuleGroups (rules")
    groups_list = only_error("- name: a\n  rules: []\n")
    assert "a list of groups must be under 'groups:'" in groups_list.message
    top_rules = only_error("rules:\n  - alert: A\n    expr: up == 0\n")
    assert "'rules:' cannot be at the top" in top_rules.message


def test_a_rule_placed_directly_in_the_groups_list_gets_a_hint() -> None:
    found = errors_of("groups:\n  - alert: A\n    expr: up == 0\n")
    assert found[0].field == "groups[0].alert"
    assert "put the rule in the group's 'rules:' list" in found[0].message


def test_kubernetes_prometheusrule_points_at_spec() -> None:
    text = (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: x\n"
        "spec:\n  groups:\n    - name: a\n      rules: []\n"
    )
    found = errors_of(text)
    assert "Kubernetes PrometheusRule" in found[0].message
    assert "'spec:'" in found[0].message


def test_tabs_get_a_hint() -> None:
    error = only_error("groups:\n\t- name: a\n")
    assert error.line == 2
    assert "use spaces" in error.message


def test_names_are_utf8_by_default_and_legacy_on_request() -> None:
    text = (
        "groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: 1\n"
        "        labels:\n          ins-tance: a\n        annotations:\n          ins-tance: b\n"
    )
    assert parse_rule_file(text).rule_count == 1
    found = errors_of(text, name_validation="legacy")
    assert [(e.line, e.message) for e in found] == [
        (7, 'group "a", rule 1, "x": invalid label name: ins-tance'),
        (9, 'group "a", rule 1, "x": invalid annotation name: ins-tance'),
    ]
    record = "groups:\n  - name: a\n    rules:\n      - record: http-rate\n        expr: 1\n"
    assert parse_rule_file(record).rule_count == 1
    legacy = only_error(record, name_validation="legacy")
    assert legacy.message.startswith('group "a", rule 1, "http-rate": invalid recording rule name')
    assert "job:http_requests:rate5m" in legacy.message


def test_template_checker_hook_runs_on_alert_labels_and_annotations() -> None:
    checked: list[str] = []

    def check(text: str) -> None:
        checked.append(text)
        if "{{ bad" in text:
            raise SpyglassError('template: x:1: function "bad" not defined')

    text = (
        "groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: 1\n"
        "        labels:\n          l: ok\n        annotations:\n          s: '{{ bad }}'\n"
        "      - record: y\n        expr: 1\n        labels:\n          z: '{{ bad }}'\n"
    )
    error = only_error(text, check_template=check)
    assert (error.line, error.field) == (9, "groups[0].rules[0].annotations.s")
    assert error.message.endswith('annotation "s": template: x:1: function "bad" not defined')
    assert checked == ["ok", "{{ bad }}"]  # recording rules' labels are not templates


def test_multiple_documents_use_the_first_and_warn() -> None:
    text = "groups:\n  - name: a\n---\ngroups:\n  - name: b\n"
    rule_file = parse_rule_file(text)
    assert [g.name for g in rule_file.groups] == ["a"]
    assert rule_file.warnings == (
        "Multiple document yaml rules files are not supported, only the first document is "
        "processed",
    )


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(tmp_path / "nope.yml")
    assert caught.value.file == str(tmp_path / "nope.yml")
    assert "cannot read rule file" in str(caught.value)


def test_anchors_and_merge_keys() -> None:
    text = """
groups:
  - name: a
    rules:
      - &base
        alert: A
        expr: up == 0
        labels: {severity: page}
      - <<: *base
        alert: B
"""
    rules = parse_rule_file(text).groups[0].rules
    assert [(r.name, r.expr, dict(r.labels)) for r in rules] == [
        ("A", "up == 0", {"severity": "page"}),
        ("B", "up == 0", {"severity": "page"}),
    ]


def test_duplicate_rules_lint_as_promtool() -> None:
    text = """
groups:
  - name: a
    labels: {team: x}
    rules:
      - alert: A
        expr: 1
      - alert: A
        expr: 2
        labels: {team: x}
      - alert: A
        expr: 3
      - record: r
        expr: 1
  - name: b
    rules:
      - record: r
        expr: 1
"""
    found = duplicate_rules(parse_rule_file(text))
    assert [(d.name, d.labels) for d in found] == [("A", (("team", "x"),))]
    assert format_duplicates(found) == (
        "1 duplicate rule(s) found.\nMetric: A\nLabel(s):\n\tteam: x\n"
        "Might cause inconsistency while recording expressions"
    )


YAMLISH = st.recursive(
    st.one_of(
        st.sampled_from(
            [
                "groups",
                "name",
                "rules",
                "alert",
                "record",
                "expr",
                "for",
                "keep_firing_for",
                "labels",
                "annotations",
                "interval",
                "query_offset",
                "limit",
                "up == 0",
                "sum(rate(x[5m]))",
                "5m",
                "1",
                "-1",
                "true",
                "{{ $labels.x }}",
                "__name__",
                "a{b}",
                "!!binary ~",
                "!!int x",
                "&a x",
                "*a",
            ]
        ),
        st.none(),
        st.integers(-3, 3),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(["groups", "name", "rules", "alert", "record", "expr", "for", "x"]),
            children,
            max_size=4,
        ),
    ),
    max_leaves=25,
)


def _dump(value: object, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n" + "\n".join(f"{pad}{k}: {_dump(v, indent + 2)}" for k, v in value.items())
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n" + "\n".join(f"{pad}- {_dump(v, indent + 2)}" for v in value)
    return "~" if value is None else str(value)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_random_yaml_loads_or_raises_config_error(value: object) -> None:
    with contextlib.suppress(ConfigError):
        parse_rule_file(_dump(value).lstrip("\n"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_loads_or_raises_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        parse_rule_file(text)
