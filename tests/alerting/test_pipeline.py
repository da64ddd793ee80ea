"""The notification pipeline: inhibition, time intervals and silences hold alerts back (and say
so in the marker); dedup against the notification log decides whether to send; retryable
failures are retried with backoff until the flush's deadline, others are not."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from spyglass.alerting import (
    AlertStore,
    Flush,
    ManualClock,
    Marker,
    Notification,
    NotificationHistory,
    NotificationLog,
    NotifyError,
    Pipeline,
    ReceiverKey,
    RouteOptions,
    load_alertmanager_config,
)
from spyglass.alerting._dispatch import AggregationGroup
from spyglass.alerting._pipeline import Integration
from spyglass.core.alerts import Alert
from spyglass.storage.state import SqlStateStore, open_state_store

MIN = 60_000
HOUR = 60 * MIN
CONFIG = """
route: {receiver: team}
receivers: [{name: team}]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
time_intervals:
  - name: weekends
    time_intervals: [{weekdays: [saturday, sunday]}]
"""


class FakeSender:
    kind = "webhook"

    def __init__(self, *, send_resolved: bool = True) -> None:
        self.send_resolved = send_resolved
        self.sent: list[Notification] = []
        self.failures: list[NotifyError] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification)
        if self.failures:
            raise self.failures.pop(0)


class Silences:
    def __init__(self, ids: Mapping[str, str]) -> None:
        self.ids = ids  # alertname -> silence id

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> tuple[str, ...]:
        sid = self.ids.get(labels.get("alertname", ""))
        return (sid,) if sid else ()


State = tuple[ManualClock, SqlStateStore]
WEDNESDAY_NOON = int(dt.datetime(2030, 3, 20, 12, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    # The store reads the same clock, so the log's 120h retention runs on test time.
    clock = ManualClock(WEDNESDAY_NOON)
    store = open_state_store("", tmp_path, clock=clock.now_ms)
    yield clock, store
    store.close()


def make(
    state: tuple[ManualClock, SqlStateStore], sender: FakeSender, **options: object
) -> tuple[Pipeline, AlertStore]:
    clock, db = state
    config = load_alertmanager_config(CONFIG)
    alerts = AlertStore(resolve_timeout_ms=24 * HOUR)
    pipeline = Pipeline(
        integrations={"team": [Integration(ReceiverKey("team", "webhook", 0), sender)]},
        nflog=NotificationLog(db),
        store=alerts,
        marker=Marker(),
        clock=clock,
        metrics=alerts.metrics,
        inhibit_rules=config.inhibit_rules,
        intervals=config.intervals(),
        **options,  # type: ignore[arg-type]
    )
    return pipeline, alerts


def post(alerts: AlertStore, clock: ManualClock, *, ends: int = 0, **labels: str) -> None:
    assert (
        alerts.receive([Alert(tuple(sorted(labels.items())), (), clock.now, ends)], clock.now) == []
    )


def flush(pipeline: Pipeline, alerts: AlertStore, clock: ManualClock, **options: object) -> bool:
    group = AggregationGroup(None, {}, "{}:{}", 0)  # type: ignore[arg-type]
    group.alerts = {a.fingerprint: a for a in alerts}
    opts = RouteOptions(receiver="team", repeat_interval_ms=4 * HOUR, **options)  # type: ignore[arg-type]
    f = Flush("{}:{}", (), opts, clock.now, clock.now + 5 * MIN)
    return asyncio.run(pipeline.run(f, group.snapshot(clock.now)))


def names(n: Notification) -> list[str]:
    return [a.name + ("/resolved" if a.resolved_at(n.now_ms) else "") for a in n.alerts]


def test_dedup_sends_changes_and_repeats_after_the_repeat_interval(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="A")
    assert flush(p, alerts, clock)
    clock.advance(5 * MIN)
    flush(p, alerts, clock)  # nothing changed
    post(alerts, clock, alertname="B")
    flush(p, alerts, clock)  # a new firing alert
    clock.advance(4 * HOUR)
    flush(p, alerts, clock)  # exactly the repeat interval since the last send: not yet
    clock.advance(1)
    flush(p, alerts, clock)  # repeat interval passed
    assert [names(n) for n in sender.sent] == [["A"], ["A", "B"], ["A", "B"]]


def test_resolved_alerts_are_sent_once_to_an_integration_that_sends_them(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="A")
    post(alerts, clock, alertname="B")
    flush(p, alerts, clock)
    clock.advance(MIN)
    post(alerts, clock, ends=clock.now, alertname="A")
    flush(p, alerts, clock)
    flush(p, alerts, clock)
    assert [names(n) for n in sender.sent] == [["A", "B"], ["A/resolved", "B"]]


def test_without_send_resolved_only_the_all_resolved_change_is_logged_not_sent(
    state: State,
) -> None:
    clock, _ = state
    sender = FakeSender(send_resolved=False)
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="A")
    post(alerts, clock, alertname="B")
    flush(p, alerts, clock)
    clock.advance(MIN)
    post(alerts, clock, ends=clock.now, alertname="A")
    flush(p, alerts, clock)  # B still fires, A resolved: nothing new to say
    post(alerts, clock, ends=clock.now, alertname="B")
    assert flush(p, alerts, clock)  # all resolved: logged, nothing sent
    post(alerts, clock, alertname="A")
    flush(p, alerts, clock)  # A fires again: the log forgot it, so it is news
    assert [names(n) for n in sender.sent] == [["A", "B"], ["A"]]


def test_a_group_never_notified_with_only_resolved_alerts_sends_nothing(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    p, alerts = make(state, sender)
    post(alerts, clock, ends=clock.now, alertname="A")
    assert flush(p, alerts, clock)
    assert sender.sent == []


def test_retryable_failures_are_retried_with_backoff_until_success(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    sender.failures = [NotifyError("503", retry=True, reason="serverError")] * 3
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="A")
    start = clock.now
    assert flush(p, alerts, clock)
    assert len(sender.sent) == 4
    # 0.5 s, 0.75 s, 1.125 s, each randomised by ±50 %.
    assert 1_187 <= clock.now - start <= 3_563
    m = alerts.metrics
    assert (m.notifications["webhook"], m.requests["webhook"], m.requests_failed["webhook"]) == (
        1,
        4,
        3,
    )
    assert m.failed == {}


def test_retrying_stops_at_the_flush_deadline_and_counts_a_failure(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    sender.failures = [NotifyError("503", retry=True, reason="serverError")] * 1000
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="A")
    start = clock.now
    assert not flush(p, alerts, clock)
    assert clock.now - start == 5 * MIN
    assert alerts.metrics.failed == {("webhook", "serverError"): 1}
    sender.failures = []
    flush(p, alerts, clock)  # nothing was logged, so the next flush tries again
    assert names(sender.sent[-1]) == ["A"]


def test_a_client_error_is_not_retried(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    sender.failures = [NotifyError("unexpected status code 400", retry=False, reason="clientError")]
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="A")
    assert not flush(p, alerts, clock)
    assert len(sender.sent) == 1
    assert alerts.metrics.failed == {("webhook", "clientError"): 1}


def test_inhibited_alerts_are_held_back_and_marked(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="Down", severity="critical", service="db")
    post(alerts, clock, alertname="Slow", severity="warning", service="db")
    post(alerts, clock, alertname="Slow", severity="warning", service="web")
    flush(p, alerts, clock)
    assert [dict(a.labels)["service"] for a in sender.sent[0].alerts] == ["db", "web"]
    assert [a.name for a in sender.sent[0].alerts] == ["Down", "Slow"]
    by_name = {(a.alert.name, a.labels["service"]): p.marker.status(a.fingerprint) for a in alerts}
    source = next(a for a in alerts if a.alert.name == "Down").fingerprint
    assert by_name["Slow", "db"].inhibited_by == (source,)
    assert by_name["Slow", "db"].state == "suppressed"
    assert by_name["Slow", "web"].state == "active"


def test_silenced_alerts_are_held_back_and_marked_with_the_silence(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    p, alerts = make(state, sender, silencer=Silences({"Noisy": "s-1"}))
    post(alerts, clock, alertname="Noisy")
    post(alerts, clock, alertname="Real")
    flush(p, alerts, clock)
    assert [names(n) for n in sender.sent] == [["Real"]]
    noisy = next(a for a in alerts if a.alert.name == "Noisy")
    assert p.marker.status(noisy.fingerprint).silenced_by == ("s-1",)


def test_mute_and_active_time_intervals_hold_back_the_whole_group(state: State) -> None:
    clock, _ = state
    sender = FakeSender()
    p, alerts = make(state, sender)
    post(alerts, clock, alertname="A")
    (a,) = list(alerts)
    assert flush(p, alerts, clock, active_time_intervals=("weekends",))  # a Wednesday
    assert sender.sent == []
    assert p.marker.status(a.fingerprint).muted_by == ("weekends",)
    assert flush(p, alerts, clock, mute_time_intervals=("weekends",))
    assert [names(n) for n in sender.sent] == [["A"]]
    assert p.marker.status(a.fingerprint).state == "active"
    clock.advance(4 * 24 * HOUR)  # Sunday
    post(alerts, clock, alertname="B")
    assert flush(p, alerts, clock, mute_time_intervals=("weekends",))
    assert len(sender.sent) == 1


def test_a_sender_that_breaks_fails_its_integration_only(state: State) -> None:
    clock, _ = state

    class Broken(FakeSender):
        async def send(self, notification: Notification) -> None:
            raise RuntimeError("bug")

    good = FakeSender()
    p, alerts = make(state, good)
    p.integrations = {
        "team": [
            Integration(ReceiverKey("team", "webhook", 0), Broken()),
            Integration(ReceiverKey("team", "webhook", 1), good),
        ]
    }
    post(alerts, clock, alertname="A")
    assert not flush(p, alerts, clock)
    assert [names(n) for n in good.sent] == [["A"]]


def test_every_ended_delivery_is_kept_in_the_history_and_survives_a_restart(
    state: State,
) -> None:
    clock, db = state
    sender = FakeSender()
    history = NotificationHistory(db)
    p, alerts = make(state, sender, history=history)
    post(alerts, clock, alertname="A")
    post(alerts, clock, alertname="B")
    flush(p, alerts, clock)
    clock.advance(MIN)
    flush(p, alerts, clock)  # nothing new: no delivery, no entry
    clock.advance(MIN)
    post(alerts, clock, ends=clock.now, alertname="A")
    sender.failures = [NotifyError("400 from hook", retry=False, reason="clientError")]
    flush(p, alerts, clock)
    newest, oldest = history.recent()
    assert (oldest.ok, oldest.firing, oldest.resolved, oldest.alertnames) == (
        True,
        2,
        0,
        ("A", "B"),
    )
    assert (oldest.receiver, oldest.integration, oldest.index) == ("team", "webhook", 0)
    assert not newest.ok
    assert "400 from hook" in newest.error
    assert (newest.firing, newest.resolved) == (1, 1)
    again = NotificationHistory(db)
    again.load()
    assert again.recent() == [newest, oldest]
