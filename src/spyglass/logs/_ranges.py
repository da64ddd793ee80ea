"""Range aggregations: ``count_over_time``, ``rate``, ``bytes_*``, ``absent_over_time`` and the
``*_over_time`` family over unwrapped values.

The pipeline turns each selected line into a sample ``(timestamp, value)`` of the series named
by its final labels (reduced by the aggregation's ``by``/``without`` where it has one, as Loki
groups while extracting). Each step ``t`` then reduces the samples in the window
``(t - range - offset, t - offset]``: the lower bound is exclusive, the upper inclusive.
A window with no sample gives no value at that step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from spyglass.logs._ast import Grouping, LogRange
from spyglass.logs._series import F64, Series, SeriesLabels, Vector

I64 = npt.NDArray[np.int64]
Reducer = Callable[[I64, F64, int, int], float]


def _quantile(q: float, values: F64) -> float:
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = np.sort(values)
    n = len(ordered)
    rank = q * (n - 1)
    lo = max(0, math.floor(rank))
    hi = min(n - 1, lo + 1)
    weight = rank - math.floor(rank)
    return float(ordered[lo] * (1 - weight) + ordered[hi] * weight)


def _stdvar(values: F64) -> float:
    # Welford's method, as Loki computes it.
    count = 0
    mean = 0.0
    m2 = 0.0
    for v in values:
        count += 1
        delta = v - mean
        mean += delta / count
        m2 += delta * (v - mean)
    return m2 / count


def _rate_counter(ts: I64, vs: F64, start_ns: int, end_ns: int) -> float:
    """Prometheus' extrapolated counter rate over the window, per second."""
    if len(vs) < 2:
        return 0.0
    result = float(vs[-1] - vs[0])
    prev = vs[0]
    for v in vs[1:]:
        if v < prev:
            result += prev
        prev = v
    range_s = (end_ns - start_ns) / 1e9
    first, last = int(ts[0]), int(ts[-1])
    to_start = (first - start_ns) / 1e9
    to_end = (end_ns - last) / 1e9
    sampled = (last - first) / 1e9
    average = sampled / (len(vs) - 1)
    # Prometheus 3's order: clamp to half an interval first, then to where the counter was 0.
    threshold = average * 1.1
    if to_start >= threshold:
        to_start = average / 2
    if result > 0 and vs[0] >= 0:
        to_start = min(to_start, sampled * (vs[0] / result))
    if to_end >= threshold:
        to_end = average / 2
    interval = sampled + to_start + to_end
    if sampled == 0:
        return 0.0
    return result * (interval / sampled) / range_s


def reducer(op: str, range_ns: int, param: float | None) -> Reducer:
    """The window function of range aggregation ``op``: ``(timestamps, values, start, end)``."""
    seconds = range_ns / 1e9
    simple: dict[str, Callable[[F64], float]] = {
        "count_over_time": lambda v: float(len(v)),
        "bytes_over_time": lambda v: float(np.sum(v)),
        "bytes_rate": lambda v: float(np.sum(v)) / seconds,
        "rate": lambda v: float(np.sum(v)) / seconds,
        "sum_over_time": lambda v: float(np.sum(v)),
        "avg_over_time": lambda v: float(np.mean(v)),
        "max_over_time": lambda v: float(np.max(v)) if not np.all(np.isnan(v)) else math.nan,
        "min_over_time": lambda v: float(np.min(v)) if not np.all(np.isnan(v)) else math.nan,
        "stdvar_over_time": _stdvar,
        "stddev_over_time": lambda v: math.sqrt(_stdvar(v)),
        "first_over_time": lambda v: float(v[0]),
        "last_over_time": lambda v: float(v[-1]),
        "quantile_over_time": lambda v: _quantile(param if param is not None else math.nan, v),
    }
    if op == "rate_counter":
        return _rate_counter
    if op in ("max_over_time", "min_over_time"):
        pick = np.nanmax if op == "max_over_time" else np.nanmin
        return lambda ts, vs, start, end: float(pick(vs)) if not np.all(np.isnan(vs)) else math.nan
    fn = simple[op]
    return lambda ts, vs, start, end: fn(vs)


def group_labels(labels: SeriesLabels, grouping: Grouping | None) -> SeriesLabels:
    """``labels`` reduced by a ``by``/``without`` clause (unchanged without one)."""
    if grouping is None:
        return labels
    names = set(grouping.labels)
    if grouping.without:
        return tuple((k, v) for k, v in labels if k not in names)
    return tuple((k, v) for k, v in labels if k in names)


def evaluate_windows(
    samples: dict[SeriesLabels, tuple[list[int], list[float]]],
    steps: Sequence[int],
    log_range: LogRange,
    op: str,
    param: float | None,
) -> Vector:
    """Each series' window reduction at every step."""
    range_ns, offset_ns = log_range.range_ns, log_range.offset_ns
    reduce = reducer(op, range_ns, param)
    out: Vector = []
    n = len(steps)
    step_arr = np.asarray(steps, dtype=np.int64)
    for labels, (ts_list, vs_list) in samples.items():
        ts = np.asarray(ts_list, dtype=np.int64)
        vs = np.asarray(vs_list, dtype=np.float64)
        order = np.argsort(ts, kind="stable")
        ts, vs = ts[order], vs[order]
        ends = step_arr - offset_ns
        los = np.searchsorted(ts, ends - range_ns, side="right")
        his = np.searchsorted(ts, ends, side="right")
        values = np.zeros(n)
        present = his > los
        # Infinities and NaNs in unwrapped values are data, not accidents (+Inf + -Inf is NaN).
        with np.errstate(all="ignore"):
            for j in np.flatnonzero(present):
                lo, hi = int(los[j]), int(his[j])
                end = int(ends[j])
                values[j] = reduce(ts[lo:hi], vs[lo:hi], end - range_ns, end)
        if present.any():
            out.append(Series(labels, values, present))
    return out


__all__ = ["evaluate_windows", "group_labels", "reducer"]
