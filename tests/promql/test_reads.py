"""``instant_reads`` lists exactly the reads the engine makes for an instant query, so a batch
read ahead of time answers the engine's own ``select`` calls."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from spyglass.core.labels import Labels, labels_of
from spyglass.core.matchers import Matcher
from spyglass.promql import Engine, EngineOptions, instant_reads, parse_query
from spyglass.promql._engine import QUICK_SERIES
from spyglass.storage import Selection, SeriesData
from spyglass.storage.memory import MemoryStore

T = 3_600_000


class Recorder(MemoryStore):
    """A memory store that records each ``select``."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[Selection] = []

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        self.reads.append(Selection(tuple(matchers), start_ms, end_ms))
        return super().select(matchers, start_ms, end_ms)


def _store() -> Recorder:
    store = Recorder()
    ts = list(range(0, T + 1, 15_000))
    for job in ("api", "web"):
        labels: Labels = labels_of({"__name__": "http_requests_total", "job": job})
        store.add(labels, ts, [float(i) for i in range(len(ts))])
        store.add(labels_of({"__name__": "up", "job": job}), ts, [1.0] * len(ts))
    return store


@pytest.mark.parametrize(
    "query",
    [
        "up",
        "up offset 5m",
        'rate(http_requests_total{job="api"}[5m])',
        "sum by (job) (rate(http_requests_total[5m]))"
        " / sum by (job) (rate(http_requests_total[1m]))",
        "rate(http_requests_total[5m] offset 30m) > 0 and on (job) up == 1",
        "histogram_quantile(0.9, sum by (le) (rate(http_requests_total[5m])))",
        'absent(nonexistent{job="x"})',
        "label_replace(up, 'x', '$1', 'job', '(.*)') + ignoring(x) group_left up",
        "-up * 2",
        "time() - timestamp(up)",
        "vector(1)",
    ],
)
@pytest.mark.parametrize("lookback", [300_000, 60_000])
def test_reads_are_the_engines_reads(query: str, lookback: int) -> None:
    store = _store()
    Engine(store, EngineOptions(lookback_delta_ms=lookback)).instant_query(query, T)
    assert instant_reads(parse_query(query), T, lookback) == store.reads


@pytest.mark.parametrize(
    "query",
    [
        "max_over_time(rate(http_requests_total[1m])[10m:1m])",
        "up @ 1000",
        "rate(http_requests_total[5m] @ end())",
    ],
)
def test_subqueries_and_at_are_left_to_read_when_they_run(query: str) -> None:
    assert instant_reads(parse_query(query), T, 300_000) == []


class Bound:
    """A ``SeriesBound`` answering the series a memory store holds for a selection, or
    ``None`` for a range that begins before ``held_from`` (as a head does), recording what
    it was asked."""

    def __init__(self, store: MemoryStore, held_from: int = 0, extra: int = 0) -> None:
        self.store = store
        self.held_from = held_from
        self.extra = extra  # series the store does not hold, as if many matched
        self.asked: list[Selection] = []

    def series_bound(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int
    ) -> int | None:
        self.asked.append(Selection(tuple(matchers), start_ms, end_ms))
        if start_ms < self.held_from:
            return None
        n = len(self.store.select(matchers, start_ms, end_ms)) + self.extra
        return n if n <= limit else None


@pytest.mark.parametrize(
    ("query", "quick"),
    [
        ("vector(1)", True),
        ("1 + 2", True),
        ("sum(", True),  # a parse error answers at once
        ("up", True),
        ('sum by (job) (rate(http_requests_total{job="api"}[5m])) / on (job) up', True),
        ("absent(nonexistent)", True),
        ("max_over_time(vector(1)[10m:1m])", False),  # a subquery has a grid of its own
        ("max_over_time(rate(http_requests_total[1m])[10m:1m])", False),
        ("up @ 1000", False),
        ("up offset 2h", False),  # before what the bound holds
        ("rate(http_requests_total[1h])", False),
    ],
)
def test_quick_queries_read_few_series_from_memory(query: str, quick: bool) -> None:
    store = _store()
    engine = Engine(store, bound=Bound(store, held_from=T - 3_000_000))
    assert engine.quick(query, T) is quick
    assert Engine(store).quick(query, T) is False  # without a bound, nothing is known quick


def test_the_quick_limit_counts_the_series_of_every_selector() -> None:
    store = _store()
    # Each selector of "up": the store's 2 series and as many more as make three too many.
    bound = Bound(store, extra=QUICK_SERIES // 3 + 1 - 2)
    engine = Engine(store, bound=bound)
    assert engine.quick("up", T)
    assert engine.quick("up + up", T)
    assert not engine.quick("up + up + up", T)
    assert bound.asked[-1] == instant_reads(parse_query("up"), T, 300_000)[0]
