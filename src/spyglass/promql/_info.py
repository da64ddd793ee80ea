"""``info(v [, selector])`` (experimental): enrich series with data labels of info metrics.

An info series (``target_info`` unless the selector names others) joins a base series when
their identifying labels (``instance``, ``job``) are equal; its other labels are added unless
the base series already has them. Info series are looked up at the same reference time as the
base samples, so ``offset`` and ``@`` on the base expression also shift the lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import QueryError
from spyglass.core.labels import METRIC_NAME, Labels, get
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.samples import stale_mask
from spyglass.promql._ast import (
    Aggregate,
    Binary,
    Call,
    Expr,
    MatrixSelector,
    Subquery,
    Unary,
    VectorSelector,
    kind_of,
)
from spyglass.promql._values import F64, Mask, Vector

if TYPE_CHECKING:
    from spyglass.promql._engine import Evaluator

IDENTIFYING = ("instance", "job")
I64 = npt.NDArray[np.int64]


def _at_base(ev: Evaluator, times: I64, at_kind: str, at_ms: int) -> I64:
    if at_kind == "start":
        return np.full(len(times), ev.ctx.start_ms, np.int64)
    if at_kind == "end":
        return np.full(len(times), ev.ctx.end_ms, np.int64)
    return np.full(len(times), at_ms, np.int64)


def reference_times(ev: Evaluator, expr: Expr, times: I64) -> I64:
    """When the samples of ``expr``'s (first) selector were read, per step."""
    if isinstance(expr, VectorSelector):
        base = times if expr.at is None else _at_base(ev, times, expr.at.kind, expr.at.time_ms)
        return base - expr.offset_ms
    if isinstance(expr, MatrixSelector):
        return reference_times(ev, expr.selector, times)
    if isinstance(expr, Subquery):
        base = times if expr.at is None else _at_base(ev, times, expr.at.kind, expr.at.time_ms)
        return reference_times(ev, expr.expr, base - expr.offset_ms)
    if isinstance(expr, Call):
        for a in expr.args:
            if kind_of(a) in ("vector", "matrix"):
                return reference_times(ev, a, times)
        return times
    if isinstance(expr, Aggregate):
        return reference_times(ev, expr.expr, times)
    if isinstance(expr, Binary):
        side = expr.lhs if kind_of(expr.lhs) == "vector" else expr.rhs
        return reference_times(ev, side, times)
    if isinstance(expr, Unary):
        return reference_times(ev, expr.expr, times)
    return times


def evaluate_info(ev: Evaluator, call: Call) -> Vector:
    """Evaluate ``info()``."""
    ctx = ev.ctx
    base = ev.eval_vector(call.args[0])
    selector = call.args[1] if len(call.args) > 1 else None
    matchers: list[Matcher] = []
    if isinstance(selector, VectorSelector):
        matchers = list(selector.matchers)
    elif selector is not None:
        raise QueryError("info(): the second argument must be a vector selector")
    name_matchers = [m for m in matchers if m.name == METRIC_NAME]
    data_matchers = [m for m in matchers if m.name != METRIC_NAME]
    if not name_matchers:
        name_matchers = [Matcher.of(METRIC_NAME, MatchOp.EQUAL, "target_info")]
    positive = any(m.op in (MatchOp.EQUAL, MatchOp.REGEX) for m in name_matchers)
    select_names = list(name_matchers)
    if not positive:
        # Only negative name matchers: they narrow the info metrics (names ending in _info).
        select_names.append(Matcher.of(METRIC_NAME, MatchOp.REGEX, ".+_info"))
    wanted = {m.name for m in data_matchers}
    needs_match = any(not m.matches_empty() for m in data_matchers)

    refs = reference_times(ev, call.args[0], ctx.grid)
    info_labels, info_present, info_ts = _lookup(ev, [*select_names, *data_matchers], refs)
    keyed: dict[tuple[str, ...], list[int]] = {}
    for j, ls in enumerate(info_labels):
        keyed.setdefault(tuple(get(ls, n) for n in IDENTIFYING), []).append(j)

    steps = ctx.steps
    out: dict[Labels, int] = {}
    labels_out: list[Labels] = []
    values_out: list[F64] = []
    present_out: list[Mask] = []
    drop_out: list[bool] = []

    def emit(labels: Labels, i: int, mask: Mask) -> None:
        k = out.get(labels)
        if k is None:
            out[labels] = len(labels_out)
            labels_out.append(labels)
            values_out.append(np.where(mask, base.values[i], 0.0))
            present_out.append(mask.copy())
            drop_out.append(bool(base.drop[i]))
            return
        if (present_out[k] & mask).any():
            raise QueryError("vector cannot contain metrics with the same labelset")
        values_out[k] = np.where(mask, base.values[i], values_out[k])
        present_out[k] |= mask

    for i, ls in enumerate(base.labels):
        pres = base.present[i]
        name = get(ls, METRIC_NAME)
        is_info = positive and all(m.matches_value(name) for m in name_matchers)
        key = tuple(get(ls, n) for n in IDENTIFYING)
        candidates = [] if is_info or not any(key) else keyed.get(key, [])
        candidates = [j for j in candidates if info_labels[j] != ls]  # never itself
        if not candidates:
            if not needs_match or is_info:
                emit(ls, i, pres)
            continue
        # Per step, the data labels contributed by the matching info series.
        per_step: dict[Labels, Mask] = {}
        matched_any = np.zeros(steps, bool)
        for t in np.flatnonzero(pres):
            extra = _data_labels(
                candidates, info_labels, info_present, info_ts, t=int(t), base=ls, wanted=wanted
            )
            if extra is None:
                continue
            matched_any[t] = True
            per_step.setdefault(extra, np.zeros(steps, bool))[t] = True
        for extra, mask in per_step.items():
            merged = tuple(sorted({**dict(ls), **dict(extra)}.items()))
            emit(merged, i, mask)
        rest = pres & ~matched_any
        if rest.any() and not needs_match:
            emit(ls, i, rest)
    if not labels_out:
        return Vector.empty(steps)
    return Vector(labels_out, np.array(values_out), np.array(present_out), np.array(drop_out, bool))


def _data_labels(
    candidates: list[int],
    info_labels: list[Labels],
    info_present: Mask,
    info_ts: I64,
    *,
    t: int,
    base: Labels,
    wanted: set[str],
) -> Labels | None:
    """Labels to add at step ``t``, or None when no info series is present there."""
    live = [j for j in candidates if info_present[j, t]]
    if not live:
        return None
    # Per info metric name, the series with the latest sample wins (churning info series).
    best: dict[str, int] = {}
    for j in live:
        name = get(info_labels[j], METRIC_NAME)
        if name not in best or info_ts[j, t] > info_ts[best[name], t]:
            best[name] = j
    have = {n for n, _ in base}
    added: dict[str, str] = {}
    for j in best.values():
        for n, v in info_labels[j]:
            if n == METRIC_NAME or n in IDENTIFYING or n in have:
                continue
            if wanted and n not in wanted:
                continue
            if n in added and added[n] != v:
                raise QueryError(f"conflicting label: {n} has values {added[n]!r} and {v!r}")
            added[n] = v
    return tuple(sorted(added.items()))


def _lookup(ev: Evaluator, matchers: list[Matcher], refs: I64) -> tuple[list[Labels], Mask, I64]:
    """Info series present (within the lookback) at each reference time."""
    lookback = ev.ctx.options.lookback_delta_ms
    lo, hi = int(refs.min()) - lookback + 1, int(refs.max())
    data = ev.ctx.querier.select(matchers, lo, hi)
    data.sort(key=lambda d: d.labels)
    labels, present, stamps = [], [], []
    for d in data:
        if len(d.timestamps) == 0:
            continue
        idx = np.searchsorted(d.timestamps, refs, side="right") - 1
        safe = np.maximum(idx, 0)
        ts = d.timestamps[safe]
        ok = (idx >= 0) & (ts > refs - lookback) & ~stale_mask(d.values[safe])
        labels.append(d.labels)
        present.append(ok)
        stamps.append(ts)
    if not labels:
        return [], np.zeros((0, len(refs)), bool), np.zeros((0, len(refs)), np.int64)
    return labels, np.array(present), np.array(stamps)


__all__ = ["evaluate_info", "reference_times"]
