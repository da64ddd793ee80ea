"""The PromQL engine: instant and range queries over a ``Querier``.

Evaluation runs over a grid of evaluation times (one for an instant query). Selectors read each
series once for the whole grid and find every step's sample with ``searchsorted``; range
functions reduce flat windows; operators and aggregations work on ``(series, steps)`` arrays.
Semantics follow Prometheus 3: left-open range windows and lookback, staleness markers ending a
series, ``offset``/``@``, subqueries aligned to their step, and (optionally) delayed removal of
``__name__``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import (
    BadInput,
    ParseError,
    QueryError,
    QueryTimeout,
    QueryTooLarge,
)
from spyglass.core.labels import Labels
from spyglass.core.matchers import Matcher
from spyglass.core.samples import stale_mask
from spyglass.promql._aggregations import evaluate as evaluate_aggregate
from spyglass.promql._ast import (
    Aggregate,
    At,
    Binary,
    Call,
    Expr,
    MatrixSelector,
    NumberLiteral,
    StringLiteral,
    Subquery,
    Unary,
    VectorSelector,
    children,
    kind_of,
    parse_query,
    position_of,
)
from spyglass.promql._binops import drop_names, merge_same_labels
from spyglass.promql._binops import evaluate as evaluate_binary
from spyglass.promql._durations import expand_durations
from spyglass.promql._extended import smoothed_vector
from spyglass.promql._functions import EXPERIMENTAL, find_sort_call, keeps_order
from spyglass.promql._functions import evaluate as evaluate_call
from spyglass.promql._reads import few_series
from spyglass.promql._values import (
    LabelIds,
    Matrix,
    Scalar,
    String,
    Vector,
    drop_name,
    first_after,
    row_blocks,
)
from spyglass.storage.ports import ColumnQuerier, Querier, SeriesBound, SeriesColumns

if TYPE_CHECKING:
    from spyglass.promql._cache import RangeCache

Value = Scalar | String | Vector | Matrix

# Syntax trees are frozen, so one parse serves every evaluation of the same text: rules and
# dashboards run the same queries again and again (parsing was 2 % of a rule group's time).
_parse_cached = functools.lru_cache(maxsize=4096)(parse_query)

# An instant query whose selectors match at most this many series in all, every one read from
# memory, is ``quick``: it costs less than a handful of thread switches (docs/decisions.md,
# "Small instant queries on the event loop").
QUICK_SERIES = 256


@dataclass(frozen=True)
class EngineOptions:
    """Engine settings; the defaults are Prometheus'."""

    lookback_delta_ms: int = 300_000
    max_samples: int = 50_000_000
    timeout_s: float = 120.0
    default_subquery_step_ms: int = 60_000
    delayed_name_removal: bool = False
    experimental_functions: bool = False
    # Hand range functions to a querier that evaluates them itself (``GridQuerier``) where
    # that is exact (promql/_pushdown.py).
    push_down: bool = False


@dataclass
class QueryResult:
    """What a query returned, in the shape of Prometheus' API ``data`` plus annotations."""

    result_type: Literal["vector", "matrix", "scalar", "string"]
    vector: list[tuple[Labels, float]] = field(default_factory=list)
    matrix: list[tuple[Labels, npt.NDArray[np.int64], npt.NDArray[np.float64]]] = field(
        default_factory=list
    )
    scalar: float | None = None
    string: str | None = None
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    samples_processed: int = 0


class Context:
    """Per-query state shared by every node: grid, limits, annotations."""

    def __init__(
        self,
        querier: Querier,
        options: EngineOptions,
        grid: npt.NDArray[np.int64],
        start_ms: int,
        end_ms: int,
    ) -> None:
        self.querier = querier
        self.options = options
        self.grid = grid
        self.start_ms: int = start_ms
        self.end_ms: int = end_ms
        self.deadline = time.monotonic() + options.timeout_s
        self.warnings: list[str] = []
        self.infos: list[str] = []
        self.samples = 0
        self.query = ""
        self.step_ms: int = int(grid[1] - grid[0]) if len(grid) > 1 else 0

    def sub(self, grid: npt.NDArray[np.int64]) -> Context:
        """A context for a subquery's own grid, sharing limits and annotations."""
        c = Context.__new__(Context)
        c.__dict__.update(self.__dict__)
        c.grid = grid
        return c

    @property
    def steps(self) -> int:
        """Steps in the grid."""
        return len(self.grid)

    def _where(self, node: Expr | None) -> str:
        if node is None or not self.query:
            return ""
        offset = position_of(node)
        before = self.query[:offset]
        line = before.count("\n") + 1
        column = offset - (before.rfind("\n") + 1) + 1
        return f" ({line}:{column})"

    def warn(self, message: str, node: Expr | None = None) -> None:
        """Record a warning annotation once; ``node`` gives the position Prometheus appends."""
        text = f"PromQL warning: {message}{self._where(node)}"
        if text not in self.warnings:
            self.warnings.append(text)

    def info(self, message: str, node: Expr | None = None) -> None:
        """Record an info annotation once."""
        text = f"PromQL info: {message}{self._where(node)}"
        if text not in self.infos:
            self.infos.append(text)

    def count(self, samples: int) -> None:
        """Account for samples held by a node; fail once the query holds too many."""
        self.samples += samples
        if samples > self.options.max_samples:
            raise QueryTooLarge(
                "query processing would load too many samples into memory in query execution"
            )

    def check_deadline(self) -> None:
        """Fail if the query ran out of time."""
        if time.monotonic() > self.deadline:
            raise QueryTimeout("query timed out in expression evaluation")


class Evaluator:
    """Evaluates a syntax tree in a context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- dispatch ---------------------------------------------------------------------------
    def eval(self, expr: Expr) -> Value:
        """Evaluate ``expr`` over the context's grid."""
        self.ctx.check_deadline()
        if isinstance(expr, NumberLiteral):
            return Scalar(np.full(self.ctx.steps, expr.value))
        if isinstance(expr, StringLiteral):
            return String(expr.value)
        if isinstance(expr, VectorSelector):
            return self.vector_selector(expr)
        if isinstance(expr, MatrixSelector):
            return self.matrix_selector(expr)
        if isinstance(expr, Subquery):
            return self.subquery(expr)
        if isinstance(expr, Unary):
            inner = self.eval(expr.expr)
            if isinstance(inner, Scalar):
                return Scalar(-inner.values)
            assert isinstance(inner, Vector)
            out = drop_names(inner, self.ctx)
            return Vector(out.labels, -out.values, out.present, out.drop)
        if isinstance(expr, Binary):
            return evaluate_binary(self, expr)
        if isinstance(expr, Aggregate):
            return evaluate_aggregate(self, expr)
        if isinstance(expr, Call):
            return evaluate_call(self, expr)
        raise QueryError(f"unsupported expression {expr!r}")

    def eval_vector(self, expr: Expr) -> Vector:
        """Evaluate an expression that must give an instant vector."""
        v = self.eval(expr)
        if not isinstance(v, Vector):
            raise QueryError(f"expected instant vector, got {type(v).__name__.lower()}")
        return v

    def eval_scalar(self, expr: Expr) -> Scalar:
        """Evaluate an expression that must give a scalar."""
        v = self.eval(expr)
        if not isinstance(v, Scalar):
            raise QueryError(f"expected scalar, got {type(v).__name__.lower()}")
        return v

    def eval_matrix(self, expr: Expr) -> Matrix:
        """Evaluate an expression that must give a range vector."""
        v = self.eval(expr)
        if not isinstance(v, Matrix):
            raise QueryError(f"expected range vector, got {type(v).__name__.lower()}")
        return v

    # -- time helpers -----------------------------------------------------------------------
    def ref_times(self, at: At | None, offset_ms: int) -> npt.NDArray[np.int64]:
        """Per step, the time a selector reads at: the step (or its ``@``) minus the offset."""
        if at is None:
            base = self.ctx.grid
        elif at.kind == "start":
            base = np.full(self.ctx.steps, self.ctx.start_ms, np.int64)
        elif at.kind == "end":
            base = np.full(self.ctx.steps, self.ctx.end_ms, np.int64)
        else:
            base = np.full(self.ctx.steps, at.time_ms, np.int64)
        return base - offset_ms

    # -- selectors --------------------------------------------------------------------------
    def vector_selector(self, sel: VectorSelector) -> Vector:
        """Each step's latest sample within the lookback window ``(t - lookback, t]``."""
        times = self.ref_times(sel.at, sel.offset_ms)
        steps = len(times)
        if steps == 0:
            return Vector.empty(0)
        if sel.modifier == "smoothed":
            return smoothed_vector(self, sel, times)
        lookback = self.ctx.options.lookback_delta_ms
        lo, hi = int(times.min()) - lookback + 1, int(times.max())
        labels, ts, values, offsets, ids = self._select(sel.matchers, lo, hi)
        n = len(labels)
        if n == 0:
            return Vector.empty(steps)
        # Per series and step: the latest sample at or before the step, if it is recent enough
        # and not a staleness marker; a block of series at a time (row_blocks).
        vals = np.empty((n, steps))
        sample_ts = np.empty((n, steps), np.int64)
        ok = np.empty((n, steps), bool)
        since = (times - lookback)[None, :]
        for first, stop in row_blocks(n, steps):
            base = int(offsets[first])
            part = offsets[first : stop + 1] - base
            idx = first_after(ts[base : int(offsets[stop])], part, times)
            idx -= 1
            found = idx >= part[:-1, None]
            idx += base
            np.maximum(idx, 0, out=idx)
            block_ts = ts[idx]
            block_vals = values[idx]
            found &= block_ts > since
            found &= ~stale_mask(block_vals)
            vals[first:stop], sample_ts[first:stop], ok[first:stop] = block_vals, block_ts, found
        self.ctx.count(int(ok.sum()))
        rows = np.flatnonzero(ok.any(axis=1))
        if len(rows) == 0:
            return Vector.empty(steps)
        if len(rows) < n:
            labels = [labels[i] for i in rows]
            vals, ok, sample_ts = vals[rows], ok[rows], sample_ts[rows]
            ids = None if ids is None else ids.take(rows)
        return Vector(labels, vals, ok, np.zeros(len(labels), bool), sample_ts, ids)

    def _select(
        self, matchers: Sequence[Matcher], lo: int, hi: int
    ) -> tuple[
        list[Labels],
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
        npt.NDArray[np.int64],
        LabelIds | None,
    ]:
        """The matching series sorted by labels, their samples laid end to end, offsets, and
        the series' label codes when storage numbers its series."""
        querier = self.ctx.querier
        if isinstance(querier, ColumnQuerier):
            cols = querier.select_columns(matchers, lo, hi)
        else:
            cols = SeriesColumns.of(querier.select(matchers, lo, hi))
        self.ctx.check_deadline()
        labels, ts, values, offsets = cols.labels, cols.timestamps, cols.values, cols.offsets
        ids = None
        if cols.index is not None and cols.numbers is not None:
            ids = LabelIds(cols.index, cols.numbers)
        if not cols.in_order and len(labels) > 1:
            order = sorted(range(len(labels)), key=labels.__getitem__)
            if order != list(range(len(labels))):
                rows = np.asarray(order, np.intp)
                counts = np.diff(offsets)[rows]
                new_offsets = np.zeros(len(rows) + 1, np.int64)
                np.cumsum(counts, out=new_offsets[1:])
                gather = np.arange(int(new_offsets[-1]), dtype=np.int64) + np.repeat(
                    offsets[:-1][rows] - new_offsets[:-1], counts
                )
                labels = [labels[i] for i in order]
                ts, values, offsets = ts[gather], values[gather], new_offsets
                ids = None if ids is None else ids.take(rows)
        return labels, ts, values, offsets, ids

    def matrix_selector(self, sel: MatrixSelector, count: bool = True) -> Matrix:
        """Samples in each step's window ``(t - range, t]``, staleness markers removed.

        ``count=False`` leaves counting the samples to the caller (a range function counts
        them as it finds each block's windows, rather than finding every window twice)."""
        vs = sel.selector
        ends = self.ref_times(vs.at, vs.offset_ms)
        if len(ends) == 0:
            return Matrix.empty(ends, sel.range_ms)
        lo, hi = int(ends.min()) - sel.range_ms + 1, int(ends.max())
        labels, ts, values, offsets, ids = self._select(vs.matchers, lo, hi)
        # Staleness markers are dropped once for all series; a series left without samples
        # is dropped too.
        keep = ~stale_mask(values)
        if not keep.all():
            kept = np.zeros(len(keep) + 1, np.int64)
            np.cumsum(keep, out=kept[1:])
            offsets = kept[offsets]
            ts, values = ts[keep], values[keep]
            nonempty = np.flatnonzero(np.diff(offsets) > 0)
            if len(nonempty) < len(labels):
                labels = [labels[i] for i in nonempty]
                offsets = np.append(offsets[nonempty], offsets[-1])
                ids = None if ids is None else ids.take(nonempty)
        m = Matrix(
            labels, ts, values, offsets, ends, sel.range_ms, eval_times=self.ctx.grid, ids=ids
        )
        if labels and count:
            a, b = m.bounds()
            # Like Prometheus, a range function holds one window per series at a time, so the
            # largest window counts, not the sum over all steps of a range query.
            self.ctx.count(int((b - a).max(axis=1).sum()))
        return m

    def subquery(self, sq: Subquery) -> Matrix:
        """Evaluate the inner expression on its own step grid, then window it like a selector."""
        ends = self.ref_times(sq.at, sq.offset_ms)
        step = sq.step_ms or self.ctx.options.default_subquery_step_ms
        if len(ends) == 0:
            return Matrix.empty(ends, sq.range_ms)
        first = int(ends.min()) - sq.range_ms
        # The first step-aligned time strictly after the window's open start.
        start = (first // step + 1) * step
        stop = int(ends.max())
        grid = np.arange(start, stop + 1, step, dtype=np.int64)
        inner = Evaluator(self.ctx.sub(grid))
        value = inner.eval(sq.expr)
        if isinstance(value, Scalar):
            raise QueryError("subquery is only allowed on instant vector")
        if not isinstance(value, Vector):
            raise QueryError("subquery is only allowed on instant vector")
        rows = np.flatnonzero(value.present.any(axis=1))
        present = value.present[rows]
        r, c = np.nonzero(present)  # row-major: by series, then time
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(present.sum(axis=1), out=offsets[1:])
        return Matrix(
            [value.labels[i] for i in rows],
            grid[c].astype(np.int64),
            value.values[rows][r, c],
            offsets,
            ends,
            sq.range_ms,
            value.drop[rows].copy(),
            self.ctx.grid,
        )


def _check_enabled(expr: Expr, query: str, options: EngineOptions) -> None:
    """Experimental functions and aggregations are a parse error unless enabled."""
    if options.experimental_functions:
        return
    name = ""
    if isinstance(expr, Call) and expr.name in EXPERIMENTAL:
        name = expr.name
    elif isinstance(expr, Aggregate) and expr.op in EXPERIMENTAL:
        name = expr.op
    if name:
        before = query[: position_of(expr)]
        raise ParseError(
            f'parse error: function "{name}" is not enabled',
            line=before.count("\n") + 1,
            column=len(before) - (before.rfind("\n") + 1) + 1,
        )
    for child in children(expr):
        _check_enabled(child, query, options)


def finalize(vec: Vector, ctx: Context) -> Vector:
    """Apply pending name removals and reject label sets that then collide at the same step."""
    if not vec.drop.any():
        return vec
    labels = [drop_name(ls) if d else ls for ls, d in zip(vec.labels, vec.drop, strict=True)]
    return merge_same_labels(
        Vector(labels, vec.values, vec.present, np.zeros(len(labels), bool)), ctx
    )


class Engine:
    """Evaluates PromQL queries against a ``Querier``; with a ``RangeCache``, range queries
    evaluate only the steps it does not hold; with a ``SeriesBound`` (the querier's in-memory
    head), it can tell a quick instant query before evaluating it (``quick``)."""

    def __init__(
        self,
        querier: Querier,
        options: EngineOptions | None = None,
        cache: RangeCache | None = None,
        bound: SeriesBound | None = None,
    ) -> None:
        self.querier = querier
        self.options = options or EngineOptions()
        self.cache = cache
        self.bound = bound

    def quick(self, query: str, time_ms: int) -> bool:
        """Whether ``instant_query(query, time_ms)`` is known to be quick: a parse error, a
        query without selectors, or one whose selectors match at most ``QUICK_SERIES`` series
        in all, read from memory. The API evaluates those where it received them, without
        the two thread switches of a worker (each a wait for a CPU on a busy machine)."""
        if self.bound is None:
            return False
        try:
            expr = self._parse(query, 0, 0)
        except ParseError:
            return True  # answered at once, by the same error
        return few_series(expr, time_ms, self.options.lookback_delta_ms, self.bound, QUICK_SERIES)

    def _parse(self, query: str, step_ms: int, range_ms: int) -> Expr:
        try:
            expr = _parse_cached(query)
        except ParseError:
            # Duration expressions (experimental) need the step and range to be rewritten.
            if not self.options.experimental_functions:
                raise
            try:
                expanded = expand_durations(query, step_ms, range_ms)
            except ParseError:
                expanded = query
            if expanded == query:
                raise
            try:
                expr = parse_query(expanded)
            except ParseError:
                pass
            else:
                _check_enabled(expr, query, self.options)
                return expr
            raise
        _check_enabled(expr, query, self.options)
        return expr

    def instant_query(self, query: str, time_ms: int) -> QueryResult:
        """Evaluate ``query`` at one time (Prometheus' ``/api/v1/query``)."""
        expr = self._parse(query, 0, 0)
        ctx = Context(self.querier, self.options, np.array([time_ms], np.int64), time_ms, time_ms)
        ctx.query = query
        with np.errstate(all="ignore"):
            value = Evaluator(ctx).eval(expr)
            if isinstance(value, Vector):
                value = finalize(value, ctx)
        result = _instant_result(value, expr)
        result.warnings, result.infos, result.samples_processed = (
            ctx.warnings,
            ctx.infos,
            ctx.samples,
        )
        return result

    def range_query(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> QueryResult:
        """Evaluate ``query`` at every step from start to end (``/api/v1/query_range``),
        through the range cache when the engine has one."""
        if self.cache is not None:
            return self.cache.range_query(self, query, start_ms, end_ms, step_ms)
        return self.evaluate_range(query, start_ms, end_ms, step_ms)

    def evaluate_range(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> QueryResult:
        """Evaluate ``query`` at every step from start to end, never from the cache."""
        if step_ms <= 0:
            raise BadInput("zero or negative query resolution step widths are not accepted")
        if end_ms < start_ms:
            raise BadInput("end timestamp must not be before start time")
        expr = self._parse(query, step_ms, end_ms - start_ms)
        kind = kind_of(expr)
        if kind not in ("scalar", "vector"):
            label = "range vector" if kind == "matrix" else kind
            # Prometheus rejects this before evaluating: a bad_data error, like a parse error.
            raise ParseError(
                f'invalid expression type "{label}" for range query, '
                "must be Scalar or instant Vector"
            )
        if (end_ms - start_ms) // step_ms + 1 > self.options.max_samples:
            # Even a scalar holds one sample per step: refuse before allocating the grid.
            raise QueryTooLarge(
                "query processing would load too many samples into memory in query execution"
            )
        grid = np.arange(start_ms, end_ms + 1, step_ms, dtype=np.int64)
        ctx = Context(self.querier, self.options, grid, start_ms, end_ms)
        ctx.query = query
        with np.errstate(all="ignore"):
            value = Evaluator(ctx).eval(expr)
            matrix: list[tuple[Labels, npt.NDArray[np.int64], npt.NDArray[np.float64]]] = []
            if isinstance(value, Scalar):
                matrix.append(((), grid.copy(), value.values.copy()))
            elif isinstance(value, Vector):
                value = finalize(value, ctx)
                for i, labels in enumerate(value.labels):
                    mask = value.present[i]
                    if mask.any():
                        matrix.append((labels, grid[mask], value.values[i][mask]))
                matrix.sort(key=lambda s: s[0])
            else:
                raise QueryError("range queries need a scalar or instant vector expression")
        sort_call = find_sort_call(expr)
        if sort_call is not None:
            ctx.warn(
                "sort is ineffective for range queries since results are always ordered by labels",
                sort_call,
            )
        return QueryResult(
            "matrix",
            matrix=matrix,
            warnings=ctx.warnings,
            infos=ctx.infos,
            samples_processed=ctx.samples,
        )


def _instant_result(value: Value, expr: Expr) -> QueryResult:
    if isinstance(value, Scalar):
        return QueryResult("scalar", scalar=float(value.values[0]))
    if isinstance(value, String):
        return QueryResult("string", string=value.value)
    if isinstance(value, Matrix):
        out = []
        for s in value.series:
            lo = np.searchsorted(s.timestamps, value.ends[0] - value.range_ms, side="right")
            hi = np.searchsorted(s.timestamps, value.ends[0], side="right")
            if hi > lo:
                out.append((s.labels, s.timestamps[lo:hi], s.values[lo:hi]))
        out.sort(key=lambda s: s[0])
        return QueryResult("matrix", matrix=out)
    rows = [
        (labels, float(value.values[i, 0]))
        for i, labels in enumerate(value.labels)
        if value.present[i, 0]
    ]
    if not keeps_order(expr):
        rows.sort(key=lambda r: r[0])
    return QueryResult("vector", vector=rows)


__all__ = ["Context", "Engine", "EngineOptions", "Evaluator", "QueryResult", "finalize"]
