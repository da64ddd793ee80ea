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
from spyglass.promql._values import F64, Mask, Vector

if TYPE_CHECKING:
    from spyglass.promql._engine import Context

_SMALL_DELTA = 1e-12


def _parse_le(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _groups(v: Vector, ctx: Context) -> dict[Labels, list[tuple[float, int]]]:
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
                f'for metric name "{name}"'
            )
            continue
        key = tuple(p for p in ls if p[0] not in ("le", METRIC_NAME))
        groups.setdefault(key, []).append((le, i))
    return groups


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
    out: Mask = (a == b) | np.where((a == 0) | (b == 0) | (diff < tiny), diff < _SMALL_DELTA * tiny,
                               rel < _SMALL_DELTA)
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


def histogram_quantile(q: F64, v: Vector, ctx: Context) -> Vector:
    """``histogram_quantile(q, buckets)`` for classic histograms."""
    steps = v.steps
    bad = np.isnan(q) | (q < 0) | (q > 1)
    if bad.any() and v.labels:
        ctx.warn(f"quantile value should be between 0 and 1, got {format_value(float(q[bad][0]))}")
    labels: list[Labels] = []
    values = []
    present = []
    for key, members in _groups(v, ctx).items():
        rows = [m[1] for m in members]
        any_present = v.present[rows].any(axis=0)
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
                f'#histogram_quantile) for metric name "{name}"'
            )
        labels.append(key)
        values.append(out)
        present.append(any_present)
    if not labels:
        return Vector.empty(steps)
    return Vector(labels, np.array(values), np.array(present), np.zeros(len(labels), bool))


def _fraction(lower: float, upper: float, bounds: F64, counts: F64) -> float:
    if len(bounds) == 0 or not math.isinf(bounds[-1]):
        return math.nan
    order = np.argsort(bounds, kind="stable")
    bounds, counts = bounds[order], counts[order]
    bounds, c2 = _coalesce(bounds, counts[:, None])
    fixed, _ = _monotonic(c2)
    cum = fixed[:, 0]
    total = cum[-1]
    if total == 0 or math.isnan(total):
        return math.nan
    if math.isnan(lower) or math.isnan(upper):
        return math.nan
    if lower >= upper:
        return 0.0

    def rank(x: float) -> float:
        # Observations at or below x, interpolating linearly inside a bucket.
        if x == math.inf:
            return float(total)
        prev_b, prev_c = 0.0, 0.0
        for i in range(len(bounds)):
            b, c = float(bounds[i]), float(cum[i])
            if x <= b:
                if i == 0 and b <= 0:
                    return c if x >= b else 0.0
                if math.isinf(b):
                    return prev_c
                lo = prev_b if i > 0 else (0.0 if b > 0 else b)
                if x <= lo:
                    return prev_c
                return prev_c + (c - prev_c) * (x - lo) / (b - lo)
            prev_b, prev_c = b, c
        return float(total)

    return (rank(upper) - rank(lower)) / float(total)


def histogram_fraction(lower: F64, upper: F64, v: Vector, ctx: Context) -> Vector:
    """``histogram_fraction(lower, upper, buckets)`` for classic histograms."""
    steps = v.steps
    labels: list[Labels] = []
    values = []
    present = []
    for key, members in _groups(v, ctx).items():
        rows = [m[1] for m in members]
        any_present = v.present[rows].any(axis=0)
        out = np.zeros(steps)
        for c in np.flatnonzero(any_present):
            sub = [m for m in members if v.present[m[1], c]]
            bounds = np.array([m[0] for m in sub])
            counts = np.array([v.values[m[1], c] for m in sub])
            out[c] = _fraction(float(lower[c]), float(upper[c]), bounds, counts)
        labels.append(key)
        values.append(out)
        present.append(any_present)
    if not labels:
        return Vector.empty(steps)
    return Vector(labels, np.array(values), np.array(present), np.zeros(len(labels), bool))


__all__ = ["histogram_fraction", "histogram_quantile"]
