"""A group's series read before its rules run: one batch instead of a query per selector.

Prometheus reads each rule's series from its in-memory head while the rule runs. Here every
selector was a round trip to ClickHouse (two queries), so a group of twenty rules paid that
overhead some seventy times per evaluation. Before a group evaluates, its rules' reads at the
group's timestamp (``spyglass.promql.instant_reads``: exactly the matchers and time range the
engine asks for) go to ``prefetch``, which reads each distinct one once, all together through
``BatchQuerier.select_many`` when the store offers it, and ``Prefetched`` answers the engine's
``select`` calls from that. Anything not listed (subqueries, ``@``, extended selectors,
``info``, queries in alert templates) and every other read goes to the store as before. The
rules still see what the rules above them wrote at this timestamp: the group's ``Overlay``
sits on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spyglass.core.labels import Labels
from spyglass.core.matchers import Matcher
from spyglass.storage.ports import BatchQuerier, Querier, Selection, SeriesData


class Prefetched:
    """``base`` with some selections already read: those are answered from memory."""

    def __init__(self, base: Querier, reads: dict[Selection, list[SeriesData]]) -> None:
        self.base = base
        self._reads = reads

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        read = self._reads.get(Selection(tuple(matchers), start_ms, end_ms))
        if read is not None:
            return list(read)
        return self.base.select(matchers, start_ms, end_ms)

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        return self.base.series(matcher_sets, start_ms, end_ms)

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        return self.base.label_names(matcher_sets, start_ms, end_ms)

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        return self.base.label_values(name, matcher_sets, start_ms, end_ms)


def prefetch(base: Querier, wanted: Iterable[Selection]) -> Prefetched:
    """Read every distinct selection of ``wanted`` now: in one batch when ``base`` is a
    ``BatchQuerier``, else one by one."""
    unique = list(dict.fromkeys(wanted))
    if isinstance(base, BatchQuerier):
        results = base.select_many(unique)
    else:
        results = [base.select(s.matchers, s.start_ms, s.end_ms) for s in unique]
    return Prefetched(base, dict(zip(unique, results, strict=True)))


__all__ = ["Prefetched", "prefetch"]
