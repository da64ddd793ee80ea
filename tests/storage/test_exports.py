"""The storage package's public surface: ports and the in-memory store only (issue: concrete
storage is the composition root's business)."""

import spyglass.storage as storage
import spyglass.storage.backends as backends
import spyglass.storage.logs as logs
import spyglass.storage.metrics as metrics
import spyglass.storage.state as state
from spyglass.storage.ports import (
    GridQuerier,
    LogReader,
    LogSink,
    MetadataReader,
    Querier,
    SampleSink,
)


def test_public_names() -> None:
    assert sorted(storage.__all__) == [
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
    assert sorted(backends.__all__) == [
        "Backend",
        "CHDB_SUBDIR",
        "ChdbBackend",
        "ClickHouseBackend",
        "DataDirLocked",
        "open_backend",
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
    assert sorted(state.__all__) == [
        "MAX_NAME_BYTES",
        "STATE_FILE",
        "SqlStateStore",
        "open_state_store",
    ]
    for module in (storage, backends, metrics, logs, state):
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_metrics_store_satisfies_the_ports() -> None:
    """MetricsStore has every method of Querier, GridQuerier, MetadataReader and SampleSink."""
    for port in (Querier, GridQuerier, MetadataReader, SampleSink):
        for name in port.__dict__:
            if not name.startswith("_") and callable(getattr(port, name)):
                assert callable(getattr(metrics.MetricsStore, name)), name


def test_log_store_satisfies_the_ports() -> None:
    """LogStore has every method of LogReader and LogSink."""
    for port in (LogReader, LogSink):
        for name in port.__dict__:
            if not name.startswith("_") and callable(getattr(port, name)):
                assert callable(getattr(logs.LogStore, name)), name
