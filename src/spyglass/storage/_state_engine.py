"""Connecting the state store: which database a URL means, and how each one is set up.

SQLite (the default, ``<data_dir>/state.db``):

- ``journal_mode=WAL``: readers never wait for the writer and a commit appends to one file.
- ``synchronous=FULL``: every commit fsyncs the WAL. ``NORMAL`` already survives ``kill -9``
  (the WAL is in the page cache, and the OS writes it out), but not a power cut or a kernel
  crash, which could drop the last commits, and a silence or an acknowledged alert is state a
  user was told is saved. One fsync per commit is small at control-plane write rates; the
  telemetry WAL makes the same choice.
- ``busy_timeout``: a writer waits for another connection's write, up to ``BUSY_TIMEOUT_MS``,
  instead of failing at once with "database is locked".
- ``foreign_keys=ON``: SQLite leaves foreign keys unchecked unless each connection asks.
- Transactions: Python's ``sqlite3`` (before 3.12's ``autocommit``) issues ``BEGIN`` itself, and
  only before DML, so a read before a transaction's first write would run outside it. We switch
  that off and issue ``BEGIN IMMEDIATE`` for writes: it takes the write lock at once, waiting up
  to the busy timeout. A plain (deferred) ``BEGIN`` would take the lock only at the first write,
  and if another connection committed after our first read, it would fail there without
  waiting ("database is locked"). Reads get a plain ``BEGIN``: one snapshot, no lock.

PostgreSQL (``postgresql://user:password@host:5432/database``, through psycopg 3): a small pool
whose connections are checked before use, so a restarted server costs no failed call.

Database errors become ``Unavailable`` (retryable) naming the database, never its password.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from spyglass.core.errors import BadInput, Unavailable

STATE_FILE = "state.db"
BUSY_TIMEOUT_MS = 15_000
POSTGRES_CONNECT_TIMEOUT_S = 10
READ_ONLY = "spyglass_read_only"  # an execution option: begin a read transaction

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def resolve_url(state_url: str, data_dir: str | Path) -> sa.URL:
    """The SQLAlchemy URL for the ``state_url`` setting (empty: SQLite in ``data_dir``)."""
    if not state_url:
        path = Path(data_dir).resolve() / STATE_FILE
        return sa.URL.create("sqlite", database=str(path))
    scheme = state_url.split("://", 1)[0].lower() if "://" in state_url else ""
    try:
        url = sa.make_url(state_url)
    except sa.exc.ArgumentError:
        url = None
    if url is not None and scheme in _POSTGRES_SCHEMES:
        return url.set(drivername="postgresql+psycopg")
    if url is not None and scheme == "sqlite" and url.database not in (None, "", ":memory:"):
        return url
    raise BadInput(
        "the state URL must be empty (SQLite in the data directory), "
        "postgresql://user:password@host:port/database or sqlite:///path/to/file.db, "
        f"not {_safe(state_url)!r}"
    )


def _safe(state_url: str) -> str:
    try:
        return sa.make_url(state_url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return state_url.split("://", 1)[0] + "://..." if "://" in state_url else state_url


def create_engine(url: sa.URL) -> sa.Engine:
    """An engine for ``url`` set up as the module docstring says."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(
        url,
        pool_size=4,
        max_overflow=4,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "application_name": "spyglass",
        },
    )


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, pool_size=4, max_overflow=8)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = _journal_mode_wal(cursor)
            if str(mode).lower() != "wal":
                raise Unavailable(
                    f"SQLite could not put {url.database} in WAL mode (it stays in {mode!r} "
                    "mode); keep the data directory on a local file system"
                )
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _journal_mode_wal(cursor: Any) -> str:
    """Switch to WAL mode. Switching needs an exclusive lock and SQLite does not wait on the
    busy handler for it: several nodes opening a new database at once got "database is
    locked". So this waits itself, as long as the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            return str(mode)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def describe(url: sa.URL) -> str:
    """``url`` for messages: the file for SQLite, the URL without its password otherwise."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


@contextlib.contextmanager
def translated_errors(where: str) -> Iterator[None]:
    """Turn the database's own errors into ``Unavailable`` naming ``where``."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        detail = str(exc.orig).strip() or type(exc.orig).__name__
        raise Unavailable(f"state database {where}: {detail}") from exc
    except sa.exc.SQLAlchemyError as exc:
        raise Unavailable(f"state database {where}: {exc}") from exc


__all__ = [
    "BUSY_TIMEOUT_MS",
    "READ_ONLY",
    "STATE_FILE",
    "create_engine",
    "describe",
    "resolve_url",
    "translated_errors",
]
