"""The trace-operation finder: operations whose p95 span duration grew, most time added first."""

from __future__ import annotations

import itertools

from spyglass.core.errors import Unavailable
from spyglass.core.spans import Span
from spyglass.storage import MemorySpanStore, OperationLatency
from spyglass.why import MIN_GROWTH, trace_operations

MS = 1_000_000
MIN = 60_000  # ms
# The finder's windows in ms: baseline [0, 60m), window [60m, 75m].
BASE, START, END = 0, 60 * MIN, 75 * MIN
_ids = itertools.count(1)


def spans(service: str, name: str, first_ms: int, durations_ms: list[float]) -> list[Span]:
    """One span per duration, a minute apart from ``first_ms``."""
    return [
        Span(
            trace_id=f"{next(_ids):032x}",
            span_id=f"{i + 1:016x}",
            name=name,
            start_ns=(first_ms + i * MIN) * MS,
            duration_ns=int(d * MS),
            service_name=service,
        )
        for i, d in enumerate(durations_ms)
    ]


def store_with(*groups: list[Span]) -> MemorySpanStore:
    store = MemorySpanStore()
    for g in groups:
        store.load(g)
    return store


def test_the_operation_made_five_times_slower_ranks_first() -> None:
    store = store_with(
        # checkout: 40 ms before, 200 ms in the window (5x, +160 ms).
        spans("shop", "POST /checkout", 1 * MIN, [40.0] * 20),
        spans("shop", "POST /checkout", START + MIN, [200.0] * 10),
        # cart: 30 -> 45 ms (1.5x, +15 ms): slower, but less time added.
        spans("shop", "GET /cart", 1 * MIN, [30.0] * 20),
        spans("shop", "GET /cart", START + MIN, [45.0] * 10),
        # search: unchanged.
        spans("search", "GET /q", 1 * MIN, [100.0] * 20),
        spans("search", "GET /q", START + MIN, [100.0] * 10),
        # A cache read: 1 -> 1.1 ms is under MIN_GROWTH, noise.
        spans("shop", "redis GET", 1 * MIN, [1.0] * 20),
        spans("shop", "redis GET", START + MIN, [1.1] * 10),
    )
    found = trace_operations(store)(START, END, BASE, START)
    assert [(f.detail["service"], f.detail["operation"]) for f in found] == [
        ("shop", "POST /checkout"),
        ("shop", "GET /cart"),
    ]
    top = found[0]
    assert top.kind == "trace_operation"
    assert top.detail["p95Ms"] == 200.0
    assert top.detail["baselineP95Ms"] == 40.0
    assert top.detail["growth"] == 5.0
    assert (top.detail["spans"], top.detail["baselineSpans"]) == (10, 20)
    assert top.title == "slower trace operation shop POST /checkout: p95 40 ms → 200 ms (5.0x)"


def test_ranked_by_time_added_not_by_ratio() -> None:
    """A 2 ms read made 10x slower adds 18 ms; a 500 ms call made 1.5x slower adds 250 ms."""
    store = store_with(
        spans("a", "fast", 1 * MIN, [2.0] * 10),
        spans("a", "fast", START + MIN, [20.0] * 10),
        spans("a", "slow", 1 * MIN, [500.0] * 10),
        spans("a", "slow", START + MIN, [750.0] * 10),
    )
    found = trace_operations(store)(START, END, BASE, START)
    assert [f.detail["operation"] for f in found] == ["slow", "fast"]


def test_p95_follows_the_tail_not_the_mean() -> None:
    """Most spans as fast as before, one in ten 20x slower: the p95 sees the tail."""
    store = store_with(
        spans("a", "op", 1 * MIN, [10.0] * 20),
        spans("a", "op", START + MIN, [10.0] * 9 + [200.0] + [10.0] * 4),
    )
    [found] = trace_operations(store)(START, END, BASE, START)
    assert found.detail["p95Ms"] > 10.0 * MIN_GROWTH


def test_new_operations_and_operations_with_few_spans_are_left_out() -> None:
    store = store_with(
        spans("a", "new", START + MIN, [900.0] * 10),  # nothing to compare with
        spans("a", "rare", 1 * MIN, [10.0] * 2),  # two spans in the baseline: not enough
        spans("a", "rare", START + MIN, [500.0] * 5),
    )
    assert trace_operations(store)(START, END, BASE, START) == []
    assert [f.detail["operation"] for f in trace_operations(store, min_spans=2)(
        START, END, BASE, START
    )] == ["rare"]  # fmt: skip


def test_a_span_at_the_boundary_belongs_to_the_window_only() -> None:
    """The baseline ends where the window starts; a span starting at that instant is counted
    once, in the window."""
    store = store_with(
        spans("a", "op", START - 3 * MIN, [10.0] * 3),
        spans("a", "op", START, [100.0] * 3),
    )
    [found] = trace_operations(store)(START, END, BASE, START)
    assert (found.detail["spans"], found.detail["baselineSpans"]) == (3, 3)


def test_a_store_that_fails_gives_no_finding_instead_of_an_error() -> None:
    class Down:
        def operation_latencies(
            self, start_ns: int, end_ns: int, limit: int = 1000
        ) -> list[OperationLatency]:
            raise Unavailable("ClickHouse is down")

    assert trace_operations(Down())(START, END, BASE, START) == []


def test_the_limit_cuts_the_ranking() -> None:
    groups = []
    for i in range(8):
        groups.append(spans("a", f"op{i}", 1 * MIN, [10.0] * 5))
        groups.append(spans("a", f"op{i}", START + MIN, [20.0 + i] * 5))
    found = trace_operations(store_with(*groups), limit=3)(START, END, BASE, START)
    assert [f.detail["operation"] for f in found] == ["op7", "op6", "op5"]
