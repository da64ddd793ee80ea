"""Fixtures for storage tests.

chDB hosts one embedded server per process, bound to one path, so a test module shares one
``ChdbBackend`` (module scope) and each test starts from empty tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spyglass.storage.backends import ChdbBackend
from spyglass.storage.schema import TABLES


@pytest.fixture(scope="module")
def chdb_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbBackend]:
    """One chDB for the module, closed at its end so other modules can open theirs."""
    backend = ChdbBackend(tmp_path_factory.mktemp("chdb"))
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def backend(chdb_backend: ChdbBackend) -> ChdbBackend:
    """The module's chDB with the metrics tables dropped, so each test creates them afresh."""
    for table in TABLES:
        chdb_backend.command(f"DROP TABLE IF EXISTS {table} SYNC")
    return chdb_backend


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data directory (for the WAL) per test."""
    return tmp_path / "data"
