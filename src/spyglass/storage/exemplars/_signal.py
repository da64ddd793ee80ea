"""The exemplars signal, described once: its table, retention, WAL codec and insert.

- tables: ``schema.EXEMPLAR_TABLES`` (``metric_exemplars``);
- retention: ``--metrics-retention``, or ``--retention`` when that is empty (exemplars belong
  to their samples and go with them);
- batches: ``core.exemplars.ExemplarBatch``, counted in exemplars;
- WAL records: ``_codec.ExemplarsCodec``;
- insert: ``_insert.ExemplarsInserter``.
"""

from __future__ import annotations

from spyglass.core.exemplars import ExemplarBatch
from spyglass.storage.exemplars._codec import ExemplarsCodec
from spyglass.storage.exemplars._insert import ExemplarsInserter
from spyglass.storage.schema import EXEMPLAR_TABLES
from spyglass.storage.signals import Signal

EXEMPLARS: Signal[ExemplarBatch] = Signal(
    name="exemplars",
    tables=EXEMPLAR_TABLES,
    retention_setting="metrics_retention",
    unit="exemplars",
    codec=ExemplarsCodec,
    inserter=ExemplarsInserter,
)

__all__ = ["EXEMPLARS"]
