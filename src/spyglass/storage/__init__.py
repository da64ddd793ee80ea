"""Storage layer: the only code that speaks SQL.

Public surface: the ports (``Querier``, ``SampleSink``, ``MetadataReader``, ``SeriesData``,
``StateStore`` with its ``StateDocument`` and ``JournalEntry``), the in-memory ``MemoryStore`` for
tests, the ClickHouse-backed ``MetricsStore`` with its ``StoreStats``, the ``Backend`` protocol,
and the metrics ``Schema``. The concrete backends live in ``spyglass.storage.backends``, which
only the composition root imports; it opens the control-plane state store with
``spyglass.storage.state.open_state_store``.
"""

from spyglass.storage._backend import Backend
from spyglass.storage.memory import MemoryStore
from spyglass.storage.metrics import MetricsStore, StoreStats
from spyglass.storage.ports import (
    JournalEntry,
    MetadataReader,
    Querier,
    SampleSink,
    SeriesData,
    StateDocument,
    StateStore,
)
from spyglass.storage.schema import Schema, apply_schema
from spyglass.storage.wal import Wal, WalStats

__all__ = [
    "Backend",
    "JournalEntry",
    "MemoryStore",
    "MetadataReader",
    "MetricsStore",
    "Querier",
    "SampleSink",
    "Schema",
    "SeriesData",
    "StateDocument",
    "StateStore",
    "StoreStats",
    "Wal",
    "WalStats",
    "apply_schema",
]
