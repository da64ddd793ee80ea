"""``ErrorStore`` on each ClickHouse backend: events are readable the moment ``append`` returns
and after the flush alike, newest first, by issue and by id, counted per hour for the
sparkline, each event once even when a flush races a read or a replay inserted it twice."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.support.error_events import BASE_NS, event

from spyglass.core.error_events import ErrorBatch, ErrorEvent
from spyglass.core.errors import BadInput
from spyglass.storage import ErrorEventQuery
from spyglass.storage.backends import Backend
from spyglass.storage.errors import ErrorStore
from spyglass.storage.errors._insert import ErrorsInserter

HOUR = 3_600 * 10**9
T = TypeVar("T")


class Running:
    """An ``ErrorStore`` running on its own event loop thread for the length of a test."""

    def __init__(self, backend: Backend, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.store = ErrorStore(backend, data_dir, flush_interval_ms=3_600_000)
        self.run(self.store.start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def close(self) -> None:
        self.run(self.store.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture
def running(errors_backend: Backend, data_dir: Path) -> Iterator[Running]:
    r = Running(errors_backend, data_dir)
    yield r
    r.close()


@pytest.fixture
def store(running: Running) -> ErrorStore:
    return running.store


@pytest.fixture
def append(running: Running) -> Callable[..., None]:
    def add(*events: ErrorEvent) -> None:
        running.run(running.store.append(ErrorBatch(events)))

    return add


@pytest.mark.parametrize("flushed", [False, True])
def test_events_read_back_newest_first_by_issue(
    store: ErrorStore, append: Callable[..., None], flushed: bool
) -> None:
    other = "b" * 32
    append(event(1), event(2, issue_key=other), event(3), event(4, project_id=2))
    if flushed:
        assert store.flush_now() == 4
    got = store.error_events(ErrorEventQuery(project_id=1, issue_key="a" * 32))
    assert [e.event_id for e in got] == [f"{3:032x}", f"{1:032x}"]
    assert got[0] == event(3)  # whole: exceptions, payload, tags
    assert [e.event_id for e in store.error_events(ErrorEventQuery(limit=2))] == [
        f"{4:032x}",
        f"{3:032x}",
    ]
    window = ErrorEventQuery(start_ns=BASE_NS + 2 * 10**9, end_ns=BASE_NS + 4 * 10**9)
    assert [e.event_id for e in store.error_events(window)] == [f"{3:032x}", f"{2:032x}"]
    assert store.error_event(f"{2:032x}") == event(2, issue_key=other)
    assert store.error_event(f"{2:032x}", project_id=2) is None
    assert store.error_event("f" * 32) is None


@pytest.mark.parametrize("flushed", [False, True])
def test_events_read_back_by_trace_id(
    store: ErrorStore, append: Callable[..., None], flushed: bool
) -> None:
    trace, other = "ab" * 16, "cd" * 16
    append(event(1, trace_id=trace), event(2, trace_id=other), event(3, trace_id=trace), event(4))
    if flushed:
        assert store.flush_now() == 4
    got = store.error_events(ErrorEventQuery(trace_id=trace))
    assert [e.event_id for e in got] == [f"{3:032x}", f"{1:032x}"]
    assert store.error_events(ErrorEventQuery(trace_id="ef" * 16)) == []


def test_an_event_in_both_the_buffer_and_the_table_reads_once(
    store: ErrorStore, append: Callable[..., None]
) -> None:
    append(event(1), event(2))
    # As if a flush finished between the buffer's snapshot and the query, and a WAL replay
    # had inserted the same rows before: the rows are in the table twice and in the buffer.
    inserter = ErrorsInserter(store.backend)
    inserter([ErrorBatch((event(1), event(2)))])
    inserter([ErrorBatch((event(1),))])
    got = store.error_events(ErrorEventQuery())
    assert [e.event_id for e in got] == [f"{2:032x}", f"{1:032x}"]
    start = BASE_NS // HOUR * HOUR
    assert store.error_counts([(1, "a" * 32)], start, start + HOUR, HOUR) == [[2]]


def test_counts_per_hour_join_the_buffer_and_the_table(
    store: ErrorStore, append: Callable[..., None]
) -> None:
    start = BASE_NS // HOUR * HOUR
    append(event(1), event(2))
    store.flush_now()
    append(event(3, timestamp_ns=start + HOUR + 5), event(4, issue_key="b" * 32))
    a, b = (1, "a" * 32), (1, "b" * 32)
    assert store.error_counts([a], start, start + 3 * HOUR, HOUR) == [[2, 1, 0]]
    assert store.error_counts([a], start + HOUR, start + 2 * HOUR, HOUR) == [[1]]
    assert store.error_counts([(2, "a" * 32)], start, start + HOUR, HOUR) == [[0]]
    # Several issues in one read, each its own, in the order asked.
    assert store.error_counts([b, (2, "a" * 32), a], start, start + 2 * HOUR, HOUR) == [
        [1, 0], [0, 0], [2, 1],
    ]  # fmt: skip
    store.flush_now()
    assert store.error_counts([b, a], start, start + 2 * HOUR, HOUR) == [[1, 0], [2, 1]]
    assert store.error_counts([], start, start + HOUR, HOUR) == []
    with pytest.raises(BadInput, match="step"):
        store.error_counts([a], start, start + HOUR, 0)


def test_text_that_is_not_valid_unicode_is_stored_and_reads_back(
    store: ErrorStore, append: Callable[..., None]
) -> None:
    odd = event(1, release="r\ud800", message="m\udfff", tags={"k\ud801": "v"})
    append(odd)
    store.flush_now()
    assert store.error_event(f"{1:032x}") == odd


def test_a_limit_out_of_range_is_bad_input(store: ErrorStore, append: Callable[..., None]) -> None:
    with pytest.raises(BadInput, match="limit"):
        store.error_events(ErrorEventQuery(limit=10**6))
    assert store.error_events(ErrorEventQuery(limit=0)) == []


@pytest.mark.parametrize("flushed", [False, True])
def test_events_read_back_by_arrival_time(
    store: ErrorStore, append: Callable[..., None], flushed: bool
) -> None:
    append(event(1, received_ns=BASE_NS + 50), event(2, received_ns=BASE_NS + 10))
    if flushed:
        store.flush_now()
    got = store.error_events(ErrorEventQuery(received_since_ns=BASE_NS + 20))
    assert [e.event_id for e in got] == [f"{1:032x}"]
