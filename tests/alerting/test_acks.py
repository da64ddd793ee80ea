"""Acknowledgement stops a group repeating; escalation pages the next receiver in time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spyglass.alerting import parse_matchers
from spyglass.alerting._acks import Acknowledgements, EscalationRule, due_escalations
from spyglass.core.errors import BadInput
from spyglass.storage.state import SqlStateStore, open_state_store

MIN = 60_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_000 * MIN

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[SqlStateStore]:
    with open_state_store("", tmp_path, clock=clock) as s:
        yield s


def test_an_acknowledgement_counts_for_the_firing_it_was_made_in(
    store: SqlStateStore, clock: Clock
) -> None:
    acks = Acknowledgements(store)
    acks.ack("fp1", "alice", "looking", clock.now)
    acks.ack("fp2", "alice", "looking", clock.now)
    firing = [("fp1", clock.now - MIN), ("fp2", clock.now + MIN), ("fp3", clock.now - MIN)]
    # fp2 fired again after it was acknowledged; fp3 never was.
    assert acks.current(firing) == {"fp1"}
    assert acks.current([]) == set()


def test_acknowledgements_survive_a_restart_and_expire(tmp_path: Path, clock: Clock) -> None:
    with open_state_store("", tmp_path, clock=clock) as s:
        Acknowledgements(s).ack("fp1", "alice", "db failover", clock.now, clock.now + 30 * MIN)
    with open_state_store("", tmp_path, clock=clock) as s:
        ack = Acknowledgements(s).get("fp1")
        assert ack is not None
        assert (ack.by, ack.comment, ack.expires_ms) == (
            "alice",
            "db failover",
            clock.now + 30 * MIN,
        )
        clock.now += 30 * MIN
        assert Acknowledgements(s).get("fp1") is None


def test_withdrawing_and_listing(store: SqlStateStore, clock: Clock) -> None:
    acks = Acknowledgements(store)
    for fp in ("b", "a", "c"):
        acks.ack(fp, "bob", "", clock.now)
    assert [a.fingerprint for a in acks.all()] == ["a", "b", "c"]
    assert acks.withdraw("b")
    assert not acks.withdraw("b")
    assert [a.fingerprint for a in acks.all()] == ["a", "c"]


@pytest.mark.parametrize(("by", "expires"), [("  ", 0), ("alice", -1)])
def test_an_anonymous_or_already_expired_acknowledgement_is_refused(
    store: SqlStateStore, clock: Clock, by: str, expires: int
) -> None:
    with pytest.raises(BadInput):
        Acknowledgements(store).ack("fp", by, "", clock.now, clock.now + expires if expires else 0)


def test_an_unacknowledged_critical_alert_escalates_after_the_delay() -> None:
    rule = EscalationRule("secondary", 15 * MIN, tuple(parse_matchers('severity="critical"')))
    critical = ("fp1", {"alertname": "Down", "severity": "critical"}, 0)
    warning = ("fp2", {"alertname": "Slow", "severity": "warning"}, 0)
    assert due_escalations([rule], [critical, warning], set(), 14 * MIN) == []
    due = due_escalations([rule], [critical, warning], set(), 15 * MIN)
    assert [(e.fingerprint, e.rule.receiver) for e in due] == [("fp1", "secondary")]
    assert due_escalations([rule], [critical], {"fp1"}, 20 * MIN) == []


def test_an_escalation_without_receiver_or_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="receiver"):
        EscalationRule("", MIN)
    with pytest.raises(ValueError, match="after"):
        EscalationRule("x", 0)
