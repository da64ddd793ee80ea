"""Test reports that survive the trip from a pytest-xdist worker to the controller.

xdist ships each report to the controller through execnet, which only sends strings that encode
as UTF-8. Property tests feed lone surrogates ("\\ud800") to decoders, and when one of them
fails, its message, its captured output or the failing example carry that character: execnet
raised instead of sending, the worker died with an internal error and the run lost the failure
it was about to report. ``utf8_safe`` rewrites such strings with a backslash escape, the way
Python's ``repr`` would show them, so the report still says which input failed.

This module is a pytest plugin: tests/conftest.py takes its hook, and ``-p tests.support.reports``
loads it elsewhere.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest


def utf8_safe(value: Any) -> Any:
    """``value`` with every string that cannot encode as UTF-8 backslash-escaped, through the
    dicts, lists and tuples of a serialized report; anything else is returned as it is."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {utf8_safe(k): utf8_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [utf8_safe(v) for v in value]
    if isinstance(value, tuple):
        return tuple(utf8_safe(v) for v in value)
    return value


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
    config: pytest.Config, report: pytest.CollectReport | pytest.TestReport
) -> Generator[None, Any, Any]:
    """The serialized report (what an xdist worker sends), UTF-8 safe."""
    data = yield
    return utf8_safe(data)


__all__ = ["pytest_report_to_serializable", "utf8_safe"]
