"""The control-plane state tables and the migrations that build them.

Tables (every name starts with ``state_`` so a shared PostgreSQL database stays readable):

``state_migrations``
    One row per applied migration: ``version``, ``description``, ``applied_ms``. The migration
    runner creates it and its shape never changes, so any Spyglass can read any database's
    version.
``state_revision``
    One row: the store's revision counter. Every document write and journal append takes the
    next revision as its version or id, inside its transaction. Taking it locks the row until
    commit, which serialises writers across nodes (SQLite serialises them anyway); that is what
    makes a read-check-write safe and what makes journal ids commit in order.
``state_documents``
    ``(kind, key)`` -> JSON text, version, updated and expiry times.
``state_journal``
    ``(journal, id)`` -> time and JSON text.

Values are JSON *text*, not PostgreSQL's ``jsonb``: text round-trips every JSON string (``jsonb``
refuses ``\\u0000``) and reads back byte for byte on both databases; nothing queries inside
values. Names sort by code point on both databases: SQLite compares UTF-8 bytes, and PostgreSQL's
columns use the ``C`` collation instead of the database's linguistic one, so a key prefix is a
key range on either.

Migrations are DDL per dialect, applied in order inside one transaction with the version rows.
A new migration is appended with the next version; applied ones never change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from spyglass.core.errors import IncompatibleState

_meta = sa.MetaData()

MIGRATIONS_TABLE = sa.Table(
    "state_migrations",
    _meta,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("applied_ms", sa.BigInteger, nullable=False),
)
REVISION = sa.Table(
    "state_revision",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
DOCUMENTS = sa.Table(
    "state_documents",
    _meta,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=True),
)
JOURNAL = sa.Table(
    "state_journal",
    _meta,
    sa.Column("journal", sa.Text, primary_key=True),
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("time_ms", sa.BigInteger, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
)

# Created by the runner, before any migration, in the same transaction.
_MIGRATIONS_DDL = {
    "sqlite": "CREATE TABLE IF NOT EXISTS state_migrations ("
    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_ms INTEGER NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS state_migrations ("
    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
}

# Two nodes starting at once against one PostgreSQL both find version 0; without a lock both
# would run the same DDL. The key is the ASCII of "spyglass" read as a big-endian bigint.
ADVISORY_LOCK_KEY = int.from_bytes(b"spyglass", "big")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: its version (1, 2, ...), what it does, and its DDL per dialect."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        """The DDL for ``dialect`` (``"sqlite"`` or ``"postgresql"``)."""
        return self.sqlite if dialect == "sqlite" else self.postgresql


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "documents, journals and the revision counter",
        sqlite=(
            "CREATE TABLE state_revision ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)",
            "INSERT INTO state_revision (id, value) VALUES (1, 0)",
            "CREATE TABLE state_documents ("
            "kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
            "version INTEGER NOT NULL, updated_ms INTEGER NOT NULL, expires_ms INTEGER, "
            "PRIMARY KEY (kind, key)) WITHOUT ROWID",
            "CREATE INDEX state_documents_expiry ON state_documents (expires_ms) "
            "WHERE expires_ms IS NOT NULL",
            "CREATE TABLE state_journal ("
            "journal TEXT NOT NULL, id INTEGER NOT NULL, time_ms INTEGER NOT NULL, "
            "value TEXT NOT NULL, PRIMARY KEY (journal, id)) WITHOUT ROWID",
            "CREATE INDEX state_journal_time ON state_journal (journal, time_ms)",
        ),
        postgresql=(
            "CREATE TABLE state_revision ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL)",
            "INSERT INTO state_revision (id, value) VALUES (1, 0)",
            'CREATE TABLE state_documents (kind TEXT COLLATE "C" NOT NULL, '
            'key TEXT COLLATE "C" NOT NULL, value TEXT NOT NULL, version BIGINT NOT NULL, '
            "updated_ms BIGINT NOT NULL, expires_ms BIGINT, PRIMARY KEY (kind, key))",
            "CREATE INDEX state_documents_expiry ON state_documents (expires_ms) "
            "WHERE expires_ms IS NOT NULL",
            'CREATE TABLE state_journal (journal TEXT COLLATE "C" NOT NULL, '
            "id BIGINT NOT NULL, time_ms BIGINT NOT NULL, value TEXT NOT NULL, "
            "PRIMARY KEY (journal, id))",
            "CREATE INDEX state_journal_time ON state_journal (journal, time_ms)",
        ),
    ),
)


def check_sequence(migrations: Sequence[Migration]) -> None:
    """Refuse a migration list that is not numbered 1, 2, 3, ... in order."""
    for position, m in enumerate(migrations, start=1):
        if m.version != position:
            raise ValueError(f"migration {m.description!r} has version {m.version}, not {position}")


def migrate(
    conn: sa.Connection,
    migrations: Sequence[Migration],
    *,
    where: str,
    now_ms: Callable[[], int],
) -> int:
    """Bring the database on ``conn`` to the last of ``migrations``; the version it ends at.

    ``conn`` must be in a write transaction that the caller commits: on SQLite that transaction
    holds the write lock from its start (``BEGIN IMMEDIATE``), which already keeps a second
    opener out; on PostgreSQL this takes a transaction-scoped advisory lock for the same.
    Everything, the version rows included, commits together or not at all. Raises
    ``IncompatibleState`` when the database is newer than ``migrations`` (``where`` names it).
    """
    check_sequence(migrations)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
    conn.exec_driver_sql(_MIGRATIONS_DDL[dialect])
    found = conn.execute(sa.select(sa.func.max(MIGRATIONS_TABLE.c.version))).scalar_one()
    current = int(found or 0)
    latest = len(migrations)
    if current > latest:
        raise IncompatibleState(where, current, latest)
    for m in migrations[current:]:
        for statement in m.statements(dialect):
            conn.exec_driver_sql(statement)
        conn.execute(
            sa.insert(MIGRATIONS_TABLE).values(
                version=m.version, description=m.description, applied_ms=now_ms()
            )
        )
    return latest


__all__ = [
    "ADVISORY_LOCK_KEY",
    "DOCUMENTS",
    "JOURNAL",
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "REVISION",
    "Migration",
    "check_sequence",
    "migrate",
]
