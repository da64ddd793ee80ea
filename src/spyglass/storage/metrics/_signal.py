"""The metrics signal, described once: its tables, retention, WAL codec and insert.

- tables: ``schema.METRIC_TABLES`` (``metric_samples``, ``metric_series``, ``metric_metadata``);
- retention: ``--metrics-retention``, or ``--retention`` when that is empty;
- batches: ``core.samples.SampleBatch``, counted in samples;
- WAL records: ``_codec.MetricsCodec`` (labels once per segment);
- insert: ``_insert.MetricsInserter``.
"""

from __future__ import annotations

from spyglass.core.samples import SampleBatch
from spyglass.storage.metrics._codec import MetricsCodec
from spyglass.storage.metrics._insert import MetricsInserter
from spyglass.storage.schema import METRIC_TABLES
from spyglass.storage.signals import Signal

METRICS: Signal[SampleBatch] = Signal(
    name="metrics",
    tables=METRIC_TABLES,
    retention_setting="metrics_retention",
    unit="samples",
    codec=MetricsCodec,
    inserter=MetricsInserter,
)

__all__ = ["METRICS"]
