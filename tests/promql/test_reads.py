"""``instant_reads`` lists exactly the reads the engine makes for an instant query, so a batch
read ahead of time answers the engine's own ``select`` calls."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from spyglass.core.labels import Labels, labels_of
from spyglass.core.matchers import Matcher
from spyglass.promql import Engine, EngineOptions, instant_reads, parse_query
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
