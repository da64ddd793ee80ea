"""promtool's rule unit tests run on Spyglass with promtool's semantics and messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from spyglass.core.template import expand_alert_template
from spyglass.rules.testing import FileReport, load_unit_test_file, run_unit_tests

TESTDATA = Path(__file__).parents[1] / "testdata"


def run(tmp_path: Path, test: str, rules: str = "", *names: str) -> FileReport:
    if rules:
        (tmp_path / "rules.yml").write_text(textwrap.dedent(rules))
    path = tmp_path / "test.yml"
    path.write_text(textwrap.dedent(test))
    (report,) = run_unit_tests([path], expander=expand_alert_template, run=names)
    return report


def test_the_guide_tests_pass() -> None:
    (report,) = run_unit_tests([TESTDATA / "alerts_test.yml"], expander=expand_alert_template)
    assert [(g.name, g.passed) for g in report.groups] == [
        ("instance down fires after 5m", True),
        ("request rates are recorded per job", True),
        ("p95 latency over 500ms", True),
        ("error rate over 5%", True),  # humanizePercentage through the Go-template engine
    ]


def test_wrong_samples_are_shown_as_promtool_shows_them(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        tests:
          - input_series:
              - series: 'm{a="x"}'
                values: '1.5 _ -3 stale 7'
              - series: 'm{a="y"}'
                values: '1+1x4'
            promql_expr_test:
              - expr: m
                eval_time: 2m
                exp_samples:
                  - labels: 'm{a="x"}'
                    value: -3
                  - labels: 'm{a="y"}'
                    value: 3
              - expr: m
                eval_time: 3m
                exp_samples:
                  - labels: 'm{a="y"}'
                    value: 4
              - expr: sum(m)
                eval_time: 4m
                exp_samples:
                  - value: 1
              - expr: count(m
                eval_time: 0m
        """,
    )
    assert report.all_errors() == [
        '    expr: "sum(m)", time: 4m,\n        exp: {} 1E+00\n        got: {} 1.2E+01',
        '    expr: "count(m", time: 0s, err: 1:6: parse error: unclosed left parenthesis',
    ]


def test_fuzzy_compare_accepts_one_ulp_only(tmp_path: Path) -> None:
    test = """
        fuzzy_compare: {fuzzy}
        tests:
          - input_series:
              - series: near
                values: 2.9999999999999996
            promql_expr_test:
              - expr: near
                eval_time: 0
                exp_samples:
                  - labels: near
                    value: 3
        """
    assert run(tmp_path, test.replace("{fuzzy}", "true")).passed
    exact = run(tmp_path, test.replace("{fuzzy}", "false"))
    assert exact.all_errors() == [
        '    expr: "near", time: 0s,\n'
        '        exp: {__name__="near"} 3E+00\n'
        '        got: {__name__="near"} 2.9999999999999996E+00'
    ]


def test_run_selects_groups_by_regular_expression(tmp_path: Path) -> None:
    test = """
        tests:
          - name: good one
            promql_expr_test:
              - expr: vector(1)
                eval_time: 0
                exp_samples: [{value: 1}]
          - name: bad one
            promql_expr_test:
              - expr: vector(1)
                eval_time: 0
                exp_samples: [{value: 2}]
          - promql_expr_test: []
        """
    everything = run(tmp_path, test)
    assert [(g.name, g.passed) for g in everything.groups] == [
        ("good one", True),
        ("bad one", False),
        ("unnamed#2", True),
    ]
    assert [g.name for g in run(tmp_path, test, "", "^good").groups] == ["good one"]
    assert [g.name for g in run(tmp_path, test, "", "bad", "good").groups] == [
        "good one",
        "bad one",
    ]


RULES = """
groups:
  - name: alerts
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} down on {{ $externalLabels.cluster }}"
  - name: first
    rules:
      - record: one
        expr: vector(1)
  - name: second
    rules:
      - record: copy
        expr: one
"""


def test_alerts_are_compared_at_the_evaluation_just_before_eval_time(tmp_path: Path) -> None:
    test = """
        rule_files: [rules.yml]
        tests:
          - name: down
            interval: 1m
            external_labels:
              cluster: eu-1
            input_series:
              - series: 'up{instance="a"}'
                values: '0x5'
            alert_rule_test:
              - eval_time: 1m59s
                alertname: Down
                exp_alerts: []
              - eval_time: 2m
                alertname: Down
                exp_alerts:
                  - exp_labels: {instance: a, severity: page}
                    exp_annotations: {summary: a down on eu-1}
              - eval_time: 3m
                alertname: Down
                exp_alerts:
                  - exp_labels: {instance: b, severity: page}
        """
    report = run(tmp_path, test, RULES)
    assert report.all_errors() == [
        "    name: down,\n"
        "    alertname: Down, time: 3m, \n"
        "        exp:[\n"
        "            0:\n"
        '              Labels:{alertname="Down", instance="b", severity="page"}\n'
        "              Annotations:{}\n"
        "            ], \n"
        "        got:[\n"
        "            0:\n"
        '              Labels:{alertname="Down", instance="a", severity="page"}\n'
        '              Annotations:{summary="a down on eu-1"}\n'
        "            ]"
    ]


def test_group_eval_order_lets_a_group_see_another_at_the_same_time(tmp_path: Path) -> None:
    test = """
        rule_files: [rules.yml]
        group_eval_order: [{order}]
        tests:
          - promql_expr_test:
              - expr: copy
                eval_time: 0
                exp_samples: [{labels: copy, value: 1}]
        """
    assert run(tmp_path, test.replace("{order}", "first, second"), RULES).passed
    # Evaluated before "first", "copy" finds no "one" at the first evaluation.
    reversed_order = run(tmp_path, test.replace("{order}", "second, first"), RULES)
    assert reversed_order.all_errors() == [
        '    expr: "copy", time: 0s,\n        exp: {__name__="copy"} 1E+00\n        got: nil'
    ]
    repeated = run(tmp_path, test.replace("{order}", "first, first"), RULES)
    assert repeated.errors == ["group name repeated in evaluation order: first"]


def test_start_timestamp_shifts_input_and_eval_times(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        tests:
          - start_timestamp: "2024-01-01T00:00:00Z"
            input_series:
              - series: m
                values: 5 6 7
            promql_expr_test:
              - expr: timestamp(m)
                eval_time: 2m
                exp_samples: [{value: 1704067320}]
              - expr: m @ 1704067260
                eval_time: 2m
                exp_samples: [{labels: m, value: 6}]
        """,
    )
    assert report.passed, report.all_errors()


def test_a_failing_rule_ends_its_test_group(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        rule_files: [rules.yml]
        tests:
          - input_series:
              - series: 'l{a="1"}'
                values: 1
              - series: 'r{a="1", b="1"}'
                values: 1
              - series: 'r{a="1", b="2"}'
                values: 1
            promql_expr_test:
              - expr: vector(1)
                eval_time: 5m
                exp_samples: [{value: 2}]
        """,
        "groups:\n  - name: g\n    rules:\n      - record: j\n        expr: l + on(a) r\n",
    )
    (error,) = report.all_errors()  # the PromQL test never ran
    assert error.startswith(
        "    rule: j, time: 0s, err: found duplicate series for the match group"
    )


def test_input_the_runner_cannot_use_fails_the_group_with_a_reason(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        tests:
          - input_series:
              - series: 'up{job="a"'
                values: 1
              - series: h
                values: '{{schema:0 sum:1 count:1}}'
              - series: ok
                values: 'x'
            alert_rule_test:
              - eval_time: 1m
                exp_alerts: []
        """,
    )
    assert report.all_errors() == [
        "an item under alert_rule_test misses required attribute alertname at eval_time 1m"
    ]
    report = run(
        tmp_path,
        """
        tests:
          - input_series:
              - series: 'up{job="a"'
                values: 1
              - series: h
                values: '{{schema:0 sum:1 count:1}}'
            promql_expr_test:
              - expr: vector(1)
                eval_time: 0
                exp_samples: [{labels: 'x{', value: 1}]
        """,
    )
    errors = report.all_errors()
    assert errors[0].startswith('    input series "up{job=\\"a\\"": ')
    assert errors[1] == (
        '    input series "h": native histograms are not supported by Spyglass yet'
    )
    assert errors[2].startswith('    expr: "vector(1)", time: 0s, err: labels "x{": ')


def test_rule_file_errors_fail_every_selected_group(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        rule_files: [rules.yml]
        tests:
          - name: a
          - name: b
        """,
        "groups:\n  - name: g\n    rules:\n      - record: x\n",
    )
    message = (
        f"{tmp_path / 'rules.yml'}:4: groups[0].rules[0].expr: "
        'group "g", rule 1, "x": field \'expr\' must be set in rule'
    )
    assert [(g.name, g.errors) for g in report.groups] == [("a", [message]), ("b", [message])]


def test_rule_files_are_relative_to_the_test_and_globbed(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yml").write_text("groups: [{name: a}]\n")
    (tmp_path / "rules" / "b.yml").write_text("groups: [{name: b}]\n")
    (tmp_path / "test.yml").write_text("rule_files: ['rules/*.yml', missing.yml]\ntests: []\n")
    spec = load_unit_test_file(tmp_path / "test.yml")
    assert spec.rule_files == (
        str(tmp_path / "rules" / "a.yml"),
        str(tmp_path / "rules" / "b.yml"),
    )
    (report,) = run_unit_tests([tmp_path / "test.yml"], expander=expand_alert_template)
    assert report.warnings == [f"no file match pattern {tmp_path / 'missing.yml'}"]
    assert report.passed


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "tests:\n  - name: a\n    input_serie: []\n",
            3,
            "tests[0].input_serie",
            "field input_serie not found in type main.testGroup (did you mean 'input_series'?)",
        ),
        (
            "evaluation_interval: 1\n",
            1,
            "evaluation_interval",
            "not a valid duration string: \"1\" (durations need a unit, e.g. '1m' or '1s')",
        ),
        (
            "tests:\n  - promql_expr_test:\n      - expr: x\n        exp_samples:\n"
            "          - value: many\n",
            5,
            "tests[0].promql_expr_test[0].exp_samples[0].value",
            "cannot unmarshal !!str `many` into float64",
        ),
        (
            "tests:\n  - start_timestamp: yesterday\n",
            2,
            "tests[0].start_timestamp",
            'cannot parse "yesterday" to a valid timestamp',
        ),
    ],
)
def test_test_file_errors_name_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    (tmp_path / "test.yml").write_text(text)
    (report,) = run_unit_tests([tmp_path / "test.yml"], expander=expand_alert_template)
    assert report.errors == [f"{tmp_path / 'test.yml'}:{line}: {field}: {message}"]
    assert not report.passed


def test_series_notation_expands_as_promtool_does(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="a"}'
                values: '-2+1.5x3 _x2 5-1x2 stale 7 _ NaN'
            promql_expr_test:
              - expr: up
                eval_time: 3m
                exp_samples: [{labels: 'up{job="a"}', value: 2.5}]
              - expr: timestamp(up)
                eval_time: 5m
                exp_samples: [{labels: '{job="a"}', value: 180}]
              - expr: up
                eval_time: 8m
                exp_samples: [{labels: 'up{job="a"}', value: 3}]
              - expr: up
                eval_time: 9m
                exp_samples: []
              - expr: up
                eval_time: 11m
                exp_samples: [{labels: 'up{job="a"}', value: 7}]
        """,
    )
    assert report.passed, report.all_errors()


def test_values_read_as_go_reads_them(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        tests:
          - input_series:
              - series: big
                values: 1e3
              - series: infinite
                values: Inf
            promql_expr_test:
              - expr: big
                eval_time: 0
                exp_samples: [{labels: big, value: 1e3}]
              - expr: infinite
                eval_time: 0
                exp_samples: [{labels: infinite, value: .inf}]
        """,
    )
    assert report.passed, report.all_errors()
