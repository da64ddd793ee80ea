"""LogQL rules under ``spyglass test rules``: ``input_logs`` feed the log store the LogQL rules
read, alerts and recordings come out as for PromQL rules, ``logql_expr_test`` checks LogQL
queries with promtool's messages, and mistakes in the new fields name file, line and field.
Every expected count below is counted by hand from the lines given."""

from __future__ import annotations

import textwrap
from pathlib import Path

from spyglass.core.template import expand_alert_template
from spyglass.rules.testing import FileReport, load_unit_test_file, run_unit_tests

TESTDATA = Path(__file__).parents[1] / "testdata"

RULES = """
groups:
  - name: logs
    type: logql
    rules:
      - alert: Errors
        expr: sum by (job) (count_over_time({job="api"} |= "error" [1m])) > 2
        annotations:
          summary: "{{ $value }} errors"
"""


def run(tmp_path: Path, test: str, rules: str = RULES) -> FileReport:
    (tmp_path / "rules.yml").write_text(textwrap.dedent(rules))
    path = tmp_path / "test.yml"
    path.write_text(textwrap.dedent(test))
    (report,) = run_unit_tests([path], expander=expand_alert_template)
    return report


def test_the_logql_rule_tests_pass() -> None:
    """A type: logql group's alert that fires and one that does not, its recording read back
    with PromQL, and a Loki ruler file's alert on an unwrapped field."""
    (report,) = run_unit_tests([TESTDATA / "logs_test.yml"], expander=expand_alert_template)
    assert report.all_errors() == []
    assert [(g.name, g.passed) for g in report.groups] == [
        ("an error burst fires after 2m", True),
        ("4 errors a minute do not fire", True),
        ("a Loki ruler file's alert on an unwrapped field", True),
    ]


def test_wrong_expectations_are_shown_as_promtool_shows_them(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        rule_files: [rules.yml]
        tests:
          - name: three errors
            input_logs:
              - labels: '{job="api"}'
                lines: ['10s error a', '20s error b', '30s+10sx1 error c', '45s ok']
            alert_rule_test:
              - eval_time: 1m
                alertname: Errors
                exp_alerts: []
            logql_expr_test:
              - expr: 'count_over_time({job="api"}[1m])'
                eval_time: 1m
                exp_samples:
                  - labels: '{job="api"}'
                    value: 4
        """,
    )
    # Lines at 10s, 20s, 30s, 40s say error, 45s does not: 4 errors and 5 lines in (0s, 60s].
    assert report.all_errors() == [
        "    name: three errors,\n"
        "    alertname: Errors, time: 1m, \n"
        "        exp:[], \n"
        "        got:[\n"
        "            0:\n"
        '              Labels:{alertname="Errors", job="api"}\n'
        '              Annotations:{summary="4 errors"}\n'
        "            ]",
        '    expr: "count_over_time({job=\\"api\\"}[1m])", time: 1m,\n'
        '        exp: {job="api"} 4E+00\n'
        '        got: {job="api"} 5E+00',
    ]


def test_start_timestamp_moves_the_lines_with_it(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        tests:
          - start_timestamp: 2026-01-01T00:00:00Z
            input_logs:
              - labels: '{job="api"}'
                lines: ['0s+20sx5 error']
            logql_expr_test:
              - expr: 'sum(count_over_time({job="api"}[1m]))'
                eval_time: 90s
                exp_samples: [{labels: '{}', value: 3}]
        """,
    )
    # Lines at 0s, 20s, ..., 100s after the start; (30s, 90s] holds 40s, 60s and 80s.
    assert report.all_errors() == []


def test_a_log_query_is_refused_with_lokis_words(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        tests:
          - logql_expr_test:
              - expr: '{job="api"} |= "error"'
                eval_time: 1m
              - expr: 'count_over_time({job="api"}[1m]'
                eval_time: 1m
        """,
    )
    errors = report.all_errors()
    assert errors[0] == (
        '    expr: "{job=\\"api\\"} |= \\"error\\"", time: 1m, '
        "err: only sample expression supported"
    )
    assert errors[1].startswith(
        '    expr: "count_over_time({job=\\"api\\"}[1m]", time: 1m, err: parse error at line 1'
    )


def test_logql_rules_without_input_logs_see_no_lines(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        """
        rule_files: [rules.yml]
        tests:
          - input_series: [{series: 'up{job="api"}', values: '1x5'}]
            alert_rule_test:
              - eval_time: 5m
                alertname: Errors
                exp_alerts: []
        """,
    )
    assert report.all_errors() == []


def test_a_file_in_both_lists_is_a_prometheus_rule_file(tmp_path: Path) -> None:
    """As the rule manager reads it: rule_files wins over logs_rule_files."""
    (tmp_path / "rules.yml").write_text("groups:\n  - name: g\n    rules:\n      - record: r\n"
                                        "        expr: vector(1)\n")  # fmt: skip
    (tmp_path / "test.yml").write_text(
        "rule_files: [rules.yml]\nlogs_rule_files: [rules.yml, none*.yml]\n"
        "tests:\n  - promql_expr_test:\n      - expr: r\n        eval_time: 0s\n"
        "        exp_samples: [{labels: r, value: 1}]\n"
    )
    spec = load_unit_test_file(tmp_path / "test.yml")
    assert spec.logs_rule_files == (str(tmp_path / "rules.yml"),)
    (report,) = run_unit_tests([tmp_path / "test.yml"], expander=expand_alert_template)
    assert report.all_errors() == []  # vector(1) would not parse as LogQL
    assert report.warnings == [f"no file match pattern {tmp_path / 'none*.yml'}"]


def test_input_logs_mistakes_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "test.yml"
    path.write_text(
        "tests:\n"
        "  - input_logs:\n"
        "      - labels: '{job=~\"api\"}'\n"
        "        lines:\n"
        "          - '5 error'\n"
        "          - {at: 5s}\n"
        "          - '1m+0sx3 error'\n"
        "      - lines: ['0s x']\n"
        "      - labels: '{job=\"api\"}'\n"
        "        line: ['0s x']\n"
    )
    (report,) = run_unit_tests([path], expander=expand_alert_template)
    assert report.errors == [
        f"{path}:3: tests[0].input_logs[0].labels: "
        '\'{job=~"api"}\': stream labels take name="value" only, not =~',
        f'{path}:5: tests[0].input_logs[0].lines[0]: time: not a valid duration string: "5"',
        f"{path}:6: tests[0].input_logs[0].lines[1]: a line is a string: '<time> <line>'",
        f'{path}:7: tests[0].input_logs[0].lines[2]: step of "1m+0sx3" must be more than 0',
        f"{path}:8: tests[0].input_logs[1].labels: a stream needs its labels",
        f"{path}:10: tests[0].input_logs[2].line: "
        "field line not found in type inputLogs (did you mean 'lines'?)",
    ]
    assert not report.passed
