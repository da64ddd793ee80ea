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
``state_error_issues`` (migration 2)
    One row per error issue (``core.error_issues.Issue``): ``(project_id, fingerprint)`` is
    unique, ``id`` is the number people name it by. Real columns rather than a document, because
    the issue list is filtered, sorted and paged in SQL.
``state_error_issue_counts``
    ``(issue_id, kind, name)`` -> events, for kinds ``release`` and ``environment``: the counts
    an issue shows per release and environment, and what the list's release filter reads.
``state_error_issue_users``
    ``(issue_id, user_key)``: the distinct users an issue happened to.
``state_error_events_seen``
    ``(project_id, event_id)`` -> issue and time: events already counted, so a resent event or
    a crash between storing and counting is counted once. Trimmed after a day.

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

ISSUES = sa.Table(
    "state_error_issues",
    _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("project_id", sa.BigInteger, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("culprit", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("first_seen_ms", sa.BigInteger, nullable=False),
    sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("users", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("regressed", sa.Integer, nullable=False),
    sa.Column("resolved_ms", sa.BigInteger, nullable=False),
    sa.Column("resolved_in_next_release", sa.Integer, nullable=False),
    sa.Column("resolved_release", sa.Text, nullable=False),
    sa.Column("first_release", sa.Text, nullable=False),
    sa.Column("last_release", sa.Text, nullable=False),
    sa.Column("last_event_id", sa.Text, nullable=False),
)
ISSUE_COUNTS = sa.Table(
    "state_error_issue_counts",
    _meta,
    sa.Column("issue_id", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)
ISSUE_USERS = sa.Table(
    "state_error_issue_users",
    _meta,
    sa.Column("issue_id", sa.BigInteger, primary_key=True),
    sa.Column("user_key", sa.Text, primary_key=True),
)
EVENTS_SEEN = sa.Table(
    "state_error_events_seen",
    _meta,
    sa.Column("project_id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.Text, primary_key=True),
    sa.Column("issue_id", sa.BigInteger, nullable=False),
    sa.Column("time_ms", sa.BigInteger, nullable=False),
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


_ISSUE_COLUMNS = (
    "project_id {big} NOT NULL, fingerprint TEXT NOT NULL, title TEXT NOT NULL, "
    "culprit TEXT NOT NULL, level TEXT NOT NULL, platform TEXT NOT NULL, "
    "first_seen_ms {big} NOT NULL, last_seen_ms {big} NOT NULL, count {big} NOT NULL, "
    "users {big} NOT NULL, status TEXT NOT NULL, regressed INTEGER NOT NULL, "
    "resolved_ms {big} NOT NULL, resolved_in_next_release INTEGER NOT NULL, "
    "resolved_release TEXT NOT NULL, first_release TEXT NOT NULL, last_release TEXT NOT NULL, "
    "last_event_id TEXT NOT NULL"
)


def _issue_tables(dialect: str) -> tuple[str, ...]:
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    # SQLite numbers an INTEGER PRIMARY KEY itself; PostgreSQL needs an identity column.
    key = (
        "id INTEGER PRIMARY KEY"
        if dialect == "sqlite"
        else ("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    )
    rowid = " WITHOUT ROWID" if dialect == "sqlite" else ""
    return (
        f"CREATE TABLE state_error_issues ({key}, {_ISSUE_COLUMNS.format(big=big)})",
        "CREATE UNIQUE INDEX state_error_issues_fingerprint "
        "ON state_error_issues (project_id, fingerprint)",
        "CREATE INDEX state_error_issues_last_seen ON state_error_issues (last_seen_ms)",
        f"CREATE TABLE state_error_issue_counts (issue_id {big} NOT NULL, kind TEXT NOT NULL, "
        f"name TEXT NOT NULL, count {big} NOT NULL, PRIMARY KEY (issue_id, kind, name)){rowid}",
        "CREATE INDEX state_error_issue_counts_name ON state_error_issue_counts (kind, name)",
        f"CREATE TABLE state_error_issue_users (issue_id {big} NOT NULL, "
        f"user_key TEXT NOT NULL, PRIMARY KEY (issue_id, user_key)){rowid}",
        f"CREATE TABLE state_error_events_seen (project_id {big} NOT NULL, "
        f"event_id TEXT NOT NULL, issue_id {big} NOT NULL, time_ms {big} NOT NULL, "
        f"PRIMARY KEY (project_id, event_id)){rowid}",
        "CREATE INDEX state_error_events_seen_time ON state_error_events_seen (time_ms)",
    )


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
    Migration(
        2,
        "error issues, their per-release counts and users, and the events counted",
        sqlite=_issue_tables("sqlite"),
        postgresql=_issue_tables("postgresql"),
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
    "EVENTS_SEEN",
    "ISSUES",
    "ISSUE_COUNTS",
    "ISSUE_USERS",
    "JOURNAL",
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "REVISION",
    "Migration",
    "check_sequence",
    "migrate",
]
