"""Aggregation operators: sum, avg, min, max, count, group, stddev, stdvar, quantile, topk,
bottomk, count_values, limitk and limit_ratio, with ``by``/``without``.

Series are mapped to group indexes once; accumulators are ``(groups, steps)`` arrays updated one
input series at a time, so every update is a vector operation over all steps. Sums use
Kahan-Neumaier compensation and averages switch to an incremental mean on overflow, as
Prometheus 3 does, so results agree with its tests bit for bit where they can.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import QueryError
from spyglass.core.labels import LABEL_NAME_RE, METRIC_NAME, Labels
from spyglass.promql._ast import Aggregate, Expr, StringLiteral
from spyglass.promql._hash import labels_hash
from spyglass.promql._values import F64, Mask, Vector

if TYPE_CHECKING:
    from spyglass.promql._engine import Context, Evaluator


def kahan_inc(inc: F64, total: F64, comp: F64) -> tuple[F64, F64]:
    """One Kahan-Neumaier step, elementwise (Prometheus' ``kahanSumInc``)."""
    t = total + inc
    big = np.abs(total) >= np.abs(inc)
    c = comp + np.where(big, (total - t) + inc, (inc - t) + total)
    c = np.where(np.isinf(t), 0.0, c)
    return t, c


class MeanAccumulator:
    """Prometheus 3's average: Kahan sum, switching to an incremental mean on overflow."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.total = np.zeros(shape)
        self.comp = np.zeros(shape)
        self.mean = np.zeros(shape)
        self.count = np.zeros(shape)
        self.incremental = np.zeros(shape, bool)

    def add(self, v: F64, m: Mask) -> None:
        """Add ``v`` where ``m`` is true."""
        self.count = np.where(m, self.count + 1, self.count)
        cnt = self.count
        regular = m & ~self.incremental
        new_t, new_c = kahan_inc(v, self.total, self.comp)
        stay = regular & ((cnt == 1) | ~np.isinf(new_t))
        self.total = np.where(stay, new_t, self.total)
        self.comp = np.where(stay, new_c, self.comp)
        switch = regular & ~stay
        prev = np.maximum(cnt - 1, 1)
        self.mean = np.where(switch, self.total / prev, self.mean)
        self.comp = np.where(switch, self.comp / prev, self.comp)
        self.incremental = self.incremental | switch
        inc = m & self.incremental
        mean_inf = np.isinf(self.mean)
        same_inf = np.isinf(v) & ((self.mean > 0) == (v > 0))
        finite_v = ~np.isinf(v) & ~np.isnan(v)
        skip = mean_inf & (same_inf | finite_v)
        upd = inc & ~skip
        current = self.mean + self.comp
        safe_cnt = np.maximum(cnt, 1)
        nm, nc = kahan_inc(v / safe_cnt - current / safe_cnt, self.mean, self.comp)
        self.mean = np.where(upd, nm, self.mean)
        self.comp = np.where(upd, nc, self.comp)

    def result(self) -> F64:
        """The averages."""
        cnt = np.maximum(self.count, 1)
        return np.where(self.incremental, self.mean + self.comp, self.total / cnt + self.comp / cnt)


def group_key(labels: Labels, grouping: tuple[str, ...], without: bool) -> Labels:
    """The output label set of the group a series falls into."""
    if without:
        skip = {*grouping, METRIC_NAME}
        return tuple(p for p in labels if p[0] not in skip)
    keep = set(grouping)
    return tuple(p for p in labels if p[0] in keep)


def group_rows(
    vec: Vector, grouping: tuple[str, ...], without: bool
) -> tuple[npt.NDArray[np.intp], list[Labels]]:
    """Each series' group index (groups numbered in order of first appearance) and each
    group's label set."""
    if vec.ids is not None and not without and _NAME_LABELS.isdisjoint(grouping):
        # Codes of the rows' label values, from storage: array operations, no tuple per row.
        # (The name labels are left out: a row may have lost them, its codes not.)
        found = vec.ids.groups(grouping)
        if found is not None:
            return found
    keys = [group_key(ls, grouping, without) for ls in vec.labels]
    index: dict[Labels, int] = {}
    gidx = np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.intp)
    return gidx, list(index)


_NAME_LABELS = frozenset({METRIC_NAME, "__type__", "__unit__"})


def format_value(value: float) -> str:
    """A float as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` writes it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def evaluate(ev: Evaluator, expr: Aggregate) -> Vector:
    """Evaluate an aggregation expression."""
    ctx = ev.ctx
    op = expr.op
    param = None
    label = ""
    if op == "count_values":
        assert isinstance(expr.param, StringLiteral)
        label = expr.param.value
        if not LABEL_NAME_RE.match(label):
            raise QueryError(f'invalid label name "{label}"')
    elif expr.param is not None:
        param = ev.eval_scalar(expr.param).values
    vec = ev.eval_vector(expr.expr)
    steps = ctx.steps
    if op in ("topk", "bottomk", "limitk", "limit_ratio"):
        assert param is not None
        return _select(op, vec, param, expr, ctx)
    gidx, groups = group_rows(vec, expr.grouping, expr.without)
    n = len(groups)
    if op == "count_values":
        return _count_values(vec, gidx, groups, label)
    counts = group_reduce(np.add, vec.present.astype(np.float64), gidx, n, 0.0)
    present = counts > 0
    if op == "count":
        values = counts
    elif op == "group":
        values = np.ones((n, steps))
    elif op == "sum":
        if _largest_group(gidx) <= SEQUENTIAL_MAX:
            total = np.zeros((n, steps))
            comp = np.zeros((n, steps))
            for rows, gs in _rank_batches(gidx):
                m = vec.present[rows]
                t, c = kahan_inc(vec.values[rows], total[gs], comp[gs])
                total[gs] = np.where(m, t, total[gs])
                comp[gs] = np.where(m, c, comp[gs])
        else:
            total, comp = compensated_sums(vec.values, vec.present, gidx, n)
        values = total + comp
    elif op == "avg":
        values = _average(vec, gidx, n, counts)
    elif op in ("max", "min"):
        masked = np.where(vec.present, vec.values, np.nan)
        values = group_reduce(np.fmax if op == "max" else np.fmin, masked, gidx, n, np.nan)
    elif op in ("stddev", "stdvar"):
        values = _variance(vec, gidx, n, counts)
        if op == "stddev":
            values = np.sqrt(values)
    elif op == "quantile":
        assert param is not None
        _check_quantile(param, ctx, expr.param)
        values = np.full((n, steps), np.nan)
        order = np.argsort(gidx, kind="stable")
        cuts = np.flatnonzero(np.diff(gidx[order])) + 1
        for rows in np.split(order, cuts) if len(order) else []:
            g = int(gidx[rows[0]])
            values[g] = quantile_columns(param, vec.values[rows], vec.present[rows])
    else:
        raise QueryError(f"unknown aggregation {op!r}")
    drop = group_reduce(np.logical_or, vec.drop & vec.present.any(axis=1), gidx, n, False)
    return Vector(groups, values, present, drop).compact()


# Up to this many series per group, sums run series by series in input order, exactly as
# Prometheus accumulates them (its test files check the last bits of such sums). Larger groups
# use a pairwise sum with exact error terms: as accurate, but a few dozen whole-array steps
# instead of one step per series.
SEQUENTIAL_MAX = 32


def group_reduce(
    ufunc: np.ufunc, x: npt.NDArray[Any], gidx: npt.NDArray[np.intp], n: int, fill: Any
) -> npt.NDArray[Any]:
    """Rows of ``x`` reduced per group with ``ufunc`` (groups without rows hold ``fill``).

    Rows are sorted by group once and reduced with ``reduceat``: unlike ``ufunc.at`` this is
    one pass at array speed.
    """
    out = np.full((n, *x.shape[1:]), fill, dtype=x.dtype)
    if len(gidx) == 0:
        return out
    order = np.argsort(gidx, kind="stable")
    g = gidx[order]
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    out[g[starts]] = ufunc.reduceat(x[order], starts, axis=0)
    return out


def _largest_group(gidx: npt.NDArray[np.intp]) -> int:
    return int(np.bincount(gidx).max(initial=0)) if len(gidx) else 0


# Large sums run over blocks of steps of about this many values (series x steps), so each
# level's temporaries stay in the CPU's caches instead of being whole-query arrays.
SUM_BLOCK = 65_536


def compensated_sums(
    values: F64, present: Mask, gidx: npt.NDArray[np.intp], n: int
) -> tuple[F64, F64]:
    """Per group and step, the sum of the present values and its compensation term.

    Rows of a group are added in pairs, level by level (a pairwise sum); every addition's
    rounding error is recovered exactly (Knuth's two-sum) and the errors are summed apart, as
    Kahan-Neumaier summation does. Where an addition overflows or meets NaN the error is zero,
    so infinities and NaN propagate as in Prometheus' ``kahanSumInc``. Which rows pair up at
    each level depends on the groups alone, so it is worked out once and then applied to a
    block of steps at a time.
    """
    steps = values.shape[1]
    total = np.zeros((n, steps))
    comp = np.zeros((n, steps))
    if len(gidx) == 0:
        return total, comp
    order = np.argsort(gidx, kind="stable")
    g = gidx[order]
    # Per level: the first row of each pair, the groups those pairs add to with where each
    # group's pairs start, and the rows left for the next level.
    levels: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp], Mask]] = []
    while len(g):
        first = np.concatenate([[True], g[1:] != g[:-1]])
        if first.all():
            break
        starts = np.flatnonzero(first)
        rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.append(starts, len(g))))
        even = rank % 2 == 0
        pair = np.flatnonzero(even & np.append(~first[1:], False))
        gp = g[pair]  # ascending, as g is
        cuts = np.flatnonzero(np.concatenate([[True], gp[1:] != gp[:-1]]))
        levels.append((pair, gp[cuts], cuts, even))
        g = g[even]
    width = max(1, SUM_BLOCK // len(order))
    # Rows already in group order (one group, or groups in row order) are read as views.
    rows: slice | npt.NDArray[np.intp] = order
    if bool((order[1:] > order[:-1]).all()):
        rows = slice(None)
    for lo in range(0, steps, width):
        cols = slice(lo, min(steps, lo + width))
        v = np.where(present[rows, cols], values[rows, cols], 0.0)
        block_comp = comp[:, cols]
        for pair, heads, cuts, even in levels:
            x, y = v[pair], v[pair + 1]
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: its error is unused
                t = x + y
                back = t - x
                err = (x - (t - back)) + (y - back)
            block_comp[heads] += np.add.reduceat(np.where(np.isfinite(t), err, 0.0), cuts, axis=0)
            v[pair] = t
            v = v[even]
        total[g, cols] = v
    comp = np.where(np.isinf(total), 0.0, comp)
    return total, comp


def _average(vec: Vector, gidx: npt.NDArray[np.intp], n: int, counts: F64) -> F64:
    steps = vec.steps
    if _largest_group(gidx) > SEQUENTIAL_MAX:
        total, comp = compensated_sums(vec.values, vec.present, gidx, n)
        nonfinite_in = group_reduce(
            np.logical_or, vec.present & ~np.isfinite(vec.values), gidx, n, False
        )
        # An overflowing sum of finite values needs Prometheus' incremental mean instead.
        if not (np.isinf(total) & ~nonfinite_in).any():
            cnt = np.maximum(counts, 1)
            result: F64 = total / cnt + comp / cnt
            return result
    acc = MeanAccumulator((n, steps))
    for rows, gs in _rank_batches(gidx):
        sub = MeanAccumulator((len(gs), steps))
        sub.total, sub.comp, sub.mean = acc.total[gs], acc.comp[gs], acc.mean[gs]
        sub.count, sub.incremental = acc.count[gs], acc.incremental[gs]
        sub.add(vec.values[rows], vec.present[rows])
        acc.total[gs], acc.comp[gs], acc.mean[gs] = sub.total, sub.comp, sub.mean
        acc.count[gs], acc.incremental[gs] = sub.count, sub.incremental
    return acc.result()


def _variance(vec: Vector, gidx: npt.NDArray[np.intp], n: int, counts: F64) -> F64:
    steps = vec.steps
    if _largest_group(gidx) > SEQUENTIAL_MAX:
        # Two passes (mean, then squared deviations) over whole arrays.
        cnt = np.maximum(counts, 1)
        total, comp = compensated_sums(vec.values, vec.present, gidx, n)
        mean = total / cnt + comp / cnt
        dev = np.where(vec.present, vec.values - mean[gidx], 0.0)
        sq, sq_comp = compensated_sums(dev * dev, vec.present, gidx, n)
        result: F64 = (sq + sq_comp) / cnt
        return result
    mean = np.zeros((n, steps))
    m2 = np.zeros((n, steps))
    cnt = np.zeros((n, steps))
    for rows, gs in _rank_batches(gidx):
        m, v = vec.present[rows], vec.values[rows]
        c = np.where(m, cnt[gs] + 1, cnt[gs])
        delta = v - mean[gs]
        new_mean = mean[gs] + delta / np.maximum(c, 1)
        new_m2 = m2[gs] + delta * (v - new_mean)
        mean[gs] = np.where(m, new_mean, mean[gs])
        m2[gs] = np.where(m, new_m2, m2[gs])
        cnt[gs] = c
    var: F64 = m2 / np.maximum(cnt, 1)
    return var


def _rank_batches(
    gidx: npt.NDArray[np.intp],
) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """Series grouped by their position within their group: batch ``r`` holds the ``r``-th
    series of every group. Accumulating batch by batch keeps each group's order (so sums match
    Prometheus' sequential Kahan sums) while updating all groups at once: the loop runs as many
    times as the largest group has series, not once per series."""
    if len(gidx) == 0:
        return []
    order = np.argsort(gidx, kind="stable")
    sorted_g = gidx[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_g[1:] != sorted_g[:-1]]))
    first = np.repeat(starts, np.diff(np.concatenate([starts, [len(order)]])))
    rank = np.arange(len(order)) - first
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.flatnonzero(np.diff(rank[by_rank])) + 1
    batches = []
    for chunk in np.split(by_rank, bounds):
        rows = order[chunk]
        batches.append((rows, gidx[rows]))
    return batches


def _check_quantile(q: F64, ctx: Context, node: Expr | None) -> None:
    bad = np.isnan(q) | (q < 0) | (q > 1)
    if bad.any():
        ctx.warn(
            f"quantile value should be between 0 and 1, got {format_value(float(q[bad][0]))}",
            node,
        )


def quantile_columns(q: F64, values: F64, present: Mask) -> F64:
    """Per column, the ``q`` quantile of the present values (Prometheus' interpolation).

    NaN values sort first, as Go's ``sort.Float64s`` puts them.
    """
    n = present.sum(axis=0)
    category = np.where(present, np.where(np.isnan(values), 0, 1), 2)
    filled = np.where(present & ~np.isnan(values), values, 0.0)
    order = np.lexsort((filled, category), axis=0)
    srt = np.take_along_axis(np.where(present, values, np.nan), order, axis=0)
    rank = np.nan_to_num(q * (n - 1), nan=0.0, posinf=0.0, neginf=0.0)
    lower = np.clip(np.floor(rank), 0, np.maximum(n - 1, 0)).astype(np.intp)
    upper = np.minimum(lower + 1, np.maximum(n - 1, 0)).astype(np.intp)
    weight = rank - np.floor(rank)
    cols = np.arange(values.shape[1])
    if values.shape[0] == 0:
        return np.full(values.shape[1], np.nan)
    lo_v = srt[lower, cols]
    hi_v = srt[upper, cols]
    out = lo_v * (1 - weight) + hi_v * weight
    out = np.where(weight == 0, lo_v, out)
    out = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, out))
    out = np.where(np.isnan(q), np.nan, out)
    return np.where(n > 0, out, np.nan)


def _count_values(
    vec: Vector, gidx: npt.NDArray[np.intp], groups: list[Labels], label: str
) -> Vector:
    """One output series per (group, distinct value); counts per step, all as array ops."""
    rows, cols = np.nonzero(vec.present)
    steps = vec.steps
    if not len(rows):
        return Vector.empty(steps)
    vals = vec.values[rows, cols]
    uniq, value_idx = np.unique(vals, return_inverse=True)
    value_idx = value_idx.reshape(-1)
    key = gidx[rows].astype(np.int64) * len(uniq) + value_idx
    keys, key_idx = np.unique(key, return_inverse=True)
    counts = np.zeros((len(keys), steps))
    np.add.at(counts, (key_idx.reshape(-1), cols), 1.0)
    texts = [format_value(float(u)) for u in uniq]
    labels = [
        tuple(
            sorted({**dict(groups[int(k) // len(uniq)]), label: texts[int(k) % len(uniq)]}.items())
        )
        for k in keys
    ]
    return Vector(labels, counts, counts > 0, np.zeros(len(labels), bool))


def _select(op: str, vec: Vector, param: F64, expr: Aggregate, ctx: Context) -> Vector:
    """topk/bottomk/limitk/limit_ratio: keep some input series per group and step."""
    steps = ctx.steps
    if np.isnan(param).any():
        raise QueryError("Ratio value is NaN" if op == "limit_ratio" else "Parameter value is NaN")
    gidx, _ = group_rows(vec, expr.grouping, expr.without)
    keep = np.zeros_like(vec.present)
    order_rows: list[int] = []
    if op == "limit_ratio":
        ratio = np.clip(param, -1.0, 1.0)
        if ((param < -1) | (param > 1)).any():
            ctx.warn(
                "ratio value should be between -1 and 1, got "
                f"{format_value(float(param[(param < -1) | (param > 1)][0]))}, capping to "
                f"{format_value(float(ratio[(param < -1) | (param > 1)][0]))}"
            )
        ords = (
            np.array([_ordinal(ls) for ls in vec.labels])[:, None]
            if vec.labels
            else np.zeros((0, 1))
        )
        chosen = np.where(ratio[None, :] >= 0, ords < ratio[None, :], ords >= 1 + ratio[None, :])
        keep = vec.present & chosen
        return Vector(vec.labels, vec.values, keep, vec.drop).compact()
    k = np.where(np.isinf(param) & (param > 0), 1e18, param)
    k = np.floor(np.clip(k, -1, 1e18)).astype(np.int64)
    order_g = np.argsort(gidx, kind="stable")
    cuts = np.flatnonzero(np.diff(gidx[order_g])) + 1
    for rows in np.split(order_g, cuts) if len(order_g) else []:
        pres = vec.present[rows]
        if op == "limitk":
            rank = np.cumsum(pres, axis=0) - 1
        else:
            v = vec.values[rows]
            if op == "topk":
                key = np.where(np.isnan(v), -np.inf, -v)
                nan_last = np.isnan(v).astype(np.int8)
            else:
                key = np.where(np.isnan(v), np.inf, v)
                nan_last = np.isnan(v).astype(np.int8)
            absent = (~pres).astype(np.int8)
            order = np.lexsort((key, nan_last, absent), axis=0)
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.arange(len(rows))[:, None].repeat(steps, 1), 0)
        sel = pres & (rank < k[None, :])
        keep[rows] = sel
        if steps == 1 and op != "limitk":
            order_rows.extend(int(rows[i]) for i in np.argsort(rank[:, 0]) if sel[i, 0])
        else:
            order_rows.extend(int(r) for r in rows)
    out = Vector(vec.labels, vec.values, keep, vec.drop, vec.sample_ts)
    if order_rows:
        out = out.take(order_rows)
    return out.compact()


def _ordinal(labels: Labels) -> float:
    """Where a series falls in [0, 1] for limit_ratio: Prometheus' label hash, scaled."""
    return labels_hash(labels) / float(2**64 - 1)


__all__ = [
    "SEQUENTIAL_MAX",
    "MeanAccumulator",
    "compensated_sums",
    "evaluate",
    "format_value",
    "group_reduce",
    "group_rows",
    "kahan_inc",
    "quantile_columns",
]
