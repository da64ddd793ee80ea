"""The spyglass: section at work in the router: correlation groups, flapping, quiet hours,
acknowledgement and escalation, driven on a manual clock through the real dispatcher and
pipeline with recording senders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from spyglass.alerting import SENDER_BUILDERS, ManualClock, Notification, Router, SenderEnv
from spyglass.core.alerts import Alert
from spyglass.storage.state import SqlStateStore, open_state_store

S = 1_000
MIN = 60 * S
# A Wednesday, 11:00 UTC.
START = int(dt.datetime(2030, 3, 20, 11, tzinfo=dt.UTC).timestamp() * 1000)

HEAD = """
route:
  receiver: primary
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: primary
    webhook_configs: [{url: "http://primary.example/"}]
  - name: secondary
    webhook_configs: [{url: "http://secondary.example/"}]
time_intervals:
  - name: mornings
    time_intervals: [{times: [{start_time: "00:00", end_time: "12:00"}]}]
"""


class Sent:
    """Every notification, by the receiver whose webhook URL it went to."""

    def __init__(self) -> None:
        self.by_url: dict[str, list[Notification]] = {}

    def to(self, receiver: str) -> list[Notification]:
        return self.by_url.get(f"http://{receiver}.example/", [])

    def alertnames(self, receiver: str) -> list[list[str]]:
        return [[a.name for a in n.alerts] for n in self.to(receiver)]


class Recording:
    kind = "webhook"
    send_resolved = True

    def __init__(self, url: str, sent: Sent) -> None:
        self.url, self.sent = url, sent

    async def send(self, notification: Notification) -> None:
        self.sent.by_url.setdefault(self.url, []).append(notification)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[tuple[ManualClock, SqlStateStore]]:
    clock = ManualClock(START)
    store = open_state_store("", tmp_path, clock=clock.now_ms)
    yield clock, store
    store.close()


Scenario = Callable[[Router, ManualClock], Awaitable[None]]


def run(
    tmp_path: Path,
    state: tuple[ManualClock, SqlStateStore],
    monkeypatch: pytest.MonkeyPatch,
    spyglass_section: str,
    scenario: Scenario,
) -> Sent:
    clock, db = state
    sent = Sent()

    def build(config: object, env: SenderEnv) -> Recording:
        del env
        return Recording(str(config.url), sent)  # type: ignore[attr-defined]

    monkeypatch.setitem(SENDER_BUILDERS, "webhook_configs", build)
    path = tmp_path / "alertmanager.yml"
    path.write_text(HEAD + spyglass_section)
    router = Router(str(path), db, clock=clock)
    router.load()

    async def go() -> None:
        await router.start()
        try:
            await scenario(router, clock)
        finally:
            await router.stop()

    asyncio.run(go())
    return sent


def fire(router: Router, clock: ManualClock, name: str, **labels: str) -> None:
    pairs = tuple(sorted({"alertname": name, **labels}.items()))
    assert router.receive([Alert(pairs, (), clock.now, clock.now + 10 * MIN)]) == []


def resolve(router: Router, clock: ManualClock, name: str, **labels: str) -> None:
    pairs = tuple(sorted({"alertname": name, **labels}.items()))
    assert router.receive([Alert(pairs, (), clock.now - S, clock.now)]) == []


async def tick(router: Router, clock: ManualClock, ms: int) -> None:
    """Move time on and run every flush that is due."""
    clock.advance(ms)
    assert router.dispatcher is not None
    await router.dispatcher.flush_due()


def test_alerts_of_one_cause_notify_as_one_group_per_service(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    section = """
spyglass:
  correlations:
    - name: service-degraded
      alerts: [ServiceDown, HighErrorRate, HighResponseTime]
      by: [service]
"""

    async def scenario(router: Router, clock: ManualClock) -> None:
        fire(router, clock, "ServiceDown", service="api")
        fire(router, clock, "HighErrorRate", service="api")
        fire(router, clock, "HighErrorRate", service="db")
        fire(router, clock, "DiskFull", service="api")
        await tick(router, clock, 10 * S)

    sent = run(tmp_path, state, monkeypatch, section, scenario)
    groups = {dict(n.group_labels).get("service", ""): n for n in sent.to("primary")}
    assert sorted(a.name for a in groups["api"].alerts) == ["HighErrorRate", "ServiceDown"]
    assert dict(groups["api"].group_labels) == {"correlation": "service-degraded", "service": "api"}
    assert [a.name for a in groups["db"].alerts] == ["HighErrorRate"]
    assert dict(groups[""].group_labels) == {"alertname": "DiskFull"}  # not correlated
    assert len(sent.to("primary")) == 3


def test_a_flapping_alert_is_held_and_summarised_until_it_calms_down(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    section = "spyglass:\n  flapping: {max_changes: 2, window: 10m}\n"

    async def scenario(router: Router, clock: ManualClock) -> None:
        for _ in range(2):
            fire(router, clock, "Latency", service="api")
            clock.advance(S)
            resolve(router, clock, "Latency", service="api")
            clock.advance(S)
        fire(router, clock, "Latency", service="api")  # the fourth change
        await tick(router, clock, 10 * S)  # Latency's group flushes: held, summary stored
        status = router.marker.status(next(iter(router.store)).fingerprint)
        assert "flapping" in status.muted_by
        await tick(router, clock, 10 * S)  # the summary's own group flushes
        # Calm for longer than the window, still firing: notified again, summary resolved.
        for _ in range(12):
            fire(router, clock, "Latency", service="api")
            await tick(router, clock, MIN)

    sent = run(tmp_path, state, monkeypatch, section, scenario)
    primary = sent.to("primary")
    first_latency = next(i for i, n in enumerate(primary) if n.alerts[0].name == "Latency")
    summaries = [n for n in primary if n.alerts[0].name == "AlertFlapping"]
    assert summaries, sent.alertnames("primary")
    first_summary = primary.index(summaries[0])
    assert first_summary < first_latency  # held first, told only once it calmed down
    summary = summaries[0].alerts[0]
    assert dict(summary.labels)["flapping_alertname"] == "Latency"
    assert "changed state 4 times in the last 10m" in dict(summary.annotations)["summary"]
    assert any(a.ends_at_ms for n in summaries[1:] for a in n.alerts)  # the summary resolved


def test_quiet_hours_hold_a_warning_until_they_end_and_let_a_critical_alert_through(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    section = """
spyglass:
  quiet_hours:
    - time_intervals: [mornings]
      matchers: ['severity!="critical"']
"""

    async def scenario(router: Router, clock: ManualClock) -> None:
        fire(router, clock, "Slow", severity="warning")
        fire(router, clock, "Down", severity="critical")
        await tick(router, clock, 10 * S)
        assert sent_now() == [["Down"]]
        for _ in range(59):  # to 11:59:10, both still firing: still quiet
            fire(router, clock, "Slow", severity="warning")
            fire(router, clock, "Down", severity="critical")
            await tick(router, clock, MIN)
        assert sent_now() == [["Down"]]
        fire(router, clock, "Slow", severity="warning")
        await tick(router, clock, MIN)  # past noon: the held warning goes out
        assert sent_now() == [["Down"], ["Slow"]]

    sent = Sent()

    def sent_now() -> list[list[str]]:
        return sent.alertnames("primary")

    run(tmp_path, state, monkeypatch, section, scenario_with(sent, scenario))


def scenario_with(sent: Sent, scenario: Scenario) -> Scenario:
    """Let a scenario look at what was sent so far (the run's Sent is replaced by ``sent``)."""

    async def go(router: Router, clock: ManualClock) -> None:
        assert router.loaded is not None
        for integrations in router.loaded.integrations.values():
            for integration in integrations:
                integration.sender.sent = sent  # type: ignore[attr-defined]
        await scenario(router, clock)

    return go


def test_an_acknowledged_alert_stops_repeating_until_the_acknowledgement_is_withdrawn(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = Sent()

    async def scenario(router: Router, clock: ManualClock) -> None:
        fire(router, clock, "Down", service="api")
        await tick(router, clock, 10 * S)
        assert len(sent.to("primary")) == 1
        fp = next(iter(router.store)).fingerprint
        router.acks.ack(fp, "alice", "on it", clock.now)
        for _ in range(70):  # past repeat_interval, still firing
            fire(router, clock, "Down", service="api")
            await tick(router, clock, MIN)
        assert len(sent.to("primary")) == 1
        router.acks.withdraw(fp)
        fire(router, clock, "Down", service="api")
        await tick(router, clock, MIN)
        assert len(sent.to("primary")) == 2

    run(tmp_path, state, monkeypatch, "", scenario_with(sent, scenario))


def test_an_unacknowledged_critical_alert_escalates_once_and_an_acknowledged_one_does_not(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    section = """
spyglass:
  escalations:
    - matchers: ['severity="critical"']
      after: 15m
      receiver: secondary
"""
    sent = Sent()

    async def scenario(router: Router, clock: ManualClock) -> None:
        fire(router, clock, "Down", severity="critical")
        fire(router, clock, "DbDown", severity="critical")
        fire(router, clock, "Slow", severity="warning")
        await tick(router, clock, 10 * S)
        assert sent.to("secondary") == []
        db = next(a for a in router.store if a.alert.name == "DbDown")
        router.acks.ack(db.fingerprint, "bob", "failing over", clock.now)
        for _ in range(20):
            for name, sev in (("Down", "critical"), ("DbDown", "critical"), ("Slow", "warning")):
                fire(router, clock, name, severity=sev)
            await tick(router, clock, MIN)

    run(tmp_path, state, monkeypatch, section, scenario_with(sent, scenario))
    assert sent.alertnames("secondary") == [["Down"]]
    assert sorted(n[0] for n in sent.alertnames("primary")) == ["DbDown", "Down", "Slow"]
