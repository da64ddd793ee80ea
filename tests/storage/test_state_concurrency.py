"""Two Spyglass nodes (two store objects on one database) racing each other: versioned writes
never lose an update, and a reader tailing a journal never misses an entry."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import pytest
from tests.support.state import StateDatabase

from spyglass.core.errors import Conflict
from spyglass.storage.state import SqlStateStore

T = TypeVar("T")


@pytest.fixture
def nodes(state_db: StateDatabase) -> Iterator[tuple[SqlStateStore, SqlStateStore]]:
    """Two stores on one database, as two nodes (or two processes on one SQLite file) have."""
    with state_db.open() as a, state_db.open() as b:
        yield a, b


def race(*tasks: Callable[[], T]) -> list[Future[T]]:
    """Run the tasks in threads released at the same moment; their finished futures."""
    barrier = threading.Barrier(len(tasks), timeout=60)

    def released(task: Callable[[], T]) -> T:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(len(tasks)) as pool:
        return [pool.submit(released, t) for t in tasks]


def test_of_two_puts_expecting_the_same_version_exactly_one_wins(
    nodes: tuple[SqlStateStore, SqlStateStore],
) -> None:
    a, b = nodes
    for round_ in range(20):
        base = a.put("alert", "HighLatency", {"round": round_, "by": "setup"})
        futures = race(
            *(
                partial(s.put, "alert", "HighLatency", {"by": n}, expected_version=base.version)
                for s, n in ((a, "a"), (b, "b"))
            )
        )
        errors = [f.exception() for f in futures]
        assert sorted(e is None for e in errors) == [False, True], errors
        conflict = next(e for e in errors if e is not None)
        assert isinstance(conflict, Conflict)
        winner = next(f.result() for f in futures if f.exception() is None)
        assert conflict.expected == base.version
        assert conflict.actual == winner.version
        assert b.get("alert", "HighLatency") == winner


def test_of_two_creates_exactly_one_wins(nodes: tuple[SqlStateStore, SqlStateStore]) -> None:
    a, b = nodes
    for i in range(20):
        futures = race(
            *(
                partial(s.put, "incident", f"inc-{i}", {"by": n}, expected_version=0)
                for s, n in ((a, "a"), (b, "b"))
            )
        )
        errors = [f.exception() for f in futures]
        assert sorted(e is None for e in errors) == [False, True], errors
        assert all(isinstance(e, Conflict) for e in errors if e is not None)
        winner = next(f.result() for f in futures if f.exception() is None)
        assert a.get("incident", f"inc-{i}") == winner


def test_a_delete_racing_a_put_of_the_same_version_is_one_or_the_other(
    nodes: tuple[SqlStateStore, SqlStateStore],
) -> None:
    """Never both, never neither, never an error: a delete starts by reading, so on SQLite
    it must hold the write lock from its first statement or the other node's commit in between
    would make it fail with "database is locked"."""
    a, b = nodes
    for i in range(30):
        base = a.put("silence", "s", {"round": i})
        delete, put = race(
            partial(a.delete, "silence", "s", expected_version=base.version),
            partial(b.put, "silence", "s", {"by": "b"}, expected_version=base.version),
        )
        stored = a.get("silence", "s")
        if delete.exception() is None:
            assert delete.result() is True
            assert isinstance(put.exception(), Conflict)
            assert stored is None
        else:
            assert isinstance(delete.exception(), Conflict)
            assert stored == put.result()


def test_read_modify_write_with_retries_loses_no_update(
    nodes: tuple[SqlStateStore, SqlStateStore],
) -> None:
    """Four writers (two per node) each add 1 to a counter 25 times, re-reading on conflict."""
    a, b = nodes
    a.put("slo", "budget", {"n": 0})
    conflicts = [0]

    def increment(store: SqlStateStore) -> None:
        for _ in range(25):
            while True:
                doc = store.get("slo", "budget")
                assert doc is not None
                try:
                    store.put(
                        "slo", "budget", {"n": doc.value["n"] + 1}, expected_version=doc.version
                    )
                    break
                except Conflict:
                    conflicts[0] += 1

    for f in race(*(partial(increment, s) for s in (a, b, a, b))):
        f.result()
    doc = a.get("slo", "budget")
    assert doc is not None
    assert doc.value == {"n": 100}
    assert conflicts[0] > 0, "the writers never raced; the test proved nothing"


def test_a_reader_tailing_a_journal_sees_every_entry_once(
    nodes: tuple[SqlStateStore, SqlStateStore],
) -> None:
    """Entries appended from both nodes at once; a reader that only ever asks for entries after
    the last id it saw still gets every one: ids become visible in order."""
    a, b = nodes
    per_writer = 60
    done = threading.Event()
    seen: list[int] = []

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            entries = a.read("nflog", after_id=last, limit=7)
            seen.extend(e.id for e in entries)
            if entries:
                last = entries[-1].id
            elif finished:
                return

    writers_done = threading.Barrier(3, action=done.set)

    def writer(store: SqlStateStore, name: str) -> Callable[[], None]:
        def task() -> None:
            for i in range(per_writer):
                store.append("nflog", {"by": name, "i": i})
            writers_done.wait()

        return task

    for f in race(writer(a, "a1"), writer(b, "b1"), writer(b, "b2"), tail):
        f.result()
    everything = [e.id for e in b.read("nflog", limit=10_000)]
    assert len(everything) == 3 * per_writer
    assert seen == everything
