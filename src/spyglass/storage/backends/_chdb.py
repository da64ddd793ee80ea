"""chDB (ClickHouse in-process) backend.

Facts about chDB 4.4 that shape this module, found by experiment:

- A process hosts one embedded server bound to one path. Opening a second path while the first is
  open fails (``EmbeddedServer already initialized with path ...``); after every session on it is
  closed, another path may be opened. So one ``ChdbBackend`` per process at a time.
- chDB does not lock the data directory: a second process opens the same path and inserts into
  it. Two ClickHouse instances merging the same parts corrupts them, so we take an exclusive
  ``flock`` on ``<path>/spyglass.lock`` and fail fast with ``DataDirLocked``.
- ``INSERT ... SELECT * FROM Python(name)`` with a pyarrow Table was the fastest bulk insert
  measured (faster than ``send_insert`` with ArrowStream or RowBinary bytes); chDB finds the
  table by its variable name in the calling frame, hence the fixed local name below.
- Server settings can be passed in the connection string (they become clickhouse-local startup
  arguments); we use them to keep memory modest and query logging off. clickhouse-local defines no
  ``system.*_log`` tables, so nothing fills the disk there.

Several sessions share the embedded server: one for writes (inserts and DDL, serialised by a
lock) and a small pool for queries, so a slow query never waits behind an insert, an insert never
waits behind a query, and a few queries run in parallel.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa

from spyglass.core.errors import SpyglassError, Unavailable
from spyglass.storage._backend import Params

# "Light to run" (DESIGN.md): modest caches and memory, no query log.
DEFAULT_OPTIONS: dict[str, str] = {
    "max_server_memory_usage": str(2 * 1024**3),
    "mark_cache_size": str(256 * 1024**2),
    "max_memory_usage": str(1024**3),
    "log_queries": "0",
}


class DataDirLocked(Unavailable):
    """Another process (or another backend in this process) has the data directory open."""


_open_lock = threading.Lock()
_open_path: Path | None = None


class ChdbBackend:
    """ClickHouse embedded through chDB, with its data under ``path``."""

    def __init__(
        self, path: str | Path, options: dict[str, str] | None = None, *, readers: int = 2
    ) -> None:
        """Open (creating) the data directory; ``readers`` sessions serve queries in parallel."""
        # Imported late: it loads a large shared library that most processes never need.
        from chdb import session  # noqa: PLC0415

        global _open_path  # noqa: PLW0603 - chDB itself is per-process state; mirror it
        self.path = Path(path).resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        with _open_lock:
            if _open_path is not None:
                raise DataDirLocked(
                    f"chDB already has {_open_path} open in this process; "
                    f"close it before opening {self.path}"
                )
            self._lock_fd = _lock_dir(self.path)
            opts = {**DEFAULT_OPTIONS, **(options or {})}
            conn = str(self.path) + "?" + "&".join(f"{k}={v}" for k, v in opts.items())
            try:
                self._write: Any = session.Session(conn)  # type: ignore[no-untyped-call]
                self._readers: list[Any] = [
                    session.Session(conn)  # type: ignore[no-untyped-call]
                    for _ in range(max(1, readers))
                ]
            except Exception as exc:
                os.close(self._lock_fd)
                raise Unavailable(f"cannot open chDB at {self.path}: {exc}") from exc
            _open_path = self.path
        self._write_lock = threading.Lock()
        # Idle read sessions; a query takes one, so queries run in parallel up to ``readers``.
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for sess in self._readers:
            self._idle.put(sess)
        self._closed = False

    def command(self, sql: str, params: Params | None = None) -> None:
        """Run a statement on the write session."""
        with self._write_lock:
            self._run(self._write, sql, "CSV", params)

    def query_arrow(self, sql: str, params: Params | None = None) -> pa.Table:
        """Run a query on an idle read session and return an Arrow table."""
        sess = self._idle.get()
        try:
            result = self._run(sess, sql, "ArrowTable", params)
        finally:
            self._idle.put(sess)
        assert isinstance(result, pa.Table)
        return result

    def insert(self, table: str, data: pa.Table) -> None:
        """Insert an Arrow table in one statement through chDB's ``Python()`` table function."""
        cols = ", ".join(f"`{c}`" for c in data.column_names)
        # chDB resolves Python(name) by looking the name up in the caller's frames.
        _spyglass_insert_data = data
        with self._write_lock:
            self._run(
                self._write,
                f"INSERT INTO {table} ({cols}) "  # noqa: S608 - our own table and column names
                f"SELECT {cols} FROM Python(_spyglass_insert_data)",
                "CSV",
                None,
            )

    def _run(self, sess: Any, sql: str, fmt: str, params: Params | None) -> Any:
        if self._closed:
            raise Unavailable("chDB backend is closed")
        try:
            if params:
                return sess.query(sql, fmt, params={k: _escape(v) for k, v in params.items()})
            return sess.query(sql, fmt)
        except SpyglassError:
            raise
        except Exception as exc:
            raise Unavailable(f"chDB: {exc}") from exc

    def close(self) -> None:
        """Close both sessions and release the directory lock."""
        global _open_path  # noqa: PLW0603
        with _open_lock, self._write_lock:
            if self._closed:
                return
            self._closed = True
            # Wait for running queries to hand their sessions back.
            for _ in self._readers:
                self._idle.get()
            for sess in [*self._readers, self._write]:
                with contextlib.suppress(Exception):  # closing must not fail shutdown
                    sess.close()
            os.close(self._lock_fd)
            _open_path = None


# chDB parses parameter values in ClickHouse's escaped text format (as the HTTP interface does),
# so a raw backslash, tab or newline would be misread or rejected. clickhouse-connect escapes
# the same way on its own.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def _escape(value: Any) -> Any:
    return value.translate(_ESCAPES) if isinstance(value, str) else value


def _lock_dir(path: Path) -> int:
    fd = os.open(path / "spyglass.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirLocked(f"{path} is in use by another process") from None
    return fd


__all__ = ["DEFAULT_OPTIONS", "ChdbBackend", "DataDirLocked"]
