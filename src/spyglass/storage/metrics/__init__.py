"""The metrics signal in ClickHouse: its description (``METRICS``) and its store.

Modules in pipeline order: ``_codec`` (WAL records) → ``_insert`` (one flush into the tables) →
``_signal`` (the description tying them to the tables in ``storage.schema``) → ``_sql`` (label
matchers as SQL) → ``_store`` (``MetricsStore``: the write path plus the ``Querier``). Only the
composition root and storage itself import this package.
"""

from spyglass.storage.metrics._codec import MetricsCodec
from spyglass.storage.metrics._insert import MetricsInserter
from spyglass.storage.metrics._signal import METRICS
from spyglass.storage.metrics._store import MetricsStore, StoreStats

__all__ = ["METRICS", "MetricsCodec", "MetricsInserter", "MetricsStore", "StoreStats"]
