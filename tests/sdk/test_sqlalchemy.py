"""SQL query duration by operation and table from engine events (SQLite in memory)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from spyglass.sdk import Health, Status, instrument_sqlalchemy, parse_statement, sqlalchemy_check


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM users WHERE id = ?", ("select", "users")),
        ('  select a from "Orders" o join x', ("select", "orders")),
        ("INSERT INTO audit_log (a) VALUES (1)", ("insert", "audit_log")),
        ("UPDATE accounts SET x = 1", ("update", "accounts")),
        ("DELETE FROM sessions", ("delete", "sessions")),
        ("/* hint */ SELECT 1", ("select", "unknown")),
        ("SELECT * FROM public.users", ("select", "public.users")),
        ("EXPLAIN SELECT 1", ("other", "unknown")),
        ("", ("other", "unknown")),
    ],
)
def test_parse_statement(sql: str, expected: tuple[str, str]) -> None:
    assert parse_statement(sql) == expected


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_parse_statement_bounds_label_values(sql: str) -> None:
    op, table = parse_statement(sql)
    assert op.isalpha()
    assert op.islower()
    assert len(table) <= 64


def test_engine_queries_are_timed_by_operation_and_table() -> None:
    reg = CollectorRegistry()
    engine = create_engine("sqlite://")
    instrument_sqlalchemy(engine, registry=reg)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(text("INSERT INTO users (name) VALUES ('a'), ('b')"))
        conn.execute(text("SELECT * FROM users")).all()
        conn.execute(text("SELECT name FROM users WHERE id = 1")).all()
        with pytest.raises(OperationalError):
            conn.execute(text("SELECT * FROM missing_table"))

    def count(op: str, table: str) -> float | None:
        labels = {"operation": op, "table": table}
        return reg.get_sample_value("db_query_duration_seconds_count", labels)

    assert count("select", "users") == 2
    assert count("insert", "users") == 1
    assert count("create", "unknown") == 1
    errors = {"operation": "select", "table": "missing_table"}
    assert reg.get_sample_value("db_query_errors_total", errors) == 1
    engine.dispose()


def test_async_engine_queries_and_health_check() -> None:
    pytest.importorskip("aiosqlite", reason="aiosqlite is needed for an async SQLite engine")
    pytest.importorskip("greenlet", reason="SQLAlchemy's asyncio layer needs greenlet")
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415 - needs greenlet

    reg = CollectorRegistry()
    engine = create_async_engine("sqlite+aiosqlite://")
    instrument_sqlalchemy(engine, registry=reg)

    async def run() -> Status:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        health = Health(ttl_s=0.0)
        health.add(sqlalchemy_check(engine))
        status = (await health.report()).status
        await engine.dispose()
        return status

    assert asyncio.run(run()) is Status.HEALTHY
    labels = {"operation": "insert", "table": "t"}
    assert reg.get_sample_value("db_query_duration_seconds_count", labels) == 1
    assert reg.get_sample_value("db_query_duration_seconds_count", {"operation": "select",
                                "table": "unknown"}) == 1  # fmt: skip
