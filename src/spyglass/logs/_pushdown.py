"""What of a LogQL query a store can do where the lines are.

- Leading line filters with a single plain operand (``|= "x"``, ``!~ "re"``) go to the store with
  every read (``LogSelection.line_filters``): SQL applies them on the stored text.
- A ``count_over_time``, ``rate``, ``bytes_over_time`` or ``bytes_rate`` whose pipeline is
  nothing but such filters (after dropping ``line_format``/``decolorize`` stages whose line
  nothing reads) needs only how many lines, and how many bytes, fall in each step's window: a
  store that is a ``LogCounter`` counts them (in ClickHouse, a ``GROUP BY`` over the grid) and
  sends counts per label source instead of every line. The labels, the grouping and the values
  are then made here exactly as the line-by-line path makes them, so both paths agree; the
  line-by-line path stays the reference (tests run both on the same data).
"""

from __future__ import annotations

import numpy as np

from spyglass.core.logs import LogRecord
from spyglass.logs._ast import (
    Decolorize,
    LabelFormat,
    LineFilter,
    LineFormat,
    LogRange,
    Parser,
    RangeAggregation,
    Stage,
)
from spyglass.logs._pipeline import Line
from spyglass.logs._ranges import group_labels
from spyglass.logs._series import Series, SeriesLabels, Vector, labels_key
from spyglass.storage.ports import LineFilter as StoreLineFilter
from spyglass.storage.ports import LogCountRequest, LogCounts

# Range aggregations that are a count or a byte total of the lines in each window.
COUNTED = frozenset({"count_over_time", "rate", "bytes_over_time", "bytes_rate"})
# Range aggregations that never look at the line itself, so a trailing line_format is elided.
LINE_BLIND = frozenset({"count_over_time", "rate", "absent_over_time"})


def pushdown(stages: tuple[Stage, ...]) -> tuple[tuple[StoreLineFilter, ...], tuple[Stage, ...]]:
    """The leading line filters a store can apply (single plain operand), and the rest."""
    pushed: list[StoreLineFilter] = []
    i = 0
    for stage in stages:
        if (
            isinstance(stage, LineFilter)
            and stage.op in ("|=", "!=", "|~", "!~")
            and len(stage.values) == 1
            and not stage.values[0].ip
        ):
            pushed.append(StoreLineFilter(stage.op, stage.values[0].value))
            i += 1
            continue
        break
    return tuple(pushed), stages[i:]


def _reads_line(stage: Stage) -> bool:
    return isinstance(stage, (LineFilter, Parser, LineFormat)) or (
        isinstance(stage, LabelFormat) and any(item.template for item in stage.items)
    )


def elide_line_stages(stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
    """Drop ``line_format``/``decolorize`` stages whose line nothing later reads."""
    kept: list[Stage] = []
    needed = False
    for stage in reversed(stages):
        if isinstance(stage, (LineFormat, Decolorize)) and not needed:
            continue
        needed = needed or _reads_line(stage)
        kept.append(stage)
    return tuple(reversed(kept))


def count_request(expr: RangeAggregation, steps: list[int]) -> LogCountRequest | None:
    """The counting request answering ``expr`` over ``steps``, or ``None`` when the range
    aggregation needs more than counts (a parser, a label filter, an unwrap...)."""
    lr: LogRange = expr.range
    if expr.op not in COUNTED or lr.unwrap is not None:
        return None
    stages = elide_line_stages(lr.query.stages) if expr.op in LINE_BLIND else lr.query.stages
    pushed, rest = pushdown(stages)
    if rest:
        return None
    grouping = expr.grouping
    keep = None if grouping is None or grouping.without else tuple(grouping.labels)
    step_ns = steps[1] - steps[0] if len(steps) > 1 else 1
    return LogCountRequest(
        lr.query.matchers,
        pushed,
        steps[0] - lr.offset_ns,
        step_ns,
        len(steps),
        lr.range_ns,
        keep,
        with_bytes=expr.op.startswith("bytes"),
    )


def counted_series(expr: RangeAggregation, counts: list[LogCounts]) -> Vector:
    """The range aggregation's series from a store's counts: each label source's labels as a
    line of it would carry them (stream, then side data under names the stream lacks), reduced
    by the aggregation's grouping, counts added per series, then the op's value per step."""
    groups: dict[SeriesLabels, tuple[np.ndarray, np.ndarray]] = {}
    for c in counts:
        record = LogRecord(
            0,
            "",
            c.stream,
            c.metadata,
            0,
            c.severity_text,
            c.severity_number,
            c.trace_id,
            c.span_id,
        )
        key = group_labels(labels_key(Line(record).labels), expr.grouping)
        group = groups.get(key)
        if group is None:
            groups[key] = (c.counts.copy(), c.bytes.copy())
        else:
            group[0][:] += c.counts
            group[1][:] += c.bytes
    seconds = expr.range.range_ns / 1e9
    out: Vector = []
    for key, (lines, size) in groups.items():
        present = lines > 0
        if not present.any():
            continue
        values = (size if expr.op.startswith("bytes") else lines).astype(np.float64)
        if expr.op in ("rate", "bytes_rate"):
            values = values / seconds
        out.append(Series(key, values, present))
    return out


__all__ = [
    "COUNTED",
    "LINE_BLIND",
    "count_request",
    "counted_series",
    "elide_line_stages",
    "pushdown",
]
