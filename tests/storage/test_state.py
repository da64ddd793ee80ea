"""The control-plane state store, on SQLite and on PostgreSQL: documents with versions and
expiry, journals, validation, errors and the SQLite settings that make it durable."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.support.servers import free_port
from tests.support.state import FakeClock, StateDatabase

from spyglass.core.errors import BadInput, Conflict, Unavailable
from spyglass.storage.ports import StateStore
from spyglass.storage.state import SqlStateStore, open_state_store

# -- documents ---------------------------------------------------------------------------


def test_put_then_get_returns_the_value_with_its_version_and_time(
    state: SqlStateStore, clock: FakeClock
) -> None:
    value = {"matchers": [{"name": "job", "value": "api"}], "comment": "deploy", "n": 1.5}
    doc = state.put("silence", "s1", value)
    assert doc.value == value
    assert doc.version > 0
    assert doc.updated_ms == clock.now_ms
    assert doc.expires_ms is None
    assert state.get("silence", "s1") == doc
    assert state.get("silence", "other") is None
    assert state.get("dashboard", "s1") is None


def test_returned_values_are_the_callers_own_copies(state: SqlStateStore) -> None:
    value: dict[str, Any] = {"labels": {"a": "1"}}
    doc = state.put("alert", "a", value)
    value["labels"]["a"] = "changed by the caller"
    doc.value["labels"]["a"] = "changed again"
    got = state.get("alert", "a")
    assert got is not None
    assert got.value == {"labels": {"a": "1"}}


def test_each_write_gets_a_new_higher_version_even_after_delete(state: SqlStateStore) -> None:
    """A document deleted and created again never gets back a version it had: a writer holding
    the old version conflicts instead of overwriting the new document."""
    v1 = state.put("dashboard", "d", {"title": "one"}).version
    v2 = state.put("dashboard", "d", {"title": "two"}).version
    assert state.delete("dashboard", "d")
    v3 = state.put("dashboard", "d", {"title": "three"}).version
    assert v1 < v2 < v3
    with pytest.raises(Conflict):
        state.put("dashboard", "d", {"title": "stale edit"}, expected_version=v1)
    got = state.get("dashboard", "d")
    assert got is not None
    assert got.value == {"title": "three"}


def test_a_put_with_the_version_read_wins_and_one_with_an_older_version_conflicts(
    state: SqlStateStore,
) -> None:
    first = state.put("slo", "api", {"objective": 99.9})
    second = state.put("slo", "api", {"objective": 99.5}, expected_version=first.version)
    with pytest.raises(Conflict) as info:
        state.put("slo", "api", {"objective": 90.0}, expected_version=first.version)
    assert (info.value.kind, info.value.key) == ("slo", "api")
    assert info.value.expected == first.version
    assert info.value.actual == second.version
    assert f"expected version {first.version}, found version {second.version}" in str(info.value)
    got = state.get("slo", "api")
    assert got == second


def test_expected_version_zero_creates_only(state: SqlStateStore) -> None:
    created = state.put("token", "t", {"name": "ci"}, expected_version=0)
    with pytest.raises(Conflict) as info:
        state.put("token", "t", {"name": "other"}, expected_version=0)
    assert info.value.actual == created.version
    assert "expected no document" in str(info.value)
    assert state.get("token", "t") == created


def test_a_versioned_put_of_a_missing_document_conflicts(state: SqlStateStore) -> None:
    with pytest.raises(Conflict) as info:
        state.put("incident", "i", {"title": "x"}, expected_version=7)
    assert info.value.actual is None
    assert "found none" in str(info.value)
    assert state.get("incident", "i") is None


def test_delete_says_whether_there_was_a_document_and_checks_the_version(
    state: SqlStateStore,
) -> None:
    assert state.delete("silence", "missing") is False
    doc = state.put("silence", "s", {"a": 1})
    newer = state.put("silence", "s", {"a": 2})
    with pytest.raises(Conflict):
        state.delete("silence", "s", expected_version=doc.version)
    assert state.get("silence", "s") == newer
    assert state.delete("silence", "s", expected_version=newer.version) is True
    assert state.get("silence", "s") is None
    assert state.delete("silence", "s") is False


def test_scan_returns_one_kind_by_prefix_in_code_point_order(state: SqlStateStore) -> None:
    """Code point order on both databases: PostgreSQL's own collation would sort "B" after "a"
    and ignore the "/"."""
    keys = ["a", "a/1", "a/2", "a/10", "ab", "B", "b", "é", "a\U0010ffff", "a\U0010ffffz", "\ue000"]
    for k in keys:
        state.put("rule", k, {"k": k})
    state.put("rules-other", "a/3", {"k": "other kind"})

    def scan(**options: Any) -> list[str]:
        return [d.key for d in state.scan("rule", **options)]

    assert scan(limit=100) == sorted(keys)
    assert scan(limit=100) == ["B", "a", "a/1", "a/10", "a/2", "ab", "a\U0010ffff",
                               "a\U0010ffffz", "b", "é", "\ue000"]  # fmt: skip
    assert scan(prefix="a/", limit=100) == ["a/1", "a/10", "a/2"]
    assert scan(prefix="a", limit=100) == [k for k in sorted(keys) if k.startswith("a")]
    assert scan(prefix="a\U0010ffff", limit=100) == ["a\U0010ffff", "a\U0010ffffz"]
    assert scan(prefix="x", limit=100) == []
    assert scan(limit=0) == []
    docs = state.scan("rule", prefix="a/1", limit=100)
    assert [(d.kind, d.value) for d in docs] == [("rule", {"k": "a/1"}), ("rule", {"k": "a/10"})]


def test_scan_pages_with_start_after(state: SqlStateStore) -> None:
    keys = [f"alert/{i:03d}" for i in range(25)]
    for k in keys:
        state.put("alert", k, {})
    state.put("alert", "other", {})
    seen: list[str] = []
    after = ""
    while page := state.scan("alert", prefix="alert/", start_after=after, limit=10):
        assert len(page) <= 10
        seen += [d.key for d in page]
        after = page[-1].key
    assert seen == keys


# -- expiry ------------------------------------------------------------------------------


def test_an_expired_document_is_gone_for_readers_and_writers(
    state: SqlStateStore, clock: FakeClock
) -> None:
    doc = state.put("silence", "s", {"comment": "maintenance"}, expires_ms=clock.now_ms + 1000)
    assert doc.expires_ms == clock.now_ms + 1000
    assert state.get("silence", "s") == doc
    clock.advance(999)
    assert [d.key for d in state.scan("silence", limit=10)] == ["s"]
    clock.advance(1)  # expires_ms itself is already past
    assert state.get("silence", "s") is None
    assert state.scan("silence", limit=10) == []
    with pytest.raises(Conflict) as info:
        state.put("silence", "s", {}, expected_version=doc.version)
    assert info.value.actual is None
    assert state.delete("silence", "s") is False
    assert state.purge_expired() == 0  # the delete removed the expired row


def test_an_expired_document_can_be_created_again(state: SqlStateStore, clock: FakeClock) -> None:
    old = state.put("nflog", "group", {"sent": 1}, expires_ms=clock.now_ms + 10)
    clock.advance(10)
    new = state.put("nflog", "group", {"sent": 2}, expected_version=0)
    assert new.version > old.version
    assert new.expires_ms is None
    assert state.get("nflog", "group") == new
    clock.advance(10**9)
    assert state.get("nflog", "group") == new


def test_a_put_replaces_the_expiry(state: SqlStateStore, clock: FakeClock) -> None:
    state.put("silence", "s", {}, expires_ms=clock.now_ms + 10)
    state.put("silence", "s", {}, expires_ms=clock.now_ms + 1000)
    clock.advance(500)
    assert state.get("silence", "s") is not None
    state.put("silence", "s", {})
    clock.advance(10**9)
    assert state.get("silence", "s") is not None


def test_purge_deletes_exactly_the_expired_documents(
    state: SqlStateStore, clock: FakeClock
) -> None:
    t = clock.now_ms
    for i in range(5):
        state.put("nflog", f"e{i}", {"i": i}, expires_ms=t + i * 100)
    state.put("nflog", "forever", {})
    assert state.purge_expired(now_ms=t + 150) == 2  # e0 and e1
    clock.advance(250)
    assert state.purge_expired() == 1  # e2
    assert [d.key for d in state.scan("nflog", limit=10)] == ["e3", "e4", "forever"]
    assert state.purge_expired() == 0
    clock.advance(10**6)
    assert state.purge_expired() == 2
    assert [d.key for d in state.scan("nflog", limit=10)] == ["forever"]


# -- journals ----------------------------------------------------------------------------


def test_journal_entries_come_back_in_order_after_an_id(
    state: SqlStateStore, clock: FakeClock
) -> None:
    ids = []
    for i in range(5):
        ids.append(state.append("incident/1", {"event": f"e{i}"}))
        clock.advance(1000)
    other = state.append("incident/2", {"event": "elsewhere"})
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    assert other > ids[-1]
    entries = state.read("incident/1", limit=100)
    assert [e.id for e in entries] == ids
    assert [e.value for e in entries] == [{"event": f"e{i}"} for i in range(5)]
    assert [e.time_ms for e in entries] == [clock.now_ms - 5000 + i * 1000 for i in range(5)]
    assert {e.journal for e in entries} == {"incident/1"}
    assert [e.id for e in state.read("incident/1", after_id=ids[1], limit=2)] == ids[2:4]
    assert state.read("incident/1", after_id=ids[-1], limit=10) == []
    assert [e.value for e in state.read("incident/2", limit=10)] == [{"event": "elsewhere"}]
    assert state.read("nobody", limit=10) == []


def test_journal_ids_do_not_repeat_document_versions(state: SqlStateStore) -> None:
    """Versions and ids come from one counter; a tailing reader never sees an id twice."""
    numbers = [
        state.put("k", "a", {}).version,
        state.append("j", {}),
        state.put("k", "a", {}).version,
    ]
    assert numbers == sorted(set(numbers))


def test_append_takes_an_explicit_time(state: SqlStateStore) -> None:
    state.append("nflog", {"a": 1}, time_ms=42)
    [entry] = state.read("nflog", limit=1)
    assert entry.time_ms == 42


def test_trim_deletes_entries_before_a_time_in_one_journal(
    state: SqlStateStore, clock: FakeClock
) -> None:
    t = clock.now_ms
    for i in range(6):
        state.append("nflog", {"i": i}, time_ms=t + i * 1000)
        state.append("other", {"i": i}, time_ms=t + i * 1000)
    assert state.trim("nflog", t + 3000) == 3
    assert [e.value["i"] for e in state.read("nflog", limit=100)] == [3, 4, 5]
    assert len(state.read("other", limit=100)) == 6
    assert state.trim("nflog", t + 3000) == 0


# -- values and names --------------------------------------------------------------------


def test_values_come_back_exactly(state: SqlStateStore) -> None:
    """Every JSON value round-trips, including NUL characters in strings (which PostgreSQL's
    jsonb would refuse), lone surrogates, big integers and floats to the last bit."""
    value = {
        "nul": "a\x00b",
        "unicode": "ünïcødé ✓ 🚀",
        "surrogate": "\ud800",
        "big": 2**70,
        "negative": -(2**63),
        "floats": [0.1, 1e-300, -0.0, 1.7976931348623157e308],
        "nested": {"list": [None, True, False, {"": []}]},
        "": "empty key",
    }
    state.put("k", "v", value)
    state.append("j", value)
    got = state.get("k", "v")
    assert got is not None
    assert got.value == value
    assert repr(got.value["floats"]) == repr(value["floats"])
    assert state.read("j", limit=1)[0].value == value


@pytest.mark.parametrize(
    "value",
    [
        [1, 2],
        "text",
        {"a": (1, 2)},
        {1: "int key"},
        {"nan": float("nan")},
        {"inf": float("inf")},
        {"set": {1}},
        {"obj": object()},
    ],
    ids=["list", "str", "tuple", "int-key", "nan", "inf", "set", "object"],
)
def test_values_that_would_not_come_back_equal_are_refused(
    state: SqlStateStore, value: Any
) -> None:
    with pytest.raises(BadInput):
        state.put("k", "v", value)
    with pytest.raises(BadInput):
        state.append("j", value)
    assert state.get("k", "v") is None
    assert state.read("j", limit=1) == []


@pytest.mark.parametrize(
    "name",
    ["", "nul\x00", "\udc80", "x" * 1001, "é" * 501],
    ids=["empty", "nul", "surrogate", "long", "long-utf8"],
)
def test_bad_names_are_refused(state: SqlStateStore, name: str) -> None:
    with pytest.raises(BadInput):
        state.put(name, "k", {})
    with pytest.raises(BadInput):
        state.put("k", name, {})
    with pytest.raises(BadInput):
        state.get("k", name)
    with pytest.raises(BadInput):
        state.append(name, {})
    assert state.scan("k", limit=10) == []


def test_longest_names_are_taken(state: SqlStateStore) -> None:
    kind, key = "k" * 1000, "é" * 500
    state.put(kind, key, {"ok": True})
    assert [d.key for d in state.scan(kind, prefix="é", limit=1)] == [key]


def test_bad_limits_and_versions_are_refused(state: SqlStateStore) -> None:
    with pytest.raises(BadInput):
        state.scan("k", limit=-1)
    with pytest.raises(BadInput):
        state.read("j", limit=-1)
    with pytest.raises(BadInput):
        state.put("k", "v", {}, expected_version=-1)
    with pytest.raises(BadInput):
        state.delete("k", "v", expected_version=-1)


# -- opening, closing, errors ------------------------------------------------------------


def test_state_survives_closing_and_reopening(state_db: StateDatabase) -> None:
    with state_db.open() as store:
        doc = store.put("dashboard", "home", {"title": "Home"})
        entry = store.append("timeline", {"event": "opened"})
    with state_db.open() as store:
        assert store.get("dashboard", "home") == doc
        assert [e.id for e in store.read("timeline", limit=10)] == [entry]
        assert store.put("dashboard", "home", {}).version > max(doc.version, entry)


def test_a_closed_store_refuses_calls(state_db: StateDatabase) -> None:
    store = state_db.open()
    store.close()
    with pytest.raises(Unavailable, match="closed"):
        store.get("k", "v")
    with pytest.raises(Unavailable, match="closed"):
        store.append("j", {})
    store.close()  # closing twice is harmless


def test_the_default_is_sqlite_in_the_data_directory_in_wal_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "missing" / "data"
    with open_state_store("", data_dir) as store:
        store.put("k", "v", {})
        assert store.location == str(data_dir / "state.db")
        db = sqlite3.connect(data_dir / "state.db")
        try:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        finally:
            db.close()


def test_sqlite_connections_fsync_each_commit_wait_for_locks_and_check_foreign_keys(
    tmp_path: Path,
) -> None:
    with open_state_store("", tmp_path) as store:
        with store._engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("synchronous", "busy_timeout", "foreign_keys")
            }
        assert pragmas == {"synchronous": 2, "busy_timeout": 15_000, "foreign_keys": 1}  # 2: FULL


def test_a_sqlite_url_puts_the_file_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "s.db"
    with open_state_store(f"sqlite:///{path}", tmp_path / "data") as store:
        store.put("k", "v", {})
    assert path.is_file()
    assert not (tmp_path / "data" / "state.db").exists()


@pytest.mark.parametrize(
    "url", ["mysql://u:secret@db/x", "http://db", "state.db", "sqlite://", "sqlite:///:memory:"]
)
def test_other_urls_are_refused_without_showing_the_password(tmp_path: Path, url: str) -> None:
    with pytest.raises(BadInput, match="postgresql://") as info:
        open_state_store(url, tmp_path)
    assert "secret" not in str(info.value)


def test_an_unreachable_postgresql_is_unavailable_and_the_password_stays_hidden(
    tmp_path: Path,
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgres://spyglass:secret@127.0.0.1:{free_port()}/spyglass"
    with pytest.raises(Unavailable) as info:
        open_state_store(url, tmp_path)
    message = str(info.value)
    assert "secret" not in message
    assert "spyglass:***@127.0.0.1" in message


def test_the_store_has_every_method_of_the_port_with_the_same_signature() -> None:
    for name, member in vars(StateStore).items():
        if not name.startswith("_") and callable(member):
            ours = getattr(SqlStateStore, name)
            assert inspect.signature(ours) == inspect.signature(member), name
