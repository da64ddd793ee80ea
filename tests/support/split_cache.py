"""An engine that answers every range query through the range cache in two overlapping pieces.

The conformance and differential runs use it to prove the cache exact: before each range query
it evaluates a random piece of the range (a prefix, so the query then evaluates a new tail, or
a suffix, so it evaluates a missing head) into an empty cache whose clock lies far in the
future (all of the range is immutable past), then answers the whole range from that entry plus
what is missing. Anything the split changes shows up as a failed case.
"""

from __future__ import annotations

import random

from spyglass.core.errors import SpyglassError
from spyglass.promql import Engine, EngineOptions, QueryResult, RangeCache
from spyglass.storage.ports import Querier

# 2100-01-01: every step of any test data is older than the cache's boundary.
FAR_FUTURE_S = 4_102_444_800.0


class SplitCacheEngine(Engine):
    """``Engine`` whose range queries run as: random piece into the cache, then the whole."""

    def __init__(
        self, querier: Querier, options: EngineOptions | None = None, seed: int = 0
    ) -> None:
        super().__init__(querier, options, cache=RangeCache(clock=lambda: FAR_FUTURE_S))
        self.random = random.Random(seed)
        self.splits = 0

    def range_query(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> QueryResult:
        cache = self.cache
        assert cache is not None
        cache.reset()
        if step_ms > 0 and end_ms > start_ms:
            cut = start_ms + self.random.randint(0, (end_ms - start_ms) // step_ms) * step_ms
            piece = (start_ms, cut) if self.random.random() < 0.5 else (cut, end_ms)
            try:
                cache.range_query(self, query, piece[0], piece[1], step_ms)
                self.splits += 1
            except SpyglassError:
                pass  # the whole query below reports its own error
        return cache.range_query(self, query, start_ms, end_ms, step_ms)


__all__ = ["FAR_FUTURE_S", "SplitCacheEngine"]
