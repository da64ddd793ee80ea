"""Hooks for the whole suite.

Reports are made UTF-8 safe when they are serialized (tests/support/reports.py says why): a
failure whose text holds a lone surrogate then reaches the controller of a ``pytest -n 2`` run
as a failure, not as a crashed worker.
"""

from tests.support.reports import pytest_report_to_serializable

__all__ = ["pytest_report_to_serializable"]
