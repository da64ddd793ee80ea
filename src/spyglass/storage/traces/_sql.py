"""The trace reads as SQL: traces by id (range lookup and spans in one query), a search, the
lists and the graph.

Values are bound as ClickHouse ``{name:Type}`` parameters (``Query``), never spliced into the
text. A search says in SQL what ``storage._span_match`` says in Python for pending spans.
"""

from __future__ import annotations

from typing import Any

from spyglass.storage.ports import TraceQuery
from spyglass.storage.schema import TRACE_ID_TS, TRACE_OPERATIONS, TRACES

SPAN_COLUMNS = f"""
    toUnixTimestamp64Nano(Timestamp) AS start, TraceId, SpanId, ParentSpanId, TraceState,
    SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion,
    SpanAttributes, Duration, StatusCode, StatusMessage,
    arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`) AS event_ts,
    `Events.Name` AS event_name, `Events.Attributes` AS event_attrs,
    `Links.TraceId` AS link_trace, `Links.SpanId` AS link_span,
    `Links.TraceState` AS link_state, `Links.Attributes` AS link_attrs
FROM {TRACES}"""

# Jaeger's span.kind tag values -> the stored SpanKind.
_KINDS = {
    "server": "Server",
    "client": "Client",
    "producer": "Producer",
    "consumer": "Consumer",
    "internal": "Internal",
}


class Query:
    """Collects a query's parameters as its SQL is written."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any, ch_type: str) -> str:
        """A placeholder for ``value`` of ClickHouse type ``ch_type``."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{ch_type}}}"

    def strings(self, values: list[str]) -> str:
        """A tuple of placeholders for ``values`` (one String parameter each: the backends
        format array parameters of strings differently)."""
        return "(" + ", ".join(self.bind(v, "String") for v in values) + ")"


def spans_sql(q: Query, trace_ids: list[str]) -> str:
    """The spans of the traces, each span once, in one query: the traces' time range from the
    lookup table as a scalar subquery, which ClickHouse evaluates first and then prunes
    ``otel_traces`` by (a second round trip cost 4-5 ms of CPU a trace at 1M spans)."""
    if len(trace_ids) == 1:
        # ``=`` rather than IN: the bloom filter on TraceId skips granules for either, but the
        # equality needs no set built first.
        cond = f"TraceId = {q.bind(trace_ids[0], 'String')}"
    else:
        cond = f"TraceId IN {q.strings(trace_ids)}"
    # One trace is a handful of granules after the time range and the bloom filter: one thread
    # reads them with less CPU than several and, measured at 1M spans, no slower (16.6 against
    # 25.9 ms CPU, 17 ms wall either way).
    threads = " SETTINGS max_threads = 1" if len(trace_ids) == 1 else ""
    # No row in the lookup table: min and max of nothing are 0, an empty range in 1970.
    return (
        "WITH (SELECT (toUInt32(min(Start)), toUInt32(max(End)) + 1) "  # noqa: S608
        f"FROM {TRACE_ID_TS} WHERE {cond}) AS span_range "
        f"SELECT {SPAN_COLUMNS} WHERE {cond} "
        "AND Timestamp >= toDateTime64(span_range.1, 9) "
        "AND Timestamp < toDateTime64(span_range.2, 9) "
        f"LIMIT 1 BY TraceId, SpanId{threads}"
    )


def search_sql(q: Query, query: TraceQuery) -> str:
    """The ``limit`` traces with a matching span and the start of their latest matching span,
    latest first, ties by trace id."""
    conds = [
        f"Timestamp >= fromUnixTimestamp64Nano({q.bind(query.start_ns, 'Int64')})",
        f"Timestamp <= fromUnixTimestamp64Nano({q.bind(query.end_ns, 'Int64')})",
    ]
    if query.service:
        conds.append(f"ServiceName = {q.bind(query.service, 'String')}")
    if query.operation:
        conds.append(f"SpanName = {q.bind(query.operation, 'String')}")
    if query.min_duration_ns is not None:
        conds.append(f"Duration >= {q.bind(max(query.min_duration_ns, 0), 'UInt64')}")
    if query.max_duration_ns is not None:
        if query.max_duration_ns < 0:
            conds.append("0")
        else:
            conds.append(f"Duration <= {q.bind(query.max_duration_ns, 'UInt64')}")
    for key, value in query.tags:
        conds.append(_tag_sql(q, key, value))
    limit = q.bind(max(query.limit, 0), "UInt64")
    return (
        "SELECT TraceId AS trace_id, toUnixTimestamp64Nano(max(Timestamp)) AS latest "  # noqa: S608
        f"FROM {TRACES} WHERE {' AND '.join(conds)} "
        f"GROUP BY TraceId ORDER BY latest DESC, trace_id LIMIT {limit}"
    )


def _tag_sql(q: Query, key: str, value: str) -> str:
    k = q.bind(key, "String")
    v = q.bind(value, "String")
    options = [
        f"(mapContains(SpanAttributes, {k}) AND SpanAttributes[{k}] = {v})",
        f"(mapContains(ResourceAttributes, {k}) AND ResourceAttributes[{k}] = {v})",
    ]
    # The tags Jaeger derives from span fields (storage._span_match.derived_tag).
    if key == "error" and value == "true":
        options.append("StatusCode = 'Error'")
    elif key == "span.kind" and value in _KINDS:
        options.append(f"SpanKind = '{_KINDS[value]}'")
    elif key == "otel.status_code" and value in ("OK", "ERROR"):
        options.append("StatusCode = " + ("'Ok'" if value == "OK" else "'Error'"))
    elif key == "otel.status_description" and value:
        options.append(f"StatusMessage = {v}")
    elif key == "otel.scope.name" and value:
        options.append(f"ScopeName = {v}")
    elif key == "otel.scope.version" and value:
        options.append(f"ScopeVersion = {v}")
    return "(" + " OR ".join(options) + ")"


def services_sql() -> str:
    """Every service with spans."""
    return f"SELECT DISTINCT ServiceName AS service FROM {TRACE_OPERATIONS}"  # noqa: S608


def operations_sql(q: Query, service: str, kind: str) -> str:
    """The service's (span name, kind) pairs, of one kind when ``kind`` is given."""
    cond = f"ServiceName = {q.bind(service, 'String')}"
    if kind:
        cond += f" AND SpanKind = {q.bind(kind, 'String')}"
    return (
        "SELECT DISTINCT SpanName AS name, SpanKind AS kind "  # noqa: S608
        f"FROM {TRACE_OPERATIONS} WHERE {cond}"
    )


def calls_sql(q: Query, start_ns: int, end_ns: int) -> str:
    """Calls across services among spans started in ``[start_ns, end_ns]``
    (``TraceReader.service_calls``)."""
    lo = q.bind(start_ns, "Int64")
    hi = q.bind(end_ns, "Int64")
    window = (
        "(SELECT TraceId, SpanId, ParentSpanId, ServiceName, SpanKind, "  # noqa: S608
        "SpanAttributes['peer.service'] AS Peer "
        f"FROM {TRACES} WHERE Timestamp >= fromUnixTimestamp64Nano({lo}) "
        f"AND Timestamp <= fromUnixTimestamp64Nano({hi}) LIMIT 1 BY TraceId, SpanId)"
    )
    return f"""
SELECT parent, child, count() AS calls FROM (
    SELECT p.ServiceName AS parent, c.ServiceName AS child
    FROM {window} AS c INNER JOIN {window} AS p
        ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId
    WHERE p.ServiceName != c.ServiceName
    UNION ALL
    SELECT s.ServiceName AS parent, s.Peer AS child FROM {window} AS s
    WHERE s.SpanKind = 'Client' AND s.Peer != '' AND s.Peer != s.ServiceName
        AND (s.TraceId, s.SpanId, s.Peer) NOT IN (
            SELECT TraceId, ParentSpanId, ServiceName FROM {window})
)
GROUP BY parent, child ORDER BY parent, child"""  # noqa: S608 - values are bound parameters


def latencies_sql(q: Query, start_ns: int, end_ns: int, limit: int) -> str:
    """Span count and p95 duration per (service, span name) of the spans started in
    ``[start_ns, end_ns]``, each span once: the ``limit`` with most spans
    (``SpanLatencyReader.operation_latencies``)."""
    lo = q.bind(start_ns, "Int64")
    hi = q.bind(end_ns, "Int64")
    top = q.bind(max(limit, 0), "UInt64")
    # quantile interpolates linearly between ranks, exact up to its 8192-value reservoir and
    # sampled beyond: enough to rank operations by how much slower they got.
    return (
        "SELECT ServiceName AS service, SpanName AS operation, count() AS spans, "  # noqa: S608
        "quantile(0.95)(Duration) AS p95 FROM ("
        f"SELECT ServiceName, SpanName, Duration FROM {TRACES} "
        f"WHERE Timestamp >= fromUnixTimestamp64Nano({lo}) "
        f"AND Timestamp <= fromUnixTimestamp64Nano({hi}) LIMIT 1 BY TraceId, SpanId) "
        f"GROUP BY service, operation ORDER BY spans DESC, service, operation LIMIT {top}"
    )


__all__ = [
    "SPAN_COLUMNS",
    "Query",
    "calls_sql",
    "latencies_sql",
    "operations_sql",
    "search_sql",
    "services_sql",
    "spans_sql",
]
