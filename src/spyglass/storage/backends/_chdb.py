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

Several sessions share the embedded server: a small pool for writes (inserts and DDL) and one for
queries, so a slow query never waits behind an insert, an insert never waits behind a query, a
few queries run in parallel, and each signal's flush can have a write session of its own: a
large insert of one signal does not hold up another's (docs/decisions.md, "Several signals on
one chDB"). Each signal's writer flushes one chunk at a time, so its inserts stay in order.
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
from spyglass.storage.backends._pages import release_library_pages

# "Light to run" (DESIGN.md): modest caches and memory, no query log. ClickHouse sizes its
# caches for a dedicated server (5 GiB of marks, 5 GiB of primary index, 128 MiB of compiled
# expressions, 100 MiB of query conditions); caches fill lazily, so these are ceilings that
# matter on a long-running small install, not at start. A billion samples take some 10 MiB of
# marks (8,192 rows a granule) and 2 MiB of primary key, so 64 MiB holds them. Two background merge
# threads (chDB's default, pinned here) keep merges from competing with ingest on small hosts.
# Skip indexes' granules are kept decompressed (ClickHouse's default keeps none): a trace by id
# checks the TraceId bloom filter of every granule its time range leaves (~400 at 10M spans),
# and decompressing them again each time was up to a fifth of its CPU once the range had been
# read before (bench/README.md). 10M spans' TraceId filters take some 18 MiB.
DEFAULT_OPTIONS: dict[str, str] = {
    "max_server_memory_usage": str(2 * 1024**3),
    "mark_cache_size": str(64 * 1024**2),
    "index_mark_cache_size": str(16 * 1024**2),
    "primary_index_cache_size": str(64 * 1024**2),
    "uncompressed_cache_size": "0",
    "index_uncompressed_cache_size": str(64 * 1024**2),
    "compiled_expression_cache_size": str(16 * 1024**2),
    "query_condition_cache_size": str(16 * 1024**2),
    "background_pool_size": "2",
    "max_memory_usage": str(1024**3),
    "log_queries": "0",
}


class DataDirLocked(Unavailable):
    """Another process (or another backend in this process) has the data directory open."""


_open_lock = threading.Lock()
_open_path: Path | None = None
_library_released = False


class ChdbBackend:
    """ClickHouse embedded through chDB, with its data under ``path``."""

    def __init__(
        self,
        path: str | Path,
        options: dict[str, str] | None = None,
        *,
        readers: int = 2,
        writers: int = 2,
    ) -> None:
        """Open (creating) the data directory; ``readers`` sessions serve queries and
        ``writers`` sessions inserts and DDL, each pool in parallel."""
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
                self._writers: list[Any] = [
                    session.Session(conn)  # type: ignore[no-untyped-call]
                    for _ in range(max(1, writers))
                ]
                self._readers: list[Any] = [
                    session.Session(conn)  # type: ignore[no-untyped-call]
                    for _ in range(max(1, readers))
                ]
            except Exception as exc:
                os.close(self._lock_fd)
                raise Unavailable(f"cannot open chDB at {self.path}: {exc}") from exc
            _open_path = self.path
        # The library's start-up touched far more of it than ClickHouse uses (``_pages``). Its
        # initialisers run once, when it loads, so a later open (tests, a reopened data dir)
        # has nothing to hand back and skips the scan of the mappings (~20 ms of CPU).
        global _library_released  # noqa: PLW0603 - the library is per-process too
        self.released_library_bytes = 0
        if not _library_released:
            _library_released = True
            self.released_library_bytes = self.release_library_pages()
        # Idle sessions of each pool; a statement takes one, so statements run in parallel up
        # to the pool's size.
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for sess in self._readers:
            self._idle.put(sess)
        self._idle_writers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for sess in self._writers:
            self._idle_writers.put(sess)
        self._closed = False

    def release_library_pages(self) -> int:
        """Hand back this process's resident pages of chDB's library (``_pages``); returns the
        bytes that were resident. The server calls it once more when start-up is over: creating
        the schema, loading the tables' parts and the head's first read run much code that
        ingest and queries do not (an idle server held 111 MiB of the library then, 12 MiB
        once this ran; under remote_write load 86 MiB of it came back, against 123 before). What
        runs again is faulted back in from the page cache."""
        return release_library_pages(_library_file())

    def command(self, sql: str, params: Params | None = None) -> None:
        """Run a statement on an idle write session."""
        self._on(self._idle_writers, sql, "CSV", params)

    def query_arrow(self, sql: str, params: Params | None = None) -> pa.Table:
        """Run a query on an idle read session and return an Arrow table."""
        result = self._on(self._idle, sql, "ArrowTable", params)
        assert isinstance(result, pa.Table)
        return result

    def insert(self, table: str, data: pa.Table) -> None:
        """Insert an Arrow table in one statement through chDB's ``Python()`` table function."""
        cols = ", ".join(f"`{c}`" for c in data.column_names)
        # chDB resolves Python(name) by looking the name up in the caller's frames.
        _spyglass_insert_data = data
        self._on(
            self._idle_writers,
            f"INSERT INTO {table} ({cols}) "  # noqa: S608 - our own table and column names
            f"SELECT {cols} FROM Python(_spyglass_insert_data)",
            "CSV",
            None,
        )

    def _on(self, pool: queue.SimpleQueue[Any], sql: str, fmt: str, params: Params | None) -> Any:
        if self._closed:
            raise Unavailable("chDB backend is closed")
        sess = pool.get()
        try:
            return self._run(sess, sql, fmt, params)
        finally:
            pool.put(sess)

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
        """Close every session and release the directory lock."""
        global _open_path  # noqa: PLW0603
        with _open_lock:
            if self._closed:
                return
            self._closed = True
            # Wait for running statements to hand their sessions back.
            for _ in self._readers:
                self._idle.get()
            for _ in self._writers:
                self._idle_writers.get()
            for sess in [*self._readers, *self._writers]:
                with contextlib.suppress(Exception):  # closing must not fail shutdown
                    sess.close()
            # Back into the pools, so a call racing with close fails ("closed") instead of
            # waiting forever for a session.
            for sess in self._readers:
                self._idle.put(sess)
            for sess in self._writers:
                self._idle_writers.put(sess)
            os.close(self._lock_fd)
            _open_path = None


# chDB parses parameter values in ClickHouse's escaped text format (as the HTTP interface does),
# so a raw backslash, tab or newline would be misread or rejected. clickhouse-connect escapes
# the same way on its own.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def _escape(value: Any) -> Any:
    return value.translate(_ESCAPES) if isinstance(value, str) else value


def _library_file() -> str:
    """The file of chDB's native library (loaded by then)."""
    import chdb._chdb  # noqa: PLC0415 - loaded by then

    return str(chdb._chdb.__file__)


def _lock_dir(path: Path) -> int:
    fd = os.open(path / "spyglass.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirLocked(f"{path} is in use by another process") from None
    return fd


__all__ = ["DEFAULT_OPTIONS", "ChdbBackend", "DataDirLocked"]
