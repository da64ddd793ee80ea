"""Hooks and fixtures for the whole suite.

Reports are made UTF-8 safe when they are serialized (tests/support/reports.py says why): a
failure whose text holds a lone surrogate then reaches the controller of a ``pytest -n 2`` run
as a failure, not as a crashed worker.

``wheels`` builds the server's and the SDK's wheels once for the session: the packaging tests of
the UI bundle, the built-in rules and the SDK's distribution each read them.
"""

from pathlib import Path

import pytest
from tests.support.reports import pytest_report_to_serializable
from tests.support.venvs import build_wheels


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The server's and the SDK's wheels, by distribution name (``spyglass``, ``spyglass-sdk``)."""
    return build_wheels(tmp_path_factory.mktemp("wheels"), ".", "sdk")


__all__ = ["pytest_report_to_serializable", "wheels"]
