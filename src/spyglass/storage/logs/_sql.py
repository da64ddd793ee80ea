"""SQL for reading the logs tables: stream matchers and leading line filters pushed down.

Values never enter the SQL text: each adds a ``{pN:Type}`` parameter (ClickHouse's string
literal escaping differs from LogQL's, so binding is the only safe way). Matchers read the
``labels`` Map of ``log_streams``, where a missing label reads as ``''``: Prometheus' and Loki's
rule that a matcher accepting the empty string also selects streams without the label.

Line filters follow LogQL: ``|=``/``!=`` are case-sensitive substring tests, written as
``LIKE '%needle%'`` (escaped), which a bloom filter skip index on ``Body`` can serve;
``|~``/``!~`` are unanchored RE2 searches, as ClickHouse's ``match`` is, with ``(?-s)`` in front
because ClickHouse lets ``.`` match a newline and Go's RE2 (Loki's) does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spyglass.core.matchers import Matcher, MatchOp
from spyglass.storage.ports import LineFilter
from spyglass.storage.schema import HOUR_MS, LOG_STREAMS, LOGS

SERVICE_LABEL = "service_name"
MAX_HOUR_S = 4_294_963_200


def hour_of(ns: int) -> int:
    """The start (seconds) of the UTC hour holding ``ns``, clamped to DateTime's range."""
    return min(MAX_HOUR_S, max(0, ns // 1_000_000 // HOUR_MS * 3_600))


class Query:
    """Collects parameters while SQL fragments are built."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def param(self, value: Any, type_: str) -> str:
        """A placeholder bound to ``value``."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{type_}}}"

    def matcher(self, m: Matcher) -> str:
        """The condition of one matcher on a ``log_streams`` row."""
        expr = f"labels[{self.param(m.name, 'String')}]"
        if m.op is MatchOp.EQUAL:
            return f"{expr} = {self.param(m.value, 'String')}"
        if m.op is MatchOp.NOT_EQUAL:
            return f"{expr} != {self.param(m.value, 'String')}"
        # Label regexes are anchored and '.' matches newlines, in Loki as in Prometheus.
        cond = f"match({expr}, {self.param(f'(?s)^(?:{m.value})$', 'String')})"
        return cond if m.op is MatchOp.REGEX else f"NOT {cond}"

    def matchers(self, matchers: Sequence[Matcher]) -> str:
        """All matchers of one set (AND); ``1`` for none. A ``service_name`` equality also
        narrows by the ``service_name`` column, the first key of the stream index."""
        conds = [f"({self.matcher(m)})" for m in matchers]
        for m in matchers:
            if m.name == SERVICE_LABEL and m.op is MatchOp.EQUAL and m.value:
                conds.insert(0, f"service_name = {self.param(m.value, 'String')}")
        return " AND ".join(conds) if conds else "1"

    def matcher_sets(self, sets: Sequence[Sequence[Matcher]]) -> str:
        """Any of the matcher sets (OR); ``1`` when there are none."""
        if not sets:
            return "1"
        return " OR ".join(f"({self.matchers(ms)})" for ms in sets)

    def hours(self, start_ns: int, end_ns: int) -> str:
        """``log_streams`` rows of the hours overlapping ``[start_ns, end_ns)``."""
        h0 = self.param(hour_of(start_ns), "UInt32")
        h1 = self.param(hour_of(max(start_ns, end_ns - 1)), "UInt32")
        return f"hour BETWEEN toDateTime({h0}) AND toDateTime({h1})"

    def line_filter(self, f: LineFilter) -> str:
        """The condition of one LogQL line filter on ``Body``."""
        if f.op in ("|=", "!="):
            escaped = f.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            cond = f"Body LIKE {self.param(f'%{escaped}%', 'String')}"
            return cond if f.op == "|=" else f"NOT ({cond})"
        if f.op in ("|~", "!~"):
            cond = f"match(Body, {self.param(f'(?-s){f.value}', 'String')})"
            return cond if f.op == "|~" else f"NOT {cond}"
        raise ValueError(f"unknown line filter {f.op!r}")


def streams_sql(q: Query, cond: str, start_ns: int, end_ns: int) -> str:
    """Fingerprint and labels of each stream matching ``cond`` in an hour of the range."""
    return (
        f"SELECT fingerprint, any(labels) AS label_map FROM {LOG_STREAMS} "  # noqa: S608 - values are bound
        f"WHERE {q.hours(start_ns, end_ns)} AND ({cond}) GROUP BY fingerprint"
    )


RECORD_COLUMNS = (
    "StreamFingerprint AS fp, toUnixTimestamp64Nano(Timestamp) AS ts, Body AS line, "
    "LogAttributes AS metadata, toUnixTimestamp64Nano(ObservedTimestamp) AS observed, "
    "SeverityText AS severity_text, SeverityNumber AS severity_number, TraceId AS trace_id, "
    "SpanId AS span_id, ResourceAttributes AS resource, WriteOrder AS write_order"
)


def records_sql(
    q: Query,
    fps: Sequence[int],
    start_ns: int,
    end_ns: int,
    *,
    line_filters: Sequence[LineFilter],
    direction: str,
    limit: int | None,
    final: bool = False,
) -> str:
    """Records of the streams ``fps`` in ``[start_ns, end_ns)`` passing the line filters, in
    ``direction`` with ties in write order, at most ``limit``."""
    conds = [
        f"StreamFingerprint IN {q.param(list(fps), 'Array(UInt64)')}",
        f"Timestamp >= fromUnixTimestamp64Nano({q.param(start_ns, 'Int64')})",
        f"Timestamp < fromUnixTimestamp64Nano({q.param(end_ns, 'Int64')})",
        *(q.line_filter(f) for f in line_filters),
    ]
    order = "Timestamp DESC, WriteOrder" if direction == "backward" else "Timestamp, WriteOrder"
    sql = (
        f"SELECT {RECORD_COLUMNS} FROM {LOGS}{' FINAL' if final else ''} "  # noqa: S608 - values are bound
        f"WHERE {' AND '.join(conds)} ORDER BY {order}"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql


def label_names_sql(q: Query, start_ns: int, end_ns: int) -> str:
    """Distinct stream label names in the hours of the range."""
    return (
        f"SELECT DISTINCT arrayJoin(mapKeys(labels)) AS name FROM {LOG_STREAMS} "  # noqa: S608
        f"WHERE {q.hours(start_ns, end_ns)}"
    )


def label_values_sql(q: Query, name: str, cond: str, start_ns: int, end_ns: int) -> str:
    """Distinct non-empty values of label ``name`` over matching streams in the range."""
    expr = f"labels[{q.param(name, 'String')}]"
    return (
        f"SELECT DISTINCT {expr} AS value FROM {LOG_STREAMS} "  # noqa: S608 - values are bound
        f"WHERE {q.hours(start_ns, end_ns)} AND ({cond}) AND {expr} != ''"
    )


__all__ = [
    "RECORD_COLUMNS",
    "Query",
    "hour_of",
    "label_names_sql",
    "label_values_sql",
    "records_sql",
    "streams_sql",
]
