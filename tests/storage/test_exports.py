"""The storage package's public surface: ports and the in-memory store only (issue: concrete
storage is the composition root's business)."""

import spyglass.storage as storage
import spyglass.storage.backends as backends
import spyglass.storage.exemplars as exemplars
import spyglass.storage.logs as logs
import spyglass.storage.metrics as metrics
import spyglass.storage.state as state
import spyglass.storage.traces as traces
from spyglass.storage.ports import (
    ColumnQuerier,
    ExemplarReader,
    ExemplarSink,
    GridQuerier,
    LogReader,
    LogSink,
    MetadataReader,
    Querier,
    SampleSink,
    SpanSink,
    TraceReader,
)


def test_public_names() -> None:
    assert sorted(storage.__all__) == [
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
    assert sorted(backends.__all__) == [
        "Backend",
        "CHDB_SUBDIR",
        "ChdbBackend",
        "ClickHouseBackend",
        "DataDirLocked",
        "open_backend",
        "release_startup_memory",
    ]
    assert sorted(metrics.__all__) == [
        "DEFAULT_HEAD_WINDOW_MS",
        "Head",
        "HeadStats",
        "METRICS",
        "MetricsCodec",
        "MetricsInserter",
        "MetricsStore",
        "StoreStats",
    ]
    assert sorted(logs.__all__) == [
        "LOGS",
        "LogStore",
        "LogStoreStats",
        "LogsCodec",
        "LogsInserter",
    ]
    assert sorted(traces.__all__) == [
        "MAX_LIMIT",
        "SPANS",
        "SpanStore",
        "SpanStoreStats",
        "SpansCodec",
        "SpansInserter",
    ]
    assert sorted(exemplars.__all__) == [
        "EXEMPLARS",
        "ExemplarStore",
        "ExemplarsCodec",
        "ExemplarsInserter",
    ]
    assert sorted(state.__all__) == [
        "MAX_NAME_BYTES",
        "STATE_FILE",
        "SqlStateStore",
        "open_state_store",
    ]
    for module in (storage, backends, metrics, logs, traces, exemplars, state):
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_metrics_store_satisfies_the_ports() -> None:
    """MetricsStore has every method of Querier, ColumnQuerier, GridQuerier, MetadataReader and
    SampleSink."""
    for port in (Querier, ColumnQuerier, GridQuerier, MetadataReader, SampleSink):
        for name in port.__dict__:
            if not name.startswith("_") and callable(getattr(port, name)):
                assert callable(getattr(metrics.MetricsStore, name)), name


def test_log_store_satisfies_the_ports() -> None:
    """LogStore has every method of LogReader and LogSink."""
    for port in (LogReader, LogSink):
        for name in port.__dict__:
            if not name.startswith("_") and callable(getattr(port, name)):
                assert callable(getattr(logs.LogStore, name)), name


def test_span_store_satisfies_the_ports() -> None:
    """SpanStore and MemorySpanStore have every method of TraceReader and SpanSink."""
    for port in (TraceReader, SpanSink):
        for name in port.__dict__:
            if not name.startswith("_") and callable(getattr(port, name)):
                assert callable(getattr(traces.SpanStore, name)), name
                assert callable(getattr(storage.MemorySpanStore, name)), name


def test_exemplar_store_satisfies_the_ports() -> None:
    """ExemplarStore has every method of ExemplarReader and ExemplarSink."""
    for port in (ExemplarReader, ExemplarSink):
        for name in port.__dict__:
            if not name.startswith("_") and callable(getattr(port, name)):
                assert callable(getattr(exemplars.ExemplarStore, name)), name
