"""``spyglass test promql`` prints failures and per-category counts; ``spyglass test rules``
prints promtool's verdicts. Both exit 1 on failure."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from spyglass.cli._test_cmd import test_app as cli

TESTDATA = Path(__file__).resolve().parents[1] / "promql" / "testdata"


def test_passing_script_exits_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["promql", str(TESTDATA / "dashboards.test")])
    assert result.exit_code == 0, result.output
    assert "core: " in result.output
    assert " 0 failed" in result.output


def test_failing_case_is_listed_and_exit_code_is_one(tmp_path: Path) -> None:
    script = tmp_path / "bad.test"
    script.write_text("load 1m\n  m 1 2\n\neval instant at 1m m\n  m 5\n")
    result = CliRunner().invoke(cli, ["promql", str(script)])
    assert result.exit_code == 1
    assert "FAIL bad.test:4 [core] m" in result.output
    assert "0 passed, 1 failed, 0 skipped" in result.output


def test_times_past_int64_milliseconds_are_failed_cases_not_a_crash(tmp_path: Path) -> None:
    script = tmp_path / "huge.test"
    script.write_text(
        "load 1e15\n  m 1 2 3 4 5 6 7 8 9 10 11 12\n\n"  # the 11th sample is past int64 ms
        "load 1e300\n  n 1\n\n"
        "eval instant at 1e300 m\n  m 1\n"
    )
    result = CliRunner().invoke(cli, ["promql", str(script)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    assert "FAIL huge.test:1 [core] load 1e15\n    cannot read command: load runs past int64" in (
        result.output
    )
    assert "FAIL huge.test:4 [core] load 1e300\n    cannot read command: time out of range" in (
        result.output
    )
    assert "0 passed, 3 failed, 0 skipped" in result.output


RULES_TESTDATA = Path(__file__).resolve().parents[1] / "rules" / "testdata"


def test_rules_prints_promtools_verdict_per_file_and_exits_one_on_failure(tmp_path: Path) -> None:
    passing = tmp_path / "pass.yml"
    passing.write_text(
        "tests:\n  - promql_expr_test:\n      - expr: vector(1)\n        eval_time: 0\n"
        "        exp_samples: [{value: 1}]\n"
    )
    failing = tmp_path / "fail.yml"
    failing.write_text(passing.read_text().replace("value: 1", "value: 2"))
    result = CliRunner().invoke(cli, ["rules", str(passing), str(failing)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"Unit Testing:  {passing}\n  SUCCESS\n\nUnit Testing:  {failing}\n\n\n"
    )
    assert result.stderr == (
        '  FAILED:\n    expr: "vector(1)", time: 0s,\n        exp: {} 2E+00\n'
        "        got: {} 1E+00\n"
    )
    assert CliRunner().invoke(cli, ["rules", str(passing)]).exit_code == 0


def test_rules_run_filter_and_guide_tests() -> None:
    path = str(RULES_TESTDATA / "alerts_test.yml")
    result = CliRunner().invoke(cli, ["rules", "--run", "instance down", "--run", "^p95", path])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Unit Testing:  {path}\n  SUCCESS\n\n"
    assert CliRunner().invoke(cli, ["rules", "--run", "(", path]).exit_code == 2


def test_rules_warns_about_rule_files_that_match_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text("rule_files: [nothing*.yml]\ntests: []\n")
    result = CliRunner().invoke(cli, ["rules", str(path)])
    assert result.exit_code == 0
    assert result.stderr == f"  WARNING: no file match pattern {tmp_path / 'nothing*.yml'}\n"


def test_rules_runs_logql_rule_tests_with_input_logs(tmp_path: Path) -> None:
    """Spyglass's extension: LogQL rules fed by input_logs, promtool's verdicts and exit codes."""
    path = str(RULES_TESTDATA / "logs_test.yml")
    result = CliRunner().invoke(cli, ["rules", path])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Unit Testing:  {path}\n  SUCCESS\n\n"
    wrong = tmp_path / "wrong_test.yml"
    wrong.write_text(
        "tests:\n  - input_logs:\n      - labels: '{job=\"api\"}'\n"
        "        lines: ['1s+10sx9 level=error']\n"  # 10 lines at 1s..91s: 6 in (0s, 60s]
        "    logql_expr_test:\n      - expr: 'sum(count_over_time({job=\"api\"}[1m]))'\n"
        "        eval_time: 1m\n        exp_samples: [{labels: '{}', value: 10}]\n"
    )
    result = CliRunner().invoke(cli, ["rules", str(wrong)])
    assert result.exit_code == 1
    assert result.stderr == (
        '  FAILED:\n    expr: "sum(count_over_time({job=\\"api\\"}[1m]))", time: 1m,\n'
        "        exp: {} 1E+01\n        got: {} 6E+00\n"
    )
