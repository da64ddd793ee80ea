"""A group reads its rules' series in one batch before they run, and answers exactly as when
each rule reads alone; a failing batch read leaves each rule to read (and fail) on its own."""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.rules import MIN, make_group, series, show

from spyglass.core.errors import Unavailable
from spyglass.core.labels import Labels
from spyglass.core.matchers import Matcher
from spyglass.rules import GroupEvaluation
from spyglass.storage import Selection, SeriesData
from spyglass.storage.memory import MemoryStore

RULES = """
groups:
  - name: service
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - record: job:http_errors:ratio_rate5m
        expr: >
          sum by (job) (rate(http_requests_total{code="500"}[5m]))
          / sum by (job) (rate(http_requests_total[5m]))
      - alert: HighErrorRate
        expr: job:http_errors:ratio_rate5m > 0.1
        labels: {team: "{{ $labels.job }}-team"}
        annotations: {summary: "{{ $value | humanizePercentage }} fail"}
      - alert: TrafficDrop
        expr: >
          sum by (job) (rate(http_requests_total[5m]))
          < 0.5 * sum by (job) (rate(http_requests_total[5m] offset 10m))
      - alert: Down
        expr: up == 0
      - record: job:http_requests:max_rate
        expr: max_over_time(rate(http_requests_total[2m])[10m:1m])
"""


class Recording:
    """A store that can read in batches and records every read."""

    def __init__(self, store: MemoryStore, *, fail_batches: bool = False) -> None:
        self.store = store
        self.fail_batches = fail_batches
        self.batches: list[list[Selection]] = []
        self.selects: list[Selection] = []

    def select_many(self, selections: Sequence[Selection]) -> list[list[SeriesData]]:
        self.batches.append(list(selections))
        if self.fail_batches:
            raise Unavailable("ClickHouse is down")
        return [self.store.select(s.matchers, s.start_ms, s.end_ms) for s in selections]

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        self.selects.append(Selection(tuple(matchers), start_ms, end_ms))
        return self.store.select(matchers, start_ms, end_ms)

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        return self.store.series(matcher_sets, start_ms, end_ms)

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        return self.store.label_names(matcher_sets, start_ms, end_ms)

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        return self.store.label_values(name, matcher_sets, start_ms, end_ms)


def _store() -> MemoryStore:
    store = MemoryStore()
    for job, per_min, errors in (("api", 60, 12), ("web", 120, 1)):
        series(store, "http_requests_total", [i * per_min for i in range(30)], job=job, code="200")
        series(store, "http_requests_total", [i * errors for i in range(30)], job=job, code="500")
        series(store, "up", [1] * 30, job=job, instance="a")
    series(store, "up", [0] * 30, job="db", instance="b")
    return store


def _run(querier: object, times: Sequence[int]) -> list[GroupEvaluation]:
    group = make_group(RULES)
    return [group.evaluate(querier, t) for t in times]  # type: ignore[arg-type]


def _same(a: list[GroupEvaluation], b: list[GroupEvaluation]) -> None:
    for x, y in zip(a, b, strict=True):
        assert show(x.samples) == show(y.samples)
        assert [(al.labels, al.annotations, al.state) for al in x.alerts] == [
            (al.labels, al.annotations, al.state) for al in y.alerts
        ]
        assert [(r.health, r.last_error) for r in x.rules] == [
            (r.health, r.last_error) for r in y.rules
        ]


def test_a_batch_read_gives_the_answers_of_rules_reading_alone() -> None:
    """Over a store without batches each rule reads alone (the reference); over one with
    batches the group reads once per evaluation and every sample, alert and health agrees."""
    times = [20 * MIN, 21 * MIN, 22 * MIN]
    alone = _run(_store(), times)
    batched_store = Recording(_store())
    batched = _run(batched_store, times)
    _same(batched, alone)
    assert any(dict(s.labels).get("alertname") == "HighErrorRate" for s in batched[0].samples)
    assert len(batched_store.batches) == len(times)
    first = batched_store.batches[0]
    assert len(first) == len(set(first))  # each distinct read once
    # Only what the batch does not hold is read alone: the subquery, on its own grid.
    prefetched = {s for batch in batched_store.batches for s in batch}
    assert batched_store.selects
    assert not set(batched_store.selects) & prefetched
    assert {s.matchers for s in batched_store.selects} == {
        (Matcher.of("__name__", "=", "http_requests_total"),)
    }


def test_a_failed_batch_read_leaves_each_rule_to_read_alone() -> None:
    """When the batch read fails the rules still run, each reading as before."""
    times = [20 * MIN]
    failing = Recording(_store(), fail_batches=True)
    _same(_run(failing, times), _run(_store(), times))
    assert failing.batches
    assert failing.selects
