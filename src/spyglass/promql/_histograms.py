"""``histogram_quantile`` and ``histogram_fraction`` over classic (``le``-labelled) buckets.

Buckets of one histogram are grouped by their labels without ``le`` (and ``__name__``), sorted by
upper bound and processed as a ``(buckets, steps)`` array: coalescing equal bounds, Prometheus'
monotonicity fix-up (with its info annotation) and the interpolation are loops over buckets that
are vectorised across steps.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from spyglass.core.labels import METRIC_NAME, Labels, get
from spyglass.promql._aggregations import format_value
from spyglass.promql._ast import Expr
from spyglass.promql._binops import drop_names, merge_same_labels
from spyglass.promql._values import F64, Mask, Vector

if TYPE_CHECKING:
    from spyglass.promql._engine import Context

_SMALL_DELTA = 1e-12


def _parse_le(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _groups(v: Vector, ctx: Context, node: Expr) -> dict[Labels, list[tuple[float, int]]]:
    """Buckets by histogram: labels without ``le``. The name stays in the key (it is dropped
    from the output), so two histograms that differ only by name collide afterwards, as in
    Prometheus."""
    groups: dict[Labels, list[tuple[float, int]]] = {}
    for i, ls in enumerate(v.labels):
        if not v.present[i].any():
            continue
        le_text = get(ls, "le")
        le = _parse_le(le_text) if le_text else None
        name = get(ls, METRIC_NAME)
        if le is None:
            ctx.warn(
                f'bucket label "le" is missing or has a malformed value of "{le_text}" '
                f'for metric name "{name}"',
                node,
            )
            continue
        key = tuple(p for p in ls if p[0] != "le")
        groups.setdefault(key, []).append((le, i))
    return groups


def _output(
    labels: list[Labels], values: list[F64], present: list[Mask], v: Vector, ctx: Context
) -> Vector:
    if not labels:
        return Vector.empty(v.steps)
    out = Vector(labels, np.array(values), np.array(present), np.zeros(len(labels), bool))
    return drop_names(out, ctx)


def _bucket_arrays(
    v: Vector, members: list[tuple[float, int]], cols: np.ndarray
) -> tuple[F64, F64, Mask]:
    members = sorted(members, key=lambda m: m[0])
    bounds = np.array([m[0] for m in members])
    rows = np.array([m[1] for m in members])
    counts = v.values[rows][:, cols]
    present = v.present[rows][:, cols]
    return bounds, counts, present


def _coalesce(bounds: F64, counts: F64) -> tuple[F64, F64]:
    uniq, inverse = np.unique(bounds, return_inverse=True)
    if len(uniq) == len(bounds):
        return bounds, counts
    out = np.zeros((len(uniq), counts.shape[1]))
    np.add.at(out, inverse, counts)
    return uniq, out


def _monotonic(counts: F64) -> tuple[F64, Mask]:
    counts = counts.copy()
    forced = np.zeros(counts.shape[1], bool)
    prev = counts[0].copy()
    for i in range(1, len(counts)):
        curr = counts[i]
        same = curr == prev
        close = ~same & _almost_equal(prev, curr)
        lower = ~same & ~close & (curr < prev)
        counts[i] = np.where(close | lower, prev, curr)
        forced |= lower
        prev = np.where(same | close | lower, prev, curr)
    return counts, forced


def _almost_equal(a: F64, b: F64) -> Mask:
    diff = np.abs(a - b)
    tiny = np.finfo(np.float64).tiny
    rel = diff / np.minimum(np.abs(a) + np.abs(b), np.finfo(np.float64).max)
    out: Mask = (a == b) | np.where(
        (a == 0) | (b == 0) | (diff < tiny), diff < _SMALL_DELTA * tiny, rel < _SMALL_DELTA
    )
    return out


def _quantile(q: F64, bounds: F64, counts: F64) -> tuple[F64, Mask]:
    """Columns of ``counts`` are steps; returns the quantile and where monotonicity was forced."""
    cols = counts.shape[1]
    nan = np.full(cols, np.nan)
    if len(bounds) == 0 or not math.isinf(bounds[-1]) or bounds[-1] < 0:
        return nan, np.zeros(cols, bool)
    bounds, counts = _coalesce(bounds, counts)
    counts, forced = _monotonic(counts)
    if len(bounds) < 2:
        return nan, forced
    obs = counts[-1]
    rank = q * obs
    reached = counts[:-1] >= rank[None, :]
    b = np.where(reached.any(axis=0), reached.argmax(axis=0), len(bounds) - 1)
    colidx = np.arange(cols)
    end = bounds[b]
    count = counts[b, colidx]
    bm1 = np.maximum(b - 1, 0)
    start = np.where(b > 0, bounds[bm1], 0.0)
    count = np.where(b > 0, count - counts[bm1, colidx], count)
    r = np.where(b > 0, rank - counts[bm1, colidx], rank)
    out = start + (end - start) * (r / count)
    out = np.where(b == len(bounds) - 1, bounds[-2], out)
    out = np.where((b == 0) & (bounds[0] <= 0), bounds[0], out)
    out = np.where(obs == 0, np.nan, out)
    out = np.where(np.isnan(obs), np.nan, out)
    out = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, out))
    out = np.where(np.isnan(q), np.nan, out)
    return out, forced


def histogram_quantile(q: F64, v: Vector, ctx: Context, q_node: Expr, v_node: Expr) -> Vector:
    """``histogram_quantile(q, buckets)`` for classic histograms."""
    steps = v.steps
    bad = np.isnan(q) | (q < 0) | (q > 1)
    if bad.any():
        ctx.warn(
            f"quantile value should be between 0 and 1, got {format_value(float(q[bad][0]))}",
            q_node,
        )
    labels: list[Labels] = []
    values: list[F64] = []
    present: list[Mask] = []
    for key, members in _groups(v, ctx, v_node).items():
        rows = [m[1] for m in members]
        any_present = np.asarray(v.present[rows].any(axis=0), bool)
        full = v.present[rows].all(axis=0)
        out = np.zeros(steps)
        forced_any = False
        cols = np.flatnonzero(full)
        if len(cols):
            bounds, counts, _ = _bucket_arrays(v, members, cols)
            res, forced = _quantile(q[cols], bounds, counts)
            out[cols] = res
            forced_any |= bool(forced.any())
        # Steps where only some buckets are present: the bucket set differs, do them one by one.
        for c in np.flatnonzero(any_present & ~full):
            sub = [m for m in members if v.present[m[1], c]]
            bounds, counts, _ = _bucket_arrays(v, sub, np.array([c]))
            res, forced = _quantile(q[[c]], bounds, counts)
            out[c] = res[0]
            forced_any |= bool(forced.any())
        if forced_any:
            name = get(v.labels[rows[0]], METRIC_NAME)
            ctx.info(
                "input to histogram_quantile needed to be fixed for monotonicity (see "
                "https://prometheus.io/docs/prometheus/latest/querying/functions/"
                f'#histogram_quantile) for metric name "{name}"',
                v_node,
            )
        labels.append(key)
        values.append(out)
        present.append(any_present)
    return _output(labels, values, present, v, ctx)


def _q_label(q: float) -> str:
    # Quantile label values keep a decimal point ("0.0", "1.0"), like OpenMetrics' "le".
    if math.isnan(q):
        return "NaN"
    if math.isinf(q):
        return "+Inf" if q > 0 else "-Inf"
    return repr(q)


def histogram_quantiles(
    v: Vector, label: str, qs: list[tuple[Expr, F64]], ctx: Context, v_node: Expr
) -> Vector:
    """``histogram_quantiles(buckets, "label", q1, q2, ...)``: one series per quantile."""
    parts: list[Vector] = []
    for node, q in qs:
        res = histogram_quantile(q, v, ctx, node, v_node)
        text = _q_label(float(q[0])) if len(q) else ""
        res.labels = [tuple(sorted({**dict(ls), label: text}.items())) for ls in res.labels]
        parts.append(res)
    parts = [p for p in parts if p.labels]
    if not parts:
        return Vector.empty(v.steps)
    merged = Vector(
        [ls for p in parts for ls in p.labels],
        np.concatenate([p.values for p in parts]),
        np.concatenate([p.present for p in parts]),
        np.concatenate([p.drop for p in parts]),
    )
    return merge_same_labels(merged, ctx)


def _fraction(lower: float, upper: float, bounds: F64, counts: F64) -> float:
    """Share of observations in ``[lower, upper]``, interpolating linearly inside buckets.

    The first bucket starts at 0 (or -Inf when its bound is negative); a bucket of infinite
    width only counts when the range reaches the same infinity.
    """
    order = np.argsort(bounds, kind="stable")
    bounds, c2 = _coalesce(bounds[order], counts[order][:, None])
    if len(bounds) == 0 or bounds[-1] != math.inf:
        return math.nan
    fixed, _ = _monotonic(c2)
    cum = fixed[:, 0]
    total = float(cum[-1])
    if total == 0 or math.isnan(total) or math.isnan(lower) or math.isnan(upper):
        return math.nan
    if lower >= upper:
        return 0.0
    acc = 0.0
    prev_c = 0.0
    for i in range(len(bounds)):
        hi = float(bounds[i])
        lo = float(bounds[i - 1]) if i > 0 else (0.0 if hi > 0 else -math.inf)
        cnt = float(cum[i]) - prev_c
        prev_c = float(cum[i])
        if hi <= lower or lo >= upper:
            continue
        if lower <= lo and upper >= hi:
            acc += cnt
            continue
        if math.isinf(lo) or math.isinf(hi):
            if (math.isinf(hi) and upper == math.inf) or (math.isinf(lo) and lower == -math.inf):
                acc += cnt
            continue
        acc += cnt * (min(hi, upper) - max(lo, lower)) / (hi - lo)
    return acc / total


def histogram_fraction(lower: F64, upper: F64, v: Vector, ctx: Context, v_node: Expr) -> Vector:
    """``histogram_fraction(lower, upper, buckets)`` for classic histograms."""
    steps = v.steps
    labels: list[Labels] = []
    values: list[F64] = []
    present: list[Mask] = []
    for key, members in _groups(v, ctx, v_node).items():
        rows = [m[1] for m in members]
        any_present = np.asarray(v.present[rows].any(axis=0), bool)
        out = np.zeros(steps)
        for c in np.flatnonzero(any_present):
            sub = [m for m in members if v.present[m[1], c]]
            bounds = np.array([m[0] for m in sub])
            counts = np.array([v.values[m[1], c] for m in sub])
            out[c] = _fraction(float(lower[c]), float(upper[c]), bounds, counts)
        labels.append(key)
        values.append(out)
        present.append(any_present)
    return _output(labels, values, present, v, ctx)


__all__ = ["histogram_fraction", "histogram_quantile", "histogram_quantiles"]
