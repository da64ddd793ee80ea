"""Label sets already validated and fingerprinted, kept across requests.

OTLP exporters send the same series every interval; remembering ``labels -> fingerprint`` skips
the limit check and the hash for all of them. Bounded: when full, the oldest quarter goes.
"""

from __future__ import annotations

import itertools
import threading

from spyglass.core.labels import Labels, fingerprint
from spyglass.core.limits import IngestLimits, check_series

DEFAULT_CACHE_SIZE = 200_000


class SeriesCache:
    """``Labels -> fingerprint`` for label sets that passed ``check_series`` under ``limits``."""

    def __init__(self, size: int = DEFAULT_CACHE_SIZE) -> None:
        self.size = size
        self._fps: dict[Labels, int] = {}
        self._limits: IngestLimits | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._fps)

    def for_limits(self, limits: IngestLimits) -> dict[Labels, int]:
        """The mapping valid under ``limits`` (emptied when the limits change)."""
        if limits != self._limits:
            with self._lock:
                if limits != self._limits:
                    self._fps = {}
                    self._limits = limits
        return self._fps

    def admit(self, fps: dict[Labels, int], labels: Labels, limits: IngestLimits) -> int:
        """Check ``labels`` (raises ``BadInput``), remember it in ``fps`` (the mapping
        ``for_limits(limits)`` gave) and return its fingerprint."""
        check_series(labels, limits)
        fp = fingerprint(labels)
        with self._lock:
            if len(fps) >= self.size:
                for k in list(itertools.islice(fps, max(1, self.size // 4))):
                    fps.pop(k, None)
            fps[labels] = fp
        return fp


__all__ = ["DEFAULT_CACHE_SIZE", "SeriesCache"]
