"""The metrics signal in ClickHouse: its description (``METRICS``) and its store.

Modules in pipeline order: ``_codec`` (WAL records) → ``_insert`` (one flush into the tables) →
``_signal`` (the description tying them to the tables in ``storage.schema``) → ``_sql`` (label
matchers as SQL) → ``_head`` (recent samples in memory) → ``_merge`` (a range's ClickHouse and
head parts joined as columns) → ``_store`` (``MetricsStore``: the write path plus the
``Querier``). Only the composition root and storage itself import this package.
"""

from spyglass.storage.metrics._codec import MetricsCodec
from spyglass.storage.metrics._head import Head, HeadStats
from spyglass.storage.metrics._insert import MetricsInserter
from spyglass.storage.metrics._signal import METRICS
from spyglass.storage.metrics._store import DEFAULT_HEAD_WINDOW_MS, MetricsStore, StoreStats

__all__ = [
    "DEFAULT_HEAD_WINDOW_MS",
    "METRICS",
    "Head",
    "HeadStats",
    "MetricsCodec",
    "MetricsInserter",
    "MetricsStore",
    "StoreStats",
]
