"""Prometheus' own rule files and promtool unit tests (``../shared/conformance/rules``).

Every case of its EXPECTED.tsv is run and compared with the expectation; the outcome is printed
and the cases Spyglass does not meet are listed by name with their reason, never hidden. The
data is third-party (see SOURCES.md): a missing folder skips these tests, or fails them in CI.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tests.support.required import need_conformance

from spyglass.core.template import expand_alert_template
from spyglass.rules import RuleFileError, RuleGroup, load_rule_file
from spyglass.rules.testing import NATIVE_HISTOGRAMS, run_unit_tests
from spyglass.storage.memory import MemoryStore

# The cases Spyglass does not meet, and why. unittest.yml's first test group loads native
# histogram series and expects histogram samples; Spyglass stores no native histograms yet.
# Every other check of that file (timestamps, staleness, lookback, ALERTS, intervals) passes.
KNOWN_FAILURES = {"unittest.yml": NATIVE_HISTOGRAMS}
NOT_APPLICABLE = {"tester config"}  # the alert-generator compliance tester's own settings


@dataclass
class Outcome:
    file: str
    expectation: str
    met: bool
    detail: str


def _rows(root: Path) -> list[tuple[str, str, str]]:
    with (root / "EXPECTED.tsv").open(newline="") as f:
        return [
            (row[0], row[1], row[2] if len(row) > 2 else "")
            for row in csv.reader(f, delimiter="\t")
            if row and not row[0].startswith("#")
        ]


def _unit_test(path: Path, run: tuple[str, ...] = ()) -> tuple[bool, str]:
    (report,) = run_unit_tests([path], expander=expand_alert_template, run=run)
    return report.passed, "\n".join(report.all_errors())


def _load(path: Path, name_validation: str = "utf8") -> str:
    """``""`` when the file loads, else its errors."""
    try:
        load_rule_file(path, name_validation=name_validation)  # type: ignore[arg-type]
    except RuleFileError as exc:
        return str(exc)
    return ""


def _check(root: Path, file: str, expectation: str, notes: str) -> Outcome:
    path = root / file
    met = False
    detail = ""
    if expectation.startswith("promtool test rules exit"):
        passed, detail = _unit_test(path)
        met = passed == expectation.endswith("exit 0")
    elif expectation.startswith('exit 0 with --run "correct"'):
        correct, detail_ok = _unit_test(path, ("correct",))
        wrong, detail_wrong = _unit_test(path, ("wrong",))
        met = correct and not wrong and "test_low" in detail_wrong
        detail = detail_ok or detail_wrong
    elif expectation == "rule file":
        detail = _load(path)
        met = not detail
    elif expectation.startswith("parses OK"):
        validation = "legacy" if "legacy" in expectation else "utf8"
        detail = _load(path, validation)
        met = not detail
    elif expectation == "parse error (legacy name validation only)":
        detail = _load(path, "legacy")
        met = notes in detail and not _load(path)
    elif expectation == "parse error":
        detail = _load(path)
        met = bool(detail) and notes in detail
    elif expectation in NOT_APPLICABLE:
        detail = _load(path)
        met = bool(detail)  # not a rule file, and refused as one
    return Outcome(file, expectation, met, detail)


def test_every_expected_case() -> None:
    root = need_conformance("rules", "Prometheus rule conformance data")
    outcomes = [_check(root, *row) for row in _rows(root)]
    failed = [o for o in outcomes if not o.met]
    print(f"\nrules conformance: {len(outcomes) - len(failed)} of {len(outcomes)} as expected")
    for o in failed:
        print(f"  NOT MET {o.file} ({o.expectation}):\n    " + o.detail.replace("\n", "\n    "))
    assert {o.file for o in failed} == set(KNOWN_FAILURES)
    for o in failed:
        # A known failure fails for its known reason only.
        lines = [
            line for line in o.detail.splitlines() if line.strip().startswith(("input", "expr"))
        ]
        assert lines, o.detail
        assert all(KNOWN_FAILURES[o.file] in line for line in lines), o.detail
    assert len(outcomes) == 27


def test_unit_test_messages_match_promtools() -> None:
    root = need_conformance("rules", "Prometheus rule conformance data")
    passed, detail = _unit_test(root / "failing.yml")
    assert not passed
    assert detail == "\n".join(
        [
            "    name: Failing test,",
            "    alertname: Test, time: 0s, ",
            "        exp:[",
            "            0:",
            '              Labels:{alertname="Test"}',
            "              Annotations:{}",
            "            ], ",
            "        got:[]",
            '    expr: "test", time: 0s,',
            '        exp: {__name__="test"} 1E+00',
            '        got: {__name__="test"} 0E+00',
            "    name: Failing alert test,",
            "    alertname: InstanceDown, time: 5m, ",
            "        exp:[], ",
            "        got:[",
            "            0:",
            '              Labels:{alertname="InstanceDown", job="test", severity="page"}',
            '              Annotations:{description=" of job test has been down for more than 5'
            ' minutes.", summary="Instance  down"}',
            "            ]",
            "    name: Failing alert test,",
            "    alertname: AlwaysFiring, time: 5m, ",
            "        exp:[], ",
            "        got:[",
            "            0:",
            '              Labels:{alertname="AlwaysFiring"}',
            "              Annotations:{}",
            "            ]",
        ]
    )
    _, error = _unit_test(root / "bad-rules-error-test.yml")
    assert error.startswith("    rule: joined, time: 0s, err: found duplicate series for the match")


def test_alert_generator_groups_evaluate() -> None:
    """The compliance suite's rules load and evaluate; without its input nothing fires."""
    root = need_conformance("rules/alert_generator", "Prometheus rule conformance data")
    rule_file = load_rule_file(root / "rules.yaml")
    assert [g.interval_ms for g in rule_file.groups] == [30_000] * len(rule_file.groups)
    store = MemoryStore()
    for spec in rule_file.groups:
        result = RuleGroup(spec, expander=expand_alert_template).evaluate(store, 0)
        assert [r.health for r in result.rules] == ["ok"] * len(spec.rules)
        assert result.alerts == ()
