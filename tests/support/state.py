"""Helpers for the state store's tests: a settable clock and a fresh database on either backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from spyglass.storage.state import STATE_FILE, SqlStateStore, open_state_store


class FakeClock:
    """Milliseconds since the epoch that move only when a test says so."""

    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


@dataclass
class StateDatabase:
    """An empty state database: SQLite in ``data_dir`` (``url`` empty) or a PostgreSQL one."""

    backend: str  # "sqlite" or "postgresql"
    url: str  # the state_url setting
    data_dir: Path

    def open(self, **options: Any) -> SqlStateStore:
        """A store on this database, as the composition root would open it."""
        return open_state_store(self.url, self.data_dir, **options)

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        """Rows of one SQL statement, run outside the store (to look at what it wrote)."""
        if self.url:
            url = sa.make_url(self.url).set(drivername="postgresql+psycopg")
        else:
            url = sa.URL.create("sqlite", database=str(self.data_dir / STATE_FILE))
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        try:
            with engine.begin() as conn:
                result = conn.exec_driver_sql(statement)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()
