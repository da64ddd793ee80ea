"""Fixtures for the span store tests: each backend with the trace tables dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spyglass.storage.backends import Backend, ClickHouseBackend
from spyglass.storage.schema import TRACE_TABLES


@pytest.fixture(params=["chdb", "clickhouse-server"])
def traces_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend (embedded chDB, and clickhouse-connect over HTTP) with no trace tables, so
    each test creates them afresh."""
    if request.param == "chdb":
        chosen: Backend = request.getfixturevalue("chdb_backend")
    else:
        chosen = ClickHouseBackend(request.getfixturevalue("clickhouse_url"))
    for table in TRACE_TABLES:
        chosen.command(f"DROP TABLE IF EXISTS {table.name} SYNC")
    yield chosen
    if request.param != "chdb":
        chosen.close()
