"""``ErrorStore``: error events in ClickHouse, the store the composition root builds.

Write path: the errors signal's ``SignalPipeline`` (WAL in ``<data_dir>/wal/errors``, pending
buffer, batch writer); ``append`` returns once the batch is fsynced, and start-up replays what
was not yet inserted.

Read path (``ErrorEventReader``): events from ``error_events`` plus those still in the pending
buffer, so an event is readable the moment ``append`` returns. An event id is one event: the
two sources are joined on it (a flush may finish between taking the buffer's snapshot and
querying ClickHouse), and so are the copies a WAL replay may have inserted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from spyglass.core.error_events import ErrorBatch, ErrorEvent
from spyglass.core.errors import BadInput
from spyglass.storage._backend import Backend
from spyglass.storage.errors import _codec
from spyglass.storage.errors._signal import ERRORS
from spyglass.storage.pipeline import SignalStore
from spyglass.storage.ports import ErrorEventQuery
from spyglass.storage.schema import DEFAULT_RETENTION_MS, ERROR_EVENTS
from spyglass.storage.wal import DEFAULT_SEGMENT_BYTES

MAX_LIMIT = 10_000  # events one read returns at most
# An event is kilobytes (a stack trace, breadcrumbs, the SDK's payload), not the tens of bytes of
# a sample: this many waiting for ClickHouse is already a few hundred megabytes.
MAX_PENDING_EVENTS = 50_000
# Above this many pending events of one issue, the sparkline's duplicate check is skipped (a
# flush racing the read may then count a few events twice for a moment).
_MAX_ID_PARAMS = 2_000


class ErrorStore(SignalStore[ErrorBatch]):
    """Error events in ClickHouse with a WAL in ``data_dir/wal/errors``. Implements
    ``ErrorEventSink`` and ``ErrorEventReader`` (storage/ports.py).

    The store does not own ``backend``: whoever built it closes it after ``close()``.
    """

    def __init__(
        self,
        backend: Backend,
        data_dir: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        flush_interval_ms: int = 1_000,
        flush_max_events: int = 20_000,
        cluster: str = "",
        wal_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        max_pending_events: int = MAX_PENDING_EVENTS,
    ) -> None:
        super().__init__(
            ERRORS,
            backend,
            data_dir,
            retention_ms=retention_ms,
            cluster=cluster,
            flush_interval_ms=flush_interval_ms,
            flush_max_items=flush_max_events,
            wal_segment_bytes=wal_segment_bytes,
            max_pending_items=max_pending_events,
        )

    # -- ErrorEventReader -------------------------------------------------------------------
    def error_events(self, query: ErrorEventQuery) -> list[ErrorEvent]:
        """The matching events, newest first (ties by event id), at most ``query.limit``."""
        if not 0 <= query.limit <= MAX_LIMIT:
            raise BadInput(f"limit must be from 0 to {MAX_LIMIT}, not {query.limit}")
        if query.limit == 0 or query.end_ns <= query.start_ns:
            return []
        snapshot = self.pending.snapshot()  # before ClickHouse: a concurrent flush moves data
        params: dict[str, Any] = {
            "start": max(query.start_ns, 0),
            "end": query.end_ns,
            "limit": query.limit,
        }
        conds = [
            "Timestamp >= fromUnixTimestamp64Nano({start:Int64})",
            "Timestamp < fromUnixTimestamp64Nano({end:Int64})",
        ]
        if query.project_id is not None:
            conds.append("ProjectId = {project:UInt64}")
            params["project"] = query.project_id
        if query.issue_key:
            conds.append("IssueKey = {issue:String}")
            params["issue"] = query.issue_key
        if query.trace_id:
            # The table's bloom filter on TraceId skips the granules without it.
            conds.append("TraceId = {trace:String}")
            params["trace"] = query.trace_id
        if query.received_since_ns > 0:
            conds.append("ReceivedTimestamp >= fromUnixTimestamp64Nano({since:Int64})")
            params["since"] = query.received_since_ns
        sql = (
            f"SELECT Event FROM {ERROR_EVENTS} WHERE {' AND '.join(conds)} "  # noqa: S608
            "ORDER BY Timestamp DESC, EventId LIMIT 1 BY EventId LIMIT {limit:UInt64}"
        )
        stored = self._events(sql, params)
        pending = [
            e
            for e in _events_of(snapshot)
            if query.start_ns <= e.timestamp_ns < query.end_ns
            and (query.project_id is None or e.project_id == query.project_id)
            and (not query.issue_key or e.issue_key == query.issue_key)
            and (not query.trace_id or e.trace_id == query.trace_id)
            and e.received_ns >= query.received_since_ns
        ]
        return _newest_first([*pending, *stored])[: query.limit]

    def error_event(self, event_id: str, project_id: int | None = None) -> ErrorEvent | None:
        """The event with this id, or ``None``."""
        snapshot = self.pending.snapshot()
        for e in _events_of(snapshot):
            if e.event_id == event_id and (project_id is None or e.project_id == project_id):
                return e
        params: dict[str, Any] = {"id": event_id}
        where = "EventId = {id:String}"
        if project_id is not None:
            where += " AND ProjectId = {project:UInt64}"
            params["project"] = project_id
        found = self._events(
            f"SELECT Event FROM {ERROR_EVENTS} WHERE {where} LIMIT 1",  # noqa: S608
            params,
        )
        return found[0] if found else None

    def error_counts(
        self, keys: Sequence[tuple[int, str]], start_ns: int, end_ns: int, step_ns: int
    ) -> list[list[int]]:
        """Events of each issue ``(project_id, issue_key)`` per ``step_ns`` bucket of
        ``[start_ns, end_ns)``, in the order of ``keys``: one query for all of them."""
        if step_ns <= 0:
            raise BadInput(f"step must be positive, not {step_ns}")
        buckets = max(0, -(-(end_ns - start_ns) // step_ns))
        if buckets > 10_000:
            raise BadInput(f"{buckets} buckets are too many (at most 10000)")
        if len(keys) > _MAX_ID_PARAMS:
            raise BadInput(f"{len(keys)} issues at once are too many (at most {_MAX_ID_PARAMS})")
        counts = {key: [0] * buckets for key in keys}
        if not buckets or not keys:
            return [counts[key] for key in keys]
        snapshot = self.pending.snapshot()
        pending = {
            e.event_id: e
            for e in _events_of(snapshot)
            if (e.project_id, e.issue_key) in counts and start_ns <= e.timestamp_ns < end_ns
        }
        params: dict[str, Any] = {"start": start_ns, "end": end_ns, "step": step_ns}
        pairs = []
        for i, (project, issue) in enumerate(counts):
            params[f"p{i}"], params[f"k{i}"] = project, issue
            pairs.append(f"({{p{i}:UInt64}}, {{k{i}:String}})")
        skip = ""
        if pending and len(pending) <= _MAX_ID_PARAMS:
            names = []
            for i, event_id in enumerate(pending):
                params[f"e{i}"] = event_id
                names.append(f"{{e{i}:String}}")
            skip = f" AND EventId NOT IN ({', '.join(names)})"
        # Values are bound parameters, never spliced into the text.
        bucket = "intDiv(toUnixTimestamp64Nano(Timestamp) - {start:Int64}, {step:Int64})"
        where = (
            f"(ProjectId, IssueKey) IN ({', '.join(pairs)}) "
            "AND Timestamp >= fromUnixTimestamp64Nano({start:Int64}) "
            "AND Timestamp < fromUnixTimestamp64Nano({end:Int64})" + skip
        )
        sql = (
            f"SELECT ProjectId, IssueKey, {bucket} AS b, uniqExact(EventId) AS n "  # noqa: S608
            f"FROM {ERROR_EVENTS} WHERE {where} GROUP BY ProjectId, IssueKey, b"
        )
        for row in self.backend.query_arrow(sql, params).to_pylist():
            series = counts.get((int(row["ProjectId"]), str(row["IssueKey"])))
            b = int(row["b"])
            if series is not None and 0 <= b < buckets:
                series[b] += int(row["n"])
        for e in pending.values():
            counts[(e.project_id, e.issue_key)][(e.timestamp_ns - start_ns) // step_ns] += 1
        return [counts[key] for key in keys]

    # -- helpers ----------------------------------------------------------------------------
    def _events(self, sql: str, params: dict[str, Any]) -> list[ErrorEvent]:
        column = self.backend.query_arrow(sql, params).column("Event").to_pylist()
        return [_codec.loads(text) for text in column]


def _events_of(batches: Iterable[ErrorBatch]) -> Iterable[ErrorEvent]:
    for batch in batches:
        yield from batch.events


def _newest_first(events: list[ErrorEvent]) -> list[ErrorEvent]:
    seen: set[tuple[int, str]] = set()
    out = []
    for e in events:
        key = (e.project_id, e.event_id)
        if key not in seen:
            seen.add(key)
            out.append(e)
    out.sort(key=lambda e: (-e.timestamp_ns, e.event_id))
    return out


__all__ = ["MAX_LIMIT", "MAX_PENDING_EVENTS", "ErrorStore"]
