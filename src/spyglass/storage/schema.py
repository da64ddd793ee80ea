"""The metrics tables: the one module that owns their DDL.

Three tables (DESIGN.md: MergeTree ordered by series and time, codecs, LowCardinality, Map, TTL):

``metric_samples``
    One row per sample, ordered by ``(fingerprint, timestamp_ms)`` and partitioned by UTC day, so a
    range query reads a few contiguous granules per series and retention drops whole days.
    ``ReplacingMergeTree``: a sample written twice (a WAL replay after a crash that happened
    between insert and checkpoint) collapses to one row; queries read with ``FINAL``.
``metric_series``
    One row per series per UTC day it had samples: the per-day label index, like the index of
    a Prometheus block. ``/api/v1/series`` and ``/labels`` with a time range read only those days.
``metric_metadata``
    ``# TYPE``/``# HELP``/``# UNIT`` per metric family, latest report wins.

Retention is a TTL clause on the first two tables; ``apply_schema`` creates what is missing and
issues ``ALTER TABLE ... MODIFY TTL`` when the configured retention differs from the stored one.
With a cluster name the tables are created ``ON CLUSTER`` as replicated ``*_local`` tables
behind ``Distributed`` tables of the plain names, so every query keeps the same SQL.

Codecs were chosen by measuring bytes per sample on scrape-like data (15 s interval with
+-50 ms jitter; counters, gauges with few significant digits, constants), with
bench/storage_metrics.py: ``Delta`` then a light ZSTD won for both timestamps and values, ahead of
the textbook DoubleDelta and Gorilla (figures next to the constants below).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from spyglass.storage._backend import Backend

SAMPLES = "metric_samples"
SERIES = "metric_series"
METADATA = "metric_metadata"
TABLES = (SAMPLES, SERIES, METADATA)

DAY_MS = 86_400_000
DEFAULT_RETENTION_MS = 15 * DAY_MS
# TTL expressions are DateTime (seconds, UInt32, ends in 2106): a longer interval would wrap
# around and expire everything at once, so retention is capped at 50 years.
MAX_RETENTION_S = 50 * 365 * 86_400

# Measured by bench/storage_metrics.py (1k series x 24 h, bytes/sample after OPTIMIZE FINAL):
# timestamps Delta+ZSTD(1) 0.96 vs DoubleDelta+ZSTD(1) 1.29, ZSTD(1) 2.27; values Delta+ZSTD(1)
# 0.53 vs Gorilla+ZSTD(1) 0.78, ZSTD(1) 0.78, FPC+ZSTD(1) 0.81; fingerprints ZSTD(1) 0.008 vs
# Delta+ZSTD(1) 0.011. Delta on Float64 works on the raw bits, so it is lossless (NaN bits too).
# Values use LZ4 rather than ZSTD because reading them is most of a range query's storage time:
# on the PromQL bench data (2,520 series, one merged part) a 1 h range read in 145 ms instead of
# 219 ms, a 6 h range in 227 instead of 313, for 4.30 instead of 2.74 bytes/sample in all.
TS_CODEC = "CODEC(Delta(8), ZSTD(1))"
VALUE_CODEC = "CODEC(Delta(8), LZ4)"
FP_CODEC = "CODEC(ZSTD(1))"

# The WAL deletes a segment once its records are inserted, so an insert must be on disk when it
# returns, not only in the page cache: otherwise a power cut after the checkpoint loses it.
# Measured cost on a 200k-row flush: within run-to-run noise.
DURABLE = "fsync_after_insert = 1, fsync_part_directory = 1"

# A query reads whole granules, and a granule is decompressed as a whole block. With the default
# 8,192 rows a series' day (5,760 samples at 15 s) sits in one or two granules, so a 1 h range read
# all of it. 1,024-row granules with blocks of about one granule halve the read time of a 1 h range
# over 2,520 series (bench data, one merged part: 489 -> 268 ms) for 6% more disk (2.59 -> 2.74
# bytes/sample); in 64 KiB blocks the same granules read in 483 ms. Existing tables keep the
# settings they were created with.
SAMPLES_GRANULES = "index_granularity = 1024, min_compress_block_size = 8192"

_TTL_SECONDS_RE = re.compile(r"TTL .*?(?:toIntervalSecond\((\d+)\)|INTERVAL (\d+) SECOND)")


@dataclass(frozen=True, slots=True)
class Schema:
    """DDL for the metrics tables with a given retention and optional cluster."""

    retention_ms: int = DEFAULT_RETENTION_MS
    cluster: str = ""

    @property
    def retention_s(self) -> int:
        """Retention in whole seconds, at least one and at most ``MAX_RETENTION_S``."""
        return min(MAX_RETENTION_S, max(1, math.ceil(self.retention_ms / 1000)))

    def _on_cluster(self) -> str:
        return f" ON CLUSTER {_ident(self.cluster)}" if self.cluster else ""

    def _storage_name(self, table: str) -> str:
        """The table that holds the data: ``*_local`` in cluster mode."""
        return f"{table}_local" if self.cluster else table

    def _engine(self, kind: str, version: str = "") -> str:
        if not self.cluster:
            return f"{kind}({version})"
        args = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
        if version:
            args += f", {version}"
        return f"Replicated{kind}({args})"

    def ttl_clause(self, table: str) -> str:
        """The TTL expression of ``table`` (samples and series only)."""
        if table == SAMPLES:
            return f"toDateTime(intDiv(timestamp_ms, 1000)) + toIntervalSecond({self.retention_s})"
        if table == SERIES:
            # A series row covers a whole day, so it lives one day longer than that day's start.
            return f"toDateTime(date) + toIntervalSecond({self.retention_s + 86_400})"
        raise ValueError(f"{table} has no TTL")

    def create_statements(self) -> list[str]:
        """``CREATE TABLE IF NOT EXISTS`` statements, storage tables first."""
        on = self._on_cluster()
        samples = self._storage_name(SAMPLES)
        series = self._storage_name(SERIES)
        metadata = self._storage_name(METADATA)
        out = [
            f"CREATE TABLE IF NOT EXISTS {samples}{on} (\n"
            f"    fingerprint UInt64 {FP_CODEC},\n"
            f"    timestamp_ms Int64 {TS_CODEC},\n"
            f"    value Float64 {VALUE_CODEC}\n"
            f") ENGINE = {self._engine('ReplacingMergeTree')}\n"
            f"PARTITION BY intDiv(timestamp_ms, {DAY_MS})\n"
            f"ORDER BY (fingerprint, timestamp_ms)\n"
            f"TTL {self.ttl_clause(SAMPLES)}\n"
            f"SETTINGS ttl_only_drop_parts = 1, {SAMPLES_GRANULES}, {DURABLE}",
            f"CREATE TABLE IF NOT EXISTS {series}{on} (\n"
            f"    date Date,\n"
            f"    fingerprint UInt64,\n"
            f"    metric_name LowCardinality(String),\n"
            f"    labels Map(LowCardinality(String), String)\n"
            f") ENGINE = {self._engine('ReplacingMergeTree')}\n"
            f"PARTITION BY date\n"
            f"ORDER BY (metric_name, fingerprint, date)\n"
            f"TTL {self.ttl_clause(SERIES)}\n"
            f"SETTINGS ttl_only_drop_parts = 1, {DURABLE}",
            f"CREATE TABLE IF NOT EXISTS {metadata}{on} (\n"
            f"    metric_family String,\n"
            f"    type LowCardinality(String),\n"
            f"    help String,\n"
            f"    unit String,\n"
            f"    updated_ms Int64\n"
            f") ENGINE = {self._engine('ReplacingMergeTree', 'updated_ms')}\n"
            f"ORDER BY metric_family\n"
            f"SETTINGS {DURABLE}",
        ]
        if self.cluster:
            c = _quote(self.cluster)
            keys = {
                SAMPLES: "fingerprint",
                SERIES: "fingerprint",
                METADATA: "cityHash64(metric_family)",
            }
            for table in TABLES:
                out.append(
                    f"CREATE TABLE IF NOT EXISTS {table}{on} AS {table}_local\n"
                    f"ENGINE = Distributed({c}, currentDatabase(), '{table}_local', {keys[table]})"
                )
        return out

    def modify_ttl_statement(self, table: str) -> str:
        """``ALTER TABLE ... MODIFY TTL`` setting ``table``'s TTL to this retention."""
        return (
            f"ALTER TABLE {self._storage_name(table)}{self._on_cluster()} "
            f"MODIFY TTL {self.ttl_clause(table)}"
        )


def stored_ttl_seconds(engine_full: str) -> int | None:
    """The TTL interval (seconds) in a table's ``engine_full`` text, or None without one."""
    m = _TTL_SECONDS_RE.search(engine_full)
    if m is None:
        return None
    return int(m.group(1) or m.group(2))


def apply_schema(backend: Backend, schema: Schema) -> list[str]:
    """Create missing tables, bring TTLs to the configured retention and make inserts durable on
    tables created before that setting; returns the SQL run."""
    run: list[str] = []
    for stmt in schema.create_statements():
        backend.command(stmt)
        run.append(stmt)
    storage = [schema._storage_name(t) for t in TABLES]
    found = backend.query_arrow(
        "SELECT name, engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND name IN ({t0:String}, {t1:String}, {t2:String})",
        {"t0": storage[0], "t1": storage[1], "t2": storage[2]},
    ).to_pylist()
    engines = {row["name"]: row["engine_full"] for row in found}
    for table, stored in zip(TABLES, storage, strict=True):
        engine = engines.get(stored, "")
        stmts = []
        if table != METADATA:
            want = schema.retention_s + (86_400 if table == SERIES else 0)
            if stored_ttl_seconds(engine) != want:
                stmts.append(schema.modify_ttl_statement(table))
        if "fsync_after_insert = 1" not in engine:
            stmts.append(f"ALTER TABLE {stored}{schema._on_cluster()} MODIFY SETTING {DURABLE}")
        for stmt in stmts:
            backend.command(stmt)
            run.append(stmt)
    return run


def _ident(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


__all__ = [
    "DAY_MS",
    "DEFAULT_RETENTION_MS",
    "MAX_RETENTION_S",
    "METADATA",
    "SAMPLES",
    "SERIES",
    "TABLES",
    "Schema",
    "apply_schema",
    "stored_ttl_seconds",
]
