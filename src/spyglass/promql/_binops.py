"""Binary operators: arithmetic, comparisons (with ``bool``), set operators, vector matching.

Operands are ``(series, steps)`` arrays, so an operator is one numpy expression over all steps.
Vector matching groups series by their matching signature once; the "one" side of every
signature becomes a ``(groups, steps)`` array the "many" side indexes into. Errors match
Prometheus' wording (duplicate series on one side, many-to-one needing ``group_left``).
"""

from __future__ import annotations

import operator
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
        return Vector(
            vec.labels, vec.values, vec.present, np.ones(len(vec.labels), bool), ids=vec.ids
        )
    labels = [drop_name(ls) for ls in vec.labels]
    ids = vec.ids
    if all(map(operator.is_, labels, vec.labels)):
        # No series had a name to drop (the second operation of ``x / 1024 / 1024``): the
        # label sets are the ones that were distinct already.
        return Vector(vec.labels, vec.values, vec.present, vec.drop, ids=ids)
    if ids is not None and all(ids.distinct(name) <= 1 for name in _NAME_LABELS):
        # Distinct series that all lose the same name (and type and unit) stay distinct: no
        # need to look for label sets that now collide.
        return Vector(labels, vec.values, vec.present, vec.drop, ids=ids)
    return merge_same_labels(Vector(labels, vec.values, vec.present, vec.drop), ctx)


# What ``drop_name`` removes.
_NAME_LABELS = (METRIC_NAME, "__type__", "__unit__")


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
    # The same series: their label codes still apply (``drop_names`` uses them).
    out = Vector(vec.labels, arith(op, a, b), vec.present, vec.drop, ids=vec.ids)
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
    steps = lhs.steps
    swapped = expr.card == "one-to-many"
    many, one = (rhs, lhs) if swapped else (lhs, rhs)
    # fill modifiers (experimental): the value used where one side has no match. Prometheus
    # swaps the operands for group_right but not the fill values, so fill_right always fills
    # the "one" side and fill_left the "many" side.
    fill_one = expr.fill_rhs
    fill_many = expr.fill_lhs
    if not many.labels and (fill_many is None or not one.labels):
        return Vector.empty(steps)
    if not one.labels and fill_one is None:
        return Vector.empty(steps)
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
    if n_groups:
        js = np.where(matched[:, None], one_at[np.maximum(many_g, 0)], -1)
    else:
        js = np.full((len(many.labels), steps), -1, dtype=np.intp)
    js = np.where(many.present, js, -1)
    both = js >= 0
    if expr.card == "one-to-one" and n_groups:
        counts = np.zeros((n_groups, steps), np.int64)
        np.add.at(counts, many_g[matched], both[matched].astype(np.int64))
        if (counts > 1).any():
            raise QueryError(
                "multiple matches for labels: many-to-one matching must be explicit "
                "(group_left/group_right)"
            )
    cols = np.arange(steps)[None, :]
    one_vals = one.values[np.maximum(js, 0), cols] if len(one.labels) else np.zeros(js.shape)
    if fill_one is not None:
        # Many-side samples without a partner use the fill value; -2 marks "no one-side series".
        lonely = many.present & (js < 0)
        one_vals = np.where(lonely, fill_one, one_vals)
        js = np.where(lonely, -2, js)
        both = both | lonely
    values, present = _combine(op, expr.return_bool, many.values, one_vals, both, swapped=swapped)
    drop_metric = op not in COMPARISON_OPS or expr.return_bool
    delayed = ctx.options.delayed_name_removal
    if fill_many is None:
        fast = _one_partner_rows(
            expr,
            many,
            one,
            values=values,
            present=present,
            js=js,
            drop_metric=drop_metric,
            delayed=delayed,
        )
        if fast is not None:
            return fast
    out = _Rows(expr)
    for i in np.flatnonzero(present.any(axis=1)):
        for j in np.unique(js[i][present[i]]):  # usually one: the same partner at every step
            mask = present[i] & (js[i] == j)
            partner = one.labels[int(j)] if j >= 0 else ()
            res = _result_labels(many.labels[i], partner, expr, drop_metric and not delayed)
            out.add(res, values[i], mask, bool(many.drop[i]) or (drop_metric and delayed))
    if fill_many is not None and n_groups:
        many_any = np.zeros((n_groups, steps), bool)
        np.logical_or.at(many_any, many_g[matched], many.present[matched])
        alone = (one_at >= 0) & ~many_any
        for g in np.flatnonzero(alone.any(axis=1)):
            mask_g = alone[g]
            fill = np.full(steps, fill_many)
            jrow = one_at[g]
            ov = one.values[np.maximum(jrow, 0), np.arange(steps)]
            vals, pres = _combine(
                op, expr.return_bool, fill[None, :], ov[None, :], mask_g[None, :], swapped=swapped
            )
            # The result of a filled-in "many" side carries the match group's labels.
            out.add(sig_of[g], vals[0], pres[0], False)
    return out.vector(steps)


def _one_partner_rows(
    expr: Binary,
    many: Vector,
    one: Vector,
    *,
    values: F64,
    present: Mask,
    js: npt.NDArray[np.intp],
    drop_metric: bool,
    delayed: bool,
) -> Vector | None:
    """The result as whole arrays when every output row keeps one partner at all its steps and
    no two rows share a label set (the usual case); None to take the general path."""
    rows = np.flatnonzero(present.any(axis=1))
    big = np.iinfo(np.intp).max
    lo = np.where(present[rows], js[rows], big).min(axis=1)
    hi = np.where(present[rows], js[rows], -big).max(axis=1)
    if (lo != hi).any():
        return None
    labels = [
        _result_labels(
            many.labels[i], one.labels[j] if j >= 0 else (), expr, drop_metric and not delayed
        )
        for i, j in zip(rows.tolist(), lo.tolist(), strict=True)
    ]
    if len(set(labels)) != len(labels):
        return None
    pres = present[rows]
    return Vector(
        labels,
        np.where(pres, values[rows], 0.0),
        pres,
        many.drop[rows] | (drop_metric and delayed),
    )


def _combine(
    op: str, return_bool: bool, many_vals: F64, one_vals: F64, both: Mask, *, swapped: bool
) -> tuple[F64, Mask]:
    a, b = (one_vals, many_vals) if swapped else (many_vals, one_vals)
    if op in COMPARISON_OPS:
        cond = compare(op, a, b)
        if return_bool:
            return cond.astype(np.float64), both
        return a, both & cond
    return arith(op, a, b), both


class _Rows:
    """Output series of a vector-vector operation, merged by label set."""

    def __init__(self, expr: Binary) -> None:
        self.expr = expr
        self.index: dict[Labels, int] = {}
        self.labels: list[Labels] = []
        self.values: list[F64] = []
        self.present: list[Mask] = []
        self.drop: list[bool] = []

    def add(self, labels: Labels, values: F64, mask: Mask, drop: bool) -> None:
        k = self.index.get(labels)
        if k is None:
            self.index[labels] = len(self.labels)
            self.labels.append(labels)
            self.values.append(np.where(mask, values, 0.0))
            self.present.append(mask.copy())
            self.drop.append(drop)
            return
        if (self.present[k] & mask).any():
            if self.expr.card == "one-to-one":
                raise QueryError(
                    "multiple matches for labels: many-to-one matching must be explicit "
                    "(group_left/group_right)"
                )
            raise QueryError(
                "multiple matches for labels: grouping labels must ensure unique matches"
            )
        self.values[k] = np.where(mask, values, self.values[k])
        self.present[k] |= mask

    def vector(self, steps: int) -> Vector:
        if not self.labels:
            return Vector.empty(steps)
        return Vector(
            self.labels, np.array(self.values), np.array(self.present), np.array(self.drop, bool)
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
