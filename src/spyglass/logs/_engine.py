"""The LogQL engine: log and metric queries over a ``LogReader``.

A log query reads the selected streams (handing the pipeline's leading line filters to the
store, with the limit when nothing after them can drop a line, else reading pages in the
query's direction until the limit is met), runs the pipeline and groups the lines into streams
by their final labels. A metric query evaluates its tree over the query's steps: each range
aggregation reads its lines once for every step's window, the pipeline turns them into samples,
and vector operators combine the results (``_ranges``, ``_vectors``); one that only counts lines
or bytes is counted by a store that can (``_pushdown``).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from spyglass.core.errors import BadInput, QueryError, QueryTimeout, QueryTooLarge
from spyglass.core.logs import LogRecord
from spyglass.core.matchers import MatchOp
from spyglass.logs._ast import (
    BinaryOp,
    Expr,
    Grouping,
    LabelFilter,
    LabelReplace,
    LineFilter,
    Literal,
    LogQuery,
    LogRange,
    RangeAggregation,
    Stage,
    VectorAggregation,
    VectorLiteral,
)
from spyglass.logs._parser import parse_query
from spyglass.logs._pipeline import (
    ERROR,
    ERROR_DETAILS,
    CompiledPipeline,
    Line,
    compile_pipeline,
    label_test,
    metadata_of,
)
from spyglass.logs._pushdown import (
    COUNTED,
    LINE_BLIND,
    count_request,
    counted_series,
    elide_line_stages,
    pushdown,
)
from spyglass.logs._ranges import evaluate_windows, group_labels
from spyglass.logs._series import Series, SeriesLabels, Vector, labels_key
from spyglass.logs._units import go_duration_seconds, go_parse_bytes, go_parse_float
from spyglass.logs._vectors import (
    aggregate,
    format_series_labels,
    label_replace,
    scalar_binary,
    vector_scalar,
    vector_vector,
)
from spyglass.storage.ports import LogCounter, LogCountRequest, LogReader, LogSelection

_parse_cached = functools.lru_cache(maxsize=1024)(parse_query)

_CONVERT = {
    "": go_parse_float,
    "duration": go_duration_seconds,
    "duration_seconds": go_duration_seconds,
    "bytes": go_parse_bytes,
}
# The pipeline checks the query's deadline every this many lines (a check costs a clock read).
_DEADLINE_EVERY = 4096
# Range aggregations whose per-series values add up to the value of the merged series.
_ADDITIVE = COUNTED


@dataclass(frozen=True)
class EngineOptions:
    """Limits of one query."""

    timeout_s: float = 120.0
    max_lines: int = 5_000_000
    max_series: int = 500_000


@dataclass
class Stream:
    """One stream of a log query's result: its labels and ``(timestamp_ns, line)`` entries."""

    labels: SeriesLabels
    entries: list[tuple[int, str]]


@dataclass
class Stats:
    """What a query read (``lines``, ``bytes``) and kept after its pipeline (``post_filter_lines``),
    for Loki's ``stats`` block."""

    lines: int = 0
    bytes: int = 0
    post_filter_lines: int = 0
    exec_seconds: float = 0.0


@dataclass
class QueryResult:
    """A query's answer in the shape of Loki's ``data``: ``streams``, ``vector``, ``matrix`` or
    ``scalar``. Times are nanoseconds."""

    result_type: str
    streams: list[Stream] = field(default_factory=list)
    vector: list[tuple[SeriesLabels, int, float]] = field(default_factory=list)
    matrix: list[tuple[SeriesLabels, list[tuple[int, float]]]] = field(default_factory=list)
    scalar: tuple[int, float] | None = None
    stats: Stats = field(default_factory=Stats)


class _Evaluation:
    def __init__(self, engine: Engine, steps: list[int], instant: bool) -> None:
        self.engine = engine
        self.reader = engine.reader
        self.steps = steps
        self.instant = instant
        self.deadline = time.monotonic() + engine.options.timeout_s
        self.stats = Stats()

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryTimeout("query timed out in expression evaluation")

    def eval(self, expr: Expr) -> Vector | float:
        self.check_deadline()
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, VectorLiteral):
            n = len(self.steps)
            return [Series((), np.full(n, expr.value), np.ones(n, dtype=bool))]
        if isinstance(expr, RangeAggregation):
            return self.range_aggregation(expr)
        if isinstance(expr, VectorAggregation):
            if expr.op == "approx_topk" and not self.instant:
                raise BadInput("approx_topk is only supported on instant queries")
            pushed = _summed_range(expr)
            inner = self.range_aggregation(pushed) if pushed else self.eval(expr.expr)
            if isinstance(inner, float):
                raise BadInput(f"unexpected literal for {expr.op} aggregation")
            return aggregate(expr.op, inner, expr.grouping, expr.param, len(self.steps))
        if isinstance(expr, BinaryOp):
            return self.binary(expr)
        if isinstance(expr, LabelReplace):
            inner = self.eval(expr.expr)
            if isinstance(inner, float):
                raise BadInput("label_replace expects a vector")
            return label_replace(inner, expr.dst, expr.replacement, expr.src, expr.regex)
        raise BadInput("log queries are not supported here")

    def binary(self, expr: BinaryOp) -> Vector | float:
        left = self.eval(expr.left)
        right = self.eval(expr.right)
        if isinstance(left, float) and isinstance(right, float):
            return scalar_binary(expr.op, left, right)
        if isinstance(left, float):
            assert not isinstance(right, float)
            return vector_scalar(expr.op, right, left, True, expr.bool_modifier)
        if isinstance(right, float):
            return vector_scalar(expr.op, left, right, False, expr.bool_modifier)
        return vector_vector(
            expr.op, left, right, expr.matching, expr.bool_modifier, len(self.steps)
        )

    def range_aggregation(self, expr: RangeAggregation) -> Vector:
        lr = expr.range
        request = count_request(expr, self.steps) if self.engine.count_in_store else None
        if request is not None and isinstance(self.reader, LogCounter):
            return self.counted(expr, self.reader, request)
        samples = self.samples(lr, expr)
        if expr.op == "absent_over_time":
            return self.absent(expr, samples)
        return evaluate_windows(samples, self.steps, lr, expr.op, expr.param)

    def counted(
        self, expr: RangeAggregation, counter: LogCounter, request: LogCountRequest
    ) -> Vector:
        """The range aggregation from the store's counts per window (``_pushdown``)."""
        counts = counter.count_logs(request)
        self.check_deadline()
        for c in counts:
            self.stats.lines += c.lines
            self.stats.bytes += c.line_bytes
            self.stats.post_filter_lines += c.lines
        out = counted_series(expr, counts)
        if len(out) > self.engine.options.max_series:
            raise QueryTooLarge(
                f"maximum of series ({self.engine.options.max_series}) reached for a single query"
            )
        return out

    def absent(
        self, expr: RangeAggregation, samples: dict[SeriesLabels, tuple[list[int], list[float]]]
    ) -> Vector:
        lr = expr.range
        all_ts = np.sort(np.asarray([t for ts, _ in samples.values() for t in ts], dtype=np.int64))
        ends = np.asarray(self.steps, dtype=np.int64) - lr.offset_ns
        los = np.searchsorted(all_ts, ends - lr.range_ns, side="right")
        his = np.searchsorted(all_ts, ends, side="right")
        present = his <= los
        if not present.any():
            return []
        labels = labels_key({m.name: m.value for m in lr.query.matchers if m.op is MatchOp.EQUAL})
        return [Series(labels, np.ones(len(self.steps)), present)]

    def samples(
        self, lr: LogRange, expr: RangeAggregation
    ) -> dict[SeriesLabels, tuple[list[int], list[float]]]:
        """The samples of every series the range's lines make, over all steps' windows."""
        stages = lr.query.stages
        if lr.unwrap is None and expr.op in LINE_BLIND:
            stages = elide_line_stages(stages)
        pushed, rest = pushdown(stages)
        pipeline = compile_pipeline(rest)
        start = self.steps[0] - lr.offset_ns - lr.range_ns + 1
        end = self.steps[-1] - lr.offset_ns + 1
        records = self.read(LogSelection(lr.query.matchers, start, end, pushed, "forward"))
        use_bytes = expr.op in ("bytes_over_time", "bytes_rate")
        if not rest and lr.unwrap is None:
            out = self._plain_samples(records, expr, use_bytes=use_bytes)
        else:
            out = self._piped_samples(records, pipeline, lr, expr, use_bytes=use_bytes)
        if len(out) > self.engine.options.max_series:
            raise QueryTooLarge(
                f"maximum of series ({self.engine.options.max_series}) reached for a single query"
            )
        return out

    def _piped_samples(
        self,
        records: list[LogRecord],
        pipeline: CompiledPipeline,
        lr: LogRange,
        expr: RangeAggregation,
        *,
        use_bytes: bool,
    ) -> dict[SeriesLabels, tuple[list[int], list[float]]]:
        unwrap = lr.unwrap
        convert = _CONVERT[unwrap.conversion] if unwrap is not None else None
        post = [label_test(f.expr) for f in unwrap.post_filters] if unwrap else []
        out: dict[SeriesLabels, tuple[list[int], list[float]]] = {}
        for n, record in enumerate(records):
            if n % _DEADLINE_EVERY == 0:
                self.check_deadline()
            line = pipeline.run(record)
            if line is None:
                continue
            value = 1.0
            if unwrap is not None and convert is not None:
                raw = line.labels.get(unwrap.label)
                if raw is None:
                    continue
                if ERROR not in line.labels:
                    try:
                        value = convert(raw)
                    except ValueError as exc:
                        line.set_error("SampleExtractionErr", str(exc))
                        value = 0.0
                if not all(test(line) for test in post):
                    continue
                # The unwrapped label is the value now, not part of the series.
                line.labels.pop(unwrap.label, None)
            elif use_bytes:
                value = float(len(line.line.encode("utf-8", "surrogatepass")))
            if ERROR in line.labels:
                labels = labels_key(line.labels)
                raise QueryError(
                    f"pipeline error: '{line.labels[ERROR]}' for series: "
                    f"'{format_series_labels(labels)}'.\n"
                    "Use a label filter to intentionally skip this error. "
                    f'(e.g | __error__!="{line.labels[ERROR]}").\n'
                    'To skip all potential errors you can match empty errors.(e.g __error__="")\n'
                    "The label filter can also be specified after unwrap. "
                    '(e.g | unwrap latency | __error__="" )'
                )
            line.labels.pop(ERROR_DETAILS, None)
            key = group_labels(labels_key(line.labels), expr.grouping)
            ts_list, vs_list = out.setdefault(key, ([], []))
            ts_list.append(line.ts)
            self.stats.post_filter_lines += 1
            vs_list.append(value)
        return out

    def _plain_samples(
        self, records: list[LogRecord], expr: RangeAggregation, *, use_bytes: bool
    ) -> dict[SeriesLabels, tuple[list[int], list[float]]]:
        """Samples of lines no stage touches: their labels depend on the stream and metadata
        alone, so each distinct pair is resolved once instead of once per line."""
        keys: dict[object, SeriesLabels] = {}
        out: dict[SeriesLabels, tuple[list[int], list[float]]] = {}
        for record in records:
            cache_key = (record.stream, tuple(metadata_of(record).items()))
            key = keys.get(cache_key)
            if key is None:
                key = keys[cache_key] = group_labels(labels_key(Line(record).labels), expr.grouping)
            ts_list, vs_list = out.get(key) or out.setdefault(key, ([], []))
            ts_list.append(record.timestamp_ns)
            self.stats.post_filter_lines += 1
            vs_list.append(
                float(len(record.line.encode("utf-8", "surrogatepass"))) if use_bytes else 1.0
            )
        return out

    def read_pages(self, selection: LogSelection) -> Iterator[LogRecord]:
        """The selection's records without its limit, read ``limit``-ordered in pages.

        The next page starts at the last timestamp read (records with equal timestamps keep
        their order from one read to the next, so the ones already given are skipped)."""
        limit = selection.limit or 0
        page = max(limit * 4, _Pages.FIRST_MIN)
        start, end = selection.start_ns, selection.end_ns
        skip = 0
        backward = selection.direction == "backward"
        while start < end:
            got = self.read(replace(selection, start_ns=start, end_ns=end, limit=page + skip))
            yield from got[skip:]
            if len(got) < page + skip:
                return
            last = got[-1].timestamp_ns
            skip = sum(1 for r in got if r.timestamp_ns == last)
            if backward:
                end = last + 1
            else:
                start = last
            page = min(page * 4, _Pages.MAX)

    def read(self, selection: LogSelection) -> list[LogRecord]:
        records = self.reader.select_logs(selection)
        self.stats.lines += len(records)
        self.stats.bytes += sum(len(r.line) for r in records)
        if self.stats.lines > self.engine.options.max_lines:
            raise QueryTooLarge(
                f"the query would read more than {self.engine.options.max_lines} lines"
            )
        self.check_deadline()
        return records


class _Pages:
    """Page sizes of a log query read in pages: a few times the limit first, then growing, so a
    selective pipeline does not make many small queries."""

    FIRST_MIN = 1_000
    MAX = 262_144


class Engine:
    """Evaluates LogQL over a ``LogReader``; range aggregations that only count lines are
    counted by the reader when it is a ``LogCounter`` and ``count_in_store`` is on (off: every
    line is read and counted here, the reference the counting store is tested against)."""

    def __init__(
        self,
        reader: LogReader,
        options: EngineOptions | None = None,
        *,
        count_in_store: bool = True,
    ) -> None:
        self.reader = reader
        self.options = options or EngineOptions()
        self.count_in_store = count_in_store

    def parse(self, query: str) -> Expr:
        """The syntax tree of ``query`` (cached); ``LogQLParseError`` when it does not parse."""
        return _parse_cached(query)

    def instant(
        self, query: str, time_ns: int, *, direction: str = "backward", limit: int = 100
    ) -> QueryResult:
        """The query at one instant: a vector or scalar (log queries are range-only in Loki)."""
        expr = self.parse(query)
        if isinstance(expr, LogQuery):
            raise BadInput(
                "log queries are not supported as an instant query type, please change your "
                "query to a range query type"
            )
        return self._metric(expr, [time_ns], instant=True)

    def range(
        self,
        query: str,
        start_ns: int,
        end_ns: int,
        step_ns: int,
        *,
        interval_ns: int = 0,
        direction: str = "backward",
        limit: int = 100,
    ) -> QueryResult:
        """The query over ``[start, end]``: streams for a log query, a matrix for a metric one."""
        expr = self.parse(query)
        if isinstance(expr, LogQuery):
            return self._logs(
                expr,
                start_ns=start_ns,
                end_ns=end_ns,
                direction=direction,
                limit=limit,
                interval_ns=interval_ns,
            )
        if step_ns <= 0:
            raise BadInput(
                "zero or negative query resolution step widths are not accepted. "
                "Try a positive integer"
            )
        if end_ns < start_ns:
            raise BadInput("end timestamp must not be before or equal to start time")
        if (end_ns - start_ns) // step_ns > 11_000:
            raise BadInput(
                "exceeded maximum resolution of 11,000 points per time series. Try increasing "
                "the value of the step parameter"
            )
        count = (end_ns - start_ns) // step_ns + 1
        steps = [start_ns + i * step_ns for i in range(count)]
        return self._metric(expr, steps, instant=False)

    def _metric(self, expr: Expr, steps: list[int], *, instant: bool) -> QueryResult:
        started = time.perf_counter()
        ev = _Evaluation(self, steps, instant)
        value = ev.eval(expr)
        ev.stats.exec_seconds = time.perf_counter() - started
        if isinstance(value, float):
            if instant:
                return QueryResult("scalar", scalar=(steps[0], value), stats=ev.stats)
            points = [(t, value) for t in steps]
            return QueryResult("matrix", matrix=[((), points)], stats=ev.stats)
        ordered = _is_sort(expr)
        if instant:
            vector = [(s.labels, steps[0], float(s.values[0])) for s in value if s.present[0]]
            if ordered is None:
                vector.sort(key=lambda item: item[0])
            else:
                vector = _sorted_vector(vector, descending=ordered)
            return QueryResult("vector", vector=vector, stats=ev.stats)
        matrix = []
        for s in sorted(value, key=lambda s: s.labels):
            points = [(steps[j], float(s.values[j])) for j in np.flatnonzero(s.present)]
            if points:
                matrix.append((s.labels, points))
        return QueryResult("matrix", matrix=matrix, stats=ev.stats)

    def _logs(
        self,
        expr: LogQuery,
        *,
        start_ns: int,
        end_ns: int,
        direction: str,
        limit: int,
        interval_ns: int,
    ) -> QueryResult:
        if direction not in ("forward", "backward"):
            raise BadInput(f"invalid direction {direction!r}")
        started = time.perf_counter()
        ev = _Evaluation(self, [end_ns], False)
        pushed, rest = pushdown(expr.stages)
        pipeline = compile_pipeline(rest)
        can_drop = any(isinstance(s, LineFilter) or _is_label_filter(s) for s in rest)
        selection = LogSelection(expr.matchers, start_ns, end_ns, pushed, direction, limit)
        # When stages after the store's filters can drop lines, how many records make ``limit``
        # lines is unknown: read pages in the query's direction until enough lines pass.
        records = ev.read_pages(selection) if can_drop or interval_ns else ev.read(selection)
        streams: dict[SeriesLabels, Stream] = {}
        taken = 0
        for n, record in enumerate(records):
            if taken >= limit:
                break
            if n % _DEADLINE_EVERY == 0:
                ev.check_deadline()
            line = pipeline.run(record)
            if line is None:
                continue
            ev.stats.post_filter_lines += 1
            labels = labels_key(line.labels)
            stream = streams.get(labels)
            if stream is None:
                stream = streams[labels] = Stream(labels, [])
            # interval thins each stream: an entry closer than that to the stream's last kept
            # one (in the reading direction) is skipped.
            if (
                interval_ns
                and stream.entries
                and abs(line.ts - stream.entries[-1][0]) < interval_ns
            ):
                continue
            stream.entries.append((line.ts, line.line))
            taken += 1
        ev.stats.exec_seconds = time.perf_counter() - started
        return QueryResult("streams", streams=list(streams.values()), stats=ev.stats)


def _summed_range(expr: VectorAggregation) -> RangeAggregation | None:
    """``sum by (x) (count_over_time(...))`` as a range aggregation grouped by ``x`` while lines
    become samples, or ``None`` when the aggregation is not of that shape.

    Counts, rates and byte totals add up, so summing per-series windows equals one window over
    the lines grouped first; grouping first saves a series per distinct label set (after
    ``| json`` every trace id would make one). This is Loki's own grouping push-down.
    """
    inner = expr.expr
    if (
        expr.op == "sum"
        and isinstance(inner, RangeAggregation)
        and inner.op in _ADDITIVE
        and inner.grouping is None
        and inner.range.unwrap is None
    ):
        return RangeAggregation(inner.op, inner.range, inner.param, expr.grouping or Grouping(()))
    return None


def _is_label_filter(stage: Stage) -> bool:
    return isinstance(stage, LabelFilter)


def _is_sort(expr: Expr) -> bool | None:
    """``True`` for ``sort_desc`` at the top, ``False`` for ``sort``, else ``None``."""
    while isinstance(expr, BinaryOp):
        # sort(x) + 1 keeps sort's order, as Loki's result ordering follows the left operand.
        expr = expr.left if not isinstance(expr.left, Literal) else expr.right
    if isinstance(expr, VectorAggregation) and expr.op in ("sort", "sort_desc"):
        return expr.op == "sort_desc"
    return None


def _sorted_vector(
    vector: list[tuple[SeriesLabels, int, float]], *, descending: bool
) -> list[tuple[SeriesLabels, int, float]]:
    def key(item: tuple[SeriesLabels, int, float]) -> tuple[bool, float]:
        v = item[2]
        return (math.isnan(v), -v if descending else v)

    return sorted(vector, key=key)


__all__ = ["Engine", "EngineOptions", "QueryResult", "Stats", "Stream"]
