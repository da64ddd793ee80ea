"""Spans from the rows of a trace read (``_store._spans``): whatever spans ClickHouse returns
as Arrow columns, in one chunk or several, come back equal, their attribute maps, events and
links included."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.storage.span_strategies import spans_of

from spyglass.core.spans import Span
from spyglass.storage.traces._store import _spans

# Text Arrow can hold (no lone surrogates): what ClickHouse returns as UTF-8.
text = st.text(max_size=8)
ns = st.integers(0, 2**62)
spans = spans_of(text, ns)

STRING_MAP = pa.map_(pa.string(), pa.string())
# The columns and types chDB returns for ``_sql.SPAN_COLUMNS``.
SCHEMA = pa.schema(
    [
        ("start", pa.int64()),
        ("TraceId", pa.string()),
        ("SpanId", pa.string()),
        ("ParentSpanId", pa.string()),
        ("TraceState", pa.string()),
        ("SpanName", pa.string()),
        ("SpanKind", pa.string()),
        ("ServiceName", pa.string()),
        ("ResourceAttributes", STRING_MAP),
        ("ScopeName", pa.string()),
        ("ScopeVersion", pa.string()),
        ("SpanAttributes", STRING_MAP),
        ("Duration", pa.uint64()),
        ("StatusCode", pa.string()),
        ("StatusMessage", pa.string()),
        ("event_ts", pa.list_(pa.int64())),
        ("event_name", pa.list_(pa.string())),
        ("event_attrs", pa.list_(STRING_MAP)),
        ("link_trace", pa.list_(pa.string())),
        ("link_span", pa.list_(pa.string())),
        ("link_state", pa.list_(pa.string())),
        ("link_attrs", pa.list_(STRING_MAP)),
    ]
)


def _row(s: Span) -> dict[str, Any]:
    return {
        "start": s.start_ns,
        "TraceId": s.trace_id,
        "SpanId": s.span_id,
        "ParentSpanId": s.parent_span_id,
        "TraceState": s.trace_state,
        "SpanName": s.name,
        "SpanKind": s.kind,
        "ServiceName": s.service_name,
        "ResourceAttributes": list(s.resource.items()),
        "ScopeName": s.scope_name,
        "ScopeVersion": s.scope_version,
        "SpanAttributes": list(s.attributes.items()),
        "Duration": s.duration_ns,
        "StatusCode": s.status_code,
        "StatusMessage": s.status_message,
        "event_ts": [e.timestamp_ns for e in s.events],
        "event_name": [e.name for e in s.events],
        "event_attrs": [list(e.attributes.items()) for e in s.events],
        "link_trace": [link.trace_id for link in s.links],
        "link_span": [link.span_id for link in s.links],
        "link_state": [link.trace_state for link in s.links],
        "link_attrs": [list(link.attributes.items()) for link in s.links],
    }


# No deadline: the first example pays for pyarrow building its first tables.
@settings(deadline=None)
@given(st.lists(spans, max_size=6), st.lists(spans, max_size=4), st.integers(0, 2))
def test_rows_in_any_chunks_come_back_as_the_same_spans(
    first: list[Span], second: list[Span], skip: int
) -> None:
    """Two record batches, the first sliced past ``skip`` leading rows, as a table whose
    columns have two chunks and offsets that do not start at 0."""
    head = pa.RecordBatch.from_pylist([_row(s) for s in first], schema=SCHEMA)
    tail = pa.RecordBatch.from_pylist([_row(s) for s in second], schema=SCHEMA)
    cut = min(skip, len(first))
    table = pa.Table.from_batches([head.slice(cut), tail], schema=SCHEMA)
    assert _spans(table) == [*first[cut:], *second]
    # One sliced chunk alone: its maps' offsets index its parent's keys and values.
    assert _spans(pa.Table.from_batches([head.slice(cut)], schema=SCHEMA)) == first[cut:]


def test_an_empty_read_is_no_spans() -> None:
    assert _spans(SCHEMA.empty_table()) == []
