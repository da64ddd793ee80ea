"""A result cache for range queries over the immutable past, as VictoriaMetrics' rollup cache.

A dashboard refreshed every 30 s asks the same range queries again with ``start`` and ``end``
moved by 30 s: all but the last few steps were answered before. ``RangeCache`` keeps, per query
(text, step, ``start mod step`` and the engine options that change answers), each series'
values on the step grid for the steps older than a boundary (now minus ``offset_ms``, 5 minutes
by default, VictoriaMetrics' ``-search.cacheTimestampOffset``), and a later query evaluates only
the steps the cache lacks (the new tail, and any head before what is held) and merges them in.

Why that is exact: PromQL's value at step ``t`` depends only on samples at or before ``t``
(plus a negative ``offset``, which the boundary accounts for) and on the step's own time; it
does not depend on the other steps, the range or the order of series (``sort`` is ignored in
range queries, and results are ordered by labels). Subqueries align to absolute multiples of
their step, not to the range. What breaks that rule is not cached: ``@`` modifiers (``@ start()``
and ``@ end()`` read at the range's ends, a fixed ``@`` may read after the boundary), the
experimental ``smoothed`` selector (it interpolates towards the sample after ``t``) and queries
that need the experimental duration expressions (``step()``, ``range()``).

Samples can still arrive for the past (out-of-order writes are accepted). Storage reports the
oldest timestamp of every batch once it is readable (``samples_written``); a batch older than
the boundary truncates every entry that read at or after that time, and a query evaluating
while that happened does not store what it read before it.

Memory is bounded by a byte budget with least-recently-used eviction. Annotations of a cached
part are those of the evaluation that filled it; ``samples_processed`` counts only the steps
evaluated now.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from prometheus_client.registry import Collector

from spyglass.core.errors import ParseError
from spyglass.core.labels import Labels
from spyglass.core.stats import StatField, StatsCollector
from spyglass.promql._ast import (
    Call,
    Expr,
    MatrixSelector,
    Subquery,
    VectorSelector,
    children,
)
from spyglass.promql._engine import Engine, QueryResult, _parse_cached

DEFAULT_CACHE_OFFSET_MS = 300_000  # VictoriaMetrics' -search.cacheTimestampOffset
DEFAULT_CACHE_MAX_BYTES = 256 * 1024**2
# A query's result may take at most this share of the budget, so one huge answer cannot evict
# every dashboard's entries.
_MAX_ENTRY_SHARE = 4
# Bytes counted per series besides its arrays: the tuple, the labels' tuples and strings.
_SERIES_OVERHEAD = 200
# Late batches remembered for queries evaluating while they arrived; a query older than all of
# them does not store its result.
_LATE_HISTORY = 1024
# Experimental duration functions: their value depends on the query's own step and range.
_RANGE_FUNCS = frozenset({"step", "range", "start", "end"})

_Series = tuple[Labels, npt.NDArray[np.int64], npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class RangeCacheStats:
    """Counters of the range query cache."""

    hits: int
    misses: int
    bypassed: int
    entries: int
    bytes: int
    max_bytes: int
    evictions: int
    invalidations: int
    steps_cached: int
    steps_evaluated: int


@dataclass(frozen=True, slots=True)
class _Entry:
    """One query's cached steps: every grid step in ``[lo, hi]`` was evaluated."""

    lo: int
    hi: int
    step: int
    look_ahead: int
    series: tuple[_Series, ...]
    warnings: tuple[str, ...]
    infos: tuple[str, ...]
    nbytes: int


def look_ahead(expr: Expr) -> int | None:
    """How far past a step's time the query reads (ms, at least 0), or ``None`` when its
    value at a step may depend on more than the samples up to a fixed distance from that step
    (``@``, ``smoothed``, duration functions): such queries are not cached."""
    out = 0

    def walk(node: Expr, shift: int) -> bool:
        nonlocal out
        if isinstance(node, MatrixSelector):
            node = node.selector
        if isinstance(node, VectorSelector):
            if node.at is not None or node.modifier == "smoothed":
                return False
            out = max(out, shift - node.offset_ms)
            return True
        if isinstance(node, Subquery):
            if node.at is not None:
                return False
            # The inner grid's points all lie at or before the subquery's (offset) end.
            return walk(node.expr, shift - node.offset_ms)
        if isinstance(node, Call) and node.name in _RANGE_FUNCS:
            return False
        return all(walk(child, shift) for child in children(node))

    return out if walk(expr, 0) else None


class RangeCache:
    """Range query results of the immutable past, by query; see the module docstring.

    Thread-safe: queries run in worker threads, and ``samples_written`` is called from the
    event loop after each write.
    """

    def __init__(
        self,
        max_bytes: int = DEFAULT_CACHE_MAX_BYTES,
        offset_ms: int = DEFAULT_CACHE_OFFSET_MS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_bytes = max_bytes
        self.offset_ms = offset_ms
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
        self._bytes = 0
        self._seq = 0  # counts late batches
        self._late: deque[tuple[int, int]] = deque(maxlen=_LATE_HISTORY)  # (seq, oldest ms)
        self._hits = self._misses = self._bypassed = 0
        self._evictions = self._invalidations = 0
        self._steps_cached = self._steps_evaluated = 0

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- queries ----------------------------------------------------------------------------
    def range_query(
        self, engine: Engine, query: str, start_ms: int, end_ms: int, step_ms: int
    ) -> QueryResult:
        """``engine.evaluate_range`` of the query, evaluating only the steps not cached."""
        # The boundary and the late-batch counter are read before anything reads samples, so
        # a batch that becomes readable after this point is either seen or reported after.
        with self._lock:
            seq0 = self._seq
        now = self._now_ms()
        expr = _parsed(query)
        ahead = None if expr is None else look_ahead(expr)
        if ahead is None or step_ms <= 0 or end_ms < start_ms:
            with self._lock:
                self._bypassed += 1
            return engine.evaluate_range(query, start_ms, end_ms, step_ms)
        key = (query, step_ms, start_ms % step_ms, *_option_key(engine))
        # The last step whose reads all lie at or before the boundary.
        boundary = now - self.offset_ms - ahead
        last = start_ms + (min(end_ms, boundary) - start_ms) // step_ms * step_ms

        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        head = tail = None
        cached: list[_Series] = []
        if entry is not None and entry.lo <= end_ms and entry.hi >= start_ms:
            c_lo, c_hi = max(start_ms, entry.lo), min(end_ms, entry.hi)
            if start_ms < c_lo:
                head = (start_ms, c_lo - step_ms)
            if c_hi + step_ms <= end_ms:  # an end between two steps adds no step
                tail = (c_hi + step_ms, end_ms)
            cached = _cut(entry.series, c_lo, c_hi)
            cached_steps = (c_hi - c_lo) // step_ms + 1
        else:
            entry, tail, cached_steps = None, (start_ms, end_ms), 0
        parts = [p for p in (head, tail) if p is not None]
        fresh = {p: engine.evaluate_range(query, p[0], p[1], step_ms) for p in parts}
        head_r = fresh[head].matrix if head is not None else []
        tail_r = fresh[tail].matrix if tail is not None else []
        results = list(fresh.values())
        out = QueryResult(
            "matrix",
            matrix=_merge([head_r, cached, tail_r]),
            warnings=_union(
                [*(entry.warnings if entry else ()), *(w for r in results for w in r.warnings)]
            ),
            infos=_union([*(entry.infos if entry else ()), *(i for r in results for i in r.infos)]),
            samples_processed=sum(r.samples_processed for r in results),
        )
        new = None
        if last >= start_ms:  # cut outside the lock: writes wait on it for late samples
            series = tuple(_cut(out.matrix, start_ms, last))
            warned = (tuple(out.warnings), tuple(out.infos))
            new = _Entry(start_ms, last, step_ms, ahead, series, *warned, _nbytes(series))
        with self._lock:
            if entry is not None:
                self._hits += 1
            else:
                self._misses += 1
            self._steps_cached += cached_steps
            self._steps_evaluated += sum((b - a) // step_ms + 1 for a, b in parts)
            if new is not None:
                self._store(key, seq0, new)
        return out

    def _store(self, key: tuple[object, ...], seq0: int, new: _Entry) -> None:
        """Keep ``new`` under ``key`` (lock held)."""
        if seq0 < self._seq:
            # Late samples arrived while this query evaluated: keep only the steps that read
            # before the oldest of them, or nothing if some of them are forgotten.
            if not self._late or self._late[0][0] > seq0 + 1:
                return
            oldest = min(t for s, t in self._late if s > seq0)
            hi = _last_before(new.lo, new.step, oldest - new.look_ahead)
            if hi < new.lo:
                return
            if hi < new.hi:
                new = _truncated(new, hi)
        old = self._entries.get(key)
        if old is not None and old.hi > new.hi:
            return  # the entry reaches further forward: keep it for the next refresh
        if new.nbytes * _MAX_ENTRY_SHARE > self.max_bytes:
            return
        self._drop(key)
        self._entries[key] = new
        self._bytes += new.nbytes
        while self._bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))
            self._evictions += 1

    def _drop(self, key: tuple[object, ...]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.nbytes

    # -- invalidation ---------------------------------------------------------------------------
    def samples_written(self, oldest_ms: int) -> None:
        """Storage made a batch readable whose oldest sample is at ``oldest_ms``.

        A batch older than the boundary truncates every entry with a step that read at or
        after that time; anything newer cannot be in the cache and costs one comparison.
        """
        if oldest_ms > self._now_ms() - self.offset_ms:
            return
        with self._lock:
            self._seq += 1
            self._late.append((self._seq, oldest_ms))
            for key, e in list(self._entries.items()):
                if e.hi + e.look_ahead < oldest_ms:
                    continue
                self._invalidations += 1
                hi = _last_before(e.lo, e.step, oldest_ms - e.look_ahead)
                if hi < e.lo:
                    self._drop(key)
                    continue
                kept = self._entries[key] = _truncated(e, hi)  # keeps its place in the LRU
                self._bytes += kept.nbytes - e.nbytes

    def reset(self) -> None:
        """Forget every entry (VictoriaMetrics' ``/internal/resetRollupResultCache``)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def collectors(self) -> list[Collector]:
        """The counters as ``spyglass_rollup_cache_*`` metrics (VictoriaMetrics calls this
        cache the rollup result cache)."""
        return [StatsCollector(self.stats, _FIELDS)]

    def stats(self) -> RangeCacheStats:
        """A snapshot of the counters."""
        with self._lock:
            return RangeCacheStats(
                hits=self._hits,
                misses=self._misses,
                bypassed=self._bypassed,
                entries=len(self._entries),
                bytes=self._bytes,
                max_bytes=self.max_bytes,
                evictions=self._evictions,
                invalidations=self._invalidations,
                steps_cached=self._steps_cached,
                steps_evaluated=self._steps_evaluated,
            )


_FIELDS = (
    StatField(
        "hits",
        "spyglass_rollup_cache_hits",
        "counter",
        "Range queries answered partly or wholly from the range query cache.",
    ),
    StatField(
        "misses",
        "spyglass_rollup_cache_misses",
        "counter",
        "Cacheable range queries the cache held nothing of.",
    ),
    StatField(
        "bypassed",
        "spyglass_rollup_cache_bypassed",
        "counter",
        "Range queries evaluated without the cache (@ modifiers, smoothed selectors, duration "
        "expressions); nocache=1 requests are not counted.",
    ),
    StatField(
        "steps_cached",
        "spyglass_rollup_cache_steps_cached",
        "counter",
        "Steps of range queries answered from the cache.",
    ),
    StatField(
        "steps_evaluated",
        "spyglass_rollup_cache_steps_evaluated",
        "counter",
        "Steps of cacheable range queries that were evaluated.",
    ),
    StatField("entries", "spyglass_rollup_cache_entries", "gauge", "Queries held in the cache."),
    StatField("bytes", "spyglass_rollup_cache_bytes", "gauge", "Memory the cache's entries take."),
    StatField(
        "max_bytes",
        "spyglass_rollup_cache_max_bytes",
        "gauge",
        "The cache's byte budget (--range-cache-max-bytes).",
    ),
    StatField(
        "evictions",
        "spyglass_rollup_cache_evictions",
        "counter",
        "Entries dropped, least recently used first, to stay within the budget.",
    ),
    StatField(
        "invalidations",
        "spyglass_rollup_cache_invalidations",
        "counter",
        "Entries truncated or dropped because samples arrived for a time they had cached.",
    ),
)


def _parsed(query: str) -> Expr | None:
    """The query's tree when it parses as plain PromQL; ``None`` sends it uncached (its
    errors, and duration expressions that need the range, are the engine's business)."""
    try:
        return _parse_cached(query)
    except ParseError:
        return None


def _option_key(engine: Engine) -> tuple[object, ...]:
    """The engine options that change answers (not limits or timeouts)."""
    o = engine.options
    return (
        o.lookback_delta_ms,
        o.default_subquery_step_ms,
        o.delayed_name_removal,
        o.experimental_functions,
    )


def _last_before(lo: int, step: int, limit: int) -> int:
    """The last grid step ``lo + k*step`` strictly before ``limit`` (below ``lo`` if none)."""
    return lo + (limit - 1 - lo) // step * step


def _truncated(e: _Entry, hi: int) -> _Entry:
    """``e`` without its steps after ``hi``."""
    series = tuple(_cut(e.series, e.lo, hi))
    return _Entry(e.lo, hi, e.step, e.look_ahead, series, e.warnings, e.infos, _nbytes(series))


def _cut(series: Sequence[_Series], lo: int, hi: int) -> list[_Series]:
    """Each series' points in ``[lo, hi]``; series left without points are dropped."""
    out = []
    for labels, ts, vs in series:
        a = int(np.searchsorted(ts, lo, side="left"))
        b = int(np.searchsorted(ts, hi, side="right"))
        if b > a:
            out.append((labels, ts[a:b], vs[a:b]))
    return out


def _merge(parts: Sequence[Sequence[_Series]]) -> list[_Series]:
    """Series of consecutive, non-overlapping time pieces joined by labels, sorted by labels
    as the engine returns them. Always copies, so callers never hold the cache's arrays."""
    pieces: dict[Labels, list[_Series]] = {}
    for part in parts:
        for s in part:
            pieces.setdefault(s[0], []).append(s)
    out: list[_Series] = [
        (labels, np.concatenate([p[1] for p in ps]), np.concatenate([p[2] for p in ps]))
        for labels, ps in pieces.items()
    ]
    out.sort(key=lambda s: s[0])
    return out


def _nbytes(series: Sequence[_Series]) -> int:
    return sum(
        ts.nbytes + vs.nbytes + _SERIES_OVERHEAD + sum(len(n) + len(v) for n, v in labels)
        for labels, ts, vs in series
    )


def _union(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


__all__ = [
    "DEFAULT_CACHE_MAX_BYTES",
    "DEFAULT_CACHE_OFFSET_MS",
    "RangeCache",
    "RangeCacheStats",
    "look_ahead",
]
