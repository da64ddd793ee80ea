"""Label sets already validated and fingerprinted, kept across requests.

OTLP exporters send the same series every interval; remembering ``labels -> fingerprint`` skips
the limit check and the hash for all of them. Bounded by entries and by bytes
(``ingest.SeriesCache``): when full, the oldest quarter goes.
"""

from __future__ import annotations

from spyglass.core.labels import Labels, fingerprint
from spyglass.core.limits import IngestLimits, check_series
from spyglass.ingest._series_cache import DEFAULT_MAX_BYTES, label_set_bytes
from spyglass.ingest._series_cache import SeriesCache as _Bounded

DEFAULT_CACHE_SIZE = 200_000


def _entry_bytes(labels: Labels, fp: int) -> int:
    del fp
    return label_set_bytes(labels) + 32


class SeriesCache:
    """``Labels -> fingerprint`` for label sets that passed ``check_series`` under ``limits``."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.size = size
        self._entries: _Bounded[Labels, int] = _Bounded(_entry_bytes, size, max_bytes)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """About how many bytes the cached label sets take."""
        return self._entries.bytes

    def for_limits(self, limits: IngestLimits) -> dict[Labels, int]:
        """The mapping valid under ``limits`` (emptied when the limits change)."""
        return self._entries.for_limits(limits)

    def admit(self, fps: dict[Labels, int], labels: Labels, limits: IngestLimits) -> int:
        """Check ``labels`` (raises ``BadInput``), remember it in ``fps`` (the mapping
        ``for_limits(limits)`` gave) and return its fingerprint."""
        check_series(labels, limits)
        fp = fingerprint(labels)
        self._entries.put(fps, labels, fp)
        return fp


__all__ = ["DEFAULT_CACHE_SIZE", "SeriesCache"]
