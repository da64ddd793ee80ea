"""The storage package's public surface."""

import spyglass.storage as storage
import spyglass.storage.backends as backends
import spyglass.storage.state as state
from spyglass.storage.ports import MetadataReader, Querier, SampleSink


def test_public_names() -> None:
    assert sorted(storage.__all__) == [
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
    assert sorted(backends.__all__) == [
        "CHDB_SUBDIR",
        "ChdbBackend",
        "ClickHouseBackend",
        "DataDirLocked",
        "open_backend",
    ]
    assert sorted(state.__all__) == [
        "MAX_NAME_BYTES",
        "STATE_FILE",
        "SqlStateStore",
        "open_state_store",
    ]
    for module in (storage, state):
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_metrics_store_satisfies_the_ports() -> None:
    """MetricsStore has every method of Querier, MetadataReader and SampleSink."""
    for port in (Querier, MetadataReader, SampleSink):
        for name in port.__dict__:
            if not name.startswith("_") and callable(getattr(port, name)):
                assert callable(getattr(storage.MetricsStore, name)), name
