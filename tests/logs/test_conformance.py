"""Loki's own ``.logqltest`` scripts, counted per file against floors that only go up.

The scripts live outside the repository (../shared/conformance/logql/logqltest, AGPL: read from
there, never copied in); without them these tests skip, or fail in CI (tests/support/required.py).
Every failure is printed so a run shows what still differs from Loki.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.required import CONFORMANCE, missing, need_path

from spyglass.logs.testing import Report, run_files

LOGQL_TESTS = CONFORMANCE / "logql" / "logqltest"
TESTDATA = Path(__file__).resolve().parent / "testdata"

# Measured: every case of every file passes. Raise a floor when more pass, never lower one.
FLOORS = {
    "binary_operations.logqltest": 268,
    "conversions.logqltest": 14,
    "formatters.logqltest": 31,
    "functions.logqltest": 31,
    "label_filters.logqltest": 286,
    "line_filters.logqltest": 56,
    "parsers.logqltest": 53,
    "range_aggregations.logqltest": 241,
    "vector_aggregations.logqltest": 115,
}


@pytest.fixture(scope="module")
def upstream() -> Report:
    files = sorted(need_path(LOGQL_TESTS, "Loki's logqltest scripts").glob("*.logqltest"))
    if not files:
        missing(f"no Loki logqltest scripts (*.logqltest) under {LOGQL_TESTS}")
    report = run_files(files)
    print(report.render())
    return report


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_upstream_pass_floor(upstream: Report, name: str) -> None:
    """At least the measured number of each upstream script's cases pass."""
    failures = "\n".join(
        f"{c.file}:{c.line} {c.query}: {c.reason}" for c in upstream.failures() if c.file == name
    )
    assert upstream.count("pass", name) >= FLOORS[name], failures


def test_upstream_total(upstream: Report) -> None:
    """All 1,095 upstream cases run (none lost to the script reader) and pass."""
    assert len(upstream.cases) == 1095
    assert upstream.count("pass") == sum(FLOORS.values())


@pytest.mark.parametrize("path", sorted(TESTDATA.glob("*.logqltest")), ids=lambda p: p.name)
def test_own_scripts_pass(path: Path) -> None:
    """Spyglass' own scripts always run and must pass completely."""
    report = run_files([path])
    assert report.cases
    assert not report.failures(), report.render()
