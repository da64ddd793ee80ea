"""Property test: random sequences of state store calls behave exactly like a dict model, on
SQLite and on PostgreSQL (versions, conflicts, expiry, purges, key-prefix scans, journals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from tests.support.state import FakeClock, StateDatabase

from spyglass.core.errors import Conflict

# Keys that sort awkwardly (upper before lower case, "/", a two-byte and a three-byte character,
# the last code point), drawn from a short list so that calls meet the same keys, or made of them.
KEYS = ["a", "a/", "a/b", "ab", "B", "b", "é", "\ue000", "a\U0010ffff", "\U0010ffff"]
ALPHABET = ["a", "b", "B", "/", "é", "\ue000", "\U0010ffff"]
keys = st.sampled_from(KEYS) | st.text(st.sampled_from(ALPHABET), min_size=1, max_size=3)
prefixes = st.sampled_from(["", "a", "a/", "B", "é", "\U0010ffff", "x"]) | keys
KINDS = ["alert", "silence"]
kinds = st.sampled_from(KINDS)
journals = st.sampled_from(["nflog", "incident/1"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=6,
)  # fmt: skip
objects = st.dictionaries(st.text(max_size=3), json_values, max_size=3)
# None: unconditional; "read": the version a reader would have seen; an int: any guess.
expectations = st.none() | st.just("read") | st.integers(0, 40)
# Expiry at the edges: now, 1 ms away, exactly what a clock step below reaches.
lifetimes = st.none() | st.sampled_from([0, 1, 1_000]) | st.integers(0, 3_000)
steps = st.sampled_from([0, 1, 1_000]) | st.integers(0, 2_000)


@dataclass
class Row:
    value: dict[str, Any]
    version: int
    updated_ms: int
    expires_ms: int | None


class StoreModel(RuleBasedStateMachine):
    """The store against a dict of rows (expired rows stay until deleted, replaced or purged)
    and a list per journal."""

    def __init__(self, db: StateDatabase) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.store = db.open(clock=self.clock)
        self.rows: dict[tuple[str, str], Row] = {}
        self.journals: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
        self.last_number = 0  # versions and journal ids share one rising counter

    def teardown(self) -> None:
        self.store.close()

    def live(self, kind: str, key: str) -> Row | None:
        row = self.rows.get((kind, key))
        if row is None or (row.expires_ms is not None and row.expires_ms <= self.clock.now_ms):
            return None
        return row

    def expected(self, kind: str, key: str, expectation: int | str | None) -> int | None:
        if expectation == "read":
            row = self.live(kind, key)
            return 0 if row is None else row.version
        assert expectation is None or isinstance(expectation, int)
        return expectation

    def take_number(self, number: int) -> None:
        assert number > self.last_number
        self.last_number = number

    @invariant()
    def everything_matches(self) -> None:
        """After every step: each kind read page by page, each row read by key, each journal."""
        for kind in KINDS:
            want = sorted(
                (key, row.value, row.version)
                for (k, key), row in self.rows.items()
                if k == kind and self.live(kind, key) is not None
            )
            got: list[tuple[str, dict[str, Any], int]] = []
            for _ in range(len(want) + 1):  # pages of 3, each starting after the last key seen
                page = self.store.scan(kind, start_after=got[-1][0] if got else "", limit=3)
                got += [(d.key, d.value, d.version) for d in page]
            assert got == want
        for kind, key in self.rows:
            doc = self.store.get(kind, key)
            row = self.live(kind, key)
            assert (doc and doc.version) == (row and row.version)
        for journal, entries in self.journals.items():
            got_entries = self.store.read(journal, limit=10_000)
            assert [(e.id, e.time_ms, e.value) for e in got_entries] == entries

    @rule(
        kind=kinds, key=keys, value=objects, expectation=expectations, lifetime=lifetimes
    )  # fmt: skip
    def put(
        self,
        kind: str,
        key: str,
        value: dict[str, Any],
        expectation: int | str | None,
        lifetime: int | None,
    ) -> None:
        live = self.live(kind, key)
        expected = self.expected(kind, key, expectation)
        expires = None if lifetime is None else self.clock.now_ms + lifetime
        if expected is not None and expected != (0 if live is None else live.version):
            with pytest.raises(Conflict) as info:
                self.store.put(kind, key, value, expected_version=expected, expires_ms=expires)
            assert info.value.actual == (None if live is None else live.version)
            return
        doc = self.store.put(kind, key, value, expected_version=expected, expires_ms=expires)
        self.take_number(doc.version)
        assert (doc.kind, doc.key, doc.value, doc.expires_ms) == (kind, key, value, expires)
        assert doc.updated_ms == self.clock.now_ms
        self.rows[kind, key] = Row(value, doc.version, doc.updated_ms, expires)

    @rule(kind=kinds, key=keys, expectation=expectations)
    def delete(self, kind: str, key: str, expectation: int | str | None) -> None:
        live = self.live(kind, key)
        expected = self.expected(kind, key, expectation)
        if expected is not None and expected != (0 if live is None else live.version):
            with pytest.raises(Conflict):
                self.store.delete(kind, key, expected_version=expected)
            return
        assert self.store.delete(kind, key, expected_version=expected) is (live is not None)
        self.rows.pop((kind, key), None)

    @rule(kind=kinds, key=keys)
    def get(self, kind: str, key: str) -> None:
        row = self.live(kind, key)
        doc = self.store.get(kind, key)
        if row is None:
            assert doc is None
        else:
            assert doc is not None
            assert (doc.value, doc.version, doc.updated_ms, doc.expires_ms) == (
                row.value,
                row.version,
                row.updated_ms,
                row.expires_ms,
            )

    @rule(kind=kinds, prefix=prefixes, start_after=prefixes, limit=st.integers(0, 6))
    def scan(self, kind: str, prefix: str, start_after: str, limit: int) -> None:
        want = sorted(
            (key, row.value, row.version)
            for (k, key), row in self.rows.items()
            if k == kind
            and key.startswith(prefix)
            and key > start_after
            and self.live(kind, key) is not None
        )[:limit]
        docs = self.store.scan(kind, prefix=prefix, start_after=start_after, limit=limit)
        assert [(d.key, d.value, d.version) for d in docs] == want

    @rule(ms=steps)
    def advance(self, ms: int) -> None:
        self.clock.advance(ms)

    @rule()
    def purge(self) -> None:
        expired = [k for k in self.rows if self.live(*k) is None]
        assert self.store.purge_expired() == len(expired)
        for k in expired:
            del self.rows[k]

    @rule(journal=journals, value=objects, back=st.integers(0, 5_000))
    def append(self, journal: str, value: dict[str, Any], back: int) -> None:
        time_ms = self.clock.now_ms - back
        entry_id = self.store.append(journal, value, time_ms=time_ms)
        self.take_number(entry_id)
        self.journals.setdefault(journal, []).append((entry_id, time_ms, value))

    @rule(journal=journals, skip=st.integers(0, 8), limit=st.integers(0, 5))
    def read(self, journal: str, skip: int, limit: int) -> None:
        entries = self.journals.get(journal, [])
        after = entries[skip - 1][0] if 0 < skip <= len(entries) else 0
        want = [e for e in entries if e[0] > after][:limit]
        got = self.store.read(journal, after_id=after, limit=limit)
        assert [(e.id, e.time_ms, e.value) for e in got] == want

    @rule(journal=journals, back=st.integers(0, 5_000))
    def trim(self, journal: str, back: int) -> None:
        before = self.clock.now_ms - back
        entries = self.journals.get(journal, [])
        kept = [e for e in entries if e[1] >= before]
        assert self.store.trim(journal, before) == len(entries) - len(kept)
        self.journals[journal] = kept


def test_the_store_behaves_like_a_dict_model(new_state_db: Callable[[], StateDatabase]) -> None:
    class Machine(StoreModel):
        def __init__(self) -> None:
            super().__init__(new_state_db())

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
