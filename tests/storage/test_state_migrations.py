"""State store migrations: from an empty database, from an older version, never twice, all or
nothing, refusing a newer database, and two openers at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.support.state import StateDatabase

from spyglass.core.errors import IncompatibleState, Unavailable
from spyglass.storage._state_schema import MIGRATIONS, Migration, check_sequence
from spyglass.storage.state import SqlStateStore

# The next schema version, as a later Spyglass would ship it.
NEXT = len(MIGRATIONS) + 1
CURRENT = [(m.version, m.description) for m in MIGRATIONS]
ADD_NOTES = Migration(
    NEXT,
    "notes",
    sqlite=("CREATE TABLE state_notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",),
    postgresql=("CREATE TABLE state_notes (id BIGINT PRIMARY KEY, text TEXT NOT NULL)",),
)


def versions(db: StateDatabase) -> list[tuple[int, str]]:
    return [(int(v), d) for v, d in db.sql("SELECT version, description FROM state_migrations")]


def tables(db: StateDatabase) -> set[str]:
    if db.backend == "sqlite":
        rows = db.sql("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = db.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for (name,) in rows}


def test_an_empty_database_gets_every_migration(state_db: StateDatabase) -> None:
    with state_db.open() as store:
        assert store.schema_version == len(MIGRATIONS)
    assert versions(state_db) == [(m.version, m.description) for m in MIGRATIONS]
    assert tables(state_db) == {
        "state_migrations",
        "state_revision",
        "state_documents",
        "state_journal",
        "state_error_issues",
        "state_error_issue_counts",
        "state_error_issue_users",
        "state_error_events_seen",
    }


def test_reopening_applies_nothing_again_and_keeps_the_data(state_db: StateDatabase) -> None:
    with state_db.open() as store:
        doc = store.put("k", "v", {"a": 1})
    applied = state_db.sql("SELECT version, applied_ms FROM state_migrations")
    for _ in range(2):
        with state_db.open() as store:
            assert store.get("k", "v") == doc
    assert state_db.sql("SELECT version, applied_ms FROM state_migrations") == applied


def test_an_older_database_gets_only_the_missing_migrations(state_db: StateDatabase) -> None:
    with state_db.open() as store:
        doc = store.put("k", "v", {"a": 1})
    with state_db.open(migrations=[*MIGRATIONS, ADD_NOTES]) as store:
        assert store.schema_version == NEXT
        assert store.get("k", "v") == doc
    assert versions(state_db) == [*CURRENT, (NEXT, "notes")]
    assert "state_notes" in tables(state_db)
    state_db.sql("INSERT INTO state_notes (id, text) VALUES (1, 'the new table works')")


def test_a_database_newer_than_the_code_is_refused_naming_both_versions(
    state_db: StateDatabase,
) -> None:
    with state_db.open(migrations=[*MIGRATIONS, ADD_NOTES]) as store:
        store.put("k", "v", {"a": 1})
    with pytest.raises(IncompatibleState) as info:
        state_db.open()
    assert (info.value.found, info.value.supported) == (NEXT, NEXT - 1)
    message = str(info.value)
    assert f"schema version {NEXT}" in message
    assert f"version {NEXT - 1}" in message
    where = "state.db" if state_db.backend == "sqlite" else "postgresql://postgres@127.0.0.1"
    assert where in message
    assert versions(state_db)[-1] == (NEXT, "notes")  # nothing was touched
    with state_db.open(migrations=[*MIGRATIONS, ADD_NOTES]) as store:
        assert store.get("k", "v") is not None


def test_a_failing_migration_leaves_the_database_as_it_was(state_db: StateDatabase) -> None:
    """Every migration runs in one transaction with its version row, DDL included."""
    broken = Migration(
        NEXT,
        "broken",
        sqlite=("CREATE TABLE state_half (x INTEGER)", "THIS IS NOT SQL"),
        postgresql=("CREATE TABLE state_half (x BIGINT)", "THIS IS NOT SQL"),
    )
    with state_db.open() as store:
        doc = store.put("k", "v", {"a": 1})
    with pytest.raises(Unavailable, match="syntax error"):
        state_db.open(migrations=[*MIGRATIONS, broken])
    assert versions(state_db) == CURRENT
    assert "state_half" not in tables(state_db)
    with state_db.open() as store:
        assert store.get("k", "v") == doc


def test_the_first_migration_fails_whole_too(state_db: StateDatabase) -> None:
    broken = Migration(1, "broken", sqlite=("NOT SQL",), postgresql=("NOT SQL",))
    with pytest.raises(Unavailable):
        state_db.open(migrations=[broken])
    assert tables(state_db) <= {"state_migrations"}
    with state_db.open() as store:
        assert store.schema_version == len(MIGRATIONS)


def test_migrations_must_be_numbered_from_one_without_gaps() -> None:
    check_sequence(MIGRATIONS)
    with pytest.raises(ValueError, match=f"version {NEXT + 1}, not {NEXT}"):
        check_sequence([*MIGRATIONS, Migration(NEXT + 1, "gap", (), ())])
    with pytest.raises(ValueError, match="version 0, not 1"):
        check_sequence([Migration(0, "zero", (), ())])


@pytest.mark.parametrize("round_", range(3))
def test_nodes_starting_at_once_migrate_once(state_db: StateDatabase, round_: int) -> None:
    """Four openers released together on one empty database: every one opens, each migration
    is applied once (PostgreSQL serialises them with an advisory lock, SQLite with its write
    lock)."""
    openers = 4
    barrier = threading.Barrier(openers, timeout=60)

    def start() -> SqlStateStore:
        barrier.wait()
        return state_db.open(migrations=[*MIGRATIONS, ADD_NOTES])

    with ThreadPoolExecutor(openers) as pool:
        futures = [pool.submit(start) for _ in range(openers)]
    opened = [f.result() for f in futures if f.exception() is None]
    try:
        assert [f.exception() for f in futures] == [None] * openers
        assert [s.schema_version for s in opened] == [NEXT] * openers
        assert versions(state_db) == [*CURRENT, (NEXT, "notes")]
        # and they are usable together at once
        docs = [s.put("node", str(i), {"i": i}) for i, s in enumerate(opened)]
        assert len({d.version for d in docs}) == openers
    finally:
        for s in opened:
            s.close()
