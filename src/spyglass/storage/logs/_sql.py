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
from spyglass.storage.ports import LineFilter, LogCountRequest
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


def counts_sql(
    q: Query,
    fps: Sequence[int],
    side_fps: Sequence[int],
    request: LogCountRequest,
    *,
    written_order: int,
) -> str:
    """Lines of the streams ``fps`` passing the line filters and written up to
    ``written_order``, counted per label source and span of steps: ``lo``..``hi`` are the first
    and last step whose window ``(t - range, t]`` holds the line, so a row adds its count to
    each of those steps. The side data (metadata, severity, trace and span ids) is part of the
    label source only for the streams in ``side_fps``; the others count by stream alone.

    Integer arithmetic on the nanosecond timestamp, shifted by whole steps so that every
    dividend is positive (``intDiv`` of negatives rounds toward zero): step ``k`` holds a line
    at ``ts`` when ``first + k*step - range < ts <= first + k*step``.
    """
    r = request
    shifts = r.range_ns // r.step_ns + 2
    u = (
        f"(toUnixTimestamp64Nano(Timestamp) - {q.param(r.first_ns, 'Int64')} "
        f"+ {q.param(shifts * r.step_ns, 'Int64')})"
    )
    step = q.param(r.step_ns, "Int64")
    lo = f"intDiv({u} + {step} - 1, {step}) - {shifts}"
    hi = f"intDiv({u} + {q.param(r.range_ns - 1, 'Int64')}, {step}) - {shifts}"
    start_ns = r.first_ns - r.range_ns + 1
    end_ns = r.first_ns + (r.steps - 1) * r.step_ns + 1
    side = f"StreamFingerprint IN {q.param(list(side_fps), 'Array(UInt64)')}"
    # The text is most of the table: read it only when its size is asked for (or filtered).
    size = "sum(length(Body))" if r.with_bytes else "toUInt64(0)"
    conds = [
        f"StreamFingerprint IN {q.param(list(fps), 'Array(UInt64)')}",
        f"Timestamp >= fromUnixTimestamp64Nano({q.param(start_ns, 'Int64')})",
        f"Timestamp < fromUnixTimestamp64Nano({q.param(end_ns, 'Int64')})",
        f"WriteOrder <= {q.param(written_order, 'UInt64')}",
        *(q.line_filter(f) for f in r.line_filters),
    ]
    if side_fps:
        sources = (
            f"if({side}, LogAttributes, map()) AS metadata, "
            f"if({side}, SeverityText, '') AS severity_text, "
            f"if({side}, SeverityNumber, 0) AS severity_number, "
            f"if({side}, TraceId, '') AS trace_id, if({side}, SpanId, '') AS span_id, "
        )
    else:
        # Every stream counts by itself: the side columns are not read at all.
        sources = (
            "map() AS metadata, '' AS severity_text, toUInt8(0) AS severity_number, "
            "'' AS trace_id, '' AS span_id, "
        )
    return (
        "SELECT StreamFingerprint AS fp, "  # noqa: S608 - values are bound
        f"{sources}"
        f"{lo} AS lo, {hi} AS hi, count() AS lines, {size} AS line_bytes, "
        "max(toUnixTimestamp64Nano(Timestamp)) AS newest "
        f"FROM {LOGS} WHERE {' AND '.join(conds)} "
        "GROUP BY fp, metadata, severity_text, severity_number, trace_id, span_id, lo, hi"
    )


def keys_sql(q: Query, fps: Sequence[int], stamps: Sequence[int], *, written_order: int) -> str:
    """Stream, timestamp and line of the records of ``fps`` stamped at one of ``stamps`` (ns)
    and written up to ``written_order``: what a record is compared with to keep or count a
    duplicate once. The set of timestamps (not their span) bounds what is read, so one old
    record among new ones does not read the hours between them."""
    return (
        "SELECT DISTINCT StreamFingerprint AS fp, "  # noqa: S608 - values are bound
        f"toUnixTimestamp64Nano(Timestamp) AS ts, Body AS line FROM {LOGS} "
        f"WHERE StreamFingerprint IN {q.param(list(fps), 'Array(UInt64)')} "
        "AND Timestamp IN (SELECT fromUnixTimestamp64Nano(arrayJoin("
        f"{q.param(sorted(set(stamps)), 'Array(Int64)')}))) "
        f"AND WriteOrder <= {q.param(written_order, 'UInt64')}"
    )


def newest_sql(q: Query, fps: Sequence[int], since_ns: int) -> str:
    """The newest timestamp (ns) stored for each stream of ``fps`` that has records at or after
    ``since_ns``; streams without any are left out. Reads two narrow columns from ``since_ns``
    on, where asking about every timestamp of a flush sent them all as a parameter."""
    return (
        "SELECT StreamFingerprint AS fp, "  # noqa: S608 - values are bound
        f"max(toUnixTimestamp64Nano(Timestamp)) AS newest FROM {LOGS} "
        f"WHERE StreamFingerprint IN {q.param(list(fps), 'Array(UInt64)')} "
        f"AND Timestamp >= fromUnixTimestamp64Nano({q.param(since_ns, 'Int64')}) "
        "GROUP BY fp"
    )


def newest_order_sql() -> str:
    """The largest ``WriteOrder`` stored (0 for an empty table)."""
    return f"SELECT max(WriteOrder) AS newest FROM {LOGS}"  # noqa: S608 - our own table


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
    "counts_sql",
    "hour_of",
    "keys_sql",
    "label_names_sql",
    "label_values_sql",
    "newest_order_sql",
    "records_sql",
    "streams_sql",
]
