"""The error events signal, described once: its table, retention, WAL codec and insert.

- tables: ``schema.ERROR_TABLES`` (``error_events``);
- retention: ``--errors-retention``, or ``--retention`` when that is empty;
- batches: ``core.error_events.ErrorBatch``, counted in events;
- WAL records: ``_codec.ErrorsCodec``;
- insert: ``_insert.ErrorsInserter``.
"""

from __future__ import annotations

from spyglass.core.error_events import ErrorBatch
from spyglass.storage.errors._codec import ErrorsCodec
from spyglass.storage.errors._insert import ErrorsInserter
from spyglass.storage.schema import ERROR_TABLES
from spyglass.storage.signals import Signal

ERRORS: Signal[ErrorBatch] = Signal(
    name="errors",
    tables=ERROR_TABLES,
    retention_setting="errors_retention",
    unit="events",
    codec=ErrorsCodec,
    inserter=ErrorsInserter,
)

__all__ = ["ERRORS"]
