"""The alerting rules Spyglass ships for itself: valid for promtool and Spyglass alike, and each
alert fires on the series that should fire it and on no others.

The unit tests (testdata/builtin_rules_test.yml, promtool's format) run against the file as
installed, by ``spyglass test rules`` and by Debian's promtool.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from tests.support.required import need_promtool
from typer.testing import CliRunner

from spyglass.cli import app
from spyglass.rules import BUILTIN_RULES, load_rule_file

UNIT_TESTS = Path(__file__).parent / "testdata" / "builtin_rules_test.yml"


def _workdir(tmp_path: Path, rules_text: str | None = None) -> Path:
    """The unit tests next to the shipped rule file (or ``rules_text`` in its place)."""
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    rules = tmp_path / BUILTIN_RULES.name
    rules.write_text(rules_text if rules_text is not None else BUILTIN_RULES.read_text())
    return tmp_path / UNIT_TESTS.name


def test_spyglass_rules_path_prints_the_installed_file() -> None:
    result = CliRunner().invoke(app, ["rules", "path"])
    assert result.exit_code == 0
    printed = Path(result.output.strip())
    assert printed == BUILTIN_RULES
    assert printed.is_file()


def test_every_alert_has_severity_summary_description_and_for() -> None:
    groups = load_rule_file(str(BUILTIN_RULES)).groups
    rules = [r for g in groups for r in g.rules]
    assert len(rules) >= 8
    for rule in rules:
        assert rule.kind == "alerting", rule.name
        assert rule.labels.get("severity") in ("warning", "critical"), rule.name
        assert {"summary", "description"} <= set(rule.annotations), rule.name
        assert rule.for_ms >= 5 * 60_000, rule.name


def test_the_unit_tests_see_every_alert_fire() -> None:
    """No alert of the file goes untested: each is expected firing in some test."""
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    names = {r.name for g in load_rule_file(str(BUILTIN_RULES)).groups for r in g.rules}
    assert fired == names


def test_spyglass_test_rules_passes_the_unit_tests(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["test", "rules", str(_workdir(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output


def test_a_broken_rule_fails_the_unit_tests(tmp_path: Path) -> None:
    """The unit tests can fail: with TargetDown's expression changed, they do."""
    text = BUILTIN_RULES.read_text()
    assert "expr: up == 0\n" in text
    broken = _workdir(tmp_path, text.replace("expr: up == 0\n", "expr: up == 2\n"))
    result = CliRunner().invoke(app, ["test", "rules", str(broken)])
    assert result.exit_code == 1
    assert "TargetDown" in result.output


def test_spyglass_check_rules_accepts_the_file() -> None:
    result = CliRunner().invoke(app, ["check", "rules", str(BUILTIN_RULES)])
    assert result.exit_code == 0, result.output
    assert "SUCCESS: 11 rules found" in result.output


@pytest.mark.prometheus
def test_promtool_check_rules_accepts_the_file() -> None:
    out = subprocess.run(
        [need_promtool(), "check", "rules", str(BUILTIN_RULES)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 11 rules found" in out.stdout


@pytest.mark.prometheus
def test_promtool_test_rules_passes_the_unit_tests(tmp_path: Path) -> None:
    out = subprocess.run(
        [need_promtool(), "test", "rules", str(_workdir(tmp_path))],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_the_wheel_ships_the_rule_file(wheels: dict[str, Path]) -> None:
    """``spyglass rules path`` points into the installed package, so the wheel must carry it."""
    with zipfile.ZipFile(wheels["spyglass"]) as archive:
        shipped = archive.read("spyglass/rules/builtin/spyglass.rules.yml")
    assert shipped == BUILTIN_RULES.read_bytes()
