"""What a trace search matches and how calls are counted, in Python, for every trace store.

The in-memory store answers with these alone; the ClickHouse store applies them to spans still in
its pending buffer and says the same in SQL (``traces._sql``) for stored ones, so the two agree
on ``TraceQuery``'s and ``service_calls``' contract (storage/ports.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from spyglass.core.spans import Span
from spyglass.storage.ports import OperationLatency, ServiceCall, TraceQuery

# The tags Jaeger's query API shows for OpenTelemetry fields (traces._jaeger): a search for one
# of them finds what the trace view shows.
JAEGER_KINDS = {
    "Server": "server",
    "Client": "client",
    "Producer": "producer",
    "Consumer": "consumer",
    "Internal": "internal",
}


def derived_tag(span: Span, key: str) -> str | None:
    """The value of a tag Jaeger derives from a span field, or ``None`` when it shows none."""
    if key == "error":
        return "true" if span.status_code == "Error" else None
    if key == "span.kind":
        return JAEGER_KINDS.get(span.kind)
    if key == "otel.status_code":
        return span.status_code.upper() if span.status_code != "Unset" else None
    if key == "otel.status_description":
        return span.status_message or None
    if key == "otel.scope.name":
        return span.scope_name or None
    if key == "otel.scope.version":
        return span.scope_version or None
    return None


def has_tag(span: Span, key: str, value: str) -> bool:
    """Whether the span carries ``key=value``: a span or resource attribute, or a derived tag."""
    return (
        span.attributes.get(key) == value
        or span.resource.get(key) == value
        or derived_tag(span, key) == value
    )


def span_matches(span: Span, query: TraceQuery) -> bool:
    """Whether ``span`` satisfies every condition of ``query`` (its limit aside)."""
    q = query
    return (
        (not q.service or span.service_name == q.service)
        and q.start_ns <= span.start_ns <= q.end_ns
        and (not q.operation or span.name == q.operation)
        and (q.min_duration_ns is None or span.duration_ns >= q.min_duration_ns)
        and (q.max_duration_ns is None or span.duration_ns <= q.max_duration_ns)
        and all(has_tag(span, k, v) for k, v in q.tags)
    )


def latest_matches(spans: Iterable[Span], query: TraceQuery) -> dict[str, int]:
    """For each trace with a matching span, the start of its latest matching span."""
    found: dict[str, int] = {}
    for span in spans:
        if span_matches(span, query) and span.start_ns > found.get(span.trace_id, -1):
            found[span.trace_id] = span.start_ns
    return found


def top_traces(latest: dict[str, int], limit: int) -> list[str]:
    """The ``limit`` trace ids with the latest matching spans, latest first (ties by id)."""
    ranked = sorted(latest.items(), key=lambda kv: (-kv[1], kv[0]))
    return [trace_id for trace_id, _ in ranked[: max(limit, 0)]]


def by_start(spans: Iterable[Span]) -> list[Span]:
    """Spans once each (by trace and span id, the first seen kept), ordered by start time."""
    seen: dict[tuple[str, str], Span] = {}
    for span in spans:
        seen.setdefault((span.trace_id, span.span_id), span)
    return sorted(seen.values(), key=lambda s: (s.start_ns, s.span_id))


def service_calls(spans: Iterable[Span], start_ns: int, end_ns: int) -> list[ServiceCall]:
    """The calls among the spans (of any number of traces) that started in the window."""
    window = [s for s in spans if start_ns <= s.start_ns <= end_ns]
    by_id = {(s.trace_id, s.span_id): s for s in window}
    edges: Counter[tuple[str, str]] = Counter()
    served: set[tuple[str, str, str]] = set()  # (trace, parent span, child service)
    for span in window:
        parent = by_id.get((span.trace_id, span.parent_span_id))
        if parent is not None and parent.service_name != span.service_name:
            edges[(parent.service_name, span.service_name)] += 1
            served.add((span.trace_id, parent.span_id, span.service_name))
    for span in window:
        peer = span.attributes.get("peer.service", "")
        if (
            span.kind == "Client"
            and peer
            and peer != span.service_name
            and (span.trace_id, span.span_id, peer) not in served
        ):
            edges[(span.service_name, peer)] += 1
    return [ServiceCall(p, c, n) for (p, c), n in sorted(edges.items())]


def operation_latencies(
    spans: Iterable[Span], start_ns: int, end_ns: int, limit: int
) -> list[OperationLatency]:
    """Span count and p95 duration per (service, span name) among the spans (each span id once)
    that started in the window: the ``limit`` with most spans, by service then name."""
    durations: dict[tuple[str, str], list[int]] = {}
    for span in by_start(s for s in spans if start_ns <= s.start_ns <= end_ns):
        durations.setdefault((span.service_name, span.name), []).append(span.duration_ns)
    busiest = sorted(durations.items(), key=lambda kv: (-len(kv[1]), kv[0]))[: max(limit, 0)]
    # numpy's default percentile interpolates linearly between ranks, as ClickHouse's quantile
    # does (exactly, up to its 8192-value reservoir).
    return sorted(
        (
            OperationLatency(service, name, len(ds), float(np.percentile(ds, 95)))
            for (service, name), ds in busiest
        ),
        key=lambda op: (op.service, op.operation),
    )


__all__ = [
    "JAEGER_KINDS",
    "by_start",
    "derived_tag",
    "has_tag",
    "latest_matches",
    "operation_latencies",
    "service_calls",
    "span_matches",
    "top_traces",
]
