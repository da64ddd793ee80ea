"""The spans signal's insert: one flush of ``SpanBatch``es into the trace tables.

Every span becomes one ``otel_traces`` row. ``otel_traces_trace_id_ts`` gets one row per trace of
the flush with its first and last span start (in whole seconds, as the exporter's table has
them), and ``otel_traces_operations`` a row per service, span name, kind and day not yet known to
have one. The lookup rows go in before the spans: a reader that finds a span also finds its
trace's range.

A flush of ``SpanColumns`` batches becomes Arrow arrays from the columns' own buffers
(``columns_table``); one with ``Span``s in it takes the object path (``spans_table``), to the same
rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from spyglass.core.spans import (
    SPAN_KINDS,
    STATUS_CODES,
    Span,
    SpanBatch,
    SpanColumns,
    SpanEvent,
    SpanLink,
    Texts,
)
from spyglass.storage._backend import Backend
from spyglass.storage._interning import by_identity
from spyglass.storage.schema import TRACE_ID_TS, TRACE_OPERATIONS, TRACES

_START = attrgetter("start_ns")
_DURATION = attrgetter("duration_ns")
_RESOURCE = attrgetter("resource")
_ATTRIBUTES = attrgetter("attributes")
_TRACE_ID = attrgetter("trace_id")
_SPAN_ID = attrgetter("span_id")
_PARENT = attrgetter("parent_span_id")
_STATE = attrgetter("trace_state")
_NAME = attrgetter("name")
_KIND = attrgetter("kind")
_SERVICE = attrgetter("service_name")
_SCOPE = attrgetter("scope_name")
_SCOPE_VERSION = attrgetter("scope_version")
_STATUS = attrgetter("status_code")
_STATUS_MESSAGE = attrgetter("status_message")
_NS = pa.timestamp("ns")
# DateTime64(9) ends in 2262 and DateTime in 2106: clip so one bad span cannot fail every retry
# of a flush (ingest keeps the times OTLP sends, which are unsigned 64-bit nanoseconds).
MAX_NS = 2**63 - 1
MAX_S = 4_294_967_295
DAY_S = 86_400
_KIND_NAMES = pa.array(SPAN_KINDS, pa.string())
_STATUS_NAMES = pa.array(STATUS_CODES, pa.string())


class SpansInserter:
    """Inserts chunks of span batches on ``backend``; counts the operation rows it creates."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.operations_created = 0
        self._seen: set[tuple[str, str, str, int]] = set()  # (service, name, kind, day)
        self._newest_day = 0

    def __call__(self, batches: list[SpanBatch]) -> int:
        """Insert ``batches``; returns the spans stored. Raises if an insert fails (then
        nothing is remembered, so a retry writes the operation rows again)."""
        batch = SpanBatch.concat(batches)
        n = len(batch)
        if not n:
            return 0
        c = batch.columns
        table = columns_table(c) if c is not None else spans_table(batch.spans)
        trace_ids = table.column("TraceId")
        names = table.column("SpanName")
        kinds = table.column("SpanKind")
        services = table.column("ServiceName")
        start = table.column("Timestamp").cast(pa.int64()).to_numpy()
        seconds = pa.array(np.clip(start // 1_000_000_000, 0, MAX_S).astype(np.uint32))
        ranges = (
            pa.table({"TraceId": trace_ids, "sec": seconds})
            .group_by("TraceId")
            .aggregate([("sec", "min"), ("sec", "max")])
        )
        days = pa.array(seconds.to_numpy() // DAY_S)
        ops = pa.table({"s": services, "n": names, "k": kinds, "d": days}).group_by(
            ["s", "n", "k", "d"]
        )
        found = ops.aggregate([]).to_pydict()
        new_ops = {
            op
            for op in zip(found["s"], found["n"], found["k"], found["d"], strict=True)
            if op not in self._seen
        }
        self.backend.insert(
            TRACE_ID_TS,
            pa.table(
                {
                    "TraceId": ranges.column("TraceId"),
                    "Start": ranges.column("sec_min"),
                    "End": ranges.column("sec_max"),
                }
            ),
        )
        if new_ops:
            op_rows = sorted(new_ops)
            self.backend.insert(
                TRACE_OPERATIONS,
                pa.table(
                    {
                        "Date": pa.array(np.array([o[3] for o in op_rows], np.int32), pa.date32()),
                        "ServiceName": _strings([o[0] for o in op_rows]),
                        "SpanName": _strings([o[1] for o in op_rows]),
                        "SpanKind": _strings([o[2] for o in op_rows]),
                    }
                ),
            )
        self.backend.insert(TRACES, table)
        self._remember(new_ops)
        return n

    def _remember(self, ops: set[tuple[str, str, str, int]]) -> None:
        self.operations_created += len(ops)
        newest = max((o[3] for o in ops), default=0)
        if newest > self._newest_day:
            # Forget days before yesterday: spans arrive late by minutes, not by days, and a
            # row written twice collapses on merge anyway.
            self._newest_day = newest
            self._seen = {o for o in self._seen if o[3] >= newest - 1}
        self._seen.update(o for o in ops if o[3] >= self._newest_day - 1)


def spans_table(spans: tuple[Span, ...]) -> pa.Table:
    """The ``otel_traces`` rows of ``spans``."""
    n = len(spans)
    # Columns straight from the spans, one pass each in C where it can be (``map`` with an
    # attribute getter).
    start = _clipped(map(_START, spans), n)
    resources, resource_idx = by_identity(map(_RESOURCE, spans), n)
    duration = _clipped(map(_DURATION, spans), n)
    ev_counts = np.fromiter((len(s.events) for s in spans), np.int32, n)
    ln_counts = np.fromiter((len(s.links) for s in spans), np.int32, n)
    return pa.table(
        {
            "Timestamp": pa.array(start, _NS),
            "TraceId": _strings(list(map(_TRACE_ID, spans))),
            "SpanId": _strings(list(map(_SPAN_ID, spans))),
            "ParentSpanId": _strings(list(map(_PARENT, spans))),
            "TraceState": _strings(list(map(_STATE, spans))),
            "SpanName": _strings(list(map(_NAME, spans))),
            "SpanKind": _strings(list(map(_KIND, spans))),
            "ServiceName": _strings(list(map(_SERVICE, spans))),
            "ResourceAttributes": _maps(resources).take(pa.array(resource_idx)),
            "ScopeName": _strings(list(map(_SCOPE, spans))),
            "ScopeVersion": _strings(list(map(_SCOPE_VERSION, spans))),
            "SpanAttributes": _maps(list(map(_ATTRIBUTES, spans))),
            "Duration": pa.array(np.maximum(duration, 0).astype(np.uint64)),
            "StatusCode": _strings(list(map(_STATUS, spans))),
            "StatusMessage": _strings(list(map(_STATUS_MESSAGE, spans))),
            **_nested(
                ev_counts,
                [e for s in spans if s.events for e in s.events],
                ln_counts,
                [lk for s in spans if s.links for lk in s.links],
            ),
        }
    )


def columns_table(c: SpanColumns) -> pa.Table:
    """The ``otel_traces`` rows of ``c``, from its buffers: no Python object per span."""
    resource_idx = pa.array(c.resource_index)
    scope_idx = pa.array(c.scope_index)
    scopes = c.scopes
    return pa.table(
        {
            "Timestamp": pa.array(c.start_ns, _NS),
            "TraceId": _texts(c.trace_id),
            "SpanId": _texts(c.span_id),
            "ParentSpanId": _texts(c.parent_span_id),
            "TraceState": _texts(c.trace_state),
            "SpanName": _texts(c.name),
            "SpanKind": _KIND_NAMES.take(pa.array(c.kind)),
            "ServiceName": _strings(list(c.services)).take(resource_idx),
            "ResourceAttributes": _maps(list(c.resources)).take(resource_idx),
            "ScopeName": _strings([s[0] for s in scopes]).take(scope_idx),
            "ScopeVersion": _strings([s[1] for s in scopes]).take(scope_idx),
            "SpanAttributes": pa.MapArray.from_arrays(
                pa.array(c.attr_offsets.astype(np.int32)),
                _texts(c.attr_keys),
                _texts(c.attr_values),
            ),
            "Duration": pa.array(np.maximum(c.duration_ns, 0).astype(np.uint64)),
            "StatusCode": _STATUS_NAMES.take(pa.array(c.status)),
            "StatusMessage": _texts(c.status_message),
            **_nested(
                np.diff(c.event_offsets).astype(np.int32),
                list(c.events),
                np.diff(c.link_offsets).astype(np.int32),
                list(c.links),
            ),
        }
    )


def _texts(t: Texts) -> pa.Array:
    # Arrow's string layout is ``Texts``' own: the buffers go in as they are.
    return pa.StringArray.from_buffers(
        len(t), pa.py_buffer(t.offsets.astype(np.int32)), pa.py_buffer(t.data)
    )


def _clipped(values: Iterable[int], n: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """``n`` nanosecond values as int64, those past its end cut to ``MAX_NS``."""
    items = list(values)
    try:
        return np.fromiter(items, np.int64, n)
    except OverflowError:
        return np.fromiter((min(v, MAX_NS) for v in items), np.int64, n)


def _nested(
    ev_counts: npt.NDArray[np.int32],
    events: list[SpanEvent],
    ln_counts: npt.NDArray[np.int32],
    links: list[SpanLink],
) -> dict[str, pa.Array]:
    """The Events.* and Links.* array columns. Most spans have neither, so each column is its
    flat values (of the spans that have some) cut by offsets, not a list per span."""
    ev_off = pa.array(np.concatenate(([0], np.cumsum(ev_counts))).astype(np.int32))
    ln_off = pa.array(np.concatenate(([0], np.cumsum(ln_counts))).astype(np.int32))

    def listed(offsets: pa.Array, values: pa.Array) -> pa.Array:
        return pa.ListArray.from_arrays(offsets, values)

    return {
        "Events.Timestamp": listed(
            ev_off,
            pa.array(np.fromiter((min(e.timestamp_ns, MAX_NS) for e in events), np.int64), _NS),
        ),
        "Events.Name": listed(ev_off, _strings([e.name for e in events])),
        "Events.Attributes": listed(ev_off, _maps([e.attributes for e in events])),
        "Links.TraceId": listed(ln_off, _strings([lk.trace_id for lk in links])),
        "Links.SpanId": listed(ln_off, _strings([lk.span_id for lk in links])),
        "Links.TraceState": listed(ln_off, _strings([lk.trace_state for lk in links])),
        "Links.Attributes": listed(ln_off, _maps([lk.attributes for lk in links])),
    }


def _clean(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _strings(values: list[str]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowException, UnicodeError):
        # Text that is not valid Unicode (lone surrogates) would fail every retry and block
        # all later flushes; store it with replacement characters instead.
        return pa.array([_clean(v) for v in values], pa.string())


def _maps(values: list[Mapping[str, str]]) -> pa.Array:
    """A Map column from mappings: every name and every value flat, cut by offsets (Arrow
    converts two flat string lists much faster than a list of pairs per row)."""
    keys: list[str] = []
    items: list[str] = []
    for m in values:
        if m:
            keys += m
            items += m.values()
    offsets = np.zeros(len(values) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, values), np.int32, len(values)), out=offsets[1:])
    return pa.MapArray.from_arrays(pa.array(offsets), _strings(keys), _strings(items))


__all__ = ["SpansInserter", "columns_table", "spans_table"]
