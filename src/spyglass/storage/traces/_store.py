"""``SpanStore``: spans in ClickHouse behind a WAL, and the ``TraceReader`` Jaeger's API reads.

Writes go through the signal's pipeline (``storage.pipeline``): ``append`` returns once the batch
is fsynced in ``data_dir/wal/spans``, and the batch is readable from then on. Reads take a
snapshot of the pending buffer first, then ask ClickHouse, and join the two with each span once
(by trace and span id): a flush finishing in between moves spans from one to the other, and a
WAL replay after a crash may have inserted a span twice.

- A trace by id reads its spans in one query: its range from ``otel_traces_trace_id_ts`` (a
  scalar subquery) and only the spans of that range, where the bloom filter on TraceId skips
  the granules of other traces.
- A search asks ClickHouse for the ``limit`` traces with the latest matching spans, does the
  same over the pending spans (``storage._span_match``), keeps the best ``limit`` of both and
  reads those traces whole.
- ``operation_latencies`` takes each operation's p95 duration with ClickHouse's ``quantile``.
- ``service_calls`` joins parent and child spans in SQL. It inserts what is pending first (at
  most one flush interval of spans), so a call whose two spans straddle the buffer and the table
  is counted once, like every other.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from prometheus_client.registry import Collector

from spyglass.core.errors import BadInput
from spyglass.core.spans import Span, SpanBatch, SpanEvent, SpanLink
from spyglass.core.stats import StatField, StatsCollector
from spyglass.storage._backend import Backend
from spyglass.storage._span_match import by_start, latest_matches, top_traces
from spyglass.storage.pipeline import DEFAULT_MAX_PENDING_ITEMS, SignalStore
from spyglass.storage.ports import OperationLatency, ServiceCall, SpanOperation, TraceQuery
from spyglass.storage.schema import DEFAULT_RETENTION_MS
from spyglass.storage.traces import _sql
from spyglass.storage.traces._insert import SpansInserter
from spyglass.storage.traces._signal import SPANS
from spyglass.storage.wal import DEFAULT_SEGMENT_BYTES

MAX_LIMIT = 10_000  # most traces one search returns whole


@dataclass(frozen=True, slots=True)
class SpanStoreStats:
    """Counters of the span store (beyond its pipeline's)."""

    operations_created: int


class SpanStore(SignalStore[SpanBatch]):
    """Spans in ClickHouse with a WAL in ``data_dir/wal/spans``. Implements ``SpanSink`` and
    ``TraceReader`` (storage/ports.py).

    The store does not own ``backend``: whoever built it closes it after ``close()``. When more
    than ``max_pending_spans`` wait for ClickHouse, ``append`` refuses with ``Unavailable``.
    """

    def __init__(
        self,
        backend: Backend,
        data_dir: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        flush_interval_ms: int = 1_000,
        flush_max_spans: int = 200_000,
        cluster: str = "",
        wal_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        max_pending_spans: int = DEFAULT_MAX_PENDING_ITEMS,
    ) -> None:
        super().__init__(
            SPANS,
            backend,
            data_dir,
            retention_ms=retention_ms,
            cluster=cluster,
            flush_interval_ms=flush_interval_ms,
            flush_max_items=flush_max_spans,
            wal_segment_bytes=wal_segment_bytes,
            max_pending_items=max_pending_spans,
        )
        inserter = self.pipeline.insert
        assert isinstance(inserter, SpansInserter)
        self._inserter = inserter

    # -- stats ------------------------------------------------------------------------------
    def stats(self) -> SpanStoreStats:
        """What only the span store counts."""
        return SpanStoreStats(operations_created=self._inserter.operations_created)

    def collectors(self) -> list[Collector]:
        """What only the span store counts (its pipeline's counters come with every signal's,
        from ``pipeline.pipeline_collectors``)."""
        return [StatsCollector(self.stats, _STORE_FIELDS)]

    # -- TraceReader ------------------------------------------------------------------------
    def trace(self, trace_id: str) -> list[Span]:
        """Every span of the trace, by start time; empty when no span of it is known."""
        snapshot = self._pending_spans()
        pending = [s for s in snapshot if s.trace_id == trace_id]
        return by_start([*self._stored([trace_id]), *pending])

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        """The traces ``query`` finds, latest matching span first, each whole."""
        if query.limit < 0 or query.limit > MAX_LIMIT:
            raise BadInput(f"invalid limit {query.limit}: between 0 and {MAX_LIMIT}")
        if query.limit == 0 or query.end_ns < query.start_ns:
            return []
        snapshot = self._pending_spans()
        q = _sql.Query()
        rows = self._query(_sql.search_sql(q, query), q).to_pylist()
        latest = {row["trace_id"]: row["latest"] for row in rows}
        for trace_id, start in latest_matches(snapshot, query).items():
            if start > latest.get(trace_id, -1):
                latest[trace_id] = start
        ids = top_traces(latest, query.limit)
        if not ids:
            return []
        wanted = set(ids)
        by_trace: dict[str, list[Span]] = {t: [] for t in ids}
        for span in [*self._stored(ids), *(s for s in snapshot if s.trace_id in wanted)]:
            by_trace[span.trace_id].append(span)
        return [by_start(by_trace[t]) for t in ids]

    def services(self) -> list[str]:
        """Sorted names of the services that sent spans."""
        snapshot = self._pending_spans()
        found = set(self._query(_sql.services_sql(), _sql.Query()).column("service").to_pylist())
        found.update(s.service_name for s in snapshot)
        return sorted(found)

    def operations(self, service: str, kind: str = "") -> list[SpanOperation]:
        """The service's operations (of span ``kind`` when given), by name then kind."""
        snapshot = self._pending_spans()
        q = _sql.Query()
        rows = self._query(_sql.operations_sql(q, service, kind), q).to_pylist()
        found = {SpanOperation(row["name"], row["kind"]) for row in rows}
        found.update(
            SpanOperation(s.name, s.kind)
            for s in snapshot
            if s.service_name == service and (not kind or s.kind == kind)
        )
        return sorted(found, key=lambda op: (op.name, op.kind))

    def service_calls(self, start_ns: int, end_ns: int) -> list[ServiceCall]:
        """Calls across services among the spans started in ``[start_ns, end_ns]``."""
        if end_ns < start_ns:
            return []
        self.pipeline.flush_now()
        q = _sql.Query()
        rows = self._query(_sql.calls_sql(q, start_ns, end_ns), q).to_pylist()
        return [ServiceCall(row["parent"], row["child"], row["calls"]) for row in rows]

    # -- SpanLatencyReader -------------------------------------------------------------------
    def operation_latencies(
        self, start_ns: int, end_ns: int, limit: int = 1000
    ) -> list[OperationLatency]:
        """Span count and p95 duration per operation of the spans started in the window,
        computed in ClickHouse (what is pending is inserted first, as for ``service_calls``:
        a percentile does not merge from two parts)."""
        if end_ns < start_ns:
            return []
        self.pipeline.flush_now()
        q = _sql.Query()
        rows = self._query(_sql.latencies_sql(q, start_ns, end_ns, limit), q).to_pylist()
        found = [
            OperationLatency(row["service"], row["operation"], int(row["spans"]), float(row["p95"]))
            for row in rows
        ]
        return sorted(found, key=lambda op: (op.service, op.operation))

    # -- helpers ----------------------------------------------------------------------------
    def _pending_spans(self) -> list[Span]:
        return [span for batch in self.pending.snapshot() for span in batch.spans]

    def _stored(self, trace_ids: list[str]) -> list[Span]:
        q = _sql.Query()
        return _spans(self._query(_sql.spans_sql(q, trace_ids), q))

    def _query(self, sql: str, q: _sql.Query) -> pa.Table:
        return self.backend.query_arrow(sql, q.params)


def _maps(column: pa.Array | pa.ChunkedArray) -> list[dict[str, str]]:
    """Each row of a ``Map(String, String)`` column as a dict, from its flat keys and values:
    pyarrow's own ``to_pylist`` of a map column cost ~13 times as much (254 against 18 ms for
    the attributes of 5,000 spans)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    assert isinstance(array, pa.MapArray)
    # ``offsets`` index the unsliced ``keys`` and ``items``, whatever the array's own offset.
    offsets = array.offsets.to_pylist()
    keys = array.keys.to_pylist()
    values = array.items.to_pylist()
    return [
        dict(zip(keys[lo:hi], values[lo:hi], strict=True)) for lo, hi in itertools.pairwise(offsets)
    ]


def _lists(column: pa.Array | pa.ChunkedArray) -> list[list[Any]]:
    """Each row of an array column as a list (maps inside it as dicts)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    assert isinstance(array, pa.ListArray)
    offsets = array.offsets.to_pylist()
    child = array.values
    items: list[Any] = _maps(child) if isinstance(child, pa.MapArray) else child.to_pylist()
    return [items[lo:hi] for lo, hi in itertools.pairwise(offsets)]


def _spans(table: pa.Table) -> list[Span]:
    """The spans of ``spans_sql``'s rows, converted a column at a time."""
    col = {name: table.column(name).to_pylist() for name in _PLAIN_COLUMNS}
    attributes = _maps(table.column("SpanAttributes"))
    resources = _maps(table.column("ResourceAttributes"))
    # Most spans have no events and no links: only the sizes are looked at for those.
    event_ts = _lists(table.column("event_ts"))
    event_names = _lists(table.column("event_name"))
    event_attrs = _lists(table.column("event_attrs"))
    link_traces = _lists(table.column("link_trace"))
    link_spans = _lists(table.column("link_span"))
    link_states = _lists(table.column("link_state"))
    link_attrs = _lists(table.column("link_attrs"))
    spans = []
    for i in range(table.num_rows):
        events = (
            tuple(
                SpanEvent(ts, name, attrs)
                for ts, name, attrs in zip(event_ts[i], event_names[i], event_attrs[i], strict=True)
            )
            if event_ts[i]
            else ()
        )
        links = (
            tuple(
                SpanLink(trace, span, state, attrs)
                for trace, span, state, attrs in zip(
                    link_traces[i], link_spans[i], link_states[i], link_attrs[i], strict=True
                )
            )
            if link_traces[i]
            else ()
        )
        spans.append(
            Span(
                trace_id=col["TraceId"][i],
                span_id=col["SpanId"][i],
                name=col["SpanName"][i],
                start_ns=col["start"][i],
                duration_ns=col["Duration"][i],
                service_name=col["ServiceName"][i],
                parent_span_id=col["ParentSpanId"][i],
                kind=col["SpanKind"][i],
                status_code=col["StatusCode"][i],
                status_message=col["StatusMessage"][i],
                trace_state=col["TraceState"][i],
                attributes=attributes[i],
                resource=resources[i],
                scope_name=col["ScopeName"][i],
                scope_version=col["ScopeVersion"][i],
                events=events,
                links=links,
            )
        )
    return spans


_PLAIN_COLUMNS = (
    "TraceId",
    "SpanId",
    "SpanName",
    "start",
    "Duration",
    "ServiceName",
    "ParentSpanId",
    "SpanKind",
    "StatusCode",
    "StatusMessage",
    "TraceState",
    "ScopeName",
    "ScopeVersion",
)


_STORE_FIELDS = (
    StatField(
        "operations_created",
        "spyglass_storage_trace_operations_created",
        "counter",
        "Operation index rows written (one per service, span name, kind and day).",
    ),
)


__all__ = ["MAX_LIMIT", "SpanStore", "SpanStoreStats"]
