"""Differential tests: ``spyglass check rules`` and ``spyglass test rules`` against promtool.

promtool comes with Debian's prometheus package (2.42). Our own small files, good and bad, are
checked by both; exit codes must agree. Unit-test files are split into one file per test group
and run by both; every group must pass or fail alike, and where promtool's messages exist in
2.42, ours must read the same.

2.42 predates Prometheus 3: its range and lookback windows include their left end, names are
legacy-only, and it lacks group ``labels``, ``query_offset``, ``start_timestamp``,
``fuzzy_compare`` and ``--run``. The files here avoid those; the conformance tests cover them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from tests.support.required import need_promtool
from typer.testing import CliRunner

from spyglass.cli import app

pytestmark = pytest.mark.prometheus

TESTDATA = Path(__file__).parent / "testdata"

# Test groups whose verdicts differ from promtool's for a known reason, each checked to still
# differ (so this list cannot silently go stale).
KNOWN_DIFFERENT: set[tuple[str, str]] = set()

GOOD = {
    "guide.yml": (TESTDATA / "alerts.yml").read_text(),
    "keep_firing.yml": (TESTDATA / "semantics.yml").read_text(),
    "empty.yml": "",
    "no_groups.yml": "groups: []\n",
    "limit.yml": "groups:\n  - name: a\n    limit: 5\n    rules:\n      - record: r\n"
    "        expr: vector(1)\n",
    "duplicates_lint.yml": "groups:\n  - name: a\n    rules:\n      - alert: A\n"
    "        expr: up == 0\n      - alert: A\n        expr: up == 1\n",
}
BAD = {
    "no_expr.yml": "groups:\n  - name: a\n    rules:\n      - alert: A\n",
    "record_and_alert.yml": "groups:\n  - name: a\n    rules:\n      - record: r\n"
    "        alert: A\n        expr: '1'\n",
    "neither.yml": "groups:\n  - name: a\n    rules:\n      - expr: '1'\n",
    "bad_promql.yml": "groups:\n  - name: a\n    rules:\n      - record: r\n"
    "        expr: sum(rate(x[5m])\n",
    "for_on_record.yml": "groups:\n  - name: a\n    rules:\n      - record: r\n"
    "        expr: '1'\n        for: 5m\n",
    "annotations_on_record.yml": "groups:\n  - name: a\n    rules:\n      - record: r\n"
    "        expr: '1'\n        annotations:\n          a: b\n",
    "same_group.yml": "groups:\n  - name: a\n  - name: a\n",
    "empty_group_name.yml": "groups:\n  - rules: []\n",
    "unknown_field.yml": "groups:\n  - name: a\n    rules:\n      - alert: A\n"
    "        expr: up == 0\n        annotation:\n          a: b\n",
    "duration_without_unit.yml": "groups:\n  - name: a\n    rules:\n      - alert: A\n"
    "        expr: up == 0\n        for: 5\n",
    "no_groups_wrapper.yml": "- alert: A\n  expr: up == 0\n",
    "top_level_rule.yml": "alert: A\nexpr: up == 0\n",
    "metric_name_label.yml": "groups:\n  - name: a\n    rules:\n      - record: r\n"
    "        expr: '1'\n        labels:\n          __name__: x\n",
    "braces_in_record.yml": 'groups:\n  - name: a\n    rules:\n      - record: r{a="b"}\n'
    "        expr: '1'\n",
    "tabs.yml": "groups:\n\t- name: a\n",
    "bad_limit.yml": "groups:\n  - name: a\n    limit: many\n",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    return need_promtool()


def _spyglass(*args: str) -> int:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code


def _promtool(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False
    )


@pytest.mark.parametrize("name", sorted([*GOOD, *BAD]))
def test_check_rules_exit_codes_match(promtool: str, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text({**GOOD, **BAD}[name])
    theirs = _promtool(promtool, "check", "rules", str(path), cwd=tmp_path)
    assert theirs.returncode == (1 if name in BAD else 0), theirs.stderr
    assert _spyglass("check", "rules", str(path)) == theirs.returncode
    fatal = _promtool(promtool, "check", "rules", "--lint-fatal", str(path), cwd=tmp_path)
    assert _spyglass("check", "rules", "--lint-fatal", str(path)) == fatal.returncode


def _split(source: Path, into: Path) -> list[tuple[str, Path]]:
    """One unit-test file per test group (promtool 2.42 has no ``--run``)."""
    spec = yaml.safe_load(source.read_text())
    out = []
    for i, group in enumerate(spec["tests"]):
        single = {**spec, "tests": [group]}
        single["rule_files"] = [str(source.parent / f) for f in spec.get("rule_files", [])]
        path = into / f"{source.stem}.{i}.yml"
        path.write_text(yaml.safe_dump(single, sort_keys=False))
        out.append((group.get("name", f"unnamed#{i}"), path))
    return out


@pytest.mark.parametrize("test_file", ["alerts_test.yml", "semantics_test.yml"])
def test_unit_test_verdicts_match_per_group(
    promtool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_file: str
) -> None:
    monkeypatch.chdir(tmp_path)  # both tools print the file name as given
    compared = 0
    for name, path in _split(TESTDATA / test_file, tmp_path):
        theirs = _promtool(promtool, "test", "rules", path.name, cwd=tmp_path)
        ours = CliRunner().invoke(app, ["test", "rules", path.name], catch_exceptions=False)
        different = (ours.exit_code == 0) != (theirs.returncode == 0)
        assert different == ((test_file, name) in KNOWN_DIFFERENT), (
            name,
            theirs.stdout + theirs.stderr,
            ours.output,
        )
        if not different:
            # Same verdict, and the same words: promtool's messages are kept.
            assert ours.stderr == theirs.stderr, name
            assert ours.stdout == theirs.stdout, name
        compared += 1
    assert compared >= 4
