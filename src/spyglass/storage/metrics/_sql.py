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
from spyglass.core.samples import STALE_NAN_BITS
from spyglass.storage.ports import GridRequest
from spyglass.storage.schema import DAY_MS, SAMPLES, SERIES

MAX_DAY = 65_535  # the last day a ClickHouse Date can hold (2149-06-06)
MAX_LITERAL_FINGERPRINTS = 5_000  # about 100 KB of SQL, well under max_query_size (256 KiB)
MAX_MASK_CONDITIONS = 64  # one bit each in series_masks_sql's UInt64 mask
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


def series_masks_sql(
    q: Query, conds: Sequence[tuple[str, int, int]], names: Sequence[str] = ()
) -> str:
    """Fingerprints matching any of up to 64 ``(cond, start_ms, end_ms)`` on a day of its
    range, each with a mask: bit ``i`` set when condition ``i`` matched.

    One scan of ``metric_series`` answers every selector of a batch (``select_many``), where
    one query per selector paid ClickHouse's per-query overhead each time. ``names``, when every
    condition requires one of them as metric name, narrows the scan through the primary index.
    """
    if not 0 < len(conds) <= MAX_MASK_CONDITIONS:
        raise ValueError(f"between 1 and {MAX_MASK_CONDITIONS} conditions, got {len(conds)}")
    bits = " + ".join(
        f"if({q.series_where(cond, start, end)}, toUInt64({1 << i}), toUInt64(0))"
        for i, (cond, start, end) in enumerate(conds)
    )
    d0 = q.param(day_text(day_of(min(c[1] for c in conds))), "Date")
    d1 = q.param(day_text(day_of(max(c[2] for c in conds))), "Date")
    only = ""
    if names:
        only = " AND metric_name IN (" + ",".join(q.param(n, "String") for n in names) + ")"
    return (
        "SELECT fingerprint, groupBitOr(bits) AS mask FROM ("  # noqa: S608 - values are bound
        f"SELECT fingerprint, {bits} AS bits FROM {SERIES} "
        f"WHERE date BETWEEN {d0} AND {d1}{only}"
        ") WHERE bits != 0 GROUP BY fingerprint"
    )


def labels_sql(q: Query, fps: Sequence[int], start_ms: int, end_ms: int) -> str:
    """Labels of the series ``fps`` (at most ``MAX_LITERAL_FINGERPRINTS``) seen in the range."""
    listed = ",".join(str(int(fp)) for fp in fps)
    return (
        f"SELECT fingerprint, any(labels) AS label_map FROM {SERIES} "  # noqa: S608 - bound
        f"WHERE {q.series_where(f'fingerprint IN ({listed})', start_ms, end_ms)} "
        "GROUP BY fingerprint"
    )


def samples_parts_sql(q: Query, parts: Sequence[tuple[Sequence[int], int, int]]) -> str:
    """Samples of several ``(fingerprints, start_ms, end_ms)`` parts in one query, each row
    tagged with its part's index, sorted by part, series and time (see ``samples_sql``)."""
    selects = []
    for i, (fps, start_ms, end_ms) in enumerate(parts):
        s = q.param(start_ms, "Int64")
        e = q.param(end_ms, "Int64")
        listed = ",".join(str(int(fp)) for fp in fps)
        selects.append(
            f"SELECT toUInt32({i}) AS part, fingerprint, timestamp_ms, value "  # noqa: S608
            f"FROM {SAMPLES} WHERE timestamp_ms BETWEEN {s} AND {e} "
            f"AND fingerprint IN ({listed})"
        )
    return (
        "SELECT part, fingerprint, timestamp_ms, value FROM ("  # noqa: S608 - values are bound
        + " UNION ALL ".join(selects)
        + ") ORDER BY part, fingerprint, timestamp_ms"
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


# PromQL range function -> ClickHouse aggregate with the same result (docs/decisions.md,
# "timeSeries*ToGrid push-down").
GRID_AGGREGATES = {
    "rate": "timeSeriesRateToGrid",
    "increase": "timeSeriesIncreaseToGrid",
    "delta": "timeSeriesDeltaToGrid",
    "irate": "timeSeriesInstantRateToGrid",
    "idelta": "timeSeriesInstantDeltaToGrid",
    "deriv": "timeSeriesDerivToGrid",
    "predict_linear": "timeSeriesPredictLinearToGrid",
    "changes": "timeSeriesChangesToGrid",
    "resets": "timeSeriesResetsToGrid",
    "last_over_time": "timeSeriesLastToGrid",
    "avg_over_time": "timeSeriesAvgToGrid",
    "min_over_time": "timeSeriesMinToGrid",
    "max_over_time": "timeSeriesMaxToGrid",
    "sum_over_time": "timeSeriesSumToGrid",
    "count_over_time": "timeSeriesCountToGrid",
    "ts_of_max_over_time": "timeSeriesTimestampOfMaxToGrid",
    "ts_of_min_over_time": "timeSeriesTimestampOfMinToGrid",
}
GRID_SETTINGS = "SETTINGS allow_experimental_ts_to_grid_aggregate_function = 1"


def _seconds(q: Query, ms: int) -> str:
    """Milliseconds as an exact ``Decimal64(3)`` of seconds (a float would round 0.009 s)."""
    sign = "-" if ms < 0 else ""
    text = f"{sign}{abs(ms) // 1000}.{abs(ms) % 1000:03d}"
    return f"toDecimal64({q.param(text, 'String')}, 3)"


def grid_sql(q: Query, request: GridRequest, fingerprints: str, *, final: bool = False) -> str:
    """Per series in ``fingerprints``: ``request``'s function on its grid of window ends
    (``grid``, an array with NULL where there is no value), the most samples in one window
    (``most``), its rows and distinct timestamps (``rows``/``times``: they differ when unmerged
    copies of a sample are read, and ``final`` then reads again with ``FINAL``), its non-finite
    values (``nonfinite``) and its largest absolute value (``magnitude``).

    Staleness markers are left out, as the engine's matrix selector drops them.
    """
    start_ms, end_ms, range_ms = request.start_ms, request.end_ms, request.range_ms
    lo = q.param(start_ms - range_ms, "Int64")
    hi = q.param(end_ms, "Int64")
    grid = (
        f"fromUnixTimestamp64Milli({q.param(start_ms, 'Int64')}), "
        f"fromUnixTimestamp64Milli({q.param(end_ms, 'Int64')}), "
        f"{_seconds(q, request.step_ms)}, {_seconds(q, range_ms)}"
    )
    function = request.function
    extra = ""
    if function == "predict_linear":
        extra = f", {q.param(request.argument, 'Float64')}"
    args = "(fromUnixTimestamp64Milli(timestamp_ms), value)"
    final_kw = " FINAL" if final else ""
    return (
        f"SELECT fingerprint, {GRID_AGGREGATES[function]}({grid}{extra}){args} AS grid, "  # noqa: S608
        f"arrayMax(arrayMap(x -> ifNull(x, 0), timeSeriesCountToGrid({grid}){args})) AS most, "
        "count() AS rows, uniqExact(timestamp_ms) AS times, "
        "countIf(NOT isFinite(value)) AS nonfinite, max(abs(value)) AS magnitude "
        f"FROM {SAMPLES}{final_kw} "
        f"WHERE timestamp_ms > {lo} AND timestamp_ms <= {hi} "
        f"AND fingerprint IN {fingerprints} "
        f"AND reinterpretAsUInt64(value) != {STALE_NAN_BITS} "
        f"GROUP BY fingerprint {GRID_SETTINGS}"
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


def active_pairs_sql(q: Query, start_ms: int, end_ms: int) -> str:
    """Each ``label``/``value`` pair of the series active in the range, with its ``series``
    count: the table every cardinality statistic of ``/api/v1/status/tsdb`` is read from."""
    active = series_sql(q, "1", start_ms, end_ms)
    return (
        "SELECT k AS label, v AS value, count() AS series "  # noqa: S608 - values are bound
        f"FROM ({active}) ARRAY JOIN mapKeys(label_map) AS k, mapValues(label_map) AS v "
        "GROUP BY k, v"
    )


SERIES_STATS = ("series", "labels", "times")


def series_stats_sql(what: str, start_ms: int, end_ms: int, limit: int) -> tuple[str, Query]:
    """One query behind ``MetricsStore.series_stats`` (``what`` is one of ``SERIES_STATS``)
    with its parameters.

    ``labels`` gives one row per label name: how many values it has (``n``), their bytes, and
    its ``limit`` values with the most series, most first, ties by value. Every table of the
    TSDB status comes from it: the label pairs with the most series overall are among the top
    ones of their own label, so the caller merges those. One pass over the label pairs costs a
    quarter of one query per table (measured: 0.8 s each for 50k series on chDB).
    """
    q = Query()
    if what == "series":
        fps = series_fps_sql(q, "1", start_ms, end_ms)
        return f"SELECT count() AS n FROM ({fps})", q  # noqa: S608 - values are bound
    if what == "times":
        s, e = q.param(start_ms, "Int64"), q.param(end_ms, "Int64")
        sql = (
            "SELECT min(timestamp_ms) AS lo, max(timestamp_ms) AS hi, count() AS n "  # noqa: S608
            f"FROM {SAMPLES} WHERE timestamp_ms BETWEEN {s} AND {e}"
        )
        return sql, q
    if what == "labels":
        pairs = active_pairs_sql(q, start_ms, end_ms)
        n = q.param(limit, "UInt64")
        ranked = "arraySort(x -> (-toInt64(x.2), x.1), groupArray((value, series)))"
        sql = (
            "SELECT name, n, bytes, arrayMap(x -> x.1, top) AS top_values, "  # noqa: S608
            "arrayMap(x -> x.2, top) AS top_series FROM ("
            "SELECT label AS name, count() AS n, sum(length(value)) AS bytes, "
            f"arraySlice({ranked}, 1, {n}) AS top FROM ({pairs}) GROUP BY label)"
        )
        return sql, q
    raise ValueError(f"unknown series statistic {what!r}")


__all__ = [
    "GRID_AGGREGATES",
    "GRID_SETTINGS",
    "MAX_DAY",
    "MAX_LITERAL_FINGERPRINTS",
    "MAX_MASK_CONDITIONS",
    "SERIES_STATS",
    "Query",
    "active_pairs_sql",
    "day_of",
    "day_text",
    "fingerprint_set",
    "grid_sql",
    "label_names_sql",
    "label_values_sql",
    "labels_sql",
    "recent_samples_sql",
    "samples_parts_sql",
    "samples_sql",
    "series_fps_sql",
    "series_masks_sql",
    "series_sql",
    "series_stats_sql",
]
