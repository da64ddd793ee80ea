"""The spans signal, described once: its tables, retention, WAL codec and insert.

- tables: ``schema.TRACE_TABLES`` (``otel_traces``, ``otel_traces_trace_id_ts``,
  ``otel_traces_operations``);
- retention: ``--traces-retention``, or ``--retention`` when that is empty;
- batches: ``core.spans.SpanBatch`` (of ``Span``s or ``SpanColumns``), counted in spans;
- WAL records: ``_codec.SpansCodec``;
- insert: ``_insert.SpansInserter``.
"""

from __future__ import annotations

from spyglass.core.spans import SpanBatch
from spyglass.storage.schema import TRACE_TABLES
from spyglass.storage.signals import Signal
from spyglass.storage.traces._codec import SpansCodec
from spyglass.storage.traces._insert import SpansInserter

SPANS: Signal[SpanBatch] = Signal(
    name="spans",
    tables=TRACE_TABLES,
    retention_setting="traces_retention",
    unit="spans",
    codec=SpansCodec,
    inserter=SpansInserter,
)

__all__ = ["SPANS"]
