"""Prometheus' own promqltest scripts, counted per category against floors that only go up.

The scripts live outside the repository (../shared/conformance/promql); without them these tests
skip, or fail in CI (tests/support/required.py). Every failure is printed so a run shows what
still differs from Prometheus.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.required import CONFORMANCE, missing, need_path
from tests.support.split_cache import SplitCacheEngine

from spyglass.promql.testing import CORE, EXPERIMENTAL, NATIVE, Report, run_files

PROMQL_TESTS = CONFORMANCE / "promql"
TESTDATA = Path(__file__).resolve().parent / "testdata"

# Measured floors: raise them when more cases pass, never lower them.
FLOORS = {CORE: 901, EXPERIMENTAL: 368}


@pytest.fixture(scope="module")
def upstream() -> Report:
    files = sorted(need_path(PROMQL_TESTS, "Prometheus' promqltest scripts").glob("*.test"))
    if not files:
        missing(f"no Prometheus promqltest scripts (*.test) under {PROMQL_TESTS}")
    report = run_files(files)
    print(report.render())
    return report


@pytest.fixture(scope="module")
def upstream_through_cache() -> Report:
    files = sorted(need_path(PROMQL_TESTS, "Prometheus' promqltest scripts").glob("*.test"))
    return run_files(files, make_engine=SplitCacheEngine)


def test_upstream_cases_pass_alike_through_the_range_cache(
    upstream: Report, upstream_through_cache: Report
) -> None:
    """Every range query answered from a cached random piece plus the steps missing (a new
    tail or a missing head) passes and fails exactly the cases the plain engine does."""
    plain = [(c.file, c.line, c.status) for c in upstream.cases]
    cached = [(c.file, c.line, c.status) for c in upstream_through_cache.cases]
    changed = [f"{a} -> {b[2]}" for a, b in zip(plain, cached, strict=True) if a != b]
    assert not changed, "\n".join(changed)


@pytest.mark.parametrize("category", [CORE, EXPERIMENTAL])
def test_upstream_pass_floor(upstream: Report, category: str) -> None:
    """At least the measured number of upstream cases pass in each category."""
    passed = upstream.count(category, "pass")
    failures = "\n".join(
        f"{c.file}:{c.line} {c.query}: {c.reason}" for c in upstream.failures(category)
    )
    assert passed >= FLOORS[category], failures


def test_upstream_core_subset_meets_goal(upstream: Report) -> None:
    """The issue's bar: at least 97% of the core float subset passes."""
    passed = upstream.count(CORE, "pass")
    total = passed + upstream.count(CORE, "fail")
    assert total > 800
    assert passed / total >= 0.97


def test_native_histogram_cases_are_skipped_not_hidden(upstream: Report) -> None:
    """Native histogram cases are counted as skipped (not run, not dropped)."""
    assert upstream.count(NATIVE, "skip") >= 522  # native_histograms.test alone
    assert upstream.count(NATIVE, "pass") == upstream.count(NATIVE, "fail") == 0


@pytest.mark.parametrize("path", sorted(TESTDATA.glob("*.test")), ids=lambda p: p.name)
def test_own_scripts_pass(path: Path) -> None:
    """Spyglass' own scripts always run and must pass completely."""
    report = run_files([path])
    assert report.cases
    assert not report.failures(), report.render()
    through_cache = run_files([path], make_engine=SplitCacheEngine)
    assert not through_cache.failures(), through_cache.render()
