"""Silences as Alertmanager's silence package keeps them: states over time, validation, update
rules, expiry, queries, muting, garbage collection and durability in the state store.

A fake clock drives time; the state store is a real SQLite database in the test's directory.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from tests.support.postgres import running_postgres
from tests.support.state import FakeClock

from spyglass.alerting import (
    InvalidSilence,
    MaintenanceWindow,
    Matcher,
    MatcherError,
    Silence,
    SilenceDraft,
    SilenceNotFound,
    Silences,
    TimeInterval,
    TimeRange,
    load_alertmanager_config,
)
from spyglass.alerting._silences import KIND
from spyglass.storage.state import SqlStateStore, open_state_store

MINUTE = 60_000
HOUR = 60 * MINUTE
T0 = 1_800_000_000_000  # 2027-01-15T08:00:00Z


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SqlStateStore]:
    with open_state_store("", tmp_path, clock=clock) as s:
        yield s


@pytest.fixture
def silences(store: SqlStateStore, clock: FakeClock) -> Silences:
    return Silences(store, clock=clock)


def draft(
    *matchers: tuple[str, str, str],
    start: int = T0,
    end: int = T0 + HOUR,
    silence_id: str = "",
    comment: str = "deploy",
) -> SilenceDraft:
    return SilenceDraft(
        matchers=matchers or (("alertname", "=", "Foo"),),
        starts_at_ms=start,
        ends_at_ms=end,
        created_by="alice",
        comment=comment,
        id=silence_id,
    )


# -- creating and states ----------------------------------------------------------------------


def test_a_new_silence_gets_a_uuid_and_moves_from_pending_to_active_to_expired(
    silences: Silences, clock: FakeClock
) -> None:
    sid = silences.set(draft(start=T0 + MINUTE, end=T0 + 2 * MINUTE))
    assert uuid.UUID(sid).version == 4
    silence = silences.get(sid)
    assert silence is not None
    assert (silence.created_by, silence.comment, silence.updated_at_ms) == ("alice", "deploy", T0)
    assert silence.state(clock()) == "pending"
    clock.advance(MINUTE)
    assert silence.state(clock()) == "active"
    clock.advance(MINUTE)
    assert silence.state(clock()) == "expired"


def test_a_start_in_the_past_becomes_now(silences: Silences) -> None:
    sid = silences.set(draft(start=T0 - HOUR))
    silence = silences.get(sid)
    assert silence is not None
    assert silence.starts_at_ms == T0


@pytest.mark.parametrize(
    ("matchers", "message"),
    [
        (
            (("alertname", "=", ""),),
            "silence invalid: at least one matcher must not match the empty string",
        ),
        (
            (("alertname", "=~", ".*"), ("job", "=", "")),
            "silence invalid: at least one matcher must not match the empty string",
        ),
        (
            (("job", "=", "api"), ("alertname", "=~", "(")),
            'silence invalid: invalid label matcher 1: invalid regular expression "(": '
            "error parsing regexp: missing closing ): `(`",
        ),
        ((), "silence invalid: at least one matcher required"),
    ],
)
def test_invalid_silences_are_refused_with_alertmanagers_message(
    silences: Silences, matchers: tuple[tuple[str, str, str], ...], message: str
) -> None:
    bad = SilenceDraft(matchers=matchers, starts_at_ms=T0, ends_at_ms=T0 + HOUR)
    with pytest.raises(InvalidSilence) as err:
        silences.set(bad)
    assert str(err.value) == message
    assert silences.query() == []


def test_negative_matchers_alone_are_accepted_as_alertmanager_accepts_them(
    silences: Silences,
) -> None:
    """Alertmanager's empty-string rule counts only = and =~ matchers."""
    sid = silences.set(draft(("job", "!=", "api")))
    assert silences.mutes({"job": "web"}, T0) == (sid,)


def test_label_names_follow_the_matcher_mode(store: SqlStateStore, clock: FakeClock) -> None:
    utf8 = Silences(store, clock=clock)
    assert utf8.set(draft(("service.name", "=", "api")))
    classic = Silences(store, clock=clock, mode="classic")
    with pytest.raises(InvalidSilence, match='invalid label matcher 0: invalid label name "a-b"'):
        classic.set(draft(("a-b", "=", "x")))


def test_end_before_start_is_refused(silences: Silences) -> None:
    with pytest.raises(InvalidSilence, match="end time must not be before start time"):
        silences.set(draft(start=T0 + 2 * HOUR, end=T0 + HOUR))


# -- updating ----------------------------------------------------------------------------------


def test_updating_an_unknown_id_is_not_found(silences: Silences) -> None:
    with pytest.raises(SilenceNotFound, match="silence not found"):
        silences.set(draft(silence_id=str(uuid.uuid4())))


def test_a_pending_silence_is_updated_in_place(silences: Silences, clock: FakeClock) -> None:
    sid = silences.set(draft(start=T0 + HOUR, end=T0 + 2 * HOUR))
    clock.advance(MINUTE)
    same = silences.set(
        draft(("alertname", "=", "Foo"), start=T0 + 30 * MINUTE, end=T0 + 3 * HOUR, silence_id=sid)
    )
    assert same == sid
    s = silences.get(sid)
    assert s is not None
    assert (s.starts_at_ms, s.ends_at_ms, s.updated_at_ms) == (
        T0 + 30 * MINUTE,
        T0 + 3 * HOUR,
        T0 + MINUTE,
    )
    assert len(silences.query()) == 1


def test_a_pending_silence_moved_to_start_in_the_past_is_replaced(
    silences: Silences, clock: FakeClock
) -> None:
    sid = silences.set(draft(start=T0 + HOUR, end=T0 + 2 * HOUR))
    new = silences.set(draft(start=T0 - MINUTE, end=T0 + 2 * HOUR, silence_id=sid))
    assert new != sid
    old = silences.get(sid)
    assert old is not None
    assert (old.starts_at_ms, old.ends_at_ms) == (T0, T0)  # a pending one ends before it began
    assert old.state(clock()) == "expired"
    replacement = silences.get(new)
    assert replacement is not None
    assert replacement.starts_at_ms == T0


def test_an_active_silence_with_a_new_end_is_updated_in_place(
    silences: Silences, clock: FakeClock
) -> None:
    sid = silences.set(draft())
    clock.advance(10 * MINUTE)
    assert silences.set(draft(end=T0 + 5 * HOUR, silence_id=sid, comment="longer")) == sid
    s = silences.get(sid)
    assert s is not None
    assert (s.ends_at_ms, s.comment) == (T0 + 5 * HOUR, "longer")


@pytest.mark.parametrize(
    "change",
    [
        {"matchers": (("alertname", "=", "Bar"),)},
        {"start": T0 + 5 * 60_000},
    ],
    ids=["matchers changed", "start moved"],
)
def test_an_active_silence_whose_history_would_change_is_expired_and_replaced(
    silences: Silences, clock: FakeClock, change: dict[str, object]
) -> None:
    sid = silences.set(draft())
    clock.advance(10 * MINUTE)
    args: dict[str, object] = {"silence_id": sid, "end": T0 + 2 * HOUR}
    matchers = change.get("matchers", (("alertname", "=", "Foo"),))
    if "start" in change:
        args["start"] = change["start"]
    new = silences.set(draft(*matchers, **args))  # type: ignore[arg-type]
    assert new != sid
    old = silences.get(sid)
    assert old is not None
    assert old.ends_at_ms == clock()
    assert old.state(clock()) == "expired"
    assert {s.id for s in silences.query(states=["active"])} == {new}


def test_updating_an_expired_silence_creates_a_new_one_and_keeps_the_old(
    silences: Silences, clock: FakeClock
) -> None:
    sid = silences.set(draft(end=T0 + MINUTE))
    clock.advance(2 * MINUTE)
    before = silences.get(sid)
    new = silences.set(draft(start=clock(), end=clock() + HOUR, silence_id=sid))
    assert new != sid
    assert silences.get(sid) == before


# -- expiring ----------------------------------------------------------------------------------


def test_expiring_an_active_silence_ends_it_now(silences: Silences, clock: FakeClock) -> None:
    sid = silences.set(draft())
    clock.advance(MINUTE)
    silences.expire(sid)
    s = silences.get(sid)
    assert s is not None
    assert (s.starts_at_ms, s.ends_at_ms, s.state(clock())) == (T0, T0 + MINUTE, "expired")


def test_expiring_a_pending_silence_starts_and_ends_it_now(
    silences: Silences, clock: FakeClock
) -> None:
    sid = silences.set(draft(start=T0 + HOUR, end=T0 + 2 * HOUR))
    silences.expire(sid)
    s = silences.get(sid)
    assert s is not None
    assert (s.starts_at_ms, s.ends_at_ms, s.state(clock())) == (T0, T0, "expired")


def test_expiring_an_expired_silence_changes_nothing(silences: Silences, clock: FakeClock) -> None:
    """Alertmanager's expire is idempotent: the second DELETE answers 200 and changes nothing."""
    sid = silences.set(draft())
    silences.expire(sid)
    first = silences.get(sid)
    clock.advance(MINUTE)
    silences.expire(sid)
    assert silences.get(sid) == first


def test_expiring_an_unknown_silence_is_not_found(silences: Silences) -> None:
    with pytest.raises(SilenceNotFound):
        silences.expire(str(uuid.uuid4()))


# -- queries and muting ------------------------------------------------------------------------


def test_query_by_state_and_labels(silences: Silences, clock: FakeClock) -> None:
    active = silences.set(draft(("job", "=", "api")))
    pending = silences.set(draft(("job", "=~", "api|web"), start=T0 + HOUR, end=T0 + 2 * HOUR))
    expired = silences.set(draft(("job", "=", "db")))
    silences.expire(expired)
    assert {s.id for s in silences.query(states=["active"])} == {active}
    assert {s.id for s in silences.query(states=["pending", "expired"])} == {pending, expired}
    assert {s.id for s in silences.query(labels={"job": "api"})} == {active, pending}
    assert silences.count() == {"active": 1, "pending": 1, "expired": 1}


def test_mutes_returns_only_active_matching_silences_sorted(
    silences: Silences, clock: FakeClock
) -> None:
    a = silences.set(draft(("job", "=", "api")))
    b = silences.set(draft(("severity", "=~", "warn|info")))
    silences.set(draft(("job", "=", "api"), start=T0 + HOUR, end=T0 + 2 * HOUR))  # pending
    assert silences.mutes({"job": "api", "severity": "info"}, clock()) == tuple(sorted((a, b)))
    assert silences.mutes({"job": "api", "severity": "critical"}, clock()) == (a,)
    assert silences.mutes({"job": "web"}, clock()) == ()
    # A regex is anchored: "warn|info" does not match "warning".
    assert silences.mutes({"severity": "warning"}, clock()) == ()


def test_mutes_follows_the_clock_and_every_change(silences: Silences, clock: FakeClock) -> None:
    labels = {"alertname": "Foo", "job": "api"}
    later = silences.set(draft(start=T0 + HOUR, end=T0 + 2 * HOUR))
    assert silences.mutes(labels, T0) == ()
    assert silences.mutes(labels, T0 + HOUR) == (later,)  # pending became active, same version
    now = silences.set(draft(("job", "=", "api")))
    assert silences.mutes(labels, T0) == (now,)
    silences.expire(now)
    assert silences.mutes(labels, T0 + MINUTE) == ()
    assert silences.mutes(labels, T0 + 2 * HOUR) == ()  # the pending one ended too


def test_mutes_with_many_silences_and_alerts(silences: Silences, clock: FakeClock) -> None:
    ids = {i: silences.set(draft(("instance", "=", f"host-{i}"))) for i in range(300)}
    for round_ in range(2):  # the second round is answered from the cache
        for i in range(0, 600, 7):
            got = silences.mutes({"alertname": "Down", "instance": f"host-{i}"}, clock())
            assert got == ((ids[i],) if i in ids else ()), round_


def test_silences_without_an_equality_matcher_are_checked_for_every_label_set(
    silences: Silences, clock: FakeClock
) -> None:
    """Silences are indexed by an equality matcher; those with none must still match."""
    regex = silences.set(draft(("instance", "=~", "db-.*")))
    negative = silences.set(draft(("env", "!=", "prod")))
    empty_first = silences.set(draft(("team", "=", ""), ("job", "=", "cron")))
    assert silences.mutes({"instance": "db-1", "env": "prod"}, clock()) == (regex,)
    assert silences.mutes({"env": "dev"}, clock()) == (negative,)
    assert silences.mutes({"job": "cron", "env": "prod"}, clock()) == (empty_first,)
    assert silences.mutes({"job": "cron", "team": "x", "env": "prod"}, clock()) == ()
    # A replaced silence leaves the index with its old matchers.
    moved = silences.set(draft(("job", "=", "batch"), silence_id=empty_first))
    assert silences.mutes({"job": "cron", "env": "prod"}, clock()) == ()
    assert silences.mutes({"job": "batch", "env": "prod"}, clock()) == (moved,)


# -- durability and garbage collection ---------------------------------------------------------


def test_silences_survive_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    with open_state_store("", tmp_path, clock=clock) as store:
        s = Silences(store, clock=clock)
        sid = s.set(draft(("job", "=~", "api|web")))
        expired = s.set(draft())
        s.expire(expired)
        before = {x.id: x for x in s.query()}
    with open_state_store("", tmp_path, clock=clock) as store:
        again = Silences(store, clock=clock)
        assert {x.id: x for x in again.query()} == before
        assert again.mutes({"job": "web"}, clock()) == (sid,)


def test_expired_silences_are_collected_after_the_retention(
    store: SqlStateStore, clock: FakeClock
) -> None:
    silences = Silences(store, clock=clock, retention_ms=2 * HOUR)
    sid = silences.set(draft(end=T0 + HOUR))
    keep = silences.set(draft(end=T0 + 5 * HOUR))
    clock.advance(3 * HOUR - 1)
    assert silences.gc() == 0
    clock.advance(1)
    assert silences.gc() == 1
    assert silences.get(sid) is None
    assert silences.get(keep) is not None
    # The state store dropped the document by itself: a restart does not bring it back.
    assert store.get(KIND, sid) is None
    assert {x.id for x in Silences(store, clock=clock).query()} == {keep}


def test_metrics_count_silences_by_state(silences: Silences, clock: FakeClock) -> None:
    silences.set(draft())
    silences.set(draft(start=T0 + HOUR, end=T0 + 2 * HOUR))
    silences.query()
    registry = CollectorRegistry()
    for c in silences.collectors():
        registry.register(c)
    text = generate_latest(registry).decode()
    assert 'alertmanager_silences{state="active"} 1.0' in text
    assert 'alertmanager_silences{state="pending"} 1.0' in text
    assert 'alertmanager_silences{state="expired"} 0.0' in text
    assert "alertmanager_silences_queries_total 1.0" in text
    assert "alertmanager_silences_query_duration_seconds_count 1.0" in text


# -- maintenance windows -----------------------------------------------------------------------


def test_a_one_off_maintenance_window_mutes_while_it_runs_and_is_listed(
    silences: Silences,
) -> None:
    window = MaintenanceWindow(
        name="db-upgrade",
        matchers=(Matcher.of("service", "=", "db"),),
        comment="PostgreSQL 17",
        start_ms=T0 + HOUR,
        end_ms=T0 + 2 * HOUR,
    )
    silences.configure([window], {})
    db = {"service": "db", "alertname": "Down"}
    assert silences.mutes(db, T0) == ()
    assert silences.mutes(db, T0 + HOUR) == ("maintenance:db-upgrade",)
    assert silences.mutes({"service": "api"}, T0 + HOUR) == ()
    assert silences.mutes(db, T0 + 2 * HOUR) == ()
    [listed] = silences.query(now_ms=T0)
    assert (listed.id, listed.created_by, listed.comment) == (
        "maintenance:db-upgrade",
        "spyglass maintenance window",
        "PostgreSQL 17",
    )
    assert listed.state(T0) == "pending"
    assert silences.get("maintenance:db-upgrade") == listed
    assert silences.count() == {"active": 0, "pending": 0, "expired": 0}


def test_a_recurring_maintenance_window_follows_its_time_interval_until_its_end(
    silences: Silences,
) -> None:
    # T0 is 08:00 UTC; the interval is 09:00-10:00 every day.
    nine_to_ten = (TimeInterval(times=(TimeRange(9 * 60, 10 * 60),)),)
    window = MaintenanceWindow(
        name="backup",
        matchers=(Matcher.of("job", "=", "backup"),),
        time_interval="backups",
        until_ms=T0 + 30 * HOUR,
    )
    silences.configure([window], {"backups": nine_to_ten})
    labels = {"job": "backup"}
    assert silences.mutes(labels, T0) == ()
    assert silences.mutes(labels, T0 + HOUR) == ("maintenance:backup",)
    assert silences.mutes(labels, T0 + 2 * HOUR) == ()
    assert silences.mutes(labels, T0 + 25 * HOUR) == ("maintenance:backup",)  # the next day
    assert silences.mutes(labels, T0 + 49 * HOUR) == ()  # after until
    assert silences.query() == []  # recurring windows are not listed as silences


def test_apply_config_takes_the_windows_and_intervals_of_a_loaded_file(
    silences: Silences,
) -> None:
    config = load_alertmanager_config(
        "route: {receiver: ops}\nreceivers: [{name: ops}]\n"
        "time_intervals:\n  - name: mornings\n"
        "    time_intervals: [{times: [{start_time: '08:00', end_time: '09:00'}]}]\n"
        "spyglass:\n  maintenance_windows:\n"
        "    - {name: m, matchers: ['job=\"batch\"'], time_interval: mornings}\n"
    )
    silences.apply_config(config)
    assert silences.mutes({"job": "batch"}, T0) == ("maintenance:m",)
    assert silences.mutes({"job": "batch"}, T0 + HOUR) == ()


def test_a_second_node_on_the_same_store_takes_changes_on_sync(
    store: SqlStateStore, clock: FakeClock
) -> None:
    one = Silences(store, clock=clock, retention_ms=HOUR)
    two = Silences(store, clock=clock, retention_ms=HOUR)
    sid = one.set(draft(("job", "=", "api")))
    assert two.mutes({"job": "api"}, clock()) == ()
    assert two.sync() == 1
    assert two.mutes({"job": "api"}, clock()) == (sid,)
    assert two.sync() == 0  # nothing new
    clock.advance(MINUTE)
    one.expire(sid)
    assert two.sync() == 1
    assert two.mutes({"job": "api"}, clock()) == ()
    assert two.get(sid) == one.get(sid)
    # Once the store has dropped it after the retention, the other node forgets it too.
    clock.advance(HOUR)
    assert two.sync() == 1
    assert two.get(sid) is None


def test_once_started_a_node_syncs_on_its_own(store: SqlStateStore, clock: FakeClock) -> None:
    one = Silences(store, clock=clock)
    two = Silences(store, clock=clock, sync_interval_s=0.01)

    async def run() -> tuple[str, ...]:
        await two.start()
        try:
            sid = one.set(draft(("job", "=", "api")))
            for _ in range(500):  # bounded: five seconds at most
                if two.get(sid) is not None:
                    break
                await asyncio.sleep(0.01)
            return two.mutes({"job": "api"}, clock())
        finally:
            await two.stop()

    assert len(asyncio.run(run())) == 1


def test_two_nodes_share_silences_through_postgresql(tmp_path: Path, clock: FakeClock) -> None:
    """Two stores on one PostgreSQL database, as two Spyglass nodes with one --state-url."""
    with running_postgres() as cluster:
        url = cluster.create_database("silences")
        with (
            open_state_store(url, tmp_path / "a", clock=clock) as store_a,
            open_state_store(url, tmp_path / "b", clock=clock) as store_b,
        ):
            a, b = Silences(store_a, clock=clock), Silences(store_b, clock=clock)
            sid = a.set(draft(("job", "=", "api")))
            assert b.sync() == 1
            assert b.mutes({"job": "api"}, clock()) == (sid,)
            clock.advance(MINUTE)
            # Updated on the second node, in place: the first sees the new end.
            assert b.set(draft(("job", "=", "api"), end=T0 + 5 * HOUR, silence_id=sid)) == sid
            assert a.sync() == 1
            updated = a.get(sid)
            assert updated is not None
            assert updated.ends_at_ms == T0 + 5 * HOUR


_words = st.text(st.sampled_from("ab-_:./|é*x"), max_size=6)


@given(
    pattern=st.lists(_words, min_size=1, max_size=3).map("|".join),
    value=_words,
    op=st.sampled_from(["=", "!=", "=~", "!~"]),
)
def test_a_silences_compiled_matchers_agree_with_the_regex_engine(
    pattern: str, value: str, op: str
) -> None:
    """Literal alternatives are matched as a set; any pattern must answer as RE2 does."""
    try:
        matcher = Matcher.of("l", op, pattern)
    except MatcherError:
        return
    silence = Silence(matchers=(matcher,), starts_at_ms=T0, ends_at_ms=T0 + HOUR)
    assert silence.mutes({"l": value}) == matcher.matches({"l": value})
    assert silence.mutes({}) == matcher.matches({})
