"""``Head``: every recent sample this node accepted, in memory, so recent queries skip ClickHouse.

Prometheus answers most queries from its TSDB head (the last two hours or so in memory); this is
the same idea for the metrics store. The head holds each sample with a timestamp at or after
``start_ms`` that the store acknowledged, per series (by fingerprint), in growable numpy arrays,
and an inverted index (label name → value → fingerprints) to match selectors without SQL.

The arrays are as narrow as exactness allows: timestamps as int32 milliseconds after the
series' first sample, values as int32 or float32 when every value converts back bit for bit,
else float64 (``_Series``). Reads widen only the samples they return, in one numpy pass over
all series, so every answer is the int64/float64 that was written.

Exactness rules (``MetricsStore.select`` relies on them):

- a series' samples are kept in the order they were written and sorted at read time with a
  stable sort that keeps the *last written* sample of each timestamp, which is what the store
  answers from ClickHouse and the pending buffer (a later write wins);
- matching follows ``core.matchers`` (a missing label reads as ``""``), as the pending buffer does;
- the head is complete from ``start_ms`` on: a sample older than that is not kept, and
  ``truncate`` moves ``start_ms`` forward before it drops anything.

Appended batches first wait in a staging list and move into their series' arrays in one pass
(``merge``: every few seconds from the store, in a worker as soon as ``append`` reports
``STAGE_SAMPLES`` or 16 per series staged, and before any read), so the per-series work is paid
once per series per merge rather than once per sample of a batch, and not on the WAL's writer
thread, whose replies would wait for it.

Reads: ``select`` returns a tuple per series; ``select_columns`` (what the PromQL engine reads)
lays the samples of all matching series end to end and, once ``rank`` has numbered every
series in label order, hands over each series' number in a ``RankedLabels`` table whose label
codes the engine groups by.

Concurrency: one lock guards the maps, and a second only the staging list, so the WAL's writer
thread stages while a merge or a query holds the first. A series' arrays are append-only below
their length and never changed in place (growing, sorting and truncating make new arrays), so a
query takes references under the lock (a few microseconds per series) and reads the arrays after
releasing it; appends and truncation never wait on a query's numpy work, and a query sees
``start_ms`` and the data from it on as of one instant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.samples import SampleBatch, run_starts, series_order
from spyglass.storage.metrics._label_index import RankedLabels
from spyglass.storage.ports import SeriesColumns

_MIN_CAPACITY = 8
_GROWTH = 1.5  # amortised appends at a third of the slack that doubling would leave
# A Python object, two numpy array headers, the dict and index entries: measured roughly with
# tracemalloc on 10k series of six labels (labels themselves are shared with the batches).
_SERIES_OVERHEAD_BYTES = 600
_TRUNCATE_CHUNK = 512  # series rewritten per lock hold, so queries interleave with truncation
# Appended batches wait in a staging list until this many samples gather, the store's
# once-a-second ``merge`` runs or a query reads, then go into their series' arrays in one pass:
# a scrape or remote_write batch carries one sample of each of many series, and copying per
# batch cost a Python iteration per sample (0.75 of the ingest rate without a head); per merge
# it is one per series.
STAGE_SAMPLES = 524_288
STAGE_PER_SERIES = 16
# Past this many times the staging threshold an append merges on its own thread: the store
# merges elsewhere when told, and this bounds what waits if that falls behind (or during the
# WAL replay at start-up, before the store's merging runs).
STAGE_BACKSTOP = 4
_STAGED_SAMPLE_BYTES = 24  # fingerprint, timestamp, value
# ``series_bound`` answers only while at most this many samples wait to be merged (a read
# merges them first, some microseconds per series touched), and counts an intersection over at
# most this many postings (a set look-up each).
BOUND_STAGED_SAMPLES = 20_000
BOUND_SCAN_POSTINGS = 4_096
_NO_SERIES: frozenset[int] = frozenset()

# Narrow storage (docs/decisions.md, "A narrower head"): a series keeps its timestamps as
# int32 milliseconds after its own ``base`` (24 days either side) and its values as int32 when
# every one is an integer that converts back bit for bit, else float32 when every one does,
# else float64; anything that does not fit widens the series' arrays, once. Widening casts
# are exact, so a read gives back the very int64/float64 that was written, at 8 bytes a sample
# for counters and most gauges instead of 16.
_I4, _I8 = np.dtype(np.int32), np.dtype(np.int64)
_F4, _F8 = np.dtype(np.float32), np.dtype(np.float64)
_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_NO_TS: npt.NDArray[Any] = np.empty(0, _I4)
_NO_VALS: npt.NDArray[Any] = np.empty(0, _I4)

Columns = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
# A staged batch: fingerprints, timestamps, values and the labels of its series.
_Staged = tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64], Callable[[int], Labels]
]
# One series of a head query: fingerprint, labels, timestamps, values.
Selected = tuple[int, Labels, npt.NDArray[np.int64], npt.NDArray[np.float64]]


def _value_dtype(current: np.dtype[Any] | None, fits_i4: bool, fits_f4: bool) -> np.dtype[Any]:
    """The narrowest value type holding what a series has (``current``; ``None``: nothing)
    and the new values exactly. int32 and float32 each hold values the other does not, so
    together they need float64."""
    if current is None:
        return _I4 if fits_i4 else _F4 if fits_f4 else _F8
    if current == _I4:
        return _I4 if fits_i4 else _F8
    if current == _F4:
        return _F4 if fits_f4 else _F8
    return _F8


def _fits(vals: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per value: whether int32, and whether float32, gives it back bit for bit (NaN
    payloads such as the staleness marker, ``-0.0`` and fractions are caught by comparing
    bits)."""
    bits = vals.view(np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        as_i4 = vals.astype(np.int32)
        as_f4 = vals.astype(np.float32)
    return (
        as_i4.astype(np.float64).view(np.int64) == bits,
        as_f4.astype(np.float64).view(np.int64) == bits,
    )


def _key(x: int, dtype: np.dtype[Any]) -> int:
    """A search key for timestamps stored as ``dtype``, clamped to its range (the array holds
    nothing beyond it, so every search answers the same; a query's end minus a series' base
    may even leave int64's)."""
    if dtype == _I4:
        return min(max(x, _I32_MIN), _I32_MAX)
    return min(max(x, _I64_MIN), _I64_MAX)


class _Series:
    """One series' samples: the first ``n`` entries of ``ts``/``vals``, never changed once
    written; ``ts`` holds milliseconds after ``base``, both narrowed as far as exact."""

    __slots__ = ("base", "labels", "last_ts", "n", "ordered", "ts", "vals", "wide_ts", "wide_vals")

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.base = 0
        self.ts: npt.NDArray[Any] = _NO_TS
        self.vals: npt.NDArray[Any] = _NO_VALS
        # ``ts``/``vals`` are int64/float64: plain flags, so the common append compares no
        # dtypes (a merge appends to every series, a few samples each).
        self.wide_ts = False
        self.wide_vals = False
        self.n = 0
        self.ordered = True  # timestamps strictly increasing: no sort, no duplicate
        self.last_ts = np.iinfo(np.int64).min

    def append(  # noqa: PLR0917 - the facts a batch works out for all its series at once
        self,
        ts: npt.NDArray[np.int64],
        vals: npt.NDArray[np.float64],
        first: int,
        last_max: int,
        ordered: bool,
        least: int,
        fits_i4: bool,
        fits_f4: bool,
    ) -> int:
        """Add samples after the written ones; returns the bytes of capacity added.

        ``first`` is ``ts[0]``, ``last_max`` the largest timestamp, ``least`` the smallest,
        ``ordered`` whether ``ts`` strictly increases, ``fits_i4``/``fits_f4`` whether every
        value converts to int32/float32 and back exactly: a batch computes them for all its
        series at once.
        """
        k = len(ts)
        n = self.n
        if (
            n
            and n + k <= len(self.ts)
            and (self.wide_vals or (fits_i4 if self.vals.dtype is _I4 else fits_f4))
            and (
                self.wide_ts or (least - self.base >= _I32_MIN and last_max - self.base <= _I32_MAX)
            )
        ):
            self.ts[n : n + k] = ts - self.base
            self.vals[n : n + k] = vals
            self.ordered = self.ordered and ordered and first > self.last_ts
            self.last_ts = max(self.last_ts, last_max)
            self.n = n + k
            return 0
        if not n:
            self.base = first
        base = self.base
        t_dt = self.ts.dtype if n else _I4
        if t_dt == _I4 and not (least - base >= _I32_MIN and last_max - base <= _I32_MAX):
            t_dt = _I8
        v_dt = _value_dtype(self.vals.dtype if n else None, fits_i4, fits_f4)
        grown = 0
        cap = len(self.ts)
        if n + k > cap or t_dt != self.ts.dtype or v_dt != self.vals.dtype:
            if n + k > cap:
                cap = max(n + k, int(cap * _GROWTH), _MIN_CAPACITY)
            # New arrays, not np.resize in place: a query may hold the old ones. The copies
            # widen exactly (int32 and float32 into float64, int32 into int64).
            new_ts = np.empty(cap, t_dt)
            new_vals = np.empty(cap, v_dt)
            new_ts[:n] = self.ts[:n]
            new_vals[:n] = self.vals[:n]
            grown = cap * (t_dt.itemsize + v_dt.itemsize) - self.capacity_bytes
            self.ts, self.vals = new_ts, new_vals
            self.wide_ts, self.wide_vals = t_dt == _I8, v_dt == _F8
        self.ts[n : n + k] = ts - base
        self.vals[n : n + k] = vals
        self.ordered = self.ordered and ordered and first > self.last_ts
        self.last_ts = max(self.last_ts, last_max)
        self.n = n + k
        return grown

    def extend(self, ts: npt.NDArray[np.int64], vals: npt.NDArray[np.float64]) -> int:
        """``append`` working out the facts of ``ts`` and ``vals`` itself (rebuilding a
        series)."""
        if not len(ts):
            return 0
        ordered = len(ts) == 1 or bool(np.all(ts[1:] > ts[:-1]))
        fit_i4, fit_f4 = _fits(vals)
        return self.append(
            ts,
            vals,
            int(ts[0]),
            int(ts.max()),
            ordered,
            int(ts.min()),
            bool(fit_i4.all()),
            bool(fit_f4.all()),
        )

    def columns(self) -> Columns:
        """Every written sample, in write order, as int64 milliseconds and float64 values."""
        return _decoded(self.ts[: self.n], self.vals[: self.n], self.base)

    @property
    def capacity_bytes(self) -> int:
        return int(self.ts.nbytes + self.vals.nbytes)


def _decoded(ts: npt.NDArray[Any], vals: npt.NDArray[Any], base: int) -> Columns:
    """Stored timestamps and values back as written (no copy of values already float64)."""
    return np.add(ts, base, dtype=np.int64), np.asarray(vals, np.float64)


@dataclass(frozen=True, slots=True)
class HeadStats:
    """What the head holds."""

    series: int
    samples: int
    bytes: int
    min_time_ms: int  # ``start_ms``; 0 while the head is not valid
    truncations: int

    @property
    def min_time_seconds(self) -> float:
        return self.min_time_ms / 1000


# A query's view of one series: fingerprint, labels, stored arrays, written length, ordered
# flag, the largest timestamp and the base its stored timestamps count from.
_Ref = tuple[int, Labels, npt.NDArray[Any], npt.NDArray[Any], int, bool, int, int]


class _Refs:
    """A query's view of its matching series (``_Ref``'s fields), a list or array per field.

    Taken under the lock. At 100k series a tuple of eight per series cost about a microsecond
    each (25k series of one metric: 30 ms of a 140 ms query), where a list per field costs a
    tenth of that and the numeric fields arrive as arrays, ready for ``_tails``' one mask.
    """

    __slots__ = ("bases", "fps", "labels", "last", "ns", "ordered", "ts", "vals")

    def __init__(self, fps: list[int], objs: list[_Series]) -> None:
        rows = len(objs)
        self.fps = fps
        self.labels = [s.labels for s in objs]
        self.ts: list[npt.NDArray[Any]] = [s.ts for s in objs]
        self.vals: list[npt.NDArray[Any]] = [s.vals for s in objs]
        self.ns = np.fromiter([s.n for s in objs], np.int64, rows)
        self.ordered = [s.ordered for s in objs]
        self.last = np.fromiter([s.last_ts for s in objs], np.int64, rows)
        self.bases = np.fromiter([s.base for s in objs], np.int64, rows)

    def __len__(self) -> int:
        return len(self.fps)

    def ref(self, row: int) -> _Ref:
        """One series' view as a ``_Ref``."""
        return (
            self.fps[row],
            self.labels[row],
            self.ts[row],
            self.vals[row],
            int(self.ns[row]),
            self.ordered[row],
            int(self.last[row]),
            int(self.bases[row]),
        )

    def put(self, row: int, ref: _Ref) -> None:
        """Replace one series' view (by its samples sorted by time)."""
        _, _, self.ts[row], self.vals[row], n, self.ordered[row], last, base = ref
        self.ns[row], self.last[row], self.bases[row] = n, last, base


class Head:
    """Recent samples of every series in memory, complete from ``start_ms`` on once valid.

    Lifecycle: ``begin(start_ms)`` before the first append (the store calls it before its WAL
    replay), ``append`` for every acknowledged batch, ``prepend`` for what ClickHouse already
    held, then ``mark_valid``. Until then, and after ``invalidate``, ``start_ms`` is ``None`` and
    the store reads ClickHouse as if there were no head.
    """

    def __init__(self, window_ms: int, *, clock: Callable[[], float] = time.time) -> None:
        self.window_ms = window_ms
        self.clock = clock
        self._lock = threading.Lock()
        self._series: dict[int, _Series] = {}
        self._postings: dict[str, dict[str, set[int]]] = {}
        self._floor: int | None = None  # samples before this are not kept
        self._valid = False
        self._samples = 0
        self._bytes = 0
        self._truncations = 0
        # Staged batches have their own lock: the WAL thread stages under it while a merge or a
        # query holds ``_lock`` (taken first when both are held).
        self._stage_lock = threading.Lock()
        self._staged: list[_Staged] = []
        self._staged_n = 0
        # Fingerprint -> position in label order of every series there was at the last
        # ``rank``. ``select`` orders its matches by it (integers) instead of by fingerprint, so
        # the engine's sort by labels finds them in order already: sorting label tuples cost an
        # instant query over 5,000 series a third of its time.
        self._rank: dict[int, int] = {}
        # The same numbering the other way round, with label value codes for grouping.
        self._ranked = RankedLabels([], [])
        self._unranked = 0  # series created since the last ``rank``

    # -- state ------------------------------------------------------------------------------
    @property
    def start_ms(self) -> int | None:
        """The first millisecond the head holds completely, or ``None`` when it is not valid."""
        return self._floor if self._valid else None

    @property
    def floor_ms(self) -> int | None:
        """The first millisecond the head collects (valid or not); ``None`` before ``begin``."""
        return self._floor

    def now_ms(self) -> int:
        """The clock, in milliseconds."""
        return int(self.clock() * 1000)

    def begin(self, start_ms: int) -> None:
        """Start collecting samples at or after ``start_ms`` (not yet answering queries)."""
        with self._lock:
            self._floor = start_ms
            self._valid = False

    def mark_valid(self) -> None:
        """Everything from ``start_ms`` on is here: queries may use the head."""
        with self._lock:
            if self._floor is not None:
                self._valid = True

    def invalidate(self) -> None:
        """Stop answering queries and drop everything (after a failure the head cannot vouch
        for its completeness)."""
        with self._lock:
            self._valid = False
            self._floor = None
            self._series = {}
            self._postings = {}
            self._rank = {}
            self._ranked = RankedLabels([], [])
            self._unranked = 0
            self._samples = 0
            self._bytes = 0
            with self._stage_lock:
                self._staged = []
                self._staged_n = 0

    def stats(self) -> HeadStats:
        """A snapshot of the head's counters."""
        with self._lock:
            start = self._floor if self._valid and self._floor is not None else 0
            return HeadStats(
                series=len(self._series),
                samples=self._samples + self._staged_n,
                bytes=self._bytes + self._staged_n * _STAGED_SAMPLE_BYTES,
                min_time_ms=start,
                truncations=self._truncations,
            )

    # -- writing ----------------------------------------------------------------------------
    def append(self, batch: SampleBatch) -> bool:
        """Add the batch's samples at or after ``start_ms``, in the batch's order; returns
        whether enough are staged that ``merge`` should run soon.

        The samples wait in a staging list (readers see them: a query merges first), so the
        caller (the WAL's writer thread) pays no per-series work: it runs ``merge`` elsewhere
        when told to. Only when far more gather than that, because nobody merges, does an
        append merge itself.
        """
        floor = self._floor
        if floor is None or not len(batch):
            return False
        return self._add(
            batch.fingerprints,
            batch.timestamps,
            batch.values,
            batch.series.__getitem__,
            batch.series,
        )

    def prepend(
        self,
        fps: npt.NDArray[np.uint64],
        ts: npt.NDArray[np.int64],
        vals: npt.NDArray[np.float64],
        labels: Callable[[int], Labels],
    ) -> None:
        """Add samples written *before* everything appended so far (what ClickHouse held at
        start-up), so that at an equal timestamp the appended sample still wins."""
        floor = self._floor
        if floor is None or not len(fps):
            return
        keep = ts >= floor
        fps, ts, vals = fps[keep], ts[keep], vals[keep]
        for fp, s_ts, s_vals, *_ in _runs(fps, ts, vals):
            with self._lock:
                self._merge_staged()
                series = self._series.get(fp)
                if series is None:
                    series = self._create(fp, labels(fp))
                (old_ts, old_vals), n = series.columns(), series.n
                fresh = _Series(series.labels)
                fresh.extend(np.concatenate([s_ts, old_ts]), np.concatenate([s_vals, old_vals]))
                self._bytes += fresh.capacity_bytes - series.capacity_bytes
                self._samples += fresh.n - n
                self._series[fp] = fresh

    def _add(
        self,
        fps: npt.NDArray[np.uint64],
        ts: npt.NDArray[np.int64],
        vals: npt.NDArray[np.float64],
        labels: Callable[[int], Labels],
        present: Iterable[int],
    ) -> bool:
        floor = self._floor
        assert floor is not None
        if int(ts.min()) < floor:
            keep = ts >= floor
            fps, ts, vals = fps[keep], ts[keep], vals[keep]
            if not len(fps):
                return False
            present = run_starts(fps)  # not every series of the batch is left
        # Read without the lock (each look-up is atomic under the GIL): new series are rare,
        # and only they need the lock a merge or a query may hold. A stale answer is harmless:
        # a series missed is created under the lock below, and one a truncation drops right
        # after this is created again when its staged samples merge.
        if not all(map(self._series.__contains__, present)):
            with self._lock:
                if self._floor is None:  # invalidated meanwhile
                    return False
                for fp in set(present).difference(self._series):
                    self._create(fp, labels(fp))
        with self._stage_lock:
            if self._floor is None:  # invalidated meanwhile
                return False
            self._staged.append((fps, ts, vals, labels))
            self._staged_n += len(fps)
            staged = self._staged_n
        # Scaled with the series count, so a merge moves some samples per series at once
        # rather than paying each series' Python step for one or two samples.
        due = max(STAGE_SAMPLES, STAGE_PER_SERIES * len(self._series))
        if staged >= STAGE_BACKSTOP * due:
            self.merge()
        return staged >= due

    def merge(self) -> None:
        """Move staged samples into their series now (the store does it when ``append`` says
        so and every few seconds, so a query seldom has much to merge)."""
        with self._lock:
            self._merge_staged()

    def _merge_staged(self) -> None:
        """Move the staged samples into their series' arrays, in write order (lock held)."""
        with self._stage_lock:
            parts = self._staged
            if not parts:
                return
            self._staged = []
            self._staged_n = 0
        fps = np.concatenate([p[0] for p in parts])
        ts = np.concatenate([p[1] for p in parts])
        vals = np.concatenate([p[2] for p in parts])
        series_map = self._series
        grown = 0
        self._samples += len(fps)
        for fp, s_ts, s_vals, first, last_max, ordered, least, i4, f4 in _runs(fps, ts, vals):
            series = series_map.get(fp)
            if series is None:
                # Staged after a truncation emptied and dropped the series: it lives again.
                series = self._create(fp, _labels_in(parts, fp))
            grown += series.append(s_ts, s_vals, first, last_max, ordered, least, i4, f4)
        self._bytes += grown

    def _create(self, fp: int, labels: Labels) -> _Series:
        # Called with the lock held.
        series = _Series(labels)
        self._series[fp] = series
        self._unranked += 1
        self._bytes += series.capacity_bytes + _SERIES_OVERHEAD_BYTES
        for name, value in labels:
            self._postings.setdefault(name, {}).setdefault(value, set()).add(fp)
        return series

    # -- truncation -------------------------------------------------------------------------
    def due(self, max_bytes: int = 0) -> bool:
        """Whether ``truncate`` would drop much: the head spans a quarter window more than it
        should, or holds more than ``max_bytes`` (0: no limit)."""
        start = self.start_ms
        if start is None:
            return False
        over_time = self.now_ms() - start > self.window_ms * 1.25
        held = self._bytes + self._staged_n * _STAGED_SAMPLE_BYTES
        return over_time or (max_bytes > 0 and held > max_bytes)

    def truncate(self, start_ms: int | None = None) -> int:
        """Drop samples before ``start_ms`` (default: ``now - window``) and make it the head's
        start; returns the samples dropped. Never moves the start backwards."""
        target = self.now_ms() - self.window_ms if start_ms is None else start_ms
        with self._lock:
            if self._floor is None or target <= self._floor:
                return 0
            self._merge_staged()
            # Queries from here on see the new start; older samples are no longer read.
            self._floor = target
            fps = list(self._series)
            self._truncations += 1
        dropped = 0
        for i in range(0, len(fps), _TRUNCATE_CHUNK):
            with self._lock:
                if self._floor != target:  # invalidated or moved on meanwhile
                    break
                for fp in fps[i : i + _TRUNCATE_CHUNK]:
                    dropped += self._cut(fp, target)
        return dropped

    def _cut(self, fp: int, start_ms: int) -> int:
        # Called with the lock held.
        series = self._series.get(fp)
        if series is None:
            return 0
        n = series.n
        ts, vals = series.columns()
        if series.ordered:
            keep_from = int(np.searchsorted(ts, start_ms, side="left"))
            if keep_from == 0:
                return 0
            kept_ts, kept_vals = ts[keep_from:], vals[keep_from:]
        else:
            keep = ts >= start_ms
            if keep.all():
                return 0
            kept_ts, kept_vals = ts[keep], vals[keep]
        dropped = n - len(kept_ts)
        self._samples -= dropped
        self._bytes -= series.capacity_bytes
        if not len(kept_ts):
            del self._series[fp]
            self._bytes -= _SERIES_OVERHEAD_BYTES
            for name, value in series.labels:
                values = self._postings[name]
                fps = values[value]
                fps.discard(fp)
                if not fps:
                    del values[value]
                    if not values:
                        del self._postings[name]
            return dropped
        fresh = _Series(series.labels)
        fresh.extend(kept_ts, kept_vals)
        fresh.ordered = series.ordered and fresh.ordered
        self._series[fp] = fresh
        self._bytes += fresh.capacity_bytes
        return dropped

    # -- reading ----------------------------------------------------------------------------
    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> tuple[int | None, list[Selected]]:
        """``(start, series)``: the head's start and each matching series with its samples in
        ``[max(start_ms, start), end_ms]`` (series without any are left out), in label order
        when ``rank`` has numbered them all, else by fingerprint.

        ``start`` is ``None`` (and the list empty) when the head is not valid.
        """
        head_start, refs, _, _ = self._refs(matchers)
        if head_start is None:
            return None, []
        lo = max(start_ms, head_start)
        out: list[Selected] = []
        # A loop over every matching series: the array's own ``searchsorted`` method, not
        # ``np.searchsorted`` (whose dispatch costs three times the search itself here), and
        # none at all where the series ends inside the range, as it does for queries up to now.
        self._sort_unordered(refs)
        for fp, labels, stored_ts, stored_vals, n, last, base in zip(
            refs.fps,
            refs.labels,
            refs.ts,
            refs.vals,
            refs.ns.tolist(),
            refs.last.tolist(),
            refs.bases.tolist(),
            strict=True,
        ):
            # Searched as stored, and only the window widened back to int64/float64.
            ts = stored_ts[:n]
            i = int(ts.searchsorted(_key(lo - base, ts.dtype), "left"))
            j = (
                n
                if last <= end_ms
                else int(ts.searchsorted(_key(end_ms - base, ts.dtype), "right"))
            )
            if j > i:
                out.append((fp, labels, *_decoded(ts[i:j], stored_vals[i:j], base)))
        return head_start, out

    def select_columns(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> tuple[int | None, SeriesColumns]:
        """``select``'s answer laid end to end (``SeriesColumns``), with each series' number
        in label order and the label codes of that numbering when ``rank`` numbered them all.

        The per-series work is a search and two slices; everything after is one numpy call
        over all series, where ``select`` made a tuple and the engine a ``SeriesData`` each.
        """
        head_start, refs, ranked, table = self._refs(matchers)
        if head_start is None:
            return None, SeriesColumns.of([])
        if not refs:
            return head_start, SeriesColumns.of([])
        lo = max(start_ms, head_start)
        self._sort_unordered(refs)
        found = _tails(refs, lo, end_ms)
        if found is None:
            found = _searched(refs, lo, end_ms)
        ts, vals, starts, counts, contiguous = found
        kept = np.flatnonzero(counts > 0)
        if not len(kept):
            return head_start, SeriesColumns.of([])
        every = len(kept) == len(refs)
        if not every:
            starts, counts = starts[kept], counts[kept]
        offsets = np.zeros(len(kept) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        if not contiguous:
            gather = np.arange(int(offsets[-1]), dtype=np.int64) + np.repeat(
                starts - offsets[:-1], counts
            )
            ts, vals = ts[gather], vals[gather]
        labels = refs.labels if every else [refs.labels[k] for k in kept.tolist()]
        index = numbers = None
        if ranked is not None:
            index = table
            numbers = ranked if every else ranked[kept]
        return head_start, SeriesColumns(
            labels, ts, vals, offsets, in_order=ranked is not None, index=index, numbers=numbers
        )

    def series_bound(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int
    ) -> int | None:
        """At least as many series as ``select_columns`` would return, when that is at most
        ``limit`` and the store would answer from the head alone at little cost (``SeriesBound``);
        else ``None``.

        The store reads the head alone when the range starts at or after the head's start
        (``MetricsStore.select_columns``); a regular expression it has not seen may cost it a
        ClickHouse query, so a regex matcher answers ``None``. The bound is the intersection of
        the equality matchers' postings (the other matchers only narrow it further), counted
        over the smallest of them, so finding it costs at most ``BOUND_SCAN_POSTINGS``
        look-ups per matcher.
        Never waits for the lock: a merge or truncation holding it answers ``None`` too.
        """
        if end_ms < start_ms:
            return 0
        if any(m.op in (MatchOp.REGEX, MatchOp.NOT_REGEX) for m in matchers):
            return None
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if not self._valid or self._floor is None or start_ms < self._floor:
                return None
            if self._staged_n > BOUND_STAGED_SAMPLES:
                return None  # the read would merge them first
            postings = sorted(
                (
                    self._postings.get(m.name, {}).get(m.value, _NO_SERIES)
                    for m in matchers
                    if m.op is MatchOp.EQUAL and m.value
                ),
                key=len,
            )
            if not postings:
                n = len(self._series)
                return n if n <= limit else None
            smallest, others = postings[0], postings[1:]
            if len(smallest) > (BOUND_SCAN_POSTINGS if others else limit):
                return None
            n = sum(1 for fp in smallest if all(fp in o for o in others))
            return n if n <= limit else None
        finally:
            self._lock.release()

    def _sort_unordered(self, refs: _Refs) -> None:
        """Replace the view of every series written out of order by its samples sorted by
        time."""
        if all(refs.ordered):
            return
        for row, ordered in enumerate(refs.ordered):
            if not ordered:
                refs.put(row, self._sorted_ref(refs.ref(row)))

    def _sorted_ref(self, ref: _Ref) -> _Ref:
        """A reference to the series' samples sorted by time (the last write of each)."""
        ts, vals = self._columns(ref)
        return (ref[0], ref[1], ts, vals, len(ts), True, int(ts[-1]) if len(ts) else 0, 0)

    def _refs(
        self, matchers: Sequence[Matcher]
    ) -> tuple[int | None, _Refs, npt.NDArray[np.int64] | None, RankedLabels]:
        """The head's start, references to the matching series with samples, their numbers
        in label order (``None`` when some series is not numbered yet: then the references
        are in fingerprint order) and the table of that numbering."""
        with self._lock:
            table = self._ranked
            if not self._valid or self._floor is None:
                return None, _Refs([], []), None, table
            self._merge_staged()
            head_start = self._floor
            matched = self._match(matchers)
            series = self._series
            ranked: npt.NDArray[np.int64] | None
            try:
                ranked = np.sort(
                    np.fromiter(map(self._rank.__getitem__, matched), np.int64, len(matched))
                )
            except KeyError:  # a series created since the last rank
                ranked = None
                order = sorted(matched)
            else:
                by_rank = table.fingerprints
                order = [by_rank[p] for p in ranked.tolist()]
            objs = [series[fp] for fp in order]
            refs = _Refs(order, objs)
            if not bool(refs.ns.all()):  # series created by an append whose samples all merged away
                written = np.flatnonzero(refs.ns)
                refs = _Refs(
                    [order[k] for k in written.tolist()], [objs[k] for k in written.tolist()]
                )
                if ranked is not None:
                    ranked = ranked[written]
        return head_start, refs, ranked, table

    @property
    def unranked(self) -> int:
        """Series created since the last ``rank``."""
        return self._unranked

    def rank(self) -> None:
        """Number every series in label order, for ``select``. The sort runs outside the lock:
        appends go on meanwhile, and series they create stay unranked until the next call."""
        with self._lock:
            created = self._unranked
            pairs = [(s.labels, fp) for fp, s in self._series.items()]
        pairs.sort()
        rank = {fp: i for i, (_, fp) in enumerate(pairs)}
        ranked = RankedLabels([ls for ls, _ in pairs], [fp for _, fp in pairs])
        with self._lock:
            if self._floor is None:  # invalidated meanwhile: nothing to rank
                return
            self._rank = rank
            self._ranked = ranked
            self._unranked = max(0, self._unranked - created)

    def _columns(self, ref: _Ref) -> Columns:
        """The series' samples sorted by time, the last written of each timestamp."""
        fp, _, ref_ts, ref_vals, n, ordered, _, base = ref
        ts, vals = _decoded(ref_ts[:n], ref_vals[:n], base)
        if ordered:
            return ts, vals
        order = np.argsort(ts, kind="stable")
        ts, vals = ts[order], vals[order]
        last = np.ones(len(ts), dtype=bool)
        last[:-1] = ts[:-1] != ts[1:]
        ts, vals = ts[last], vals[last]
        with self._lock:
            # Keep the sorted copy when nothing was written meanwhile, so the next query reads
            # it as is; the old arrays stay valid for whoever holds them.
            series = self._series.get(fp)
            if series is not None and series.ts is ref_ts and series.n == n:
                fresh = _Series(series.labels)
                fresh.extend(ts, vals)
                self._bytes += fresh.capacity_bytes - series.capacity_bytes
                self._samples += fresh.n - series.n
                self._series[fp] = fresh
        return ts, vals

    def _match(self, matchers: Sequence[Matcher]) -> AbstractSet[int]:
        """Fingerprints of series satisfying every matcher (lock held). The answer may be a
        postings set itself: read it, never change it.

        Equalities go first: a dictionary look-up each, and they usually narrow the set most.
        What follows narrows the set found so far (a difference or an intersection as large
        as it), rather than being worked out over every series first: ``{mode!="idle"}``
        used to copy the fingerprints of all series."""
        result: AbstractSet[int] | None = None
        for m in sorted(matchers, key=lambda m: m.op is not MatchOp.EQUAL or not m.value):
            if result is not None and not result:
                return result
            values = self._postings.get(m.name, {})
            if m.op is MatchOp.EQUAL and m.value:
                found = values.get(m.value, _NO_SERIES)
                result = found if result is None else result & found
            elif m.op is MatchOp.NOT_EQUAL and m.value:
                result = self._but(result, values.get(m.value, _NO_SERIES))
            elif not m.matches_empty():
                found = _union(fps for v, fps in values.items() if m.matches_value(v))
                result = found if result is None else result & found
            else:
                # The matcher also selects every series without the label: take all but
                # those whose value fails it.
                failing = _union(fps for v, fps in values.items() if not m.matches_value(v))
                result = self._but(result, failing)
        return self._series.keys() if result is None else result

    def _but(self, result: AbstractSet[int] | None, drop: AbstractSet[int]) -> AbstractSet[int]:
        """``result`` (every series when ``None``) without ``drop``."""
        if result is None:
            return self._series.keys() - drop
        return result - drop


def _labels_in(parts: list[_Staged], fp: int) -> Labels:
    """The labels of series ``fp`` from the staged batches that carry its samples."""
    for part in parts:
        try:
            return part[3](fp)
        except KeyError:
            continue
    raise KeyError(fp)


def _union(sets: Iterable[set[int]]) -> set[int]:
    out: set[int] = set()
    for s in sets:
        out |= s
    return out


# What ``_tails``/``_searched`` find: samples, each series' first index in them and count,
# and whether the series' samples already lie end to end in that order.
_Found = tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    bool,
]
_TAIL_MIN_SERIES = 64  # below this the per-series search is as cheap
_TAIL_PROBES = 16


def _searched(refs: _Refs, lo: int, end_ms: int) -> _Found:
    """Each (time-ordered) series' samples in ``[lo, end_ms]``, one search per series."""
    ts_parts: list[npt.NDArray[np.int64]] = []
    val_parts: list[npt.NDArray[np.float64]] = []
    # Numpy integers as ``searchsorted`` returns them: converting each costs a call.
    firsts: list[int | np.integer[Any]] = []
    ends: list[int | np.integer[Any]] = []
    add_ts, add_vals, add_first, add_end = (
        ts_parts.append,
        val_parts.append,
        firsts.append,
        ends.append,
    )
    for stored_ts, stored_vals, n, last, base in zip(
        refs.ts, refs.vals, refs.ns.tolist(), refs.last.tolist(), refs.bases.tolist(), strict=True
    ):
        ts = stored_ts[:n]
        i = ts.searchsorted(_key(lo - base, ts.dtype), "left")
        j = n if last <= end_ms else ts.searchsorted(_key(end_ms - base, ts.dtype), "right")
        add_ts(ts[i:j])
        add_vals(stored_vals[i:j])
        add_first(i)
        add_end(j)
    counts = np.maximum(np.asarray(ends, np.int64) - np.asarray(firsts, np.int64), 0)
    starts = np.zeros(len(refs), np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    ts, vals = _joined(refs.bases, ts_parts, val_parts, counts)
    return ts, vals, starts, counts, True


def _joined(
    bases: npt.NDArray[np.int64],
    ts_parts: list[npt.NDArray[Any]],
    val_parts: list[npt.NDArray[Any]],
    counts: npt.NDArray[np.int64],
) -> Columns:
    """The series' stored slices laid end to end and widened back to int64 milliseconds and
    float64 values, in one pass each however the series are stored (joining int32 with float32
    slices makes float64, exactly)."""
    # Concatenated straight into the wide type: one pass instead of joining, then widening.
    ts = np.concatenate(ts_parts, dtype=np.int64)
    ts += np.repeat(bases, counts)
    return ts, np.concatenate(val_parts, dtype=np.float64)


def _tails(refs: _Refs, lo: int, end_ms: int) -> _Found | None:
    """``_searched`` without a search per series, where the windows lie near the series' ends
    (as for queries up to now): the last ``k`` samples of every series laid end to end and
    cut to the range by one mask over all of them. ``k`` comes from a few probed
    series; a series whose last ``k`` samples all lie at or after ``lo`` may have more
    before, and is searched on its own. ``None`` when this would copy much more than the
    windows hold, or the series are few."""
    rows = len(refs)
    if rows < _TAIL_MIN_SERIES:
        return None
    need = window = 0
    ns = refs.ns
    for row in range(0, rows, max(1, rows // _TAIL_PROBES)):
        n, base = int(ns[row]), int(refs.bases[row])
        ts = refs.ts[row][:n]
        i = int(ts.searchsorted(_key(lo - base, ts.dtype), "left"))
        j = int(ts.searchsorted(_key(end_ms - base, ts.dtype), "right"))
        need, window = max(need, n - i), max(window, j - i)
    if need > 2 * window + 16:  # windows far from the ends (an offset, a range in the past)
        return None
    k = need + 2
    lengths = np.minimum(ns, k)
    cuts = (ns - lengths).tolist()
    ends = ns.tolist()
    ts, vals = _joined(
        refs.bases,
        [a[i:j] for a, i, j in zip(refs.ts, cuts, ends, strict=True)],
        [a[i:j] for a, i, j in zip(refs.vals, cuts, ends, strict=True)],
        lengths,
    )
    toff = np.zeros(rows + 1, np.int64)
    np.cumsum(lengths, out=toff[1:])
    # Every tail is in time order, so the samples of a row inside the range are one run of it:
    # a mask over all rows at once finds them, and compressing by it lays them end to end.
    inside = ts >= max(lo, _I64_MIN)
    inside &= ts <= min(end_ms, _I64_MAX)
    # A tail that starts at or after ``lo`` may not hold the whole window: read on its own.
    short = np.flatnonzero((ns > k) & (ts[toff[:-1]] >= lo)).tolist()
    for row in short:
        inside[toff[row] : toff[row + 1]] = False
    counts = np.add.reduceat(inside, toff[:-1], dtype=np.int64)
    if not bool(inside.all()):
        ts, vals = ts[inside], vals[inside]
    starts = np.zeros(rows, np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    if not short:
        return ts, vals, starts, counts, True
    extra_ts = [ts]
    extra_vals = [vals]
    at = len(ts)
    for row in short:
        _, _, stored_ts, stored_vals, n, _, last, base = refs.ref(row)
        full = stored_ts[:n]
        i = int(full.searchsorted(_key(lo - base, full.dtype), "left"))
        j = (
            n
            if last <= end_ms
            else int(full.searchsorted(_key(end_ms - base, full.dtype), "right"))
        )
        j = max(i, j)
        got_ts, got_vals = _decoded(full[i:j], stored_vals[i:j], base)
        extra_ts.append(got_ts)
        extra_vals.append(got_vals)
        starts[row], counts[row] = at, j - i
        at += j - i
    return np.concatenate(extra_ts), np.concatenate(extra_vals), starts, counts, False


_Run = tuple[int, npt.NDArray[np.int64], npt.NDArray[np.float64], int, int, bool, int, bool, bool]


def _runs(
    fps: npt.NDArray[np.uint64], ts: npt.NDArray[np.int64], vals: npt.NDArray[np.float64]
) -> list[_Run]:
    """Per series of a batch: fingerprint, its timestamps and values in the batch's order, the
    first timestamp, the largest, whether they strictly increase, the smallest, and whether
    every value fits int32 and float32 exactly (``_Series.append``'s arguments). The facts are
    worked out for all series at once, so the per-series loop does no numpy calls but
    slicing."""
    if not len(fps):
        return []
    order = series_order(fps)  # stable: a series keeps its write order
    if order is not None:
        fps, ts, vals = fps[order], ts[order], vals[order]
    starts = np.concatenate([[0], np.flatnonzero(fps[1:] != fps[:-1]) + 1])
    # A run is ordered when no step inside it fails to increase.
    rising = np.ones(len(ts), dtype=np.int64)
    rising[1:] = ts[1:] > ts[:-1]
    rising[starts] = 1
    ordered = np.minimum.reduceat(rising, starts).astype(bool).tolist()
    maxes = np.maximum.reduceat(ts, starts).tolist()
    leasts = np.minimum.reduceat(ts, starts).tolist()
    fit_i4, fit_f4 = _fits(vals)
    all_i4 = np.logical_and.reduceat(fit_i4, starts).tolist()
    all_f4 = np.logical_and.reduceat(fit_f4, starts).tolist()
    firsts = ts[starts].tolist()
    names = fps[starts].tolist()
    cuts = [*starts.tolist(), len(fps)]
    return [
        (names[i], ts[cuts[i] : cuts[i + 1]], vals[cuts[i] : cuts[i + 1]], firsts[i], maxes[i],
         ordered[i], leasts[i], all_i4[i], all_f4[i])
        for i in range(len(names))
    ]  # fmt: skip


__all__ = ["Head", "HeadStats"]
