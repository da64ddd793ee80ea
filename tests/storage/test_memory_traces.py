"""MemorySpanStore keeps the TraceReader contract the Jaeger API's unit tests rely on: a span
sent twice reads once, searches rank by the latest matching span, tags need the attribute to
exist, and the service graph counts a peer only when it sent no child span."""

from __future__ import annotations

import asyncio

from spyglass.core.spans import Span, SpanBatch
from spyglass.storage import MemorySpanStore, ServiceCall, SpanOperation, TraceQuery

T1, T2 = "1" * 32, "2" * 32


def span(trace: str, sid: str, service: str, start: int, **kw: object) -> Span:
    return Span(trace, sid * 16, f"op-{sid}", start, 10, service, **kw)  # type: ignore[arg-type]


def test_a_span_sent_twice_reads_once_and_traces_sort_by_start() -> None:
    store = MemorySpanStore()
    late, early = span(T1, "b", "api", 20), span(T1, "a", "api", 10)
    asyncio.run(store.append(SpanBatch((late, early))))
    store.load([late])
    assert store.trace(T1) == [early, late]
    assert store.trace(T2) == []


def test_search_ranks_by_latest_matching_span_and_cuts_to_the_limit() -> None:
    store = MemorySpanStore()
    store.load([
        span(T1, "a", "api", 10, attributes={"http.method": "GET"}),
        span(T1, "b", "api", 50, attributes={"http.method": "POST"}),
        span(T2, "c", "api", 30, attributes={"http.method": "GET"}),
    ])  # fmt: skip
    every = TraceQuery("api", 0, 100)
    assert [t[0].trace_id for t in store.find_traces(every)] == [T1, T2]
    get = TraceQuery("api", 0, 100, tags=(("http.method", "GET"),))
    assert [t[0].trace_id for t in store.find_traces(get)] == [T2, T1]
    assert len(store.find_traces(TraceQuery("api", 0, 100, limit=1))) == 1
    assert store.find_traces(TraceQuery("api", 0, 100, tags=(("missing", ""),))) == []
    assert store.operations("api") == [SpanOperation("op-a", "Unspecified"),
                                       SpanOperation("op-b", "Unspecified"),
                                       SpanOperation("op-c", "Unspecified")]  # fmt: skip


def test_the_service_graph_counts_boundary_crossings_and_silent_peers() -> None:
    store = MemorySpanStore()
    store.load([
        span(T1, "a", "web", 0, kind="Client", attributes={"peer.service": "api"}),
        span(T1, "b", "api", 1, parent_span_id="a" * 16, kind="Server"),
        span(T1, "c", "api", 2, parent_span_id="b" * 16),  # same service: no edge
        span(T1, "d", "api", 3, kind="Client", attributes={"peer.service": "redis"}),
    ])  # fmt: skip
    assert store.service_calls(0, 10) == [
        ServiceCall("api", "redis", 1),
        ServiceCall("web", "api", 1),
    ]
    assert store.service_calls(3, 10) == [ServiceCall("api", "redis", 1)]
