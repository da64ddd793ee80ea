"""The evaluator's intermediate values, laid out for array arithmetic over a grid of steps.

Every expression is evaluated over the same grid of evaluation times (one step for an instant
query). An instant vector is a ``(series, steps)`` matrix of values plus a presence mask, so
binary operators and aggregations are whole-array operations. A range vector keeps each series'
raw samples and the window end of every step; ``windows()`` turns it into flat per-(series, step)
segments that range functions reduce without a per-sample Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import METRIC_NAME, Labels

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


@dataclass
class Scalar:
    """A scalar per step."""

    values: F64


@dataclass
class String:
    """A string value (the same at every step)."""

    value: str


@dataclass
class Vector:
    """An instant vector over the step grid.

    ``drop`` flags series whose ``__name__`` is to be removed once evaluation ends (Prometheus'
    delayed name removal); without that option names are removed at once and ``drop`` stays
    false. ``sample_ts`` holds the raw sample timestamps when the vector came straight from a
    selector, because ``timestamp()`` reports those rather than the evaluation time.
    """

    labels: list[Labels]
    values: F64
    present: Mask
    drop: Mask
    sample_ts: I64 | None = None

    @classmethod
    def empty(cls, steps: int) -> Vector:
        """A vector with no series."""
        return cls([], np.empty((0, steps)), np.empty((0, steps), bool), np.empty(0, bool))

    @property
    def steps(self) -> int:
        """Number of steps in the grid."""
        return int(self.values.shape[1])

    def take(self, rows: npt.NDArray[np.intp] | list[int]) -> Vector:
        """The vector restricted to some series (rows)."""
        idx = np.asarray(rows, dtype=np.intp)
        return Vector(
            [self.labels[i] for i in idx],
            self.values[idx],
            self.present[idx],
            self.drop[idx],
            None if self.sample_ts is None else self.sample_ts[idx],
        )

    def compact(self) -> Vector:
        """Drop series absent at every step."""
        keep = np.flatnonzero(self.present.any(axis=1))
        if len(keep) == len(self.labels):
            return self
        return self.take(keep)


@dataclass
class RangeSeries:
    """One series' raw samples (staleness markers removed) for a range vector."""

    labels: Labels
    timestamps: I64
    values: F64


@dataclass
class Matrix:
    """A range vector: per series the samples, per step the window ``(end - range, end]``."""

    series: list[RangeSeries]
    ends: I64
    range_ms: int
    drop: Mask = field(default_factory=lambda: np.empty(0, bool))
    eval_times: I64 | None = None

    def __post_init__(self) -> None:
        if len(self.drop) != len(self.series):
            self.drop = np.zeros(len(self.series), bool)
        if self.eval_times is None:
            self.eval_times = self.ends

    def windows(self) -> Windows:
        """Flat segments, one per (series, step) window holding at least one sample."""
        starts = self.ends - self.range_ms
        flat_ts: list[I64] = []
        flat_v: list[F64] = []
        seg_series: list[I64] = []
        seg_step: list[I64] = []
        seg_start: list[I64] = []
        seg_count: list[I64] = []
        base = 0
        steps = np.arange(len(self.ends), dtype=np.int64)
        for i, s in enumerate(self.series):
            lo = np.searchsorted(s.timestamps, starts, side="right").astype(np.int64)
            hi = np.searchsorted(s.timestamps, self.ends, side="right").astype(np.int64)
            cnt = hi - lo
            ok = cnt > 0
            if ok.any():
                seg_series.append(np.full(int(ok.sum()), i, np.int64))
                seg_step.append(steps[ok])
                seg_start.append(lo[ok] + base)
                seg_count.append(cnt[ok])
            flat_ts.append(s.timestamps)
            flat_v.append(s.values)
            base += len(s.timestamps)

        def cat(parts: list[I64]) -> I64:
            return np.concatenate(parts) if parts else np.empty(0, np.int64)

        return Windows(
            n_series=len(self.series),
            n_steps=len(self.ends),
            series=cat(seg_series),
            step=cat(seg_step),
            start=cat(seg_start),
            count=cat(seg_count),
            ts=np.concatenate(flat_ts) if flat_ts else np.empty(0, np.int64),
            values=np.concatenate(flat_v) if flat_v else np.empty(0, np.float64),
            range_start=starts,
            range_end=self.ends,
            eval_times=self.ends if self.eval_times is None else self.eval_times,
        )


@dataclass
class Windows:
    """Range-vector windows as flat segments into the concatenated samples of all series."""

    n_series: int
    n_steps: int
    series: I64
    step: I64
    start: I64
    count: I64
    ts: I64
    values: F64
    range_start: I64
    range_end: I64
    eval_times: I64

    @property
    def last(self) -> I64:
        """Flat index of each segment's last sample."""
        return self.start + self.count - 1

    def gathered(self) -> tuple[F64, I64]:
        """All windows' values laid end to end, and each segment's offset in that array."""
        offsets = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        total = int(self.count.sum())
        idx = np.arange(total, dtype=np.int64) - np.repeat(offsets - self.start, self.count)
        return self.values[idx], offsets

    def gathered_ts(self) -> I64:
        """Timestamps laid out like ``gathered()``."""
        offsets = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        total = int(self.count.sum())
        idx = np.arange(total, dtype=np.int64) - np.repeat(offsets - self.start, self.count)
        return self.ts[idx]

    def at(self, j: int) -> tuple[F64, Mask]:
        """The ``j``-th value of every segment and whether that segment has one."""
        ok = self.count > j
        idx = np.where(ok, self.start + j, 0)
        vals = self.values[idx] if len(self.values) else np.zeros(len(idx))
        return vals, ok

    def to_grid(self, seg_values: F64, seg_ok: Mask | None = None) -> tuple[F64, Mask]:
        """Scatter per-segment results into ``(series, steps)`` arrays."""
        out = np.zeros((self.n_series, self.n_steps))
        present = np.zeros((self.n_series, self.n_steps), bool)
        if seg_ok is None:
            seg_ok = np.ones(len(seg_values), bool)
        out[self.series[seg_ok], self.step[seg_ok]] = seg_values[seg_ok]
        present[self.series[seg_ok], self.step[seg_ok]] = True
        return out, present


class RangeSums:
    """Sums of ``values[a+1 .. b]`` for many index pairs, from prefix sums.

    Infinities and NaN are counted apart from the finite prefix sum, so one infinite value does
    not turn every later difference into NaN (inf - inf).
    """

    def __init__(self, values: F64) -> None:
        finite = np.isfinite(values)
        self._sum = np.cumsum(np.where(finite, values, 0.0))
        self._pinf = np.cumsum(values == np.inf)
        self._ninf = np.cumsum(values == -np.inf)
        self._nan = np.cumsum(np.isnan(values))

    def between(self, a: I64, b: I64) -> F64:
        """Per pair, the sum of the values after index ``a`` up to and including ``b``."""
        if len(self._sum) == 0:
            return np.zeros(len(a))
        total = self._sum[b] - self._sum[a]
        pinf = (self._pinf[b] - self._pinf[a]) > 0
        ninf = (self._ninf[b] - self._ninf[a]) > 0
        nan = ((self._nan[b] - self._nan[a]) > 0) | (pinf & ninf)
        total = np.where(pinf, np.inf, np.where(ninf, -np.inf, total))
        return np.where(nan, np.nan, total)


_NAME_LABELS = frozenset({METRIC_NAME, "__type__", "__unit__"})


def drop_name(labels: Labels) -> Labels:
    """``labels`` without ``__name__`` (and the ``__type__``/``__unit__`` metadata labels that
    describe the name, as Prometheus drops them together)."""
    return tuple(p for p in labels if p[0] not in _NAME_LABELS)


__all__ = [
    "Matrix",
    "RangeSeries",
    "RangeSums",
    "Scalar",
    "String",
    "Vector",
    "Windows",
    "drop_name",
]
