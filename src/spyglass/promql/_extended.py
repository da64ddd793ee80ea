"""Extended range selectors (Prometheus 3, experimental): ``anchored`` and ``smoothed``.

``anchored`` adds the last sample at or before the window start (within the lookback) to the
window, and rate/increase/delta/changes/resets then use the window as is, without
extrapolation. ``smoothed`` replaces both window ends by values linearly interpolated between
the neighbouring samples (a counter reset between them interpolates up from zero), and a
smoothed instant selector interpolates at the evaluation time. Both need a sample inside the
window. Each series is handled with array operations over all steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import QueryError
from spyglass.core.labels import Labels
from spyglass.core.samples import stale_mask
from spyglass.promql._ast import MatrixSelector, VectorSelector
from spyglass.promql._values import F64, Mask, RangeSums, Vector

if TYPE_CHECKING:
    from spyglass.promql._engine import Evaluator

I64 = npt.NDArray[np.int64]

ANCHORED_FUNCS = ("changes", "delta", "increase", "rate", "resets")
SMOOTHED_FUNCS = ("delta", "increase", "rate")


def check_modifier(modifier: str, function: str) -> None:
    """Refuse a function the modifier does not apply to, in Prometheus' words."""
    allowed = ANCHORED_FUNCS if modifier == "anchored" else SMOOTHED_FUNCS
    if function not in allowed:
        raise QueryError(
            f"{modifier} modifier can only be used with: {', '.join(allowed)} - not with {function}"
        )


def _load(ev: Evaluator, sel: VectorSelector, lo: int, hi: int) -> list[tuple[Labels, I64, F64]]:
    data = ev.ctx.querier.select(sel.matchers, lo, hi)
    data.sort(key=lambda d: d.labels)
    out: list[tuple[Labels, I64, F64]] = []
    for d in data:
        keep = ~stale_mask(d.values)
        if keep.any():
            out.append((d.labels, d.timestamps[keep], d.values[keep]))
    return out


def _interpolate(
    ts: I64, vs: F64, at: I64, lookback: int, *, counter: bool
) -> tuple[F64, Mask, Mask, Mask]:
    """Per time in ``at``: the value interpolated between the samples around it, whether there
    is one, and whether a sample exists at-or-before / after that time (within the lookback)."""
    p = np.searchsorted(ts, at, side="right") - 1
    n = p + 1
    sp, sn = np.clip(p, 0, len(ts) - 1), np.clip(n, 0, len(ts) - 1)
    p_ok = (p >= 0) & (ts[sp] > at - lookback)
    n_ok = (n < len(ts)) & (ts[sn] <= at + lookback)
    tp, tn = ts[sp].astype(np.float64), ts[sn].astype(np.float64)
    vp, vn = vs[sp], vs[sn]
    span = np.where(tn > tp, tn - tp, 1.0)
    frac = (at - tp) / span
    base = np.where(counter & (vn < vp), 0.0, vp)
    mid = base + (vn - base) * frac
    exact = p_ok & (ts[sp] == at)
    value = np.where(p_ok & n_ok, mid, np.where(p_ok, vp, vn))
    value = np.where(exact, vp, value)
    return value, p_ok | n_ok, p_ok, n_ok


def smoothed_vector(ev: Evaluator, sel: VectorSelector, times: I64) -> Vector:
    """A smoothed instant selector: values interpolated at each step's time."""
    lookback = ev.ctx.options.lookback_delta_ms
    rows = _load(ev, sel, int(times.min()) - lookback + 1, int(times.max()) + lookback)
    labels: list[Labels] = []
    values: list[F64] = []
    present: list[Mask] = []
    for ls, ts, vs in rows:
        v, ok, _, _ = _interpolate(ts, vs, times, lookback, counter=False)
        if ok.any():
            labels.append(ls)
            values.append(v)
            present.append(ok)
    ev.ctx.count(int(sum(int(p.sum()) for p in present)))
    if not labels:
        return Vector.empty(len(times))
    return Vector(labels, np.array(values), np.array(present), np.zeros(len(labels), bool))


def extended_range(ev: Evaluator, name: str, ms: MatrixSelector, ends: I64) -> Vector:
    """rate/increase/delta/changes/resets over an anchored or smoothed range selector."""
    sel = ms.selector
    check_modifier(sel.modifier, name)
    lookback = ev.ctx.options.lookback_delta_ms
    starts = ends - ms.range_ms
    rows = _load(ev, sel, int(starts.min()) - lookback + 1, int(ends.max()) + lookback)
    range_s = ms.range_ms / 1000.0
    labels: list[Labels] = []
    values: list[F64] = []
    present: list[Mask] = []
    for ls, ts, vs in rows:
        lo = np.searchsorted(ts, starts, side="right")
        hi = np.searchsorted(ts, ends, side="right")
        ok = hi > lo
        prev = np.concatenate([[vs[0]], vs[:-1]])
        drops = RangeSums(np.where(vs < prev, prev, 0.0))
        last = np.maximum(hi - 1, 0)
        if sel.modifier == "anchored":
            a = lo - 1
            anchor_ok = (a >= 0) & (ts[np.maximum(a, 0)] > starts - lookback)
            first = np.where(anchor_ok, np.maximum(a, 0), np.minimum(lo, len(ts) - 1))
            if name in ("changes", "resets"):
                if name == "changes":
                    flag = (vs != prev) & ~(np.isnan(vs) & np.isnan(prev))
                else:
                    flag = vs < prev
                counts = np.cumsum(flag.astype(np.int64))
                out = (counts[last] - counts[first]).astype(np.float64)
            else:
                out = vs[last] - vs[first]
                if name != "delta":
                    out = out + drops.between(first, last)
                if name == "rate":
                    out = out / range_s
        else:
            counter = name != "delta"
            v_start, _, _, after_start = _interpolate(ts, vs, starts, lookback, counter=counter)
            v_end, _, upto_end, _ = _interpolate(ts, vs, ends, lookback, counter=counter)
            # Data must reach into the window from both sides: not only before, not only after.
            ok = after_start & upto_end
            if not counter:
                out = v_end - v_start
            else:
                first = np.minimum(lo, len(ts) - 1)
                inner = vs[last] - vs[first] + drops.between(first, last)
                head = np.where(vs[first] < v_start, vs[first], vs[first] - v_start)
                tail = np.where(v_end < vs[last], v_end, v_end - vs[last])
                direct = np.where(v_end < v_start, v_end, v_end - v_start)
                out = np.where(hi > lo, head + inner + tail, direct)
                if name == "rate":
                    out = out / range_s
        if ok.any():
            labels.append(ls)
            values.append(out)
            present.append(ok)
    if not labels:
        return Vector.empty(len(ends))
    return Vector(labels, np.array(values), np.array(present), np.zeros(len(labels), bool))


__all__ = ["check_modifier", "extended_range", "smoothed_vector"]
