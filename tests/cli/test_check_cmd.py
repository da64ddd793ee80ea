"""``spyglass check rules``: promtool's output and exit codes, errors with file, line and field."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from spyglass.cli import app

TESTDATA = Path(__file__).parents[1] / "rules" / "testdata"
DUPLICATES = """
groups:
  - name: a
    rules:
      - alert: Same
        expr: up == 0
      - alert: Same
        expr: up == 1
"""


def check(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", "rules", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_valid_files_succeed_with_the_rule_count() -> None:
    code, out, err = check(str(TESTDATA / "alerts.yml"), str(TESTDATA / "recording.yml"))
    assert code == 0
    assert out == (
        f"Checking {TESTDATA / 'alerts.yml'}\n  SUCCESS: 5 rules found\n\n"
        f"Checking {TESTDATA / 'recording.yml'}\n  SUCCESS: 2 rules found\n\n"
    )
    assert err == ""


def test_invalid_file_fails_with_every_error_and_the_rest_are_still_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "groups:\n  - name: a\n    rules:\n      - record: r\n        expr: rate(x)\n"
        "        for: 5m\n"
    )
    code, out, err = check(str(bad), str(TESTDATA / "alerts.yml"))
    assert code == 1
    assert (
        out == f"Checking {bad}\n\nChecking {TESTDATA / 'alerts.yml'}\n  SUCCESS: 5 rules found\n\n"
    )
    lines = err.splitlines()
    assert lines[0] == "  FAILED:"
    assert lines[1].startswith(
        f'{bad}:5: groups[0].rules[0].expr: group "a", rule 1, "r": could not parse expression: 1:'
    )
    assert lines[2] == (
        f'{bad}:6: groups[0].rules[0].for: group "a", rule 1, "r": invalid field \'for\' in '
        "recording rule"
    )


def test_duplicate_rules_are_a_lint_finding_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.yml"
    path.write_text(DUPLICATES)
    code, out, err = check(str(path))
    assert code == 0
    assert out == f"Checking {path}\n\n"
    assert err == (
        "  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: Same\nLabel(s):\n"
        "Might cause inconsistency while recording expressions\n"
    )
    assert check("--lint-fatal", str(path))[0] == 3
    code, out, _ = check("--lint", "none", "--lint-fatal", str(path))
    assert (code, out) == (0, f"Checking {path}\n  SUCCESS: 2 rules found\n\n")


def test_standard_input_is_read_when_no_file_is_given() -> None:
    code, out, _ = check(stdin=(TESTDATA / "recording.yml").read_text())
    assert (code, out) == (0, "Checking standard input\n  SUCCESS: 2 rules found\n\n")
    code, _, err = check(stdin="- alert: A\n  expr: up == 0\n")
    assert code == 1
    assert "standard input:1: cannot unmarshal !!seq into rulefmt.RuleGroups (rules must" in err


def test_missing_file_fails_naming_it(tmp_path: Path) -> None:
    code, _, err = check(str(tmp_path / "nope.yml"))
    assert code == 1
    assert f"{tmp_path / 'nope.yml'}: cannot read rule file: No such file or directory" in err


def test_unknown_fields_can_be_ignored(tmp_path: Path) -> None:
    path = tmp_path / "extra.yml"
    path.write_text("groups:\n  - name: a\n    owner: me\n    rules: []\n")
    assert check(str(path))[0] == 1
    assert check("--ignore-unknown-fields", str(path))[0] == 0


LOKI_RULES = """groups:
  - name: errors
    rules:
      - record: service:errors:rate5m
        expr: sum by (service) (rate({job="api"} |= "error" [5m]))
      - alert: Broken
        expr: sum(count_over_time({job="api"} | json | level= [5m])) > 0
"""


def test_logql_groups_are_checked_as_loki_s_ruler_checks_them(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.yml"
    mixed.write_text(
        LOKI_RULES.replace("  - name: errors\n", "  - name: errors\n    type: logql\n")
    )
    code, _, err = check(str(mixed))
    assert code == 1
    assert err.splitlines()[1].startswith(
        f'{mixed}:8: groups[0].rules[1].expr: group "errors", rule 2, "Broken": could not parse '
        "expression: parse error at line 1, col "
    )


def test_loki_ruler_files_are_read_as_logql_with_the_flag(tmp_path: Path) -> None:
    ruler = tmp_path / "ruler.yml"
    ruler.write_text(LOKI_RULES.replace("level= [5m]", 'level="error" [5m]'))
    code, out, err = check("--logql", str(ruler))
    assert (code, out, err) == (0, f"Checking {ruler}\n  SUCCESS: 2 rules found\n\n", "")
    # Without it the file is PromQL, which the first rule's pipeline is not.
    code, _, err = check(str(ruler))
    assert code == 1
    assert "groups[0].rules[0].expr" in err
