"""Concrete ClickHouse backends. Only the composition root imports this package (DESIGN.md).

``ChdbBackend`` runs ClickHouse in-process on a data directory; ``ClickHouseBackend`` talks to a
ClickHouse server over HTTP through clickhouse-connect. Both run the same SQL.
"""

from __future__ import annotations

from pathlib import Path

from spyglass.storage._backend import Backend
from spyglass.storage.backends._chdb import ChdbBackend, DataDirLocked
from spyglass.storage.backends._clickhouse import ClickHouseBackend

CHDB_SUBDIR = "clickhouse"  # the name runtime.py uses too


def open_backend(storage_url: str, data_dir: str | Path) -> Backend:
    """The backend the ``storage_url`` setting asks for.

    Empty: embedded chDB in ``<data_dir>/clickhouse`` (the WAL lives next to it, in
    ``<data_dir>/wal``).
    Otherwise a ClickHouse server URL such as ``http://user:password@host:8123/database``.
    """
    if not storage_url:
        return ChdbBackend(Path(data_dir) / CHDB_SUBDIR)
    return ClickHouseBackend(storage_url)


def release_startup_memory(backend: Backend) -> int:
    """Hand back what start-up alone needed: with chDB, the pages of its library that opening
    the tables touched (``ChdbBackend.release_library_pages``); a ClickHouse server's memory is
    not this process's. Returns the bytes handed back."""
    if isinstance(backend, ChdbBackend):
        return backend.release_library_pages()
    return 0


__all__ = [
    "CHDB_SUBDIR",
    "Backend",
    "ChdbBackend",
    "ClickHouseBackend",
    "DataDirLocked",
    "open_backend",
    "release_startup_memory",
]
