"""SQL generation: matchers become bound parameters; the ClickHouse server backend sends it as is.

No ClickHouse server can run here, so ``ClickHouseBackend`` is checked against a stand-in client
that records the calls clickhouse-connect would receive.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from spyglass.core.errors import Unavailable
from spyglass.core.matchers import Matcher
from spyglass.storage.backends import ClickHouseBackend
from spyglass.storage.metrics import _sql
from spyglass.storage.schema import METRIC_TABLES, Schema, apply_schema


def test_matchers_bind_values_and_anchor_regexes() -> None:
    q = _sql.Query()
    cond = q.matchers(
        [
            Matcher.of("__name__", "=", "up"),
            Matcher.of("job", "!=", "a'b"),
            Matcher.of("path", "=~", "/api/.*"),
            Matcher.of("code", "!~", "5.."),
        ]
    )
    assert cond == (
        "(metric_name = {p0:String}) AND (labels[{p1:String}] != {p2:String}) AND "
        "(match(labels[{p3:String}], {p4:String})) AND "
        "(NOT match(labels[{p5:String}], {p6:String}))"
    )
    assert q.params == {
        "p0": "up",
        "p1": "job",
        "p2": "a'b",
        "p3": "path",
        "p4": "(?s)^(?:/api/.*)$",
        "p5": "code",
        "p6": "(?s)^(?:5..)$",
    }


def test_matcher_sets_or_together_and_empty_means_everything() -> None:
    q = _sql.Query()
    assert q.matcher_sets([]) == "1"
    both = q.matcher_sets([[Matcher.of("a", "=", "1")], [Matcher.of("b", "=", "2")]])
    assert both == "((labels[{p0:String}] = {p1:String})) OR ((labels[{p2:String}] = {p3:String}))"


def test_day_range_is_clamped_to_the_clickhouse_date_range() -> None:
    assert _sql.day_of(-5) == 0
    assert _sql.day_of(86_400_000 * 3 + 1) == 3
    assert _sql.day_of(2**62) == _sql.MAX_DAY
    assert _sql.day_text(0) == "1970-01-01"
    assert _sql.day_text(_sql.MAX_DAY) == "2149-06-06"


def test_samples_query_reads_final_only_when_asked_and_orders_by_series_then_time() -> None:
    q = _sql.Query()
    sql = _sql.samples_sql(q, "(7,8)", 1000, 2000)
    assert "FROM metric_samples WHERE" in sql
    assert "fingerprint IN (7,8)" in sql
    assert sql.endswith("ORDER BY fingerprint, timestamp_ms")
    assert q.params == {"p0": 1000, "p1": 2000}
    assert "FROM metric_samples FINAL WHERE" in _sql.samples_sql(q, "(7)", 1000, 2000, final=True)


def test_fingerprint_set_is_a_literal_until_long_then_the_series_query() -> None:
    q = _sql.Query()
    up = [Matcher.of("__name__", "=", "up")]
    assert _sql.fingerprint_set(q, [2**64 - 1, 5], up, 1000, 2000) == "(18446744073709551615,5)"
    assert q.params == {}
    many = list(range(_sql.MAX_LITERAL_FINGERPRINTS + 1))
    sub = _sql.fingerprint_set(q, many, up, 1000, 2000)
    assert sub.startswith("(SELECT DISTINCT fingerprint FROM metric_series WHERE date BETWEEN")
    assert "metric_name = {p0:String}" in sub
    assert q.params["p1"] == q.params["p2"] == "1970-01-01"


class RecordingClient:
    """Stands in for clickhouse_connect's Client: records calls, answers system.tables."""

    def __init__(self, engine_full: str = "") -> None:
        self.calls: list[tuple[str, Any]] = []
        self.engine_full = engine_full
        self.closed = False

    def command(self, cmd: str, parameters: Any = None) -> None:
        self.calls.append(("command", cmd))

    def query_arrow(
        self, query: str, parameters: Any = None, use_strings: bool = False
    ) -> pa.Table:
        self.calls.append(("query", (query, parameters)))
        names = [parameters[k] for k in ("t0", "t1", "t2")] if parameters else []
        return pa.table({"name": names, "engine_full": [self.engine_full] * len(names)})

    def insert_arrow(self, table: str, arrow_table: pa.Table, settings: Any = None) -> None:
        self.calls.append(("insert", (table, arrow_table.column_names, settings)))

    def close(self) -> None:
        self.closed = True


def test_clickhouse_backend_sends_the_same_schema_sql() -> None:
    client = RecordingClient(
        engine_full="MergeTree TTL x + toIntervalSecond(1) SETTINGS fsync_after_insert = 1"
    )
    backend = ClickHouseBackend(client=client)
    schema = Schema(METRIC_TABLES, retention_ms=86_400_000, cluster="c1")
    run = apply_schema(backend, schema)
    commands = [c[1] for c in client.calls if c[0] == "command"]
    assert commands == run
    assert commands[: len(schema.create_statements())] == schema.create_statements()
    # The stored TTL differs from one day, so both TTLs are altered on the local tables.
    assert commands[-2:] == [
        schema.modify_ttl_statement("metric_samples"),
        schema.modify_ttl_statement("metric_series"),
    ]
    query = next(c[1] for c in client.calls if c[0] == "query")
    assert query[1] == {
        "t0": "metric_samples_local",
        "t1": "metric_series_local",
        "t2": "metric_metadata_local",
    }
    backend.insert("metric_samples", pa.table({"fingerprint": [1], "value": [1.0]}))
    assert client.calls[-1] == (
        "insert",
        ("metric_samples", ["fingerprint", "value"], {"insert_distributed_sync": 1}),
    )
    backend.close()
    assert client.closed


def test_clickhouse_backend_turns_driver_errors_into_unavailable() -> None:
    class Broken(RecordingClient):
        def command(self, cmd: str, parameters: Any = None) -> None:
            raise ConnectionError("refused")

    backend = ClickHouseBackend(client=Broken())
    with pytest.raises(Unavailable, match="refused"):
        backend.command("SELECT 1")


def test_unreachable_server_is_unavailable_and_password_is_not_shown() -> None:
    with pytest.raises(Unavailable) as info:
        ClickHouseBackend("http://user:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value)


def test_queries_use_their_own_connections_so_inserts_do_not_wait_for_them() -> None:
    """One write connection and a pool of read connections, each its own server session."""
    made: list[RecordingClient] = []

    def factory() -> RecordingClient:
        made.append(RecordingClient())
        return made[-1]

    backend = ClickHouseBackend(client_factory=factory, readers=2)
    assert len(made) == 3
    backend.insert("metric_samples", pa.table({"fingerprint": [1]}))
    backend.command("SELECT 1")
    backend.query_arrow("SELECT 2")
    writer, *readers = made
    assert [c[0] for c in writer.calls] == ["insert", "command"]
    assert sum(len(r.calls) for r in readers) == 1
    backend.close()
    assert all(c.closed for c in made)
