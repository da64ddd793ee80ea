"""Label sets a receiver has checked and fingerprinted, kept across requests within a byte budget.

Senders send the same series every interval, so remembering each label set's fingerprint skips
parsing, the limit check and the hash for nearly every series of a request. A receiver with
many series (or a flood of new ones) must not grow this without bound: the cache holds at most
``max_entries`` label sets and about ``max_bytes`` of them (``label_set_bytes`` estimates what
an entry costs in Python objects); when either is reached the oldest quarter goes, in insertion
order, which keeps the series that arrive every interval.

Entries are valid under the ``IngestLimits`` they were checked with; other limits empty it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from spyglass.core.labels import Labels
from spyglass.core.limits import IngestLimits

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_MAX_ENTRIES = 500_000
DEFAULT_MAX_BYTES = 128 * 1024**2
# CPython object sizes (64-bit): a tuple's header and slot, a compact ASCII str's header, a
# small int, and a dict entry with its share of the table's slack.
_TUPLE, _SLOT, _STR, _INT, _DICT_ENTRY = 40, 8, 49, 32, 64


def label_set_bytes(labels: Labels) -> int:
    """About what ``labels`` costs as Python objects: the tuple of pairs and their strings."""
    return (
        _TUPLE
        + len(labels) * (_SLOT + _TUPLE + 2 * _SLOT + 2 * _STR)
        + sum(len(n) + len(v) for n, v in labels)
    )


class SeriesCache(Generic[K, V]):
    """``key -> value`` for label sets that passed the checks under some ``IngestLimits``,
    bounded by entries and bytes; ``size(key, value)`` estimates an entry's bytes."""

    def __init__(
        self,
        size: Callable[[K, V], int],
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.size = size
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: dict[K, V] = {}
        self._bytes = 0
        self._limits: IngestLimits | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """The estimated bytes of what the cache holds now."""
        return self._bytes

    def for_limits(self, limits: IngestLimits) -> dict[K, V]:
        """The mapping valid under ``limits`` (emptied when the limits change); read it
        without a lock, add to it only through ``put``."""
        if limits != self._limits:
            with self._lock:
                if limits != self._limits:
                    self._entries = {}
                    self._bytes = 0
                    self._limits = limits
        return self._entries

    def put(self, entries: dict[K, V], key: K, value: V) -> None:
        """Remember ``key`` in ``entries`` (what ``for_limits`` gave; if another thread has
        swapped it for other limits meanwhile, the entry is simply forgotten)."""
        cost = self.size(key, value) + _DICT_ENTRY
        with self._lock:
            if entries is not self._entries:
                return
            if len(entries) >= self.max_entries or (
                self.max_bytes and self._bytes + cost > self.max_bytes
            ):
                drop = list(itertools.islice(entries.items(), max(1, len(entries) // 4)))
                for k, v in drop:
                    del entries[k]
                    self._bytes -= self.size(k, v) + _DICT_ENTRY
            if key not in entries:
                entries[key] = value
                self._bytes += cost


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "SeriesCache", "label_set_bytes"]
