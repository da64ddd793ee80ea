"""The metrics schema: created on chDB with TTL and codecs; retention changes become ALTERs."""

from __future__ import annotations

import pyarrow as pa
import pytest

from spyglass.storage.backends import ChdbBackend
from spyglass.storage.schema import (
    DAY_MS,
    FP_CODEC,
    METADATA,
    METRIC_TABLES,
    SAMPLES,
    SERIES,
    TS_CODEC,
    VALUE_CODEC,
    Schema,
    apply_schema,
    stored_ttl_seconds,
)


def _engine_full(backend: ChdbBackend, table: str) -> str:
    rows = backend.query_arrow(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
        "AND name = {t:String}",
        {"t": table},
    ).to_pylist()
    return str(rows[0]["engine_full"]) if rows else ""


def test_tables_are_created_with_ttl_order_and_codecs(backend: ChdbBackend) -> None:
    apply_schema(backend, Schema(METRIC_TABLES, retention_ms=15 * DAY_MS))
    samples = _engine_full(backend, SAMPLES)
    assert samples.startswith("ReplacingMergeTree")
    assert "ORDER BY (fingerprint, timestamp_ms)" in samples
    assert "PARTITION BY intDiv(timestamp_ms, 86400000)" in samples
    assert stored_ttl_seconds(samples) == 15 * 86_400
    series = _engine_full(backend, SERIES)
    assert "ORDER BY (metric_name, fingerprint, date)" in series
    assert stored_ttl_seconds(series) == 16 * 86_400  # a day row lives to the end of its day
    assert _engine_full(backend, METADATA).startswith("ReplacingMergeTree(updated_ms)")

    cols = backend.query_arrow(
        "SELECT table, name, type, compression_codec FROM system.columns "
        "WHERE database = currentDatabase() AND table IN ('metric_samples', 'metric_series')"
    ).to_pylist()
    by_name = {(c["table"], c["name"]): c for c in cols}
    assert by_name[(SAMPLES, "timestamp_ms")]["compression_codec"] == TS_CODEC
    assert by_name[(SAMPLES, "value")]["compression_codec"] == VALUE_CODEC
    assert by_name[(SAMPLES, "fingerprint")]["compression_codec"] == FP_CODEC
    assert by_name[(SERIES, "metric_name")]["type"] == "LowCardinality(String)"
    assert by_name[(SERIES, "labels")]["type"] == "Map(LowCardinality(String), String)"


def test_applying_twice_changes_nothing_and_retention_change_alters_ttl(
    backend: ChdbBackend,
) -> None:
    first = apply_schema(backend, Schema(METRIC_TABLES, retention_ms=15 * DAY_MS))
    assert not any("MODIFY TTL" in s for s in first)
    again = apply_schema(backend, Schema(METRIC_TABLES, retention_ms=15 * DAY_MS))
    assert not any("MODIFY TTL" in s for s in again)
    changed = apply_schema(backend, Schema(METRIC_TABLES, retention_ms=30 * DAY_MS))
    assert sum("MODIFY TTL" in s for s in changed) == 2
    assert stored_ttl_seconds(_engine_full(backend, SAMPLES)) == 30 * 86_400
    assert stored_ttl_seconds(_engine_full(backend, SERIES)) == 31 * 86_400


def test_expired_samples_are_dropped_by_ttl(backend: ChdbBackend) -> None:
    """Retention is enforced by ClickHouse itself: rows past the TTL do not stay."""
    apply_schema(backend, Schema(METRIC_TABLES, retention_ms=DAY_MS))
    backend.insert(
        SAMPLES,
        pa.table(
            {
                "fingerprint": pa.array([1, 1], pa.uint64()),
                "timestamp_ms": pa.array([86_400_000, 4_000_000_000_000], pa.int64()),
                "value": pa.array([1.0, 2.0]),
            }
        ),
    )
    backend.command(f"OPTIMIZE TABLE {SAMPLES} FINAL")
    rows = backend.query_arrow(f"SELECT timestamp_ms FROM {SAMPLES}").to_pylist()
    assert rows == [{"timestamp_ms": 4_000_000_000_000}]


def test_retention_is_capped_so_the_ttl_datetime_cannot_wrap() -> None:
    assert Schema(METRIC_TABLES, retention_ms=10**15).retention_s == 50 * 365 * 86_400
    assert Schema(METRIC_TABLES, retention_ms=1).retention_s == 1


def test_cluster_mode_generates_on_cluster_replicated_and_distributed_tables() -> None:
    schema = Schema(METRIC_TABLES, retention_ms=7 * DAY_MS, cluster="main")
    stmts = schema.create_statements()
    assert len(stmts) == 6
    assert all(" ON CLUSTER main " in s for s in stmts)
    local = [s for s in stmts if s.split()[5].endswith("_local")]
    assert len(local) == 3
    assert all("ENGINE = ReplicatedReplacingMergeTree(" in s for s in local)
    assert "'{replica}', updated_ms)" in local[2]
    dist = [s for s in stmts if "Distributed(" in s]
    assert [s.split()[5] for s in dist] == [SAMPLES, SERIES, METADATA]
    assert "Distributed('main', currentDatabase(), 'metric_samples_local', fingerprint)" in dist[0]
    assert "cityHash64(metric_family)" in dist[2]
    alter = schema.modify_ttl_statement(SAMPLES)
    assert alter.startswith("ALTER TABLE metric_samples_local ON CLUSTER main MODIFY TTL ")
    assert alter.endswith("toIntervalSecond(604800)")


def test_cluster_name_that_is_not_an_identifier_is_quoted() -> None:
    stmts = Schema(METRIC_TABLES, cluster="my-cluster").create_statements()
    assert " ON CLUSTER `my-cluster` " in stmts[0]
    assert "Distributed('my-cluster'," in stmts[3]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("MergeTree ORDER BY x TTL toDateTime(d) + toIntervalSecond(86400) SETTINGS a = 1", 86400),
        ("MergeTree ORDER BY x TTL d + INTERVAL 60 SECOND", 60),
        ("MergeTree ORDER BY x SETTINGS index_granularity = 8192", None),
    ],
)
def test_stored_ttl_is_read_back_from_engine_text(text: str, want: int | None) -> None:
    assert stored_ttl_seconds(text) == want


def test_cluster_ddl_parses_in_clickhouse(backend: ChdbBackend) -> None:
    """No cluster can run here; ClickHouse's own parser (formatQuery) still checks the SQL."""
    schema = Schema(METRIC_TABLES, retention_ms=7 * DAY_MS, cluster="main")
    stmts = [*schema.create_statements(), schema.modify_ttl_statement(SAMPLES)]
    for stmt in stmts:
        rows = backend.query_arrow("SELECT formatQuery({q:String}) AS f", {"q": stmt}).to_pylist()
        assert "ON CLUSTER main" in rows[0]["f"]


def test_inserts_are_fsynced_also_on_tables_made_before_that_setting(
    backend: ChdbBackend,
) -> None:
    """Samples must be on disk before the WAL forgets them, so every table fsyncs inserts."""
    backend.command(
        f"CREATE TABLE {METADATA} (metric_family String, type LowCardinality(String), "
        "help String, unit String, updated_ms Int64) "
        "ENGINE = ReplacingMergeTree(updated_ms) ORDER BY metric_family"
    )
    run = apply_schema(backend, Schema(METRIC_TABLES))
    assert [s for s in run if "MODIFY SETTING" in s] == [
        f"ALTER TABLE {METADATA} MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1"
    ]
    for table in (SAMPLES, SERIES, METADATA):
        assert "fsync_after_insert = 1" in _engine_full(backend, table)
    assert not any("MODIFY" in s for s in apply_schema(backend, Schema(METRIC_TABLES)))
