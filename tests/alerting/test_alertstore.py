"""The alert store keeps alerts as Alertmanager's alert provider does: by fingerprint, merged,
timed out after resolve_timeout, invalid ones refused with Alertmanager's messages."""

from __future__ import annotations

from spyglass.alerting import AlertStore, StoredAlert
from spyglass.core.alerts import Alert

NOW = 1_700_000_000_000
MIN = 60_000


def alert(name: str = "Down", starts: int = 0, ends: int = 0, **labels: str) -> Alert:
    return Alert((("alertname", name), *sorted(labels.items())), (), starts, ends)


def test_an_alert_without_end_gets_the_resolve_timeout_and_resolves_when_it_passes() -> None:
    store = AlertStore(resolve_timeout_ms=5 * MIN)
    assert store.receive([alert(starts=NOW - MIN)], NOW) == []
    (stored,) = list(store)
    assert stored.timeout
    assert stored.alert.ends_at_ms == NOW + 5 * MIN
    assert not stored.resolved_at(NOW + 5 * MIN - 1)
    assert stored.resolved_at(NOW + 5 * MIN)


def test_an_alert_without_start_starts_now_or_at_its_end() -> None:
    store = AlertStore()
    store.receive([alert("A"), alert("B", ends=NOW - MIN)], NOW)
    starts = {a.alert.name: a.alert.starts_at_ms for a in store}
    assert starts == {"A": NOW, "B": NOW - MIN}


def test_resending_a_firing_alert_keeps_the_earliest_start_and_the_newest_end() -> None:
    store = AlertStore()
    store.receive([alert(starts=NOW - 10 * MIN, ends=NOW + 4 * MIN)], NOW)
    store.receive([alert(starts=NOW - 5 * MIN, ends=NOW + 5 * MIN)], NOW + MIN)
    (stored,) = list(store)
    assert stored.alert.starts_at_ms == NOW - 10 * MIN
    assert stored.alert.ends_at_ms == NOW + 5 * MIN
    assert stored.updated_ms == NOW + MIN


def test_a_resolve_ends_the_stored_alert() -> None:
    store = AlertStore()
    store.receive([alert(starts=NOW - 10 * MIN)], NOW)
    store.receive([alert(starts=NOW - 10 * MIN, ends=NOW + MIN)], NOW + MIN)
    (stored,) = list(store)
    assert stored.resolved_at(NOW + MIN)
    assert not stored.timeout


def test_an_explicit_later_end_is_not_cut_short_by_a_timeout_end() -> None:
    store = AlertStore(resolve_timeout_ms=MIN)
    store.receive([alert(starts=NOW - MIN, ends=NOW + 30 * MIN)], NOW)
    store.receive([alert(starts=NOW)], NOW + MIN)  # no end: timeout, earlier than 30m
    (stored,) = list(store)
    assert stored.alert.ends_at_ms == NOW + 30 * MIN


def test_an_alert_firing_again_after_it_resolved_starts_anew() -> None:
    store = AlertStore()
    store.receive([alert(starts=NOW - 10 * MIN, ends=NOW - 5 * MIN)], NOW)
    store.receive([alert(starts=NOW + MIN)], NOW + MIN)
    (stored,) = list(store)
    assert stored.alert.starts_at_ms == NOW + MIN
    assert not stored.resolved_at(NOW + MIN)


def test_invalid_alerts_are_refused_with_alertmanagers_messages_and_valid_ones_kept() -> None:
    store = AlertStore()
    errors = store.receive(
        [
            Alert((("1a", "b"),)),
            Alert(()),
            Alert((("a", "b"),), starts_at_ms=NOW, ends_at_ms=NOW - MIN),
            Alert((("a", "c"),), (("1x", "y"),)),
            Alert((("a", "d"), ("empty", ""))),
        ],
        NOW,
    )
    assert errors == [
        'invalid label set: invalid name "1a"',
        "at least one label pair required",
        "start time must be before end time",
        'invalid annotations: invalid name "1x"',
    ]
    assert [a.labels for a in store] == [{"a": "d"}]  # the empty label is dropped
    assert store.metrics.invalid == 4
    assert store.metrics.received == {"firing": 4, "resolved": 1}


def test_subscribers_hear_of_stored_alerts_then_of_every_new_one() -> None:
    store = AlertStore()
    store.receive([alert("A")], NOW)
    seen: list[StoredAlert] = []
    unsubscribe = store.subscribe(seen.append)
    store.receive([alert("B")], NOW)
    unsubscribe()
    store.receive([alert("C")], NOW)
    assert [a.alert.name for a in seen] == ["A", "B"]


def test_gc_drops_resolved_alerts_only() -> None:
    store = AlertStore()
    gone: list[str] = []
    store.on_delete.append(gone.append)
    store.receive([alert("A", starts=NOW - MIN, ends=NOW - 1), alert("B")], NOW)
    assert store.gc(NOW) == 1
    assert [a.alert.name for a in store] == ["B"]
    assert len(gone) == 1


def test_fingerprints_are_prometheus_label_set_fingerprints() -> None:
    store = AlertStore()
    store.receive([Alert((("alertname", "A<&>"),), starts_at_ms=NOW)], NOW)
    # The fingerprint the real Alertmanager 0.25 reported for this label set.
    assert next(iter(store)).fingerprint == "c7c792c1b05ed3f3"
