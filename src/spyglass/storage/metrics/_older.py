"""``OlderReads``: what selectors read before the head's start, kept in memory per selector.

A range that begins before the head's start reads that part from ClickHouse and the pending
buffer (``MetricsStore._older``): a chDB query of several milliseconds even for one series, and
for thousands of series most of a 6 h range query's time (bench/README.md). What lies before
the head's start changes only by a write that old (the store forgets everything then), by
retention (the store keeps nothing retention may already drop) and by a truncation of the
head, which moves its start, so later ranges end later and are read again. The store keeps
each selector's answer here, bounded in bytes, and a read of the same selector over a range
inside one kept is answered from memory: a dashboard's panels over one selector, a query asked
again. A selector that found nothing costs only its entry.

Samples are kept narrow: timestamps as int32 milliseconds after the entry's start (a range
under 24 days), values as float32 when every one converts back bit for bit, each series'
fingerprint once; about 8 bytes a sample instead of 24. They are widened on the way out, so an
answer is the very int64/float64 ClickHouse gave.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels

# A read's columns sorted by series and time, with the labels of its series.
Stored = tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64], dict[int, Labels]
]
_ENTRY_BYTES = 400  # the entry, its key and its arrays' headers, roughly
_LABELS_ENTRY_BYTES = 100  # a slot of an entry's labels dict (the label sets are shared)
_I32_MAX = 2**31 - 1
_BLOCK = 1 << 20  # samples narrowed at a time


@dataclass(frozen=True, slots=True)
class _Entry:
    start_ms: int
    end_ms: int
    keys: npt.NDArray[np.uint64]  # each series' fingerprint, ascending
    offsets: npt.NDArray[np.int64]  # series i's samples: [offsets[i], offsets[i + 1])
    ts: npt.NDArray[Any]  # milliseconds after start_ms: int32, or int64 past 24 days
    vals: npt.NDArray[Any]  # float32 when exact, else float64
    labels: dict[int, Labels]
    nbytes: int


class OlderReads:
    """Answers of reads before the head's start by selector, least recently used dropped first
    past ``max_bytes`` (of samples: reads of nothing count none) or ``max_entries``.
    Thread-safe: query threads share it."""

    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Memory the kept answers take, roughly."""
        return self._bytes

    @property
    def selectors(self) -> int:
        """Selectors whose read is kept."""
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything (a write reached before what was read)."""
        with self._lock:
            self._entries = OrderedDict()
            self._bytes = 0

    def get(self, key: Hashable, start_ms: int, end_ms: int) -> Stored | None:
        """``key``'s answer cut to ``[start_ms, end_ms]`` when a kept read covers that range."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or start_ms < entry.start_ms or end_ms > entry.end_ms:
                return None
            self._entries.move_to_end(key)
        return _widened(entry, start_ms, end_ms)

    def put(self, key: Hashable, start_ms: int, end_ms: int, found: Stored) -> None:
        """Keep ``found``, the answer of ``key`` over ``[start_ms, end_ms]`` (unless it alone
        is larger than the bound)."""
        entry = _narrowed(start_ms, end_ms, found)
        if entry.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[key] = entry
            self._bytes += entry.nbytes
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes


def _narrowed(start_ms: int, end_ms: int, found: Stored) -> _Entry:
    fps, ts, vals, labels = found
    n = len(fps)
    if n:
        starts = np.concatenate([[0], np.flatnonzero(fps[1:] != fps[:-1]) + 1])
        keys = fps[starts]
        offsets = np.append(starts, n).astype(np.int64)
    else:
        keys, offsets = fps[:0], np.zeros(1, np.int64)
    # Narrowed a block at a time into the kept arrays: a whole read's int64 and float64
    # temporaries would add some 17 bytes a sample to the peak memory of a large cold read.
    rel: npt.NDArray[Any] = np.empty(n, np.int32 if end_ms - start_ms <= _I32_MAX else np.int64)
    narrow = np.empty(n, np.float32)
    exact = True
    for i in range(0, n, _BLOCK):
        block = vals[i : i + _BLOCK]
        np.subtract(ts[i : i + _BLOCK], start_ms, out=rel[i : i + _BLOCK], casting="unsafe")
        if exact:
            with np.errstate(over="ignore", invalid="ignore"):  # kept as float64 then
                narrow[i : i + _BLOCK] = block
            exact = bool(
                (
                    narrow[i : i + _BLOCK].astype(np.float64).view(np.int64) == block.view(np.int64)
                ).all()
            )
    kept_vals: npt.NDArray[Any] = narrow if exact else np.array(vals, np.float64)
    # A read of nothing counts no bytes: ``max_entries`` bounds those, so they are kept
    # even with no bytes to spare.
    nbytes = 0
    if n:
        nbytes = (
            _ENTRY_BYTES
            + keys.nbytes
            + offsets.nbytes
            + rel.nbytes
            + kept_vals.nbytes
            + _LABELS_ENTRY_BYTES * len(labels)
        )
    return _Entry(start_ms, end_ms, keys, offsets, rel, kept_vals, dict(labels), nbytes)


def _widened(entry: _Entry, start_ms: int, end_ms: int) -> Stored:
    """The entry's samples in ``[start_ms, end_ms]`` as int64/float64 columns (new arrays:
    callers may keep or change them)."""
    ts = np.add(entry.ts, entry.start_ms, dtype=np.int64)
    vals = entry.vals.astype(np.float64)
    fps = np.repeat(entry.keys, np.diff(entry.offsets))
    if start_ms > entry.start_ms or end_ms < entry.end_ms:
        keep = (ts >= start_ms) & (ts <= end_ms)
        fps, ts, vals = fps[keep], ts[keep], vals[keep]
    return fps, ts, vals, entry.labels


__all__ = ["OlderReads", "Stored"]
