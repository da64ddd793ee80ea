"""The dispatcher groups alerts on the routing tree and flushes groups on Alertmanager's timers:
group_wait first, then every group_interval; resolved alerts leave a group after a successful
flush. A manual clock drives time, so every assertion is about exact milliseconds."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest

from spyglass.alerting import (
    AlertStore,
    Dispatcher,
    Flush,
    ManualClock,
    RoutingTree,
    StoredAlert,
    load_alertmanager_config,
)
from spyglass.core.alerts import Alert

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  routes:
    - matchers: [team="db"]
      receiver: db
      continue: true
    - matchers: [team="db"]
      receiver: db-pager
receivers: [{name: default}, {name: db}, {name: db-pager}]
"""
S = 1000
Setup = tuple[ManualClock, AlertStore, Dispatcher, "Recorder"]


def run(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in its own event loop (the suite has no asyncio plugin)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


MIN = 60 * S


class Recorder:
    def __init__(self) -> None:
        self.flushes: list[tuple[Flush, list[StoredAlert]]] = []
        self.ok = True

    async def __call__(self, flush: Flush, alerts: Sequence[StoredAlert]) -> bool:
        self.flushes.append((flush, list(alerts)))
        return self.ok

    def names(self) -> list[list[str]]:
        return [
            [a.alert.name + ("/resolved" if a.alert.ends_at_ms else "") for a in alerts]
            for _, alerts in self.flushes
        ]


@pytest.fixture
def setup() -> Setup:
    clock = ManualClock()
    store = AlertStore(resolve_timeout_ms=86_400_000)  # alerts resolve only when told here
    rec = Recorder()
    tree = RoutingTree.of(load_alertmanager_config(CONFIG))
    d = Dispatcher(tree, store, rec, clock)
    d.subscribe()
    return clock, store, d, rec


def post(store: AlertStore, clock: ManualClock, name: str, *, ends: int = 0, **labels: str) -> None:
    a = Alert((("alertname", name), *sorted(labels.items())), (), clock.now, ends)
    assert store.receive([a], clock.now) == []


@run
async def test_first_flush_after_group_wait_with_alerts_that_joined_meanwhile(setup: Setup) -> None:
    clock, store, d, rec = setup
    post(store, clock, "Down", instance="a")
    clock.advance(10 * S)
    post(store, clock, "Down", instance="b")
    clock.advance(19_999)
    assert await d.flush_due() == 0
    clock.advance(1)
    assert await d.flush_due() == 1
    flush, alerts = rec.flushes[0]
    assert flush.group_key == '{}:{alertname="Down"}'
    assert flush.options.receiver == "default"
    assert flush.deadline_ms == clock.now + 5 * MIN  # the group interval
    assert [a.labels["instance"] for a in alerts] == ["a", "b"]
    assert all(a.alert.ends_at_ms == 0 for a in alerts)  # firing alerts go out without an end


@run
async def test_an_alert_joining_a_flushed_group_waits_for_the_next_interval(setup: Setup) -> None:
    clock, store, d, rec = setup
    post(store, clock, "Down", instance="a")
    clock.advance(30 * S)
    await d.flush_due()
    clock.advance(S)
    post(store, clock, "Down", instance="b")
    clock.advance(5 * MIN - 2 * S)
    assert await d.flush_due() == 0
    clock.advance(S)
    assert await d.flush_due() == 1
    assert [len(alerts) for _, alerts in rec.flushes] == [1, 2]


@run
async def test_an_alert_older_than_group_wait_flushes_a_new_group_at_once(setup: Setup) -> None:
    clock, store, d, _rec = setup
    a = Alert((("alertname", "Old"),), (), clock.now - MIN)
    store.receive([a], clock.now)
    assert await d.flush_due() == 1


@run
async def test_continue_puts_an_alert_in_a_group_on_every_matching_route(setup: Setup) -> None:
    clock, store, d, rec = setup
    post(store, clock, "Slow", team="db")
    clock.advance(30 * S)
    await d.flush_due()
    assert sorted(f.options.receiver for f, _ in rec.flushes) == ["db", "db-pager"]
    assert sorted(f.group_key for f, _ in rec.flushes) == [
        '{}/{team="db"}:{alertname="Slow"}',
        '{}/{team="db"}:{alertname="Slow"}',
    ]


@run
async def test_resolved_alerts_leave_the_group_after_a_successful_flush_only(setup: Setup) -> None:
    clock, store, d, rec = setup
    post(store, clock, "Down", instance="a")
    post(store, clock, "Down", instance="b")
    clock.advance(30 * S)
    await d.flush_due()
    post(store, clock, "Down", ends=clock.now, instance="a")
    rec.ok = False
    clock.advance(5 * MIN)
    await d.flush_due()
    rec.ok = True
    clock.advance(5 * MIN)
    await d.flush_due()
    clock.advance(5 * MIN)
    await d.flush_due()
    assert rec.names() == [
        ["Down", "Down"],
        ["Down/resolved", "Down"],  # failed: the resolved alert stays
        ["Down/resolved", "Down"],
        ["Down"],
    ]


@run
async def test_empty_groups_are_removed_and_a_new_alert_waits_group_wait_again(
    setup: Setup,
) -> None:
    clock, store, d, _rec = setup
    post(store, clock, "Down", ends=clock.now + S)
    clock.advance(30 * S)
    await d.flush_due()  # notified firing... resolved at +1s, so it goes as resolved
    assert len(d.groups) == 1
    clock.advance(30 * S)
    await d.flush_due()  # cleanup: the group emptied by the flush is removed
    assert d.groups == {}
    post(store, clock, "Down")
    clock.advance(29 * S)
    assert await d.flush_due() == 0
    clock.advance(S)
    assert await d.flush_due() == 1


@run
async def test_alerts_are_sorted_by_job_then_instance_then_labels(setup: Setup) -> None:
    clock, store, d, rec = setup
    post(store, clock, "Down", instance="b", job="x")
    post(store, clock, "Down", instance="a", job="y")
    post(store, clock, "Down", instance="a", job="x")
    post(store, clock, "Down", zone="1")
    clock.advance(30 * S)
    await d.flush_due()
    got = [(a.labels.get("job"), a.labels.get("instance")) for a in rec.flushes[0][1]]
    assert got == [("x", "a"), ("x", "b"), ("y", "a"), (None, None)]


@run
async def test_a_dispatcher_built_later_regroups_the_stored_alerts() -> None:
    clock = ManualClock()
    store = AlertStore()
    store.receive([Alert((("alertname", "Down"),), (), clock.now)], clock.now)
    clock.advance(MIN)
    rec = Recorder()
    d = Dispatcher(RoutingTree.of(load_alertmanager_config(CONFIG)), store, rec, clock)
    d.subscribe()
    # The alert is older than group_wait: the rebuilt group flushes at once, as after a reload.
    assert await d.flush_due() == 1


@run
async def test_a_short_group_interval_still_gives_a_flush_ten_seconds_to_deliver() -> None:
    clock = ManualClock()
    store = AlertStore()
    rec = Recorder()
    config = CONFIG.replace("group_interval: 5m", "group_interval: 1s")
    d = Dispatcher(RoutingTree.of(load_alertmanager_config(config)), store, rec, clock)
    d.subscribe()
    post(store, clock, "Down")
    clock.advance(30 * S)
    await d.flush_due()
    assert rec.flushes[0][0].deadline_ms == clock.now + 10 * S
