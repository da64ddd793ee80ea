"""Label sets already validated and fingerprinted, kept across requests.

OTLP exporters send the same series every interval; remembering what a series is built from (its
metric name, extra labels and the point's labels in attribute order, or for the columnar path
the point's attributes as bytes) with its label set and fingerprint skips building and sorting
the label set, the limit check and the hash for all of them. Bounded by entries and by bytes
(``ingest.SeriesCache``): when full, the oldest quarter goes.
"""

from __future__ import annotations

from spyglass.core.labels import Labels, fingerprint
from spyglass.core.limits import IngestLimits, check_series
from spyglass.ingest._series_cache import DEFAULT_MAX_BYTES, label_set_bytes
from spyglass.ingest._series_cache import SeriesCache as _Bounded

DEFAULT_CACHE_SIZE = 200_000


_Pairs = tuple[tuple[str, str], ...]
# The object path's: metric name, extra labels (``le``, ``quantile``), the point's labels.
# The columnar path's: the resource's identity labels, metric name, extra labels and the
# point's attribute fields as they came on the wire. The two never compare equal.
Key = tuple[str, _Pairs, _Pairs] | tuple[_Pairs, str, _Pairs, bytes]


def _entry_bytes(key: Key, entry: tuple[int, Labels]) -> int:
    # The key's strings are shared with the label set; its tuples and bytes are not.
    if len(key) == 3:
        name, extra, base = key
        pairs, raw = len(extra) + len(base), 0
    else:
        ident, name, extra, attributes = key
        pairs, raw = len(ident) + len(extra), 33 + len(attributes)
    return 3 * 40 + 49 + len(name) + 56 * pairs + raw + label_set_bytes(entry[1])


class SeriesCache:
    """``Key -> (fingerprint, labels)`` for label sets that passed ``check_series`` under
    ``limits``."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.size = size
        self._entries: _Bounded[Key, tuple[int, Labels]] = _Bounded(_entry_bytes, size, max_bytes)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """About how many bytes the cached label sets take."""
        return self._entries.bytes

    def for_limits(self, limits: IngestLimits) -> dict[Key, tuple[int, Labels]]:
        """The mapping valid under ``limits`` (emptied when the limits change)."""
        return self._entries.for_limits(limits)

    def admit(
        self,
        entries: dict[Key, tuple[int, Labels]],
        key: Key,
        labels: Labels,
        limits: IngestLimits,
    ) -> tuple[int, Labels]:
        """Check ``labels`` (raises ``BadInput``), remember them under ``key`` in ``entries``
        (the mapping ``for_limits(limits)`` gave) and return them with their fingerprint."""
        check_series(labels, limits)
        entry = (fingerprint(labels), labels)
        self._entries.put(entries, key, entry)
        return entry


__all__ = ["DEFAULT_CACHE_SIZE", "Key", "SeriesCache"]
