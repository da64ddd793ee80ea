"""SQL query duration by operation and table, from SQLAlchemy engine events.

The operation is the statement's first keyword; the table is the first name after FROM, INTO,
UPDATE or JOIN. Both are bounded (identifier characters, 64 at most) so statements cannot make
label values without bound; anything unparsable is ``other``/``unknown``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from spyglass.sdk._timing import _collector, _registry

_OPERATIONS = frozenset(
    ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "DROP", "ALTER", "BEGIN",
     "COMMIT", "ROLLBACK", "MERGE", "REPLACE", "UPSERT", "TRUNCATE", "PRAGMA", "SHOW", "SET")
)  # fmt: skip
_FIRST_WORD = re.compile(r"\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*)*([A-Za-z]+)", re.S)
_TABLE = {
    "SELECT": re.compile(r"\bFROM\s+([\w.\"`\[\]]+)", re.I),
    "DELETE": re.compile(r"\bFROM\s+([\w.\"`\[\]]+)", re.I),
    "INSERT": re.compile(r"\bINTO\s+([\w.\"`\[\]]+)", re.I),
    "REPLACE": re.compile(r"\bINTO\s+([\w.\"`\[\]]+)", re.I),
    "UPDATE": re.compile(r"\bUPDATE\s+([\w.\"`\[\]]+)", re.I),
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}")
_START_KEY = "_spyglass_sdk_query_start"


def parse_statement(statement: str) -> tuple[str, str]:
    """(operation, table) of a SQL statement, e.g. ``("select", "users")``."""
    head = statement[:4096]
    first = _FIRST_WORD.match(head)
    op = first.group(1).upper() if first else ""
    if op not in _OPERATIONS:
        return "other", "unknown"
    table = "unknown"
    pattern = _TABLE.get(op)
    if pattern is not None:
        found = pattern.search(head)
        if found:
            name = found.group(1).strip('"`[]').replace('"', "").replace("`", "")
            if _IDENT.fullmatch(name):
                table = name.lower()
    return op.lower(), table


def instrument_sqlalchemy(engine: Any, *, registry: CollectorRegistry | None = None) -> None:
    """Record ``db_query_duration_seconds{operation,table}`` and ``db_query_errors_total`` for
    every statement ``engine`` (an Engine or AsyncEngine) executes."""
    from sqlalchemy import event  # noqa: PLC0415 - optional dependency

    target = getattr(engine, "sync_engine", engine)
    reg = _registry(registry)
    duration = _collector(
        reg, Histogram, "db_query_duration_seconds", "SQL statement duration.",
        ("operation", "table"),
    )  # fmt: skip
    errors = _collector(
        reg, Counter, "db_query_errors_total", "SQL statements that failed.",
        ("operation", "table"),
    )  # fmt: skip

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault(_START_KEY, []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        starts = conn.info.get(_START_KEY)
        if not starts:
            return
        elapsed = time.perf_counter() - starts.pop()
        duration.labels(*parse_statement(statement)).observe(elapsed)

    def failed(context: Any) -> None:
        statement = getattr(context, "statement", None) or ""
        conn = getattr(context, "connection", None)
        if conn is not None:
            starts = conn.info.get(_START_KEY)
            if starts:
                starts.pop()
        errors.labels(*parse_statement(statement)).inc()

    event.listen(target, "before_cursor_execute", before)
    event.listen(target, "after_cursor_execute", after)
    event.listen(target, "handle_error", failed)


__all__ = ["instrument_sqlalchemy", "parse_statement"]
