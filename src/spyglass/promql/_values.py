"""The evaluator's intermediate values, laid out for array arithmetic over a grid of steps.

Every expression is evaluated over the same grid of evaluation times (one step for an instant
query). An instant vector is a ``(series, steps)`` matrix of values plus a presence mask, so
binary operators and aggregations are whole-array operations. A range vector keeps each series'
raw samples and the window end of every step; ``windows()`` turns it into flat per-(series, step)
segments that range functions reduce without a per-sample Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import METRIC_NAME, Labels
from spyglass.storage.ports import LabelIndex

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


# Grouping keys are mixed-radix numbers over the label codes; past this the product of the
# label cardinalities could overflow int64, and grouping falls back to label tuples.
_KEY_RADIX_LIMIT = 2**62


@dataclass(frozen=True)
class LabelIds:
    """Each row's number in a store's ``LabelIndex``: the rows' label values as integer codes.

    A selector over the in-memory head gets these, and they follow the rows through what keeps
    every row's labels except the name (range functions, dropping ``__name__``, ``take``).
    Anything that makes new label sets makes a value without them, so grouping never reads a
    code that disagrees with a row's labels.
    """

    index: LabelIndex
    numbers: I64

    def take(self, rows: npt.NDArray[np.intp]) -> LabelIds:
        """The ids of some rows."""
        return LabelIds(self.index, self.numbers[rows])

    def column(self, name: str) -> tuple[I64, Sequence[str]]:
        """Per row, the code of its value of ``name``, and the value of each code."""
        codes, values = self.index.codes(name)
        return codes[self.numbers], values

    def distinct(self, name: str) -> int:
        """How many different values of ``name`` the rows have (a missing label counts as
        the value ``""``)."""
        codes, _ = self.column(name)
        return len(np.unique(codes))

    def groups(self, names: Sequence[str]) -> tuple[npt.NDArray[np.intp], list[Labels]] | None:
        """``by (names)`` grouping: each row's group index, numbered in order of first
        appearance, and each group's label set (``None`` if the key would overflow).

        The same as mapping every row's label tuple to its group, with array operations.
        """
        wanted = sorted(set(names))
        n = len(self.numbers)
        key = np.zeros(n, np.int64)
        columns = []
        radix = 1
        for name in wanted:
            codes, values = self.column(name)
            radix *= max(len(values), 1)
            if radix >= _KEY_RADIX_LIMIT:
                return None
            key = key * len(values) + codes
            columns.append((name, codes, values))
        if n == 0:
            return np.zeros(0, np.intp), []
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # groups in order of first appearance
        renumber = np.empty(len(order), np.intp)
        renumber[order] = np.arange(len(order))
        gidx = renumber[inverse.reshape(-1)]
        groups: list[Labels] = []
        for row in first[order].tolist():
            pairs = []
            for name, codes, values in columns:
                value = values[int(codes[row])]
                if value:
                    pairs.append((name, value))
            groups.append(tuple(pairs))
        return gidx, groups


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
    selector, because ``timestamp()`` reports those rather than the evaluation time. ``ids``
    are the rows' label codes when a selector got them from storage (``LabelIds``).
    """

    labels: list[Labels]
    values: F64
    present: Mask
    drop: Mask
    sample_ts: I64 | None = None
    ids: LabelIds | None = None

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
            None if self.ids is None else self.ids.take(idx),
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


def _empty_i64() -> I64:
    return np.empty(0, np.int64)


def _empty_f64() -> F64:
    return np.empty(0, np.float64)


def _empty_mask() -> Mask:
    return np.empty(0, bool)


def _zero_offsets() -> I64:
    return np.zeros(1, np.int64)


# Work over many (series, steps) cells runs a block of series at a time of about this many
# cells: each block's temporaries stay in the CPU's caches, where whole-query arrays of
# millions of cells were written to fresh memory (page faults) and read back from RAM by every
# step of the computation.
BLOCK_WINDOWS = 32_768


def row_blocks(n: int, steps: int) -> list[tuple[int, int]]:
    """Rows ``0..n`` cut into blocks of about ``BLOCK_WINDOWS`` cells of ``steps`` each, as
    ``(first, stop)`` pairs of even size (no block of a few rows at the end)."""
    blocks = max(1, -(-n * steps // BLOCK_WINDOWS))
    rows = max(1, -(-n // blocks))
    return [(first, min(n, first + rows)) for first in range(0, n, rows)]


def first_after(ts: I64, offsets: I64, times: I64) -> I64:
    """For every series and time, ``(series, times)``: the flat index of the series' first
    sample after that time (``searchsorted(..., side="right")`` within the series).

    Series are laid end to end (``offsets``). Rather than a binary search per (series, time)
    into all samples, each sample is put in the bucket of the first time at or after it (a
    search into the few distinct times, which stay in the CPU's caches) and the buckets are
    counted and summed along the times: linear work over samples and (series, times).
    """
    n = len(offsets) - 1
    uniq, where = np.unique(times, return_inverse=True)
    width = len(uniq) + 1  # the last bucket: samples after every time
    bucket = np.searchsorted(uniq, ts, side="left")
    bucket += np.repeat(np.arange(n, dtype=np.int64) * width, np.diff(offsets))
    counts = np.bincount(bucket, minlength=n * width).reshape(n, width)
    found: I64 = np.cumsum(counts[:, :-1], axis=1, dtype=np.int64)
    found += offsets[:-1, None]
    if len(uniq) == len(times) and len(times) and bool((uniq == times).all()):
        return found
    out: I64 = found[:, where.reshape(-1)]
    return out


@dataclass
class Matrix:
    """A range vector: per series the samples, per step the window ``(end - range, end]``.

    Samples of all series are laid end to end (``ts``/``values``; series ``i`` owns
    ``offsets[i]:offsets[i+1]``), so windows for every series and step are found with one
    search instead of a loop over series.
    """

    labels: list[Labels]
    ts: I64
    values: F64
    offsets: I64
    ends: I64
    range_ms: int
    drop: Mask = field(default_factory=_empty_mask)
    eval_times: I64 | None = None
    ids: LabelIds | None = None  # as ``Vector.ids``
    _bounds: tuple[I64, I64] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.drop) != len(self.labels):
            self.drop = np.zeros(len(self.labels), bool)
        if self.eval_times is None:
            self.eval_times = self.ends

    @classmethod
    def empty(cls, ends: I64, range_ms: int) -> Matrix:
        """A range vector with no series."""
        return cls([], _empty_i64(), _empty_f64(), _zero_offsets(), ends, range_ms)

    @classmethod
    def from_series(
        cls,
        series: list[RangeSeries],
        ends: I64,
        range_ms: int,
        drop: Mask | None = None,
        eval_times: I64 | None = None,
    ) -> Matrix:
        """A range vector from per-series samples."""
        if not series:
            return cls.empty(ends, range_ms)
        counts = np.array([len(s.timestamps) for s in series], np.int64)
        return cls(
            [s.labels for s in series],
            np.concatenate([s.timestamps for s in series]).astype(np.int64, copy=False),
            np.concatenate([s.values for s in series]).astype(np.float64, copy=False),
            np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            ends,
            range_ms,
            _empty_mask() if drop is None else drop,
            eval_times,
        )

    @property
    def series(self) -> list[RangeSeries]:
        """Per-series views of the samples."""
        o = self.offsets
        return [
            RangeSeries(ls, self.ts[o[i] : o[i + 1]], self.values[o[i] : o[i + 1]])
            for i, ls in enumerate(self.labels)
        ]

    def block(self, first: int, stop: int) -> Matrix:
        """Series ``first`` up to ``stop`` alone, their samples as views of this matrix's
        (without label codes: a block is reduced, not grouped)."""
        o = self.offsets
        lo, hi = int(o[first]), int(o[stop])
        part = Matrix(
            self.labels[first:stop],
            self.ts[lo:hi],
            self.values[lo:hi],
            o[first : stop + 1] - lo,
            self.ends,
            self.range_ms,
            self.drop[first:stop],
            self.eval_times,
        )
        if self._bounds is not None:
            part._bounds = (self._bounds[0][first:stop] - lo, self._bounds[1][first:stop] - lo)
        return part

    def bounds(self) -> tuple[I64, I64]:
        """Per series and step, ``(n, steps)`` flat indexes ``lo, hi``: the window's samples
        are ``ts[lo:hi]``."""
        if self._bounds is None:
            self._bounds = self._find_bounds()
        return self._bounds

    def _find_bounds(self) -> tuple[I64, I64]:
        n, steps = len(self.labels), len(self.ends)
        if n == 0 or steps == 0:
            empty = np.zeros((n, steps), np.int64)
            return empty, empty
        # Window starts and ends of a regular grid mostly coincide (a 5m range on a 15s step:
        # every end is a later step's start); first_after counts each distinct time once.
        found = first_after(
            self.ts, self.offsets, np.concatenate([self.ends - self.range_ms, self.ends])
        )
        return found[:, :steps], found[:, steps:]

    def windows(self) -> Windows:
        """Flat segments, one per (series, step) window holding at least one sample."""
        n, steps = len(self.labels), len(self.ends)
        starts = self.ends - self.range_ms
        lo, hi = self.bounds()
        cnt = hi - lo
        ok = cnt > 0
        if ok.all():
            # Every series has samples at every step (the usual case): no masking needed.
            series = np.repeat(np.arange(n, dtype=np.int64), steps)
            step = np.tile(np.arange(steps, dtype=np.int64), n)
            start, count = lo.reshape(-1), cnt.reshape(-1)
        else:
            series, step = np.nonzero(ok)  # row-major: by series, then step
            start, count = lo[ok], cnt[ok]
        return Windows(
            grid_mask=ok,
            n_series=n,
            n_steps=steps,
            series=series.astype(np.int64, copy=False),
            step=step.astype(np.int64, copy=False),
            start=start,
            count=count,
            ts=self.ts,
            values=self.values,
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
    grid_mask: Mask | None = None

    @property
    def full(self) -> bool:
        """Whether there is a segment for every (series, step), in row-major order."""
        return len(self.start) == self.n_series * self.n_steps

    def per_step(self, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A per-step array laid out like the segments: a broadcasting ``(1, steps)`` view
        when the windows are ``full`` (reshape segment arrays with ``shaped``), else gathered."""
        if self.full:
            return x[None, :]
        return x[self.step]

    def shaped(self, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A per-segment array as ``(series, steps)`` when ``full``, else unchanged."""
        if self.full:
            return x.reshape(self.n_series, self.n_steps)
        return x

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
        m = self.grid_mask
        if m is not None and m.shape == out.shape and int(m.sum()) == len(seg_values):
            # Segments are in row-major (series, step) order, so a boolean mask places them.
            out[m] = seg_values
            if seg_ok is None:
                present[m] = True
            else:
                present[m] = seg_ok
                out[~present] = 0.0
            return out, present
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
        self._all_finite = bool(finite.all())
        self._sum = np.cumsum(np.where(finite, values, 0.0))
        if not self._all_finite:
            self._pinf = np.cumsum(values == np.inf)
            self._ninf = np.cumsum(values == -np.inf)
            self._nan = np.cumsum(np.isnan(values))

    def between(self, a: I64, b: I64) -> F64:
        """Per pair, the sum of the values after index ``a`` up to and including ``b``."""
        if len(self._sum) == 0:
            return np.zeros(len(a))
        total: F64 = self._sum[b] - self._sum[a]
        if self._all_finite:
            return total
        pinf = (self._pinf[b] - self._pinf[a]) > 0
        ninf = (self._ninf[b] - self._ninf[a]) > 0
        nan = ((self._nan[b] - self._nan[a]) > 0) | (pinf & ninf)
        total = np.where(pinf, np.inf, np.where(ninf, -np.inf, total))
        return np.where(nan, np.nan, total)


_NAME_LABELS = frozenset({METRIC_NAME, "__type__", "__unit__"})


def drop_name(labels: Labels) -> Labels:
    """``labels`` without ``__name__`` (and the ``__type__``/``__unit__`` metadata labels that
    describe the name, as Prometheus drops them together)."""
    # Fast paths: labels are sorted, so a first name after "__unit__" means none of the three
    # is there (the second operation of ``x / 1024 / 1024``); usually __name__ comes first,
    # followed by a plain label.
    if not labels or labels[0][0] > "__unit__":
        return labels
    if labels[0][0] == METRIC_NAME and (len(labels) == 1 or labels[1][0] > "__unit__"):
        return labels[1:]
    return tuple(p for p in labels if p[0] not in _NAME_LABELS)


__all__ = [
    "BLOCK_WINDOWS",
    "LabelIds",
    "Matrix",
    "RangeSeries",
    "RangeSums",
    "Scalar",
    "String",
    "Vector",
    "Windows",
    "drop_name",
    "first_after",
    "row_blocks",
]
