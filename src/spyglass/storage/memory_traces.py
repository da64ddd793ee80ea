"""In-memory ``TraceReader`` (and ``SpanSink``, ``SpanLatencyReader``) for unit tests of the
trace APIs.

It keeps spans in write order and answers every ``TraceReader`` call by scanning them, so it is
exact about the port's contract (storage/ports.py) rather than fast. Not durable and not meant for
production volumes.
"""

from __future__ import annotations

from collections.abc import Iterable

from spyglass.core.spans import Span, SpanBatch
from spyglass.storage._span_match import (
    by_start,
    latest_matches,
    operation_latencies,
    service_calls,
    top_traces,
)
from spyglass.storage.ports import OperationLatency, ServiceCall, SpanOperation, TraceQuery


class MemorySpanStore:
    """Spans held in memory, in the order they were written."""

    def __init__(self) -> None:
        self._spans: list[Span] = []

    # -- writing -----------------------------------------------------------------------------
    def load(self, spans: Iterable[Span]) -> None:
        """Add ``spans`` after those already held."""
        self._spans.extend(spans)

    async def append(self, batch: SpanBatch) -> None:
        """``SpanSink``: in memory, so durable only as long as the process lives."""
        self.load(batch.spans)

    # -- TraceReader ---------------------------------------------------------------------------
    def trace(self, trace_id: str) -> list[Span]:
        """Every span of the trace, by start time (each span id once)."""
        return by_start(s for s in self._spans if s.trace_id == trace_id)

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        """The traces with a matching span, latest matching span first, cut to the limit."""
        ids = top_traces(latest_matches(self._spans, query), query.limit)
        return [self.trace(trace_id) for trace_id in ids]

    def services(self) -> list[str]:
        """Sorted names of the services that sent spans."""
        return sorted({s.service_name for s in self._spans})

    def operations(self, service: str, kind: str = "") -> list[SpanOperation]:
        """The service's span names with their kinds, sorted by name then kind."""
        found = {
            SpanOperation(s.name, s.kind)
            for s in self._spans
            if s.service_name == service and (not kind or s.kind == kind)
        }
        return sorted(found, key=lambda op: (op.name, op.kind))

    def service_calls(self, start_ns: int, end_ns: int) -> list[ServiceCall]:
        """Calls across services among the spans started in the window."""
        return service_calls(self._spans, start_ns, end_ns)

    # -- SpanLatencyReader -------------------------------------------------------------------
    def operation_latencies(
        self, start_ns: int, end_ns: int, limit: int = 1000
    ) -> list[OperationLatency]:
        """Span count and p95 duration per operation among the spans started in the window."""
        return operation_latencies(self._spans, start_ns, end_ns, limit)


__all__ = ["MemorySpanStore"]
