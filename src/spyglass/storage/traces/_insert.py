"""The spans signal's insert: one flush of ``SpanBatch``es into the trace tables.

Every span becomes one ``otel_traces`` row. ``otel_traces_trace_id_ts`` gets one row per trace of
the flush with its first and last span start (in whole seconds, as the exporter's table has
them), and ``otel_traces_operations`` a row per service, span name, kind and day not yet known to
have one. The lookup rows go in before the spans: a reader that finds a span also finds its
trace's range.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from spyglass.core.spans import Span, SpanBatch
from spyglass.storage._backend import Backend
from spyglass.storage.schema import TRACE_ID_TS, TRACE_OPERATIONS, TRACES

_MAP = pa.map_(pa.string(), pa.string())
_NS = pa.timestamp("ns")
# DateTime64(9) ends in 2262 and DateTime in 2106: clip so one bad span cannot fail every retry
# of a flush (ingest keeps the times OTLP sends, which are unsigned 64-bit nanoseconds).
MAX_NS = 2**63 - 1
MAX_S = 4_294_967_295
DAY_S = 86_400


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
        spans = SpanBatch.concat(batches).spans
        n = len(spans)
        if not n:
            return 0
        start = np.fromiter((min(s.start_ns, MAX_NS) for s in spans), np.int64, n)
        seconds = np.clip(start // 1_000_000_000, 0, MAX_S)
        resource_ids: dict[int, int] = {}
        resources: list[Mapping[str, str]] = []
        resource_idx = np.empty(n, np.int64)
        for i, s in enumerate(spans):
            k = resource_ids.get(id(s.resource))
            if k is None:
                k = resource_ids[id(s.resource)] = len(resources)
                resources.append(s.resource)
            resource_idx[i] = k
        ranges: dict[str, tuple[int, int]] = {}
        new_ops: set[tuple[str, str, str, int]] = set()
        for s, sec in zip(spans, seconds.tolist(), strict=True):
            lo_hi = ranges.get(s.trace_id)
            if lo_hi is None:
                ranges[s.trace_id] = (sec, sec)
            elif sec < lo_hi[0] or sec > lo_hi[1]:
                ranges[s.trace_id] = (min(lo_hi[0], sec), max(lo_hi[1], sec))
            op = (s.service_name, s.name, s.kind, sec // DAY_S)
            if op not in self._seen:
                new_ops.add(op)
        table = pa.table(
            {
                "Timestamp": pa.array(start, _NS),
                "TraceId": _strings([s.trace_id for s in spans]),
                "SpanId": _strings([s.span_id for s in spans]),
                "ParentSpanId": _strings([s.parent_span_id for s in spans]),
                "TraceState": _strings([s.trace_state for s in spans]),
                "SpanName": _strings([s.name for s in spans]),
                "SpanKind": _strings([s.kind for s in spans]),
                "ServiceName": _strings([s.service_name for s in spans]),
                "ResourceAttributes": _maps([list(m.items()) for m in resources]).take(
                    pa.array(resource_idx)
                ),
                "ScopeName": _strings([s.scope_name for s in spans]),
                "ScopeVersion": _strings([s.scope_version for s in spans]),
                "SpanAttributes": _maps([list(s.attributes.items()) for s in spans]),
                "Duration": pa.array(
                    np.fromiter((min(max(s.duration_ns, 0), MAX_NS) for s in spans), np.uint64, n)
                ),
                "StatusCode": _strings([s.status_code for s in spans]),
                "StatusMessage": _strings([s.status_message for s in spans]),
                **_nested(spans),
            }
        )
        ids = list(ranges)
        self.backend.insert(
            TRACE_ID_TS,
            pa.table(
                {
                    "TraceId": _strings(ids),
                    "Start": pa.array(np.array([ranges[t][0] for t in ids], np.uint32)),
                    "End": pa.array(np.array([ranges[t][1] for t in ids], np.uint32)),
                }
            ),
        )
        if new_ops:
            ops = sorted(new_ops)
            self.backend.insert(
                TRACE_OPERATIONS,
                pa.table(
                    {
                        "Date": pa.array(np.array([o[3] for o in ops], np.int32), pa.date32()),
                        "ServiceName": _strings([o[0] for o in ops]),
                        "SpanName": _strings([o[1] for o in ops]),
                        "SpanKind": _strings([o[2] for o in ops]),
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


def _nested(spans: tuple[Span, ...]) -> dict[str, pa.Array]:
    """The Events.* and Links.* array columns. Most spans have neither, so each column is its
    flat values (of the spans that have some) cut by offsets, not a list per span."""
    ev_counts = np.fromiter((len(s.events) for s in spans), np.int32, len(spans))
    ln_counts = np.fromiter((len(s.links) for s in spans), np.int32, len(spans))
    events = [e for s in spans if s.events for e in s.events]
    links = [lk for s in spans if s.links for lk in s.links]
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
        "Events.Attributes": listed(ev_off, _maps([list(e.attributes.items()) for e in events])),
        "Links.TraceId": listed(ln_off, _strings([lk.trace_id for lk in links])),
        "Links.SpanId": listed(ln_off, _strings([lk.span_id for lk in links])),
        "Links.TraceState": listed(ln_off, _strings([lk.trace_state for lk in links])),
        "Links.Attributes": listed(ln_off, _maps([list(lk.attributes.items()) for lk in links])),
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


def _maps(values: list[list[tuple[str, str]]]) -> pa.Array:
    try:
        return pa.array(values, _MAP)
    except (pa.ArrowException, UnicodeError):
        return pa.array([[(_clean(k), _clean(v)) for k, v in m] for m in values], _MAP)


__all__ = ["SpansInserter"]
