"""After a restart, alerts pick up their ``for`` progress from ALERTS_FOR_STATE, with
Prometheus' grace period and outage tolerance."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from tests.support.rules import MIN, lbl, make_group, series, step

from spyglass.core.errors import Unavailable
from spyglass.core.labels import Labels
from spyglass.core.matchers import Matcher
from spyglass.rules import AlertingRule, RuleGroup, restore_for_state
from spyglass.storage.memory import MemoryStore
from spyglass.storage.ports import SeriesData

RULE = """
groups:
  - name: g
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 30m
        labels:
          severity: critical
"""


def run_before_restart(store: MemoryStore, until_min: int, text: str = RULE) -> None:
    """The first life: the alert goes pending at 0 and is evaluated each minute."""
    group = make_group(text)
    for t in range(until_min + 1):
        step(store, group, t * MIN)


def restart(store: MemoryStore, at_min: int, text: str = RULE) -> tuple[RuleGroup, AlertingRule]:
    """A fresh group after a restart: one evaluation, then the restore."""
    group = make_group(text, restore_pending=True)
    first = step(store, group, at_min * MIN)
    assert first.samples == ()  # nothing written before the restore
    rule = group.rules[0]
    assert isinstance(rule, AlertingRule)
    assert rule.alerts()[0].active_at_ms == at_min * MIN  # a fresh alert, before restoring
    return group, rule


def down_forever(store: MemoryStore) -> None:
    series(store, "up", [0] * 200, job="api", instance="a:1")


def test_time_spent_pending_before_the_restart_counts() -> None:
    store = MemoryStore()
    down_forever(store)
    run_before_restart(store, until_min=10)  # pending 10 of 30 minutes, last written at 10m
    group, rule = restart(store, at_min=15)
    assert restore_for_state(group, store, 15 * MIN) == []
    # 20 minutes were left; they start counting again now: activeAt moves by the 5m downtime.
    assert rule.alerts()[0].active_at_ms == 5 * MIN
    assert rule.restored
    assert step(store, group, 34 * MIN).alerts == ()
    fired = step(store, group, 35 * MIN)
    assert [a.state for a in fired.alerts] == ["firing"]


def test_little_time_left_gets_the_grace_period() -> None:
    store = MemoryStore()
    down_forever(store)
    run_before_restart(store, until_min=25)  # 5 minutes left, less than the 10m grace period
    group, rule = restart(store, at_min=27)
    restore_for_state(group, store, 27 * MIN)
    # It fires no sooner than the grace period after the restore: activeAt = now + 10m - 30m.
    assert rule.alerts()[0].active_at_ms == 7 * MIN
    assert step(store, group, 36 * MIN).alerts == ()
    assert [a.state for a in step(store, group, 37 * MIN).alerts] == ["firing"]


def test_an_alert_that_had_waited_out_its_for_keeps_its_active_time() -> None:
    store = MemoryStore()
    down_forever(store)
    run_before_restart(store, until_min=31)  # firing since 30m
    group, rule = restart(store, at_min=40)
    restore_for_state(group, store, 40 * MIN)
    assert rule.alerts()[0].active_at_ms == 0
    assert [a.state for a in step(store, group, 41 * MIN).alerts] == ["firing"]


def test_rules_with_for_below_the_grace_period_are_not_restored() -> None:
    store = MemoryStore()
    down_forever(store)
    short = RULE.replace("for: 30m", "for: 5m")
    run_before_restart(store, until_min=3, text=short)
    group, rule = restart(store, at_min=4, text=short)
    restore_for_state(group, store, 4 * MIN)
    assert rule.alerts()[0].active_at_ms == 4 * MIN
    assert rule.restored


def test_series_older_than_the_outage_tolerance_are_ignored() -> None:
    store = MemoryStore()
    down_forever(store)
    run_before_restart(store, until_min=10)
    group, rule = restart(store, at_min=80)
    restore_for_state(group, store, 80 * MIN)  # last ALERTS_FOR_STATE at 10m: 70m ago
    assert rule.alerts()[0].active_at_ms == 80 * MIN
    group, rule = restart(store, at_min=80)
    restore_for_state(group, store, 80 * MIN, outage_tolerance_ms=2 * 3_600_000)
    assert rule.alerts()[0].active_at_ms == 70 * MIN


def test_an_alert_that_had_ended_is_not_restored() -> None:
    store = MemoryStore()
    series(store, "up", [0] * 11 + [1] + [0] * 10, job="api", instance="a:1")
    run_before_restart(store, until_min=11)  # resolved at 11m: ALERTS_FOR_STATE got a marker
    group, rule = restart(store, at_min=12)
    restore_for_state(group, store, 12 * MIN)
    assert rule.alerts()[0].active_at_ms == 12 * MIN


def test_restore_reads_only_this_rules_series_and_skips_templated_labels() -> None:
    text = RULE.replace(
        "severity: critical", "severity: critical\n          owner: '{{ $labels.job }}'"
    )
    group = make_group(text, restore_pending=True)
    rule = group.rules[0]
    assert isinstance(rule, AlertingRule)
    assert [str(m) for m in rule.for_state_matchers()] == [
        '__name__="ALERTS_FOR_STATE"',
        'alertname="InstanceDown"',
        'severity="critical"',
    ]


class Broken:
    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        raise Unavailable("storage is down")

    def series(self, *args: object) -> list[Labels]:
        return []

    def label_names(self, *args: object) -> list[str]:
        return []

    def label_values(self, *args: object) -> list[str]:
        return []


def test_unreadable_storage_is_reported_and_alerts_go_on_unrestored() -> None:
    store = MemoryStore()
    down_forever(store)
    group, rule = restart(store, at_min=5)
    problems = restore_for_state(group, Broken(), 5 * MIN)  # type: ignore[arg-type]
    assert problems == ["InstanceDown: storage is down"]
    assert rule.restored
    assert len(step(store, group, 6 * MIN).samples) == 2


@pytest.mark.parametrize("stored_seconds", [599.9, 600.0])
def test_times_are_whole_seconds_as_in_prometheus(stored_seconds: float) -> None:
    store = MemoryStore()
    down_forever(store)
    store.add(
        lbl(
            __name__="ALERTS_FOR_STATE",
            alertname="InstanceDown",
            instance="a:1",
            job="api",
            severity="critical",
        ),
        [20 * MIN + 999],
        [stored_seconds],
    )
    group, rule = restart(store, at_min=25)
    restore_for_state(group, store, 25 * MIN)
    # Down at 20m (the sample's time, truncated to the second), active since the stored value
    # (truncated: 599 or 600 s): 20m left either way, so activeAt moves by the 5m downtime.
    assert rule.alerts()[0].active_at_ms == (int(stored_seconds) + 300) * 1000
