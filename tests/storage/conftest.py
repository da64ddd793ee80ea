"""Fixtures for storage tests.

chDB hosts one embedded server per process, bound to one path, so a test module shares one
``ChdbBackend`` (module scope) and each test starts from empty tables.

``backend`` runs each test twice: on the embedded chDB backend, and on the ClickHouse server
backend (clickhouse-connect over HTTP) against tests/support/clickhouse_http.py, a ClickHouse
HTTP endpoint whose engine is chDB in its own process.

``state_db`` and ``state`` run each state store test twice: on SQLite and on a real PostgreSQL
(Debian's package, one server for the session, a new database per test).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.servers import free_port, started
from tests.support.state import FakeClock, StateDatabase

from spyglass.storage.backends import Backend, ChdbBackend, ClickHouseBackend
from spyglass.storage.schema import TABLES
from spyglass.storage.state import SqlStateStore


@pytest.fixture(scope="module")
def chdb_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbBackend]:
    """One chDB for the module, closed at its end so other modules can open theirs."""
    backend = ChdbBackend(tmp_path_factory.mktemp("chdb"))
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def clickhouse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ClickHouse HTTP endpoint (chDB behind it) for the module."""
    port = free_port()
    path = tmp_path_factory.mktemp("clickhouse-http")
    cmd = [sys.executable, "-m", "tests.support.clickhouse_http", "--port", str(port),
           "--path", str(path / "db")]  # fmt: skip
    with started(cmd, f"http://127.0.0.1:{port}", "/ping", path / "log"):
        yield f"http://default:@127.0.0.1:{port}/default?compress=false"


@pytest.fixture(params=["chdb", "clickhouse-server"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each backend with the metrics tables dropped, so each test creates them afresh."""
    if request.param == "chdb":
        chosen: Backend = request.getfixturevalue("chdb_backend")
    else:
        chosen = ClickHouseBackend(request.getfixturevalue("clickhouse_url"))
    for table in TABLES:
        chosen.command(f"DROP TABLE IF EXISTS {table} SYNC")
    yield chosen
    if request.param != "chdb":
        chosen.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh data directory (for the WAL) per test."""
    return tmp_path / "data"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL for the storage tests; each test gets its own database in it."""
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def new_state_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], StateDatabase]:
    """Makes fresh, empty state databases on each backend: SQLite in a new data directory, or
    a new database in the shared PostgreSQL."""
    if request.param == "sqlite":
        return lambda: StateDatabase("sqlite", "", tmp_path_factory.mktemp("state"))
    cluster: PostgresServer = request.getfixturevalue("postgres_cluster")

    def make() -> StateDatabase:
        url = cluster.create_database(f"state_{uuid.uuid4().hex[:16]}")
        return StateDatabase("postgresql", url, tmp_path_factory.mktemp("state"))

    return make


@pytest.fixture
def state_db(new_state_db: Callable[[], StateDatabase]) -> StateDatabase:
    """A fresh, empty state database on each backend."""
    return new_state_db()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(state_db: StateDatabase, clock: FakeClock) -> Iterator[SqlStateStore]:
    """An open state store on each backend, on the test's clock."""
    with state_db.open(clock=clock) as store:
        yield store
