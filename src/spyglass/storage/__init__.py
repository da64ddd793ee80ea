"""Storage layer: the only code that speaks SQL.

Public surface: the ports domains and ingest depend on (``Querier``, ``BatchQuerier`` with its
``Selection``, ``GridQuerier`` with its ``GridRequest`` and ``GridSeries``, ``SampleSink``,
``MetadataReader``, ``SeriesData``, ``StateStore`` with its ``StateDocument`` and
``JournalEntry``, for logs ``LogSink``, ``LogReader`` with its ``LogSelection`` and
``LineFilter``, and ``LogCounter`` with its ``LogCountRequest`` and ``LogCounts``, for spans
``SpanSink``, ``TraceReader`` with its ``TraceQuery``, ``SpanOperation`` and ``ServiceCall``,
and ``SpanLatencyReader`` with its ``OperationLatency``,
for errors ``ErrorEventSink``, ``ErrorEventReader`` with its ``ErrorEventQuery``, and
``IssueStore`` with its ``IssueUpdate``, for exemplars ``ExemplarSink`` and ``ExemplarReader``)
and the in-memory ``MemoryStore``, ``MemoryLogStore`` and ``MemorySpanStore`` for tests. The
concrete parts (``backends``, each signal's package such as ``metrics``, ``pipeline``, ``wal``,
``writer``, ``schema``, the control-plane store in ``state``) are imported by the composition
root and by storage itself only; the import contracts in pyproject.toml enforce it.
"""

from spyglass.storage.memory import MemoryStore
from spyglass.storage.memory_logs import MemoryLogStore
from spyglass.storage.memory_traces import MemorySpanStore
from spyglass.storage.ports import (
    BatchQuerier,
    ErrorEventQuery,
    ErrorEventReader,
    ErrorEventSink,
    ExemplarReader,
    ExemplarSink,
    GridQuerier,
    GridRequest,
    GridSeries,
    IssueStore,
    IssueUpdate,
    JournalEntry,
    LineFilter,
    LogCounter,
    LogCountRequest,
    LogCounts,
    LogReader,
    LogSelection,
    LogSink,
    MetadataReader,
    OperationLatency,
    Querier,
    SampleSink,
    Selection,
    SeriesData,
    ServiceCall,
    SpanLatencyReader,
    SpanOperation,
    SpanSink,
    StateDocument,
    StateStore,
    TraceQuery,
    TraceReader,
)

__all__ = [
    "BatchQuerier",
    "ErrorEventQuery",
    "ErrorEventReader",
    "ErrorEventSink",
    "ExemplarReader",
    "ExemplarSink",
    "GridQuerier",
    "GridRequest",
    "GridSeries",
    "IssueStore",
    "IssueUpdate",
    "JournalEntry",
    "LineFilter",
    "LogCountRequest",
    "LogCounter",
    "LogCounts",
    "LogReader",
    "LogSelection",
    "LogSink",
    "MemoryLogStore",
    "MemorySpanStore",
    "MemoryStore",
    "MetadataReader",
    "OperationLatency",
    "Querier",
    "SampleSink",
    "Selection",
    "SeriesData",
    "ServiceCall",
    "SpanLatencyReader",
    "SpanOperation",
    "SpanSink",
    "StateDocument",
    "StateStore",
    "TraceQuery",
    "TraceReader",
]
