"""PromQL functions.

Range-vector functions reduce the flat windows of ``Matrix.windows()``: values at window
boundaries are gathered by index, sums that must be exact run a Kahan loop over the position in
the window (vectorised over every window at once), and counts of changes/resets come from cumulative
sums. Instant-vector functions are numpy ufuncs over the ``(series, steps)`` array.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import QueryError
from spyglass.core.labels import LABEL_NAME_RE, METRIC_NAME, Labels, get
from spyglass.core.matchers import MatchOp
from spyglass.promql import _histograms
from spyglass.promql._aggregations import (
    MeanAccumulator,
    format_value,
    kahan_inc,
)
from spyglass.promql._ast import (
    Call,
    Expr,
    MatrixSelector,
    StringLiteral,
    Subquery,
    VectorSelector,
    children,
)
from spyglass.promql._binops import drop_names, merge_same_labels
from spyglass.promql._extended import extended_range
from spyglass.promql._info import evaluate_info
from spyglass.promql._pushdown import grid_request, pushed_down
from spyglass.promql._values import (
    F64,
    Mask,
    Matrix,
    Scalar,
    Vector,
    Windows,
    drop_name,
    row_blocks,
)

if TYPE_CHECKING:
    from spyglass.promql._engine import Context, Evaluator, Value

_MATH: dict[str, Callable[[F64], F64]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "deg": np.degrees,
    "rad": np.radians,
    "sgn": np.sign,
}

_OVER_TIME = frozenset(
    {
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "last_over_time",
        "first_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "present_over_time",
        "quantile_over_time",
        "mad_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
        "ts_of_last_over_time",
        "ts_of_first_over_time",
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "deriv",
        "predict_linear",
        "resets",
        "changes",
        "holt_winters",
        "double_exponential_smoothing",
    }
)
# Duration-expression functions of Prometheus 3.x, as seconds of the query being run.
_QUERY_TIMES: dict[str, Callable[[Context], float]] = {
    "step": lambda ctx: float(ctx.step_ms),
    "range": lambda ctx: float(ctx.end_ms - ctx.start_ms),
    "start": lambda ctx: float(ctx.start_ms),
    "end": lambda ctx: float(ctx.end_ms),
}
_KEEP_NAME = frozenset({"last_over_time", "first_over_time"})
_DATE = frozenset(
    {
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "hour",
        "minute",
        "month",
        "year",
    }
)
_COUNTER_FUNCS = frozenset({"rate", "increase", "irate"})
_ORDERED = frozenset({"sort", "sort_desc", "sort_by_label", "sort_by_label_desc"})
EXPERIMENTAL = frozenset(
    {
        "sort_by_label",
        "sort_by_label_desc",
        "mad_over_time",
        "first_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
        "ts_of_last_over_time",
        "ts_of_first_over_time",
        "double_exponential_smoothing",
        "limitk",
        "limit_ratio",
        "info",
    }
)


def find_sort_call(expr: Expr) -> Call | None:
    """The first sorting function call in ``expr`` (sorting is ineffective in range queries)."""
    if isinstance(expr, Call) and expr.name in _ORDERED:
        return expr
    for child in children(expr):
        found = find_sort_call(child)
        if found is not None:
            return found
    return None


def keeps_order(expr: Expr) -> bool:
    """Whether an instant query's result order is meaningful (sort, topk, ...)."""
    from spyglass.promql._ast import Aggregate  # noqa: PLC0415 - avoids a wide import list

    if isinstance(expr, Call) and expr.name in _ORDERED:
        return True
    return isinstance(expr, Aggregate) and expr.op in ("topk", "bottomk")


def evaluate(ev: Evaluator, call: Call) -> Value:
    """Evaluate a function call."""
    ctx = ev.ctx
    name = call.name
    if name == "time":
        return Scalar(ctx.grid / 1000.0)
    if name == "pi":
        return Scalar(np.full(ctx.steps, math.pi))
    if name in _QUERY_TIMES:
        return Scalar(np.full(ctx.steps, _QUERY_TIMES[name](ctx) / 1000.0))
    if name in ("min_of", "max_of"):
        a = ev.eval_scalar(call.args[0]).values
        b = ev.eval_scalar(call.args[1]).values
        # Go's math.Min/Max: NaN wins.
        return Scalar(np.minimum(a, b) if name == "min_of" else np.maximum(a, b))
    if name in _OVER_TIME:
        return _range_function(ev, call)
    if name == "info":
        return evaluate_info(ev, call)
    if name == "absent_over_time":
        m = ev.eval_matrix(call.args[0])
        w = m.windows()
        _, present = w.to_grid(np.ones(len(w.start)))
        any_present = np.asarray(present.any(axis=0), bool)
        return _absent(call.args[0], ~any_present, ctx.steps)
    if name == "absent":
        v = ev.eval_vector(call.args[0])
        seen = np.asarray(v.present.any(axis=0), bool)
        return _absent(call.args[0], ~seen, ctx.steps)
    if name == "scalar":
        v = ev.eval_vector(call.args[0])
        counts = v.present.sum(axis=0)
        vals = np.where(v.present, v.values, 0.0).sum(axis=0)
        return Scalar(np.where(counts == 1, vals, np.nan))
    if name == "vector":
        s = ev.eval_scalar(call.args[0])
        return Vector(
            [()], s.values[None, :].copy(), np.ones((1, ctx.steps), bool), np.zeros(1, bool)
        )
    if name in _MATH:
        v = drop_names(ev.eval_vector(call.args[0]), ctx)
        return Vector(v.labels, _MATH[name](v.values), v.present, v.drop)
    if name == "round":
        v = drop_names(ev.eval_vector(call.args[0]), ctx)
        to = ev.eval_scalar(call.args[1]).values if len(call.args) > 1 else np.ones(ctx.steps)
        inv = 1.0 / to
        return Vector(v.labels, np.floor(v.values * inv + 0.5) / inv, v.present, v.drop)
    if name in ("clamp", "clamp_min", "clamp_max"):
        return _clamp(ev, call)
    if name == "timestamp":
        v = ev.eval_vector(call.args[0])
        ts = v.sample_ts if v.sample_ts is not None else np.broadcast_to(ctx.grid, v.values.shape)
        return drop_names(Vector(v.labels, ts / 1000.0, v.present, v.drop), ctx)
    if name in _DATE:
        return _date(ev, call)
    if name in _ORDERED:
        return _sort(ev, call)
    if name == "label_replace":
        return _label_replace(ev, call)
    if name == "label_join":
        return _label_join(ev, call)
    if name == "histogram_quantile":
        q = ev.eval_scalar(call.args[0]).values
        v = ev.eval_vector(call.args[1])
        return _histograms.histogram_quantile(q, v, ctx, call.args[0], call.args[1])
    if name == "histogram_quantiles":
        v = ev.eval_vector(call.args[0])
        label = _string_args(call, 1, 2)[0]
        qs = [(a, ev.eval_scalar(a).values) for a in call.args[2:]]
        return _histograms.histogram_quantiles(v, label, qs, ctx, call.args[0])
    if name == "histogram_fraction":
        lower = ev.eval_scalar(call.args[0]).values
        upper = ev.eval_scalar(call.args[1]).values
        v = ev.eval_vector(call.args[2])
        return _histograms.histogram_fraction(lower, upper, v, ctx, call.args[2])
    if name.startswith("histogram_"):
        # Native histograms are not stored yet: float series carry no histogram to read.
        ev.eval_vector(call.args[-1])
        return Vector.empty(ctx.steps)
    raise QueryError(f"function {name!r} is not supported")


# -- range functions ---------------------------------------------------------------------------


def _range_function(ev: Evaluator, call: Call) -> Vector:
    ctx = ev.ctx
    name = call.name
    scalars: list[F64] = []
    matrix_arg: Expr | None = None
    for a in call.args:
        if isinstance(a, (MatrixSelector, Subquery)) and matrix_arg is None:
            matrix_arg = a
        else:
            scalars.append(ev.eval_scalar(a).values)
    if matrix_arg is None:
        raise QueryError(f"function {name} needs a range vector")
    if isinstance(matrix_arg, MatrixSelector) and matrix_arg.selector.modifier:
        sel = matrix_arg.selector
        ends = ev.ref_times(sel.at, sel.offset_ms)
        return drop_names(extended_range(ev, name, matrix_arg, ends), ctx).compact()
    pushed = None
    if isinstance(matrix_arg, MatrixSelector):
        request = grid_request(ev, call, matrix_arg, scalars)
        if request is not None:
            pushed = pushed_down(ev, request)
    if pushed is not None:
        labels, values, present = pushed
        out = Vector(labels, values, present, np.zeros(len(labels), bool))
    else:
        if isinstance(matrix_arg, MatrixSelector):
            ctx.check_deadline()
            m = ev.matrix_selector(matrix_arg, count=False)
            values, present, held = reduce_matrix(name, m, scalars, ctx)
            ctx.count(held)
        else:
            m = ev.eval_matrix(matrix_arg)
            values, present, _ = reduce_matrix(name, m, scalars, ctx)
        out = Vector(m.labels, values, present, m.drop.copy(), ids=m.ids)
    if name in _COUNTER_FUNCS:
        metric = _first_non_counter(out)
        if metric:
            ctx.info(
                "metric might not be a counter, name does not end in "
                f'_total/_sum/_count/_bucket: "{metric}"',
                matrix_arg,
            )
    if name not in _KEEP_NAME:
        out = drop_names(out, ctx)
    return out.compact()


def reduce_matrix(name: str, m: Matrix, scalars: list[F64], ctx: Context) -> tuple[F64, Mask, int]:
    """Range function ``name`` over every window of ``m``, a block of series at a time: the
    ``(series, steps)`` values and presence, and the samples a selector holds for it (per
    series its largest window, as Prometheus counts them)."""
    n, steps = len(m.labels), len(m.ends)
    values = np.zeros((n, steps))
    present = np.zeros((n, steps), bool)
    held = 0
    for first, stop in row_blocks(n, steps):
        part = m.block(first, stop)
        lo, hi = part.bounds()
        held += int((hi - lo).max(axis=1, initial=0).sum())
        w = part.windows()
        seg_vals, seg_ok = reduce_windows(name, w, scalars, ctx)
        values[first:stop], present[first:stop] = w.to_grid(seg_vals, seg_ok)
    return values, present, held


def _first_non_counter(vec: Vector) -> str:
    """The first row's metric name that does not look like a counter's, or ``""``."""
    if vec.ids is not None:
        # One look per distinct name instead of one per series.
        codes, names = vec.ids.column(METRIC_NAME)
        distinct = np.unique(codes)
        bad = [int(c) for c in distinct if names[c] and not names[c].endswith(_COUNTER_SUFFIXES)]
        if not bad:
            return ""
        return names[int(codes[np.isin(codes, bad)][0])]
    for ls in vec.labels:
        metric = get(ls, METRIC_NAME)
        if metric and not metric.endswith(_COUNTER_SUFFIXES):
            return metric
    return ""


_COUNTER_SUFFIXES = ("_total", "_sum", "_count", "_bucket")


_EXACT = 2**53  # integers below this are exact in float64


def _exact_sums(w: Windows) -> F64 | None:
    """Window sums from prefix sums, when that is exact: integer values (counters, byte
    gauges) whose magnitudes sum to less than 2^53 in every window. Every partial sum is then
    exact, so Prometheus' Kahan sum has a zero compensation and gives the same bits; the
    sequential loop (one step per sample of the longest window) is not needed."""
    v = w.values
    if len(w.start) == 0 or len(v) == 0 or not np.isfinite(v).all():
        return None
    if float(np.abs(v).max()) * len(v) >= 2.0**62 or not (v == np.trunc(v)).all():
        return None
    iv = v.astype(np.int64)
    sums = np.zeros(len(v) + 1, np.int64)
    np.cumsum(iv, out=sums[1:])
    mags = np.zeros(len(v) + 1, np.int64)
    np.cumsum(np.abs(iv), out=mags[1:])
    end = w.start + w.count
    if int((mags[end] - mags[w.start]).max()) >= _EXACT:
        return None
    out: F64 = (sums[end] - sums[w.start]).astype(np.float64)
    return out


def _kahan_parts(w: Windows) -> tuple[F64, F64]:
    exact = _exact_sums(w)
    if exact is not None:
        return exact, np.zeros(len(exact))
    total = np.zeros(len(w.start))
    comp = np.zeros(len(w.start))
    for j in range(int(w.count.max(initial=0))):
        v, ok = w.at(j)
        t, c = kahan_inc(v, total, comp)
        total = np.where(ok, t, total)
        comp = np.where(ok, c, comp)
    return total, comp


def _kahan_sum(w: Windows) -> F64:
    total, comp = _kahan_parts(w)
    return total + comp


def _mean(w: Windows) -> F64:
    # A sum that ends finite never overflowed on the way, so Prometheus' plain Kahan mean
    # applies; only windows whose sum overflowed need the incremental mean.
    total, comp = _kahan_parts(w)
    n = w.count.astype(np.float64)
    out = total / n + comp / n
    bad = ~np.isfinite(total)
    if bad.any():
        sub = dataclasses.replace(w)
        sub.grid_mask = None
        sub.start, sub.count, sub.step, sub.series = (
            w.start[bad],
            w.count[bad],
            w.step[bad],
            w.series[bad],
        )
        acc = MeanAccumulator((int(bad.sum()),))
        for j in range(int(sub.count.max(initial=0))):
            v, ok = sub.at(j)
            acc.add(v, ok)
        out[bad] = acc.result()
    return out


def _segment_ids(w: Windows) -> np.ndarray:
    return np.repeat(np.arange(len(w.start)), w.count)


def _segment_quantile(q: F64, w: Windows) -> F64:
    """Per window, the ``q[step]`` quantile of its values (NaN sorts first, like Go)."""
    vals, offsets = w.gathered()
    seg = _segment_ids(w)
    nan = np.isnan(vals)
    order = np.lexsort((np.where(nan, 0.0, vals), ~nan, seg))
    srt = vals[order]
    n = w.count.astype(np.float64)
    qs = q[w.step]
    rank = np.nan_to_num(qs * (n - 1), nan=0.0, posinf=0.0, neginf=0.0)
    lower = np.clip(np.floor(rank), 0, n - 1).astype(np.int64)
    upper = np.minimum(lower + 1, w.count - 1)
    weight = rank - np.floor(rank)
    lo_v = srt[offsets + lower]
    hi_v = srt[offsets + upper]
    out = np.where(weight == 0, lo_v, lo_v * (1 - weight) + hi_v * weight)
    out = np.where(qs < 0, -np.inf, np.where(qs > 1, np.inf, out))
    return np.where(np.isnan(qs), np.nan, out)


def reduce_windows(name: str, w: Windows, scalars: list[F64], ctx: Context) -> tuple[F64, Mask]:
    """Range function ``name`` over each window: a value per segment and whether it has one."""
    k = len(w.start)
    ok = np.ones(k, bool)
    if name == "count_over_time":
        return w.count.astype(np.float64), ok
    if name == "present_over_time":
        return np.ones(k), ok
    if name == "last_over_time":
        return w.values[w.last], ok
    if name == "first_over_time":
        return w.values[w.start], ok
    if name == "ts_of_last_over_time":
        return w.ts[w.last] / 1000.0, ok
    if name == "ts_of_first_over_time":
        return w.ts[w.start] / 1000.0, ok
    if name == "sum_over_time":
        return _kahan_sum(w), ok
    if name == "avg_over_time":
        return _mean(w), ok
    if name in ("max_over_time", "min_over_time", "ts_of_max_over_time", "ts_of_min_over_time"):
        if k == 0:
            return np.zeros(0), ok
        vals, offsets = w.gathered()
        fn = np.fmax if "max" in name else np.fmin
        best = fn.reduceat(vals, offsets)
        if name.startswith("ts_of"):
            seg = _segment_ids(w)
            hit = (vals == best[seg]) | (np.isnan(vals) & np.isnan(best[seg]))
            tss = w.gathered_ts()
            pos = np.where(hit, tss, np.iinfo(np.int64).min)
            return np.maximum.reduceat(pos, offsets) / 1000.0, ok
        return best, ok
    if name in ("stddev_over_time", "stdvar_over_time"):
        cnt = np.zeros(k)
        mean = np.zeros(k)
        cmean = np.zeros(k)
        aux = np.zeros(k)
        caux = np.zeros(k)
        for j in range(int(w.count.max(initial=0))):
            v, m = w.at(j)
            cnt = np.where(m, cnt + 1, cnt)
            delta = v - (mean + cmean)
            nm, nc = kahan_inc(delta / np.maximum(cnt, 1), mean, cmean)
            mean, cmean = np.where(m, nm, mean), np.where(m, nc, cmean)
            na, nca = kahan_inc(delta * (v - (mean + cmean)), aux, caux)
            aux, caux = np.where(m, na, aux), np.where(m, nca, caux)
        var = (aux + caux) / cnt
        return (np.sqrt(var) if name == "stddev_over_time" else var), ok
    if name == "quantile_over_time":
        q = scalars[0]
        bad = np.isnan(q) | (q < 0) | (q > 1)
        if bad.any() and k:
            ctx.warn(
                f"quantile value should be between 0 and 1, got {format_value(float(q[bad][0]))}"
            )
        if k == 0:
            return np.zeros(0), ok
        return _segment_quantile(q, w), ok
    if name == "mad_over_time":
        if k == 0:
            return np.zeros(0), ok
        half = np.full(w.n_steps, 0.5)
        vals0, offsets0 = w.gathered()
        has_nan = np.add.reduceat(np.isnan(vals0).astype(np.int64), offsets0) > 0
        med = _segment_quantile(half, w)
        dev = Windows(**w.__dict__)
        dev.grid_mask = None
        vals, offsets = w.gathered()
        seg = _segment_ids(w)
        dev.values = np.abs(vals - med[seg])
        dev.start = offsets
        return np.where(has_nan, np.nan, _segment_quantile(half, dev)), ok
    if name in ("changes", "resets"):
        v = w.values
        prev = np.concatenate([[np.nan], v[:-1]]) if len(v) else v
        ind = (v != prev) & ~(np.isnan(v) & np.isnan(prev)) if name == "changes" else v < prev
        cs = np.cumsum(ind.astype(np.int64))
        return (cs[w.last] - cs[w.start]).astype(np.float64), ok
    if name in ("rate", "increase", "delta"):
        return _extrapolated(w, name)
    if name in ("irate", "idelta"):
        two = w.count >= 2
        li = w.last
        pi = np.maximum(li - 1, 0)
        lv, pv = w.values[li], w.values[pi]
        dv = lv - pv
        if name == "irate":
            dv = np.where(lv < pv, lv, dv)
            dt = (w.ts[li] - w.ts[pi]) / 1000.0
            return dv / dt, two & (dt != 0)
        return dv, two
    if name in ("deriv", "predict_linear"):
        return _regression(w, name, scalars)
    if name in ("holt_winters", "double_exponential_smoothing"):
        return _smoothing(w, scalars)
    raise QueryError(f"function {name!r} is not supported")


def _extrapolated(w: Windows, name: str) -> tuple[F64, Mask]:
    """Prometheus' extrapolatedRate for rate/increase/delta.

    Written with in-place operations: a range query has a segment per series and step, so
    every temporary array is millions of elements.
    """
    is_counter = name != "delta"
    # Full windows work as (series, steps) arrays, so per-step values broadcast.
    cnt = w.shaped(w.count)
    ok = cnt >= 2
    fi = w.shaped(w.start)
    li = fi + cnt - 1
    fv, lv = w.values[fi], w.values[li]
    result = lv - fv
    if is_counter and len(w.values) > 1:
        result = _add_resets(w.values, fi, li, result)
    ft, lt = w.ts[fi], w.ts[li]
    rstart = w.per_step(w.range_start)
    rend = w.per_step(w.range_end)
    to_start = (ft - rstart) / 1000.0
    to_end = (rend - lt) / 1000.0
    sampled = (lt - ft) / 1000.0
    avg = sampled / np.maximum(cnt - 1, 1)
    threshold = avg * 1.1
    half = avg / 2
    np.copyto(to_start, half, where=to_start >= threshold)
    if is_counter:
        with np.errstate(all="ignore"):
            to_zero = sampled * (fv / result)
        # min(to_start, to_zero) where the counter would reach zero inside the window; NaN wins
        # like Go's math.Min.
        use = (result > 0) & (fv >= 0) & ~(to_zero >= to_start)
        np.copyto(to_start, to_zero, where=use)
    np.copyto(to_end, half, where=to_end >= threshold)
    factor = sampled + to_start
    factor += to_end
    factor /= sampled
    if name == "rate":
        factor /= (rend - rstart) / 1000.0
    result *= factor
    return result.reshape(-1), ok.reshape(-1)


def _add_resets(v: F64, fi: npt.NDArray[np.int64], li: npt.NDArray[np.int64], result: F64) -> F64:
    """``result`` plus, per window ``(fi, li]``, the value before each counter reset in it.

    A drop between consecutive samples is a reset; a drop across two series' boundary is never
    inside one window. The values are added one reset at a time in sample order, as Prometheus
    adds them, so the sum has its bits (a prefix sum over all samples would lose the small
    corrections of a window behind a huge one elsewhere).
    """
    resets = np.flatnonzero(v[1:] < v[:-1]) + 1
    if len(resets) == 0:  # most windows of most counters never reset
        return result
    first = np.searchsorted(resets, fi, side="right")
    stop = np.searchsorted(resets, li, side="right")
    result = result.copy()
    for k in range(int((stop - first).max(initial=0))):
        at = first + k
        inside = at < stop
        result[inside] += v[resets[at[inside]] - 1]
    return result


def _regression(w: Windows, name: str, scalars: list[F64]) -> tuple[F64, Mask]:
    ok = w.count >= 2
    k = len(w.start)
    if k == 0:
        return np.zeros(0), ok
    vals, offsets = w.gathered()
    tss = w.gathered_ts()
    seg = _segment_ids(w)
    # predict_linear extrapolates from the evaluation time, which differs from the window end
    # under @ or offset.
    intercept_t = w.ts[w.start] if name == "deriv" else w.eval_times[w.step]
    x = (tss - intercept_t[seg]) / 1000.0
    n = w.count.astype(np.float64)
    sx = np.add.reduceat(x, offsets)
    sy = np.add.reduceat(vals, offsets)
    sxy = np.add.reduceat(x * vals, offsets)
    sx2 = np.add.reduceat(x * x, offsets)
    first = vals[offsets]
    differs = (vals != first[seg]).astype(np.int64)
    const = np.add.reduceat(differs, offsets) == 0
    cov = sxy - sx * sy / n
    var = sx2 - sx * sx / n
    slope = cov / var
    intercept = sy / n - slope * sx / n
    slope = np.where(const, 0.0, slope)
    intercept = np.where(const, first, intercept)
    if name == "deriv":
        return slope, ok
    dur = scalars[0][w.step]
    return intercept + slope * dur, ok


def _smoothing(w: Windows, scalars: list[F64]) -> tuple[F64, Mask]:
    sf, tf = scalars[0], scalars[1]
    bad_sf = (sf <= 0) | (sf >= 1)
    if bad_sf.any():
        raise QueryError(
            f"invalid smoothing factor. Expected: 0 < sf < 1, got: {float(sf[bad_sf][0]):f}"
        )
    bad_tf = (tf <= 0) | (tf >= 1)
    if bad_tf.any():
        raise QueryError(
            f"invalid trend factor. Expected: 0 < tf < 1, got: {float(tf[bad_tf][0]):f}"
        )
    ok = w.count >= 2
    k = len(w.start)
    if k == 0:
        return np.zeros(0), ok
    s_f, t_f = sf[w.step], tf[w.step]
    v0, _ = w.at(0)
    v1, _ = w.at(1)
    s0 = np.zeros(k)
    s1 = v0.copy()
    b = v1 - v0
    for i in range(1, int(w.count.max(initial=0))):
        v, m = w.at(i)
        x = s_f * v
        nb = b if i == 1 else t_f * (s1 - s0) + (1 - t_f) * b
        y = (1 - s_f) * (s1 + nb)
        ns0, ns1 = s1, x + y
        b = np.where(m, nb, b)
        s0 = np.where(m, ns0, s0)
        s1 = np.where(m, ns1, s1)
    return s1, ok


# -- instant functions -------------------------------------------------------------------------


def _absent(arg: Expr, missing: Mask, steps: int) -> Vector:
    labels: Labels = ()
    sel = arg.selector if isinstance(arg, MatrixSelector) else arg
    if isinstance(sel, VectorSelector):
        uses = Counter(m.name for m in sel.matchers)
        labels = tuple(
            sorted(
                (m.name, m.value)
                for m in sel.matchers
                if m.op is MatchOp.EQUAL and m.name != METRIC_NAME and uses[m.name] == 1 and m.value
            )
        )
    if not missing.any():
        return Vector.empty(steps)
    return Vector([labels], np.ones((1, steps)), missing[None, :].copy(), np.zeros(1, bool))


def _clamp(ev: Evaluator, call: Call) -> Vector:
    ctx = ev.ctx
    v = drop_names(ev.eval_vector(call.args[0]), ctx)
    if call.name == "clamp":
        lo = ev.eval_scalar(call.args[1]).values
        hi = ev.eval_scalar(call.args[2]).values
        vals = np.maximum(lo[None, :], np.minimum(hi[None, :], v.values))
        present = v.present & ~(hi < lo)[None, :]
        return Vector(v.labels, vals, present, v.drop).compact()
    bound = ev.eval_scalar(call.args[1]).values[None, :]
    fn = np.maximum if call.name == "clamp_min" else np.minimum
    return Vector(v.labels, fn(bound, v.values), v.present, v.drop)


def _date(ev: Evaluator, call: Call) -> Vector:
    ctx = ev.ctx
    if call.args:
        v = drop_names(ev.eval_vector(call.args[0]), ctx)
    else:
        v = Vector(
            [()], (ctx.grid / 1000.0)[None, :], np.ones((1, ctx.steps), bool), np.zeros(1, bool)
        )
    secs = v.values
    finite = np.isfinite(secs)
    whole = np.where(finite, np.floor(secs), 0).astype(np.int64)
    dt = whole.astype("datetime64[s]")
    days = dt.astype("datetime64[D]")
    months = dt.astype("datetime64[M]")
    years = dt.astype("datetime64[Y]")
    name = call.name
    if name == "year":
        out = years.astype(np.int64) + 1970
    elif name == "month":
        out = months.astype(np.int64) % 12 + 1
    elif name == "day_of_month":
        out = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    elif name == "day_of_year":
        out = (days - years.astype("datetime64[D]")).astype(np.int64) + 1
    elif name == "day_of_week":
        out = (days.astype(np.int64) + 4) % 7
    elif name == "hour":
        out = (whole % 86400) // 3600
    elif name == "minute":
        out = (whole % 3600) // 60
    else:  # days_in_month
        nxt = (months + 1).astype("datetime64[D]")
        out = (nxt - months.astype("datetime64[D]")).astype(np.int64)
    vals = np.where(finite, out.astype(np.float64), np.nan)
    return Vector(v.labels, vals, v.present, v.drop)


def _sort(ev: Evaluator, call: Call) -> Vector:
    v = ev.eval_vector(call.args[0])
    if v.steps != 1 or not v.labels:
        return v
    if call.name in ("sort", "sort_desc"):
        vals = v.values[:, 0]
        nan = np.isnan(vals)
        key = vals if call.name == "sort" else -vals
        order = np.lexsort((np.where(nan, 0.0, key), nan))
        return v.take(order)
    names = [a.value for a in call.args[1:] if isinstance(a, StringLiteral)]

    def by_labels(i: int) -> tuple[list[list[tuple[int, int | str]]], Labels]:
        return [_natural(get(v.labels[i], n)) for n in names], v.labels[i]

    order_list = sorted(range(len(v.labels)), key=by_labels, reverse=call.name.endswith("_desc"))
    return v.take(order_list)


def _natural(text: str) -> list[tuple[int, int | str]]:
    """Natural sort key: digit runs compare as numbers ("2" < "10")."""
    return [
        (0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", text)
    ]


_GROUP_REF = re.compile(r"\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand(template: str, match: re.Match[str]) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``; unknown groups expand to ""."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) == "$":
            return "$"
        ref = m.group(2) or m.group(3)
        idx: int | str = int(ref) if ref.isdigit() else ref
        try:
            return match.group(idx) or ""
        except IndexError:  # an unknown group expands to nothing, as in Go
            return ""

    return _GROUP_REF.sub(one, template)


def _string_args(call: Call, start: int, stop: int | None = None) -> list[str]:
    out = []
    for a in call.args[start:stop]:
        if not isinstance(a, StringLiteral):
            raise QueryError(f"{call.name}: expected string arguments")
        out.append(a.value)
    return out


def _label_replace(ev: Evaluator, call: Call) -> Vector:
    dst, repl, src, pattern = _string_args(call, 1)
    if not (LABEL_NAME_RE.match(dst) or dst == METRIC_NAME):
        raise QueryError(f"invalid destination label name in label_replace(): {dst}")
    try:
        regex = re.compile(f"(?s:^(?:{_go_regex(pattern)})\\Z)")
    except re.error as exc:
        raise QueryError(f"invalid regular expression in label_replace(): {pattern}") from exc
    v = ev.eval_vector(call.args[0])
    labels = []
    drop = v.drop.copy()
    for i, ls in enumerate(v.labels):
        m = regex.match(get(ls, src))
        if m is None:
            labels.append(ls)
            continue
        value = _expand(repl, m)
        d = dict(ls)
        if value:
            d[dst] = value
        else:
            d.pop(dst, None)
        if dst == METRIC_NAME:
            drop[i] = False
        labels.append(tuple(sorted(d.items())))
    return merge_same_labels(Vector(labels, v.values, v.present, drop), ev.ctx)


def _go_regex(pattern: str) -> str:
    # RE2 spells named groups (?P<name>...) like Python; (?<name>...) needs translating.
    return re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", pattern)


def _label_join(ev: Evaluator, call: Call) -> Vector:
    args = _string_args(call, 1)
    dst, sep, srcs = args[0], args[1], args[2:]
    if not (LABEL_NAME_RE.match(dst) or dst == METRIC_NAME):
        raise QueryError(f"invalid destination label name in label_join(): {dst}")
    for s in srcs:
        if not (LABEL_NAME_RE.match(s) or s == METRIC_NAME):
            raise QueryError(f"invalid source label name in label_join(): {s}")
    v = ev.eval_vector(call.args[0])
    labels = []
    drop = v.drop.copy()
    for i, ls in enumerate(v.labels):
        value = sep.join(get(ls, s) for s in srcs)
        d = dict(ls)
        if value:
            d[dst] = value
        else:
            d.pop(dst, None)
        if dst == METRIC_NAME:
            drop[i] = False
        labels.append(tuple(sorted(d.items())))
    return merge_same_labels(Vector(labels, v.values, v.present, drop), ev.ctx)


__all__ = [
    "EXPERIMENTAL",
    "drop_name",
    "evaluate",
    "find_sort_call",
    "keeps_order",
    "reduce_windows",
]
