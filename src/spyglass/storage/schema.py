"""Every signal's tables: the one module that owns the DDL.

A table is data (``Table``): its columns with their codecs, engine, order, partitioning and TTL
expression. ``Schema`` renders one signal's tables for one server or a cluster, with that
signal's retention, and ``apply_schema`` creates what is missing and issues ``ALTER TABLE ...
MODIFY TTL`` when the configured retention differs from the stored one. With a cluster name the
tables are created ``ON CLUSTER`` as replicated ``*_local`` tables behind ``Distributed`` tables
of the plain names, so every query keeps the same SQL.

The metrics tables (DESIGN.md: MergeTree ordered by series and time, codecs, LowCardinality, Map,
TTL):

``metric_samples``
    One row per sample, ordered by ``(fingerprint, timestamp_ms)`` and partitioned by UTC day, so a
    range query reads a few contiguous granules per series and retention drops whole days.
    ``ReplacingMergeTree``: a sample written twice (a WAL replay after a crash that happened
    between insert and checkpoint) collapses to one row on merge.
``metric_series``
    One row per series per UTC day it had samples: the per-day label index, like the index of
    a Prometheus block. ``/api/v1/series`` and ``/labels`` with a time range read only those days.
``metric_metadata``
    ``# TYPE``/``# HELP``/``# UNIT`` per metric family, latest report wins.

The logs tables (``otel_logs``, one row per record, laid out like the OpenTelemetry Collector
ClickHouse exporter's table, and ``log_streams``, the per-hour stream index LogQL selectors read)
are described next to their definitions below.

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
class Ttl:
    """Retention as a ClickHouse TTL: a row expires ``slack_s`` seconds after ``expr`` (a
    DateTime of the row's time) plus its signal's retention."""

    expr: str
    slack_s: int = 0


@dataclass(frozen=True, slots=True)
class Table:
    """One table as data: everything ``CREATE TABLE`` needs, rendered by ``Schema``.

    Every table fsyncs its inserts (``DURABLE``): a signal's WAL forgets records once they are
    inserted. A table with a ``ttl`` also drops only whole expired parts
    (``ttl_only_drop_parts``), which is cheap with day partitions.
    """

    name: str
    columns: tuple[str, ...]
    engine: str  # a MergeTree family engine: MergeTree, ReplacingMergeTree, ...
    order_by: str
    version: str = ""  # ReplacingMergeTree's version column
    partition_by: str = ""
    ttl: Ttl | None = None
    settings: tuple[str, ...] = ()
    shard_key: str = ""  # how a Distributed table spreads rows over shards (cluster mode)


METRIC_TABLES = (
    Table(
        SAMPLES,
        (
            f"fingerprint UInt64 {FP_CODEC}",
            f"timestamp_ms Int64 {TS_CODEC}",
            f"value Float64 {VALUE_CODEC}",
        ),
        "ReplacingMergeTree",
        "(fingerprint, timestamp_ms)",
        partition_by=f"intDiv(timestamp_ms, {DAY_MS})",
        ttl=Ttl("toDateTime(intDiv(timestamp_ms, 1000))"),
        settings=(SAMPLES_GRANULES,),
        shard_key="fingerprint",
    ),
    Table(
        SERIES,
        (
            "date Date",
            "fingerprint UInt64",
            "metric_name LowCardinality(String)",
            "labels Map(LowCardinality(String), String)",
        ),
        "ReplacingMergeTree",
        "(metric_name, fingerprint, date)",
        partition_by="date",
        # A series row covers a whole day, so it lives one day longer than that day's start.
        ttl=Ttl("toDateTime(date)", slack_s=86_400),
        shard_key="fingerprint",
    ),
    Table(
        METADATA,
        (
            "metric_family String",
            "type LowCardinality(String)",
            "help String",
            "unit String",
            "updated_ms Int64",
        ),
        "ReplacingMergeTree",
        "metric_family",
        version="updated_ms",
        shard_key="cityHash64(metric_family)",
    ),
)
TABLES = tuple(t.name for t in METRIC_TABLES)

# The logs tables. ``otel_logs`` keeps the OpenTelemetry Collector ClickHouse exporter's names
# and types for the columns both have (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber,
# ServiceName, Body, ResourceAttributes, LogAttributes), so tools written for that table read
# ours; it adds what LogQL needs: the stream's fingerprint and the order records were written
# in. The stream's labels live once per stream and hour in ``log_streams``, not on every row: a
# per-row Map of them cost about a third of the insert's CPU and nothing read it
# (docs/decisions.md); tables made before keep their ``StreamLabels`` column, which new rows
# leave empty. The exporter's scope and schema-URL columns are left out (Loki keeps the scope in
# structured metadata, and so does Spyglass: LogAttributes).
#
# ORDER BY (ServiceName, StreamFingerprint, Timestamp): a LogQL read selects streams, then a
# time range; ServiceName first keeps the exporter's primary key prefix, and it is a function
# of the stream (its service_name label), so a stream's rows stay contiguous. The trailing
# hash of the body makes the sorting key Loki's duplicate rule (same stream, timestamp and
# line): ReplacingMergeTree collapses a record inserted twice (a WAL replay after a crash
# between insert and checkpoint) on merge. Body search (``|=``) is ``LIKE '%needle%'``, a scan
# of the Body column inside the streams and time range, as Loki scans its chunks: there is no
# skip index on Body. The exporter's token bloom filter (tokenbf_v1(32768, 3, 0) GRANULARITY 8)
# cost a quarter of the insert's CPU, again on every merge, and pruned almost nothing (LIKE can
# use only the needle's inner tokens, and eight granules of unique request ids fill it); an
# ngram filter would prune but more than doubled the insert's CPU (docs/decisions.md, "Logs").
# Tables made before keep their index.
LOGS = "otel_logs"
LOG_STREAMS = "log_streams"
HOUR_MS = 3_600_000
LOG_TABLES = (
    Table(
        LOGS,
        (
            "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
            "ObservedTimestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
            "TraceId String CODEC(ZSTD(1))",
            "SpanId String CODEC(ZSTD(1))",
            "SeverityText LowCardinality(String) CODEC(ZSTD(1))",
            "SeverityNumber UInt8",
            "ServiceName LowCardinality(String) CODEC(ZSTD(1))",
            "Body String CODEC(ZSTD(1))",
            "ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))",
            "LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))",
            "StreamFingerprint UInt64 CODEC(ZSTD(1))",
            "WriteOrder UInt64 CODEC(Delta(8), ZSTD(1))",
            "INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1",
        ),
        "ReplacingMergeTree",
        "(ServiceName, StreamFingerprint, Timestamp, cityHash64(Body))",
        partition_by="toDate(Timestamp)",
        ttl=Ttl("toDateTime(Timestamp)"),
        shard_key="StreamFingerprint",
    ),
    Table(
        LOG_STREAMS,
        (
            "hour DateTime",
            "fingerprint UInt64",
            "service_name LowCardinality(String)",
            "labels Map(LowCardinality(String), String)",
        ),
        "ReplacingMergeTree",
        "(service_name, fingerprint, hour)",
        partition_by="toDate(hour)",
        # A stream row covers a whole hour, so it lives one hour longer than that hour's start.
        ttl=Ttl("hour", slack_s=3_600),
        shard_key="fingerprint",
    ),
)

# The error events table: one row per Sentry event, the whole event as JSON (``Event``, the
# errors codec's object, for the event's page) beside the columns issue pages filter and count
# by. ORDER BY (ProjectId, IssueKey, Timestamp, EventId): an issue's events, newest first, and
# its hourly counts read one contiguous range; ReplacingMergeTree collapses an event inserted
# twice (a WAL replay after a crash between insert and checkpoint). The event id and trace id
# have bloom filters for lookups by id.
ERROR_EVENTS = "error_events"
ERROR_TABLES = (
    Table(
        ERROR_EVENTS,
        (
            "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
            "ReceivedTimestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
            "ProjectId UInt64",
            "EventId String CODEC(ZSTD(1))",
            "IssueKey String CODEC(ZSTD(1))",
            "Level LowCardinality(String)",
            "Platform LowCardinality(String)",
            "Release LowCardinality(String)",
            "Environment LowCardinality(String)",
            "Transaction String CODEC(ZSTD(1))",
            "Message String CODEC(ZSTD(1))",
            "UserId String CODEC(ZSTD(1))",
            "UserKey String CODEC(ZSTD(1))",
            "TraceId String CODEC(ZSTD(1))",
            "SpanId String CODEC(ZSTD(1))",
            "Tags Map(LowCardinality(String), String) CODEC(ZSTD(1))",
            "Event String CODEC(ZSTD(3))",
            "INDEX idx_event_id EventId TYPE bloom_filter(0.001) GRANULARITY 1",
            "INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1",
        ),
        "ReplacingMergeTree",
        "(ProjectId, IssueKey, Timestamp, EventId)",
        partition_by="toDate(Timestamp)",
        ttl=Ttl("toDateTime(Timestamp)"),
        shard_key="cityHash64(IssueKey)",
    ),
)


# The trace tables, laid out as the OpenTelemetry Collector ClickHouse exporter lays out
# ``otel_traces`` and ``otel_traces_trace_id_ts`` (same names and types), so tools written for
# the exporter's tables read ours.
#
# ``otel_traces``: one row per span. ORDER BY the exporter's (ServiceName, SpanName, time), which
# is how a search narrows (a service, often an operation, a time range), then TraceId and SpanId.
# A plain MergeTree, as the exporter's: a span inserted twice (a WAL replay after a crash between
# insert and checkpoint, a client's retry) stays twice and every read keeps each (TraceId,
# SpanId) once. ReplacingMergeTree would collapse such pairs on merge, but it cost twice the CPU
# a span at insert (docs/decisions.md); data dirs made before keep their ReplacingMergeTree
# table, which reads the same. The bloom
# filter on TraceId is what a trace-by-id read uses inside its time range; the minmax index on
# Duration lets a minDuration search skip granules of short spans; the attribute bloom filters
# are the exporter's and serve tag searches.
#
# ``otel_traces_trace_id_ts``: a trace's first and last span start, ordered by TraceId, so a
# trace by id reads one narrow time range of ``otel_traces``. The exporter fills it with a
# materialized view; Spyglass's inserter writes it (one row per trace per flush; a read takes
# min and max), which works the same on a cluster's Distributed tables.
#
# ``otel_traces_operations``: each service's (span name, kind) per day, written by the inserter
# when it first sees one: what Jaeger's services and operations lists read, without scanning
# spans.
TRACES = "otel_traces"
TRACE_GRANULES = "index_granularity = 1024, min_compress_block_size = 8192"
TRACE_ID_TS = "otel_traces_trace_id_ts"
TRACE_OPERATIONS = "otel_traces_operations"
TRACE_TABLES = (
    Table(
        TRACES,
        (
            "Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))",
            "TraceId String CODEC(ZSTD(1))",
            "SpanId String CODEC(ZSTD(1))",
            "ParentSpanId String CODEC(ZSTD(1))",
            "TraceState String CODEC(ZSTD(1))",
            "SpanName LowCardinality(String) CODEC(ZSTD(1))",
            "SpanKind LowCardinality(String) CODEC(ZSTD(1))",
            "ServiceName LowCardinality(String) CODEC(ZSTD(1))",
            "ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))",
            "ScopeName String CODEC(ZSTD(1))",
            "ScopeVersion String CODEC(ZSTD(1))",
            "SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1))",
            "Duration UInt64 CODEC(ZSTD(1))",
            "StatusCode LowCardinality(String) CODEC(ZSTD(1))",
            "StatusMessage String CODEC(ZSTD(1))",
            "`Events.Timestamp` Array(DateTime64(9)) CODEC(ZSTD(1))",
            "`Events.Name` Array(LowCardinality(String)) CODEC(ZSTD(1))",
            "`Events.Attributes` Array(Map(LowCardinality(String), String)) CODEC(ZSTD(1))",
            "`Links.TraceId` Array(String) CODEC(ZSTD(1))",
            "`Links.SpanId` Array(String) CODEC(ZSTD(1))",
            "`Links.TraceState` Array(String) CODEC(ZSTD(1))",
            "`Links.Attributes` Array(Map(LowCardinality(String), String)) CODEC(ZSTD(1))",
            "INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1",
            "INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) "
            "GRANULARITY 1",
            "INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) "
            "GRANULARITY 1",
            "INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1",
            "INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) "
            "GRANULARITY 1",
            "INDEX idx_duration Duration TYPE minmax GRANULARITY 1",
        ),
        "MergeTree",
        "(ServiceName, SpanName, toDateTime(Timestamp), TraceId, SpanId)",
        partition_by="toDate(Timestamp)",
        ttl=Ttl("toDateTime(Timestamp)"),
        settings=(TRACE_GRANULES,),
        shard_key="cityHash64(TraceId)",
    ),
    Table(
        TRACE_ID_TS,
        (
            "TraceId String CODEC(ZSTD(1))",
            "Start DateTime CODEC(Delta(4), ZSTD(1))",
            "End DateTime CODEC(Delta(4), ZSTD(1))",
            "INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1",
        ),
        "MergeTree",
        "(TraceId, Start)",
        partition_by="toDate(Start)",
        ttl=Ttl("Start"),
        shard_key="cityHash64(TraceId)",
    ),
    Table(
        TRACE_OPERATIONS,
        (
            "Date Date",
            "ServiceName LowCardinality(String)",
            "SpanName LowCardinality(String)",
            "SpanKind LowCardinality(String)",
        ),
        "ReplacingMergeTree",
        "(ServiceName, SpanKind, SpanName, Date)",
        partition_by="toYYYYMM(Date)",
        # A row covers a whole day, so it lives one day longer than that day's start.
        ttl=Ttl("toDateTime(Date)", slack_s=86_400),
        shard_key="cityHash64(ServiceName)",
    ),
)


# Exemplars (``storage/exemplars``): one row per exemplar with its series' labels, few enough
# (at most one per series and scrape or push) that carrying the labels beats a join; the metric
# name leads the order because /api/v1/query_exemplars always names metrics.
EXEMPLARS = "metric_exemplars"
EXEMPLAR_TABLES = (
    Table(
        EXEMPLARS,
        (
            "metric_name LowCardinality(String)",
            f"fingerprint UInt64 {FP_CODEC}",
            f"timestamp_ms Int64 {TS_CODEC}",
            "value Float64",
            "series Map(LowCardinality(String), String) CODEC(ZSTD(1))",
            "labels Map(LowCardinality(String), String) CODEC(ZSTD(1))",
        ),
        "ReplacingMergeTree",
        "(metric_name, fingerprint, timestamp_ms)",
        partition_by=f"intDiv(timestamp_ms, {DAY_MS})",
        ttl=Ttl("toDateTime(intDiv(timestamp_ms, 1000))"),
        shard_key="fingerprint",
    ),
)


@dataclass(frozen=True, slots=True)
class Schema:
    """DDL for one signal's tables with its retention, on one server or a cluster."""

    tables: tuple[Table, ...]
    retention_ms: int = DEFAULT_RETENTION_MS
    cluster: str = ""

    @property
    def retention_s(self) -> int:
        """Retention in whole seconds, at least one and at most ``MAX_RETENTION_S``."""
        return min(MAX_RETENTION_S, max(1, math.ceil(self.retention_ms / 1000)))

    def table(self, name: str) -> Table:
        """The table called ``name``."""
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def _on_cluster(self) -> str:
        return f" ON CLUSTER {_ident(self.cluster)}" if self.cluster else ""

    def storage_name(self, table: str) -> str:
        """The table that holds the data: ``*_local`` in cluster mode."""
        return f"{table}_local" if self.cluster else table

    def _engine(self, t: Table) -> str:
        if not self.cluster:
            return f"{t.engine}({t.version})"
        args = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
        if t.version:
            args += f", {t.version}"
        return f"Replicated{t.engine}({args})"

    def ttl_seconds(self, table: str) -> int | None:
        """The TTL interval ``table`` should have (None: it keeps rows until deleted)."""
        ttl = self.table(table).ttl
        return None if ttl is None else self.retention_s + ttl.slack_s

    def ttl_clause(self, table: str) -> str:
        """The TTL expression of ``table``."""
        ttl = self.table(table).ttl
        if ttl is None:
            raise ValueError(f"{table} has no TTL")
        return f"{ttl.expr} + toIntervalSecond({self.retention_s + ttl.slack_s})"

    def create_statement(self, t: Table) -> str:
        """``CREATE TABLE IF NOT EXISTS`` of the table holding ``t``'s data."""
        columns = ",\n".join(f"    {c}" for c in t.columns)
        lines = [
            f"CREATE TABLE IF NOT EXISTS {self.storage_name(t.name)}{self._on_cluster()} (",
            columns,
            f") ENGINE = {self._engine(t)}",
        ]
        if t.partition_by:
            lines.append(f"PARTITION BY {t.partition_by}")
        lines.append(f"ORDER BY {t.order_by}")
        settings = [*t.settings, DURABLE]
        if t.ttl is not None:
            lines.append(f"TTL {self.ttl_clause(t.name)}")
            settings.insert(0, "ttl_only_drop_parts = 1")
        lines.append(f"SETTINGS {', '.join(settings)}")
        return "\n".join(lines)

    def create_statements(self) -> list[str]:
        """``CREATE TABLE IF NOT EXISTS`` statements, storage tables first."""
        out = [self.create_statement(t) for t in self.tables]
        if self.cluster:
            on = self._on_cluster()
            c = _quote(self.cluster)
            for t in self.tables:
                out.append(
                    f"CREATE TABLE IF NOT EXISTS {t.name}{on} AS {t.name}_local\n"
                    f"ENGINE = Distributed({c}, currentDatabase(), '{t.name}_local', "
                    f"{t.shard_key or 'rand()'})"
                )
        return out

    def modify_ttl_statement(self, table: str) -> str:
        """``ALTER TABLE ... MODIFY TTL`` setting ``table``'s TTL to this retention."""
        return (
            f"ALTER TABLE {self.storage_name(table)}{self._on_cluster()} "
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
    storage = [schema.storage_name(t.name) for t in schema.tables]
    names = {f"t{i}": name for i, name in enumerate(storage)}
    found = backend.query_arrow(
        "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() "  # noqa: S608
        f"AND name IN ({', '.join(f'{{{p}:String}}' for p in names)})",
        names,
    ).to_pylist()
    engines = {row["name"]: row["engine_full"] for row in found}
    for t, stored in zip(schema.tables, storage, strict=True):
        engine = engines.get(stored, "")
        stmts = []
        want = schema.ttl_seconds(t.name)
        if want is not None and stored_ttl_seconds(engine) != want:
            stmts.append(schema.modify_ttl_statement(t.name))
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
    "DURABLE",
    "ERROR_EVENTS",
    "ERROR_TABLES",
    "EXEMPLARS",
    "EXEMPLAR_TABLES",
    "HOUR_MS",
    "LOGS",
    "LOG_STREAMS",
    "LOG_TABLES",
    "MAX_RETENTION_S",
    "METADATA",
    "METRIC_TABLES",
    "SAMPLES",
    "SERIES",
    "TABLES",
    "TRACES",
    "TRACE_ID_TS",
    "TRACE_OPERATIONS",
    "TRACE_TABLES",
    "Schema",
    "Table",
    "Ttl",
    "apply_schema",
    "stored_ttl_seconds",
]
