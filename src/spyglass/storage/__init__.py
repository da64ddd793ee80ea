"""Storage layer: the only code that speaks SQL.

Public surface: the ports domains and ingest depend on (``Querier``, ``BatchQuerier`` with its
``Selection``, ``GridQuerier`` with its ``GridRequest`` and ``GridSeries``, ``SampleSink``,
``MetadataReader``, ``SeriesData``, ``StateStore`` with its ``StateDocument`` and
``JournalEntry``, and for logs ``LogSink``, ``LogReader`` with its ``LogSelection`` and
``LineFilter``, and ``LogCounter`` with its ``LogCountRequest`` and ``LogCounts``) and the
in-memory ``MemoryStore`` and ``MemoryLogStore`` for tests. The concrete
parts (``backends``, each signal's package such as ``metrics``, ``pipeline``, ``wal``,
``writer``, ``schema``, the control-plane store in ``state``) are imported by the composition
root and by storage itself only; the import contracts in pyproject.toml enforce it.
"""

from spyglass.storage.memory import MemoryStore
from spyglass.storage.memory_logs import MemoryLogStore
from spyglass.storage.ports import (
    BatchQuerier,
    GridQuerier,
    GridRequest,
    GridSeries,
    JournalEntry,
    LineFilter,
    LogCounter,
    LogCountRequest,
    LogCounts,
    LogReader,
    LogSelection,
    LogSink,
    MetadataReader,
    Querier,
    SampleSink,
    Selection,
    SeriesData,
    StateDocument,
    StateStore,
)

__all__ = [
    "BatchQuerier",
    "GridQuerier",
    "GridRequest",
    "GridSeries",
    "JournalEntry",
    "LineFilter",
    "LogCountRequest",
    "LogCounter",
    "LogCounts",
    "LogReader",
    "LogSelection",
    "LogSink",
    "MemoryLogStore",
    "MemoryStore",
    "MetadataReader",
    "Querier",
    "SampleSink",
    "Selection",
    "SeriesData",
    "StateDocument",
    "StateStore",
]
