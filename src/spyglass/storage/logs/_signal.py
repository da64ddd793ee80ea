"""The logs signal, described once: its tables, retention, WAL codec and insert.

- tables: ``schema.LOG_TABLES`` (``otel_logs``, ``log_streams``);
- retention: ``--logs-retention``, or ``--retention`` when that is empty;
- batches: ``core.logs.LogBatch``, counted in records and bytes (``LogBatch.nbytes``);
- WAL records: ``_codec.LogsCodec``;
- insert: ``_insert.LogsInserter``.
"""

from __future__ import annotations

from spyglass.core.logs import LogBatch
from spyglass.storage.logs._codec import LogsCodec
from spyglass.storage.logs._insert import LogsInserter
from spyglass.storage.schema import LOG_TABLES
from spyglass.storage.signals import Signal

LOGS: Signal[LogBatch] = Signal(
    name="logs",
    tables=LOG_TABLES,
    retention_setting="logs_retention",
    unit="records",
    codec=LogsCodec,
    inserter=LogsInserter,
    nbytes=lambda batch: batch.nbytes,
)

__all__ = ["LOGS"]
