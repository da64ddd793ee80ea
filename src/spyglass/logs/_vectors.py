"""Vector aggregations, binary operations and ``label_replace`` over LogQL's metric values.

The semantics are Prometheus' where Loki follows them (grouping, vector matching with
``on``/``ignoring`` and ``group_left``/``group_right``, ``bool``, set operators) and Loki's where
it differs: division and modulo by zero give NaN, and label sets may hold empty values.
Matching happens per step, since a series can be present at some steps and not at others.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable

import numpy as np

from spyglass.core.errors import QueryError
from spyglass.logs._ast import Grouping, VectorMatching
from spyglass.logs._ranges import group_labels
from spyglass.logs._regex import anchored
from spyglass.logs._series import F64, Mask, Series, SeriesLabels, Vector, empty_series

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def format_series_labels(labels: SeriesLabels) -> str:
    """``{a="b", c="d"}`` with Go-style escaping, as Loki prints label sets in errors."""
    inner = ", ".join(
        f'{k}="' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        for k, v in labels
    )
    return "{" + inner + "}"


def arith(op: str, a: float, b: float) -> float:
    """``a op b`` for ``+ - * / % ^`` (Loki: a zero divisor gives NaN)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return math.nan if b == 0 else a / b
    if op == "%":
        return math.nan if b == 0 else math.fmod(a, b)
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        return math.inf if a > 0 or (b == int(b) and int(b) % 2 == 0) else math.nan


def scalar_binary(op: str, a: float, b: float) -> float:
    """Two numbers: arithmetic, or 0/1 for a comparison (``bool`` or not)."""
    if op in _COMPARE:
        return 1.0 if _COMPARE[op](a, b) else 0.0
    return arith(op, a, b)


# -- aggregation -------------------------------------------------------------------------------
def aggregate(
    op: str, vec: Vector, grouping: Grouping | None, param: float | None, steps: int
) -> Vector:
    """``op by/without (...) (vec)`` at every step."""
    if op in ("sort", "sort_desc"):
        return vec
    groups: dict[SeriesLabels, list[Series]] = {}
    for s in vec:
        key = group_labels(s.labels, grouping) if grouping is not None else ()
        groups.setdefault(key, []).append(s)
    if op in ("topk", "bottomk", "approx_topk"):
        return _select(op, groups, int(param or 0), steps)
    out: Vector = []
    for key, members in groups.items():
        values = np.stack([m.values for m in members])
        mask = np.stack([m.present for m in members])
        count = mask.sum(axis=0)
        present = count > 0
        if not present.any():
            continue
        with np.errstate(all="ignore"):
            total = np.where(mask, values, 0.0).sum(axis=0)
            if op == "sum":
                result = total
            elif op == "count":
                result = count.astype(np.float64)
            elif op == "avg":
                result = total / np.maximum(count, 1)
            elif op in ("max", "min"):
                result = _extreme(op, values, mask)
            else:
                mean = total / np.maximum(count, 1)
                sq = np.where(mask, (values - mean) ** 2, 0.0).sum(axis=0) / np.maximum(count, 1)
                result = np.sqrt(sq) if op == "stddev" else sq
        out.append(Series(key, np.asarray(result, dtype=np.float64), present))
    return out


def _extreme(op: str, values: F64, mask: Mask) -> F64:
    result = np.full(values.shape[1], math.nan)
    for j in range(values.shape[1]):
        col = values[mask[:, j], j]
        real = col[~np.isnan(col)]
        if len(real):
            result[j] = real.max() if op == "max" else real.min()
    return result


def _select(op: str, groups: dict[SeriesLabels, list[Series]], k: int, steps: int) -> Vector:
    chosen: dict[SeriesLabels, Series] = {}
    for members in groups.values():
        for j in range(steps):
            here = [m for m in members if m.present[j]]
            # NaN ranks below every number for topk and above every number for bottomk, as in
            # Prometheus; ties keep input order.
            if op == "bottomk":
                here.sort(key=lambda m: (math.isnan(m.values[j]), m.values[j]))
            else:
                here.sort(key=lambda m: (not math.isnan(m.values[j]), m.values[j]), reverse=True)
            for m in here[:k]:
                s = chosen.get(m.labels)
                if s is None:
                    s = chosen[m.labels] = empty_series(m.labels, steps)
                s.values[j] = m.values[j]
                s.present[j] = True
    return list(chosen.values())


# -- binary operations -------------------------------------------------------------------------
def vector_scalar(op: str, vec: Vector, scalar: float, scalar_left: bool, bool_mod: bool) -> Vector:
    """``vec op scalar`` (or ``scalar op vec``)."""
    out: Vector = []
    for s in vec:
        values = s.values.copy()
        present = s.present.copy()
        for j in np.flatnonzero(s.present):
            a, b = (scalar, s.values[j]) if scalar_left else (s.values[j], scalar)
            if op in _COMPARE:
                hit = _COMPARE[op](a, b)
                if bool_mod:
                    values[j] = 1.0 if hit else 0.0
                elif not hit:
                    present[j] = False
            else:
                values[j] = arith(op, a, b)
        if present.any():
            out.append(Series(s.labels, values, present))
    return out


def _signature(labels: SeriesLabels, matching: VectorMatching) -> SeriesLabels:
    names = set(matching.labels)
    if matching.on:
        return tuple((k, v) for k, v in labels if k in names)
    return tuple((k, v) for k, v in labels if k not in names)


def _result_labels(
    left: SeriesLabels, right: SeriesLabels, matching: VectorMatching
) -> SeriesLabels:
    if not matching.card:
        return _signature(left, matching) if matching.on or matching.labels else left
    out = dict(left)
    rmap = dict(right)
    for name in matching.include:
        if name in rmap:
            out[name] = rmap[name]
        else:
            out.pop(name, None)
    return tuple(sorted(out.items()))


def vector_vector(  # noqa: PLR0917 -- the parts of one binary node
    op: str, left: Vector, right: Vector, matching: VectorMatching, bool_mod: bool, steps: int
) -> Vector:
    """Two vectors combined per step, matched on their signatures."""
    if op in ("and", "or", "unless"):
        return _set_op(op, left, right, matching, steps)
    swap = matching.card == "group_right"
    many, one = (right, left) if swap else (left, right)
    out: dict[SeriesLabels, Series] = {}
    for j in range(steps):
        ones: dict[SeriesLabels, Series] = {}
        for s in one:
            if not s.present[j]:
                continue
            sig = _signature(s.labels, matching)
            if sig in ones:
                side = "left" if swap else "right"
                raise QueryError(
                    f"found duplicate series on the {side} hand-side of the operation: "
                    f"[{format_series_labels(ones[sig].labels)}, {format_series_labels(s.labels)}]"
                    ";many-to-many matching not allowed: matching labels must be unique on one side"
                )
            ones[sig] = s
        matched: set[SeriesLabels] = set()
        inserted: set[SeriesLabels] = set()
        for s in many:
            if not s.present[j]:
                continue
            sig = _signature(s.labels, matching)
            other = ones.get(sig)
            if other is None:
                continue
            lhs, rhs = (other, s) if swap else (s, other)
            labels = _result_labels(s.labels, other.labels, matching)
            if not matching.card:
                if sig in matched:
                    raise QueryError(
                        "multiple matches for labels: many-to-one matching must be explicit "
                        "(group_left/group_right)"
                    )
                matched.add(sig)
            else:
                if labels in inserted:
                    raise QueryError(
                        "multiple matches for labels: grouping labels must ensure unique matches"
                    )
                inserted.add(labels)
            a, b = float(lhs.values[j]), float(rhs.values[j])
            if op in _COMPARE:
                hit = _COMPARE[op](a, b)
                if bool_mod:
                    value = 1.0 if hit else 0.0
                elif hit:
                    value = a
                else:
                    continue
            else:
                value = arith(op, a, b)
            res = out.get(labels)
            if res is None:
                res = out[labels] = empty_series(labels, steps)
            res.values[j] = value
            res.present[j] = True
    return list(out.values())


def _set_op(op: str, left: Vector, right: Vector, matching: VectorMatching, steps: int) -> Vector:
    out: dict[SeriesLabels, Series] = {}

    def put(s: Series, j: int) -> None:
        res = out.get(s.labels)
        if res is None:
            res = out[s.labels] = empty_series(s.labels, steps)
        res.values[j] = s.values[j]
        res.present[j] = True

    for j in range(steps):
        right_sigs = {_signature(s.labels, matching) for s in right if s.present[j]}
        left_sigs: set[SeriesLabels] = set()
        for s in left:
            if not s.present[j]:
                continue
            sig = _signature(s.labels, matching)
            left_sigs.add(sig)
            if op == "or" or (op == "and") == (sig in right_sigs):
                put(s, j)
        if op == "or":
            for s in right:
                if s.present[j] and _signature(s.labels, matching) not in left_sigs:
                    put(s, j)
    return list(out.values())


# -- label_replace -----------------------------------------------------------------------------
def label_replace(vec: Vector, dst: str, replacement: str, src: str, regex: str) -> Vector:
    """Prometheus' ``label_replace`` on every series."""
    pattern = anchored(regex)
    template = _go_expand_template(replacement)
    merged: dict[SeriesLabels, Series] = {}
    for s in vec:
        labels = dict(s.labels)
        m = pattern.fullmatch(labels.get(src, ""))
        if m is not None:
            value = template(m)
            if value:
                labels[dst] = value
            else:
                labels.pop(dst, None)
        key = tuple(sorted(labels.items()))
        if key in merged:
            raise QueryError("vector cannot contain metrics with the same labelset")
        merged[key] = Series(key, s.values, s.present)
    return list(merged.values())


def _go_expand_template(replacement: str) -> Callable[..., str]:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``."""
    token = re.compile(r"\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")

    def expand(m: re.Match[str]) -> str:
        def sub(t: re.Match[str]) -> str:
            if t.group(0) == "$$":
                return "$"
            name = t.group(1) or t.group(2)
            try:
                value = m.group(int(name)) if name.isdigit() else m.group(name)
            except IndexError:
                return ""
            return value or ""

        return token.sub(sub, replacement)

    return expand


__all__ = [
    "aggregate",
    "arith",
    "format_series_labels",
    "label_replace",
    "scalar_binary",
    "vector_scalar",
    "vector_vector",
]
