"""Fixtures for the error event and issue store tests: each ClickHouse backend with the
``error_events`` table dropped, and events made to order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spyglass.storage.backends import Backend, ClickHouseBackend
from spyglass.storage.schema import ERROR_TABLES


@pytest.fixture(params=["chdb", "clickhouse-server"])
def errors_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend (embedded chDB, and clickhouse-connect over HTTP) with no errors table, so
    each test creates it afresh."""
    if request.param == "chdb":
        chosen: Backend = request.getfixturevalue("chdb_backend")
    else:
        chosen = ClickHouseBackend(request.getfixturevalue("clickhouse_url"))
    for table in ERROR_TABLES:
        chosen.command(f"DROP TABLE IF EXISTS {table.name} SYNC")
    yield chosen
    if request.param != "chdb":
        chosen.close()
