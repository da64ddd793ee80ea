"""Hooks for the whole suite."""

from __future__ import annotations

import pytest


def _utf8_safe(text: str) -> str:
    # Tests feed lone surrogates ("\ud800") to encoders on purpose, and what they log is captured
    # into the report; pytest-xdist ships reports between processes as UTF-8, which cannot carry
    # a lone surrogate, and its worker dies. Escape them as Python would print them.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Make each report's captured output encodable as UTF-8 (see ``_utf8_safe``)."""
    report.sections = [(title, _utf8_safe(content)) for title, content in report.sections]
    if isinstance(report.longrepr, str):
        report.longrepr = _utf8_safe(report.longrepr)
