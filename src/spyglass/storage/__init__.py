"""Storage layer: the only code that speaks SQL.

Public surface: the ports (``Querier``, ``SampleSink``, ``MetadataReader``, ``SeriesData``), the
in-memory ``MemoryStore`` for tests, the ClickHouse-backed ``MetricsStore`` with its
``StoreStats``, the ``Backend`` protocol, and the metrics ``Schema``. The concrete backends live
in ``spyglass.storage.backends``, which only the composition root imports.
"""

from spyglass.storage._backend import Backend
from spyglass.storage.memory import MemoryStore
from spyglass.storage.metrics import MetricsStore, StoreStats
from spyglass.storage.ports import MetadataReader, Querier, SampleSink, SeriesData
from spyglass.storage.schema import Schema, apply_schema
from spyglass.storage.wal import Wal, WalStats

__all__ = [
    "Backend",
    "MemoryStore",
    "MetadataReader",
    "MetricsStore",
    "Querier",
    "SampleSink",
    "Schema",
    "SeriesData",
    "StoreStats",
    "Wal",
    "WalStats",
    "apply_schema",
]
