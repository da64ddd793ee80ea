"""Binary operators: arithmetic, comparisons (with ``bool``), set operators, vector matching.

Operands are ``(series, steps)`` arrays, so an operator is one numpy expression over all steps.
Vector matching groups series by their matching signature once; the "one" side of every
signature becomes a ``(groups, steps)`` array the "many" side indexes into. Errors match
Prometheus' wording (duplicate series on one side, many-to-one needing ``group_left``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import QueryError
from spyglass.core.labels import METRIC_NAME, Labels, get
from spyglass.promql._ast import COMPARISON_OPS, SET_OPS, Binary
from spyglass.promql._values import F64, Mask, Scalar, Vector, drop_name

if TYPE_CHECKING:
    from spyglass.promql._engine import Context, Evaluator, Value


def arith(op: str, a: F64, b: F64) -> F64:
    """``a op b`` elementwise; comparisons give 1.0/0.0."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "%":
        return np.fmod(a, b)
    if op == "^":
        return np.power(a, b)
    if op == "atan2":
        return np.arctan2(a, b)
    return compare(op, a, b).astype(np.float64)


def compare(op: str, a: F64, b: F64) -> Mask:
    """``a op b`` for a comparison operator."""
    if op == "==":
        return np.equal(a, b)
    if op == "!=":
        return np.not_equal(a, b)
    if op == ">":
        return np.greater(a, b)
    if op == "<":
        return np.less(a, b)
    if op == ">=":
        return np.greater_equal(a, b)
    if op == "<=":
        return np.less_equal(a, b)
    raise QueryError(f"operator {op!r} not allowed here")


def drop_names(vec: Vector, ctx: Context) -> Vector:
    """Remove ``__name__`` (or flag it for removal when name removal is delayed)."""
    if ctx.options.delayed_name_removal:
        return Vector(vec.labels, vec.values, vec.present, np.ones(len(vec.labels), bool))
    labels = [drop_name(ls) for ls in vec.labels]
    return merge_same_labels(Vector(labels, vec.values, vec.present, vec.drop), ctx)


def merge_same_labels(vec: Vector, ctx: Context) -> Vector:
    """Merge series that now share a label set; fail if two are present at the same step."""
    del ctx
    rows: dict[Labels, list[int]] = defaultdict(list)
    for i, ls in enumerate(vec.labels):
        rows[ls].append(i)
    if len(rows) == len(vec.labels):
        return vec
    labels: list[Labels] = []
    values = np.zeros((len(rows), vec.steps))
    present = np.zeros((len(rows), vec.steps), bool)
    drop = np.zeros(len(rows), bool)
    for g, (ls, idx) in enumerate(rows.items()):
        if len(idx) > 1 and (vec.present[idx].sum(axis=0) > 1).any():
            raise QueryError("vector cannot contain metrics with the same labelset")
        labels.append(ls)
        for i in idx:
            m = vec.present[i]
            values[g][m] = vec.values[i][m]
            present[g] |= m
        drop[g] = vec.drop[idx].any()
    return Vector(labels, values, present, drop)


def signature(labels: Labels, on: bool | None, names: tuple[str, ...]) -> Labels:
    """The label subset two series must share to match."""
    if on:
        keep = set(names)
        return tuple(p for p in labels if p[0] in keep)
    skip = {*names, METRIC_NAME}
    return tuple(p for p in labels if p[0] not in skip)


def evaluate(ev: Evaluator, expr: Binary) -> Value:
    """Evaluate a binary expression."""
    lhs = ev.eval(expr.lhs)
    rhs = ev.eval(expr.rhs)
    ctx = ev.ctx
    op = expr.op
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        return Scalar(arith(op, lhs.values, rhs.values))
    if isinstance(lhs, Vector) and isinstance(rhs, Scalar):
        return _vector_scalar(op, lhs, rhs.values, expr.return_bool, swapped=False, ctx=ctx)
    if isinstance(lhs, Scalar) and isinstance(rhs, Vector):
        return _vector_scalar(op, rhs, lhs.values, expr.return_bool, swapped=True, ctx=ctx)
    if not isinstance(lhs, Vector) or not isinstance(rhs, Vector):
        raise QueryError(f"binary operator {op!r} needs scalar or instant vector operands")
    if op in SET_OPS:
        return _set_op(op, lhs, rhs, expr)
    return _vector_vector(expr, lhs, rhs, ctx)


def _vector_scalar(
    op: str, vec: Vector, scalar: F64, return_bool: bool, *, swapped: bool, ctx: Context
) -> Vector:
    s = scalar[None, :]
    a, b = (s, vec.values) if swapped else (vec.values, s)
    if op in COMPARISON_OPS:
        cond = compare(op, a, b)
        if return_bool:
            out = Vector(vec.labels, cond.astype(np.float64), vec.present.copy(), vec.drop)
            return drop_names(out, ctx).compact()
        # A filter keeps the vector element's own value, whichever side it is on.
        return Vector(vec.labels, vec.values, vec.present & cond, vec.drop).compact()
    out = Vector(vec.labels, arith(op, a, b), vec.present, vec.drop)
    return drop_names(out, ctx)


def _group(
    labels: list[Labels], on: bool | None, names: tuple[str, ...]
) -> tuple[npt.NDArray[np.intp], dict[Labels, int]]:
    index: dict[Labels, int] = {}
    out = np.empty(len(labels), dtype=np.intp)
    for i, ls in enumerate(labels):
        out[i] = index.setdefault(signature(ls, on, names), len(index))
    return out, index


def _set_op(op: str, lhs: Vector, rhs: Vector, expr: Binary) -> Vector:
    if op == "or" and not lhs.labels:
        return rhs
    all_labels = lhs.labels + rhs.labels
    gidx, index = _group(all_labels, expr.on, expr.matching)
    gl, gr = gidx[: len(lhs.labels)], gidx[len(lhs.labels) :]
    steps = lhs.steps
    if op == "or":
        lhs_any = np.zeros((len(index), steps), bool)
        np.logical_or.at(lhs_any, gl, lhs.present)
        keep_r = rhs.present & ~lhs_any[gr]
        out = Vector(
            all_labels,
            np.concatenate([lhs.values, rhs.values]),
            np.concatenate([lhs.present, keep_r]),
            np.concatenate([lhs.drop, rhs.drop]),
        )
        return out.compact()
    rhs_any = np.zeros((len(index), steps), bool)
    np.logical_or.at(rhs_any, gr, rhs.present)
    hit = rhs_any[gl]
    present = lhs.present & hit if op == "and" else lhs.present & ~hit
    return Vector(lhs.labels, lhs.values, present, lhs.drop, lhs.sample_ts).compact()


def _go_labels(labels: Labels) -> str:
    """Go's ``labels.Labels.String()``: every label inside the braces, ``__name__`` too."""
    inner = ", ".join(
        f'{n}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for n, v in labels
    )
    return "{" + inner + "}"


def _dup_error(sig: Labels, side: str, first: Labels, second: Labels) -> QueryError:
    return QueryError(
        f"found duplicate series for the match group {_go_labels(sig)} on the {side} "
        f"hand-side of the operation: [{_go_labels(first)}, {_go_labels(second)}]"
        ";many-to-many matching not allowed: matching labels must be unique on one side"
    )


def _vector_vector(expr: Binary, lhs: Vector, rhs: Vector, ctx: Context) -> Vector:
    op = expr.op
    if not lhs.labels or not rhs.labels:
        return Vector.empty(lhs.steps)
    swapped = expr.card == "one-to-many"
    many, one = (rhs, lhs) if swapped else (lhs, rhs)
    steps = lhs.steps
    one_g, one_index = _group(one.labels, expr.on, expr.matching)
    n_groups = len(one_index)
    # Per signature and step: the one-side series present there (-1: none).
    one_at = np.full((n_groups, steps), -1, dtype=np.intp)
    sig_of = list(one_index)
    for j in range(len(one.labels)):
        g = one_g[j]
        m = one.present[j]
        clash = m & (one_at[g] >= 0)
        if clash.any():
            k = int(one_at[g][np.flatnonzero(clash)[0]])
            side = "left" if swapped else "right"
            first, second = sorted([one.labels[k], one.labels[j]])
            raise _dup_error(sig_of[g], side, first, second)
        one_at[g][m] = j
    many_sigs = [signature(ls, expr.on, expr.matching) for ls in many.labels]
    many_g = np.array([one_index.get(s, -1) for s in many_sigs], dtype=np.intp)
    matched = many_g >= 0
    js = np.where(matched[:, None], one_at[np.maximum(many_g, 0)], -1)
    js = np.where(many.present, js, -1)
    both = js >= 0
    if expr.card == "one-to-one":
        counts = np.zeros((n_groups, steps), np.int64)
        np.add.at(counts, many_g[matched], both[matched].astype(np.int64))
        if (counts > 1).any():
            raise QueryError(
                "multiple matches for labels: many-to-one matching must be explicit "
                "(group_left/group_right)"
            )
    safe_js = np.maximum(js, 0)
    one_vals = one.values[safe_js, np.arange(steps)[None, :]] if len(one.labels) else np.zeros(
        js.shape
    )
    many_vals = many.values
    a, b = (one_vals, many_vals) if swapped else (many_vals, one_vals)
    is_cmp = op in COMPARISON_OPS
    if is_cmp:
        cond = compare(op, a, b)
        if expr.return_bool:
            values = cond.astype(np.float64)
            present = both
        else:
            values = a
            present = both & cond
    else:
        values = arith(op, a, b)
        present = both
    drop_metric = not is_cmp or expr.return_bool
    rows: dict[Labels, int] = {}
    out_labels: list[Labels] = []
    out_values: list[F64] = []
    out_present: list[Mask] = []
    out_drop: list[bool] = []
    delayed = ctx.options.delayed_name_removal
    for i in np.flatnonzero(present.any(axis=1)):
        row_js = js[i][present[i]]
        for j in np.unique(row_js):  # usually one: the one-side series matched at every step
            mask = present[i] & (js[i] == j)
            res = _result_labels(
                many.labels[i], one.labels[int(j)], expr, drop_metric and not delayed
            )
            found = rows.get(res)
            if found is None:
                rows[res] = len(out_labels)
                out_labels.append(res)
                out_values.append(np.where(mask, values[i], 0.0))
                out_present.append(mask.copy())
                out_drop.append(bool(many.drop[i]) or (drop_metric and delayed))
                continue
            k = found
            if (out_present[k] & mask).any():
                if expr.card == "one-to-one":
                    raise QueryError(
                        "multiple matches for labels: many-to-one matching must be explicit "
                        "(group_left/group_right)"
                    )
                raise QueryError(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                )
            out_values[k] = np.where(mask, values[i], out_values[k])
            out_present[k] |= mask
    if not out_labels:
        return Vector.empty(steps)
    return Vector(
        out_labels, np.array(out_values), np.array(out_present), np.array(out_drop, bool)
    )


def _result_labels(many: Labels, one: Labels, expr: Binary, drop_metric: bool) -> Labels:
    out = dict(many)
    if drop_metric:
        out.pop(METRIC_NAME, None)
    if expr.card == "one-to-one":
        if expr.on:
            keep = set(expr.matching)
            out = {n: v for n, v in out.items() if n in keep}
        else:
            for n in expr.matching:
                out.pop(n, None)
    for n in expr.include:
        v = get(one, n)
        if v:
            out[n] = v
        else:
            out.pop(n, None)
    return tuple(sorted(out.items()))


__all__ = ["arith", "compare", "drop_names", "evaluate", "merge_same_labels", "signature"]
