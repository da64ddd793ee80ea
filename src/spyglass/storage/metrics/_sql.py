"""SQL for reading the metrics tables: label matchers pushed down to ``metric_series``.

Values never enter the SQL text: each matcher adds ``{pN:String}`` parameters. A label missing
from a series reads as ``''`` from the ``labels`` Map, which is exactly Prometheus' rule that a
matcher accepting the empty string also selects series without the label, so no special case is
needed. ``__name__`` reads the ``metric_name`` column, the first key of the table's order, so a
metric-name equality uses the primary index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from spyglass.core.labels import METRIC_NAME
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.storage.schema import DAY_MS, SAMPLES, SERIES

MAX_DAY = 65_535  # the last day a ClickHouse Date can hold (2149-06-06)
MAX_LITERAL_FINGERPRINTS = 5_000  # about 100 KB of SQL, well under max_query_size (256 KiB)
_EPOCH = dt.date(1970, 1, 1)


def day_of(ms: int) -> int:
    """UTC day number of a millisecond timestamp, clamped to ClickHouse's Date range."""
    return min(MAX_DAY, max(0, ms // DAY_MS))


def day_text(day: int) -> str:
    """ISO date of a day number (a ``Date`` parameter)."""
    return (_EPOCH + dt.timedelta(days=day)).isoformat()


class Query:
    """Collects parameters while SQL fragments are built."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def param(self, value: Any, type_: str) -> str:
        """A placeholder bound to ``value``."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{type_}}}"

    def label_expr(self, name: str) -> str:
        """SQL reading label ``name`` of a ``metric_series`` row (``''`` when absent)."""
        if name == METRIC_NAME:
            return "metric_name"
        return f"labels[{self.param(name, 'String')}]"

    def matcher(self, m: Matcher) -> str:
        """The condition of one matcher."""
        expr = self.label_expr(m.name)
        if m.op is MatchOp.EQUAL:
            return f"{expr} = {self.param(m.value, 'String')}"
        if m.op is MatchOp.NOT_EQUAL:
            return f"{expr} != {self.param(m.value, 'String')}"
        # Prometheus anchors regexes and lets '.' match newlines; RE2 needs both said.
        pattern = self.param(f"(?s)^(?:{m.value})$", "String")
        cond = f"match({expr}, {pattern})"
        return cond if m.op is MatchOp.REGEX else f"NOT {cond}"

    def matchers(self, matchers: Sequence[Matcher]) -> str:
        """All matchers of one set (AND); ``1`` for none."""
        if not matchers:
            return "1"
        return " AND ".join(f"({self.matcher(m)})" for m in matchers)

    def matcher_sets(self, sets: Sequence[Sequence[Matcher]]) -> str:
        """Any of the matcher sets (OR); ``1`` when there are none (everything matches)."""
        if not sets:
            return "1"
        return " OR ".join(f"({self.matchers(ms)})" for ms in sets)

    def series_where(self, cond: str, start_ms: int, end_ms: int) -> str:
        """``metric_series`` rows of the days overlapping the range that satisfy ``cond``."""
        d0 = self.param(day_text(day_of(start_ms)), "Date")
        d1 = self.param(day_text(day_of(end_ms)), "Date")
        return f"date BETWEEN {d0} AND {d1} AND ({cond})"


def series_sql(q: Query, cond: str, start_ms: int, end_ms: int) -> str:
    """Fingerprint and labels of each series matching ``cond`` on a day of the range."""
    return (
        f"SELECT fingerprint, any(labels) AS label_map FROM {SERIES} "  # noqa: S608 - values are bound
        f"WHERE {q.series_where(cond, start_ms, end_ms)} GROUP BY fingerprint"
    )


def series_fps_sql(q: Query, cond: str, start_ms: int, end_ms: int) -> str:
    """Fingerprints of the series matching ``cond`` on a day of the range."""
    return (
        f"SELECT DISTINCT fingerprint FROM {SERIES} "  # noqa: S608 - values are bound
        f"WHERE {q.series_where(cond, start_ms, end_ms)}"
    )


def fingerprint_set(
    q: Query, fps: Sequence[int], matchers: Sequence[Matcher], start_ms: int, end_ms: int
) -> str:
    """The right side of ``fingerprint IN``: ``fps`` written out, or, when there are many, the
    series query of ``matchers`` (which found them).

    A literal list spares ClickHouse running the series query again; past a few thousand
    fingerprints the query text would near ``max_query_size``, so the subquery takes over.
    """
    if len(fps) <= MAX_LITERAL_FINGERPRINTS:
        return "(" + ",".join(str(int(fp)) for fp in fps) + ")"
    return f"({series_fps_sql(q, q.matchers(matchers), start_ms, end_ms)})"


def samples_sql(
    q: Query, fingerprints: str, start_ms: int, end_ms: int, *, final: bool = False
) -> str:
    """Samples of the series in ``fingerprints`` (see ``fingerprint_set``) in ``[start_ms,
    end_ms]``, by series then time.

    Without ``final`` a sample inserted twice and not yet merged comes back twice;
    ``FINAL`` collapses the copies to the last written, at a much higher cost.
    """
    s = q.param(start_ms, "Int64")
    e = q.param(end_ms, "Int64")
    final_kw = " FINAL" if final else ""
    return (
        f"SELECT fingerprint, timestamp_ms, value FROM {SAMPLES}{final_kw} "  # noqa: S608 - bound
        f"WHERE timestamp_ms BETWEEN {s} AND {e} AND fingerprint IN {fingerprints} "
        f"ORDER BY fingerprint, timestamp_ms"
    )


def recent_samples_sql(q: Query, start_ms: int, *, final: bool = False) -> str:
    """Every sample at or after ``start_ms``, by series then time (what the head loads at
    start-up); ``final`` as in ``samples_sql``."""
    s = q.param(start_ms, "Int64")
    final_kw = " FINAL" if final else ""
    return (
        f"SELECT fingerprint, timestamp_ms, value FROM {SAMPLES}{final_kw} "  # noqa: S608 - bound
        f"WHERE timestamp_ms >= {s} ORDER BY fingerprint, timestamp_ms"
    )


def label_names_sql(q: Query, cond: str, start_ms: int, end_ms: int) -> str:
    """Distinct label names of matching series."""
    return (
        f"SELECT DISTINCT arrayJoin(mapKeys(labels)) AS name FROM {SERIES} "  # noqa: S608
        f"WHERE {q.series_where(cond, start_ms, end_ms)}"
    )


def label_values_sql(q: Query, name: str, cond: str, start_ms: int, end_ms: int) -> str:
    """Distinct non-empty values of label ``name`` over matching series."""
    expr = q.label_expr(name)
    return (
        f"SELECT DISTINCT {expr} AS value FROM {SERIES} "  # noqa: S608 - values are bound
        f"WHERE {q.series_where(cond, start_ms, end_ms)} AND {expr} != ''"
    )


__all__ = [
    "MAX_DAY",
    "MAX_LITERAL_FINGERPRINTS",
    "Query",
    "day_of",
    "day_text",
    "fingerprint_set",
    "label_names_sql",
    "label_values_sql",
    "recent_samples_sql",
    "samples_sql",
    "series_fps_sql",
    "series_sql",
]
