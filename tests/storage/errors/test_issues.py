"""``SqlIssueStore`` on SQLite and PostgreSQL: events counted into issues once (a resent or
replayed event is skipped), distinct users and per-release counts kept by the store, the list
filtered, sorted and paged in SQL, state changes applied in one transaction."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from tests.support.error_events import event

from spyglass.core.error_events import ErrorEvent
from spyglass.core.error_issues import RESOLVED, Issue, IssueQuery
from spyglass.core.errors import BadInput
from spyglass.errors import observe
from spyglass.storage.errors import SqlIssueStore
from spyglass.storage.state import SqlStateStore

KEY_A = "a" * 32
KEY_B = "b" * 32


@pytest.fixture
def issues(state: SqlStateStore) -> SqlIssueStore:
    return SqlIssueStore(state)


def test_events_open_an_issue_then_count_into_it(issues: SqlIssueStore) -> None:
    changes = issues.record([event(1), event(2, user_id="u2"), event(3)], observe)
    assert [c.before is None for c in changes] == [True, False, False]
    issue = changes[-1].after
    assert issue.id > 0
    assert (issue.count, issue.users, issue.last_event_id) == (3, 2, f"{3:032x}")
    stored = issues.issue(issue.id)
    assert stored is not None
    assert dataclasses.replace(stored, releases={}, environments={}) == issue
    assert stored.releases == {"1.0": 3}
    assert stored.environments == {"production": 3}


def test_a_resent_or_replayed_event_is_counted_once(issues: SqlIssueStore) -> None:
    issues.record([event(1), event(1)], observe)
    assert issues.record([event(1), event(2)], observe)[0].event_id == f"{2:032x}"
    assert issues.seen(1, [f"{1:032x}", f"{2:032x}", f"{9:032x}"]) == {f"{1:032x}", f"{2:032x}"}
    assert issues.seen(2, [f"{1:032x}"]) == set()  # ids are per project
    page = issues.search(IssueQuery())
    assert [i.count for i in page.issues] == [2]
    assert issues.forget_events(2**62) == 2
    assert issues.seen(1, [f"{1:032x}"]) == set()


def test_users_are_distinct_per_issue_and_anonymous_events_count_none(
    issues: SqlIssueStore,
) -> None:
    issues.record(
        [
            event(1, user_id="u1"),
            event(2, user_id="", user_email="e@x"),
            event(3, user_id="", user_ip="10.0.0.1"),
            event(4, user_id="u1"),
            event(5, user_id=""),
            event(6, user_id="u1", issue_key=KEY_B),
        ],
        observe,
    )
    users = {i.fingerprint: i.users for i in issues.search(IssueQuery()).issues}
    assert users == {KEY_A: 3, KEY_B: 1}


def test_an_event_without_an_issue_key_is_refused(issues: SqlIssueStore) -> None:
    with pytest.raises(BadInput, match="not grouped"):
        issues.record([event(1, issue_key="")], observe)


def seed(issues: SqlIssueStore) -> dict[str, Issue]:
    batches: list[ErrorEvent] = [
        event(1, issue_key=KEY_A, release="1.0", environment="prod"),
        event(2, issue_key=KEY_A, release="1.1", environment="prod"),
        event(3, issue_key=KEY_B, release="1.1", environment="staging", message="Disk full",
              exceptions=()),
        event(4, issue_key="c" * 32, project_id=2, exceptions=(), message="odd 100%_done",
              release="2.0"),
        event(0, issue_key="d" * 32, exceptions=(), message="oldest", release="2.0"),
    ]  # fmt: skip
    issues.record(batches, observe)
    return {i.fingerprint: i for i in issues.search(IssueQuery()).issues}


def ids(issues: SqlIssueStore, **query: object) -> list[str]:
    page = issues.search(IssueQuery(**query))  # type: ignore[arg-type]
    return [i.fingerprint[0] for i in page.issues]


def test_the_list_filters_sorts_and_pages(issues: SqlIssueStore) -> None:
    seed(issues)
    assert ids(issues) == ["c", "b", "a", "d"]  # last seen, newest first
    assert ids(issues, sort="first_seen") == ["c", "b", "a", "d"]
    assert ids(issues, sort="count") == ["a", "d", "c", "b"]  # ties: newest issue first
    assert ids(issues, project_id=2) == ["c"]
    assert ids(issues, release="1.1") == ["b", "a"]
    assert ids(issues, release="1.0") == ["a"]
    assert ids(issues, environment="staging") == ["b"]
    assert ids(issues, text="DISK") == ["b"]
    assert ids(issues, text="100%_") == ["c"]  # LIKE's wildcards are literal
    assert ids(issues, text="handler") == ["a"]  # the culprit
    assert ids(issues, fingerprints=(KEY_A, "d" * 32)) == ["a", "d"]
    assert ids(issues, limit=2, offset=1) == ["b", "a"]
    assert issues.search(IssueQuery(limit=1)).total == 4
    with pytest.raises(BadInput, match="status"):
        issues.search(IssueQuery(status="gone"))
    with pytest.raises(BadInput, match="sort"):
        issues.search(IssueQuery(sort="title"))


def test_a_state_change_is_stored_and_found_by_status(issues: SqlIssueStore) -> None:
    found = seed(issues)
    a = found[KEY_A]
    after = issues.change(a.id, lambda i: dataclasses.replace(i, status=RESOLVED))
    assert after is not None
    assert after.status == RESOLVED
    assert ids(issues, status=RESOLVED) == ["a"]
    assert ids(issues, status="unresolved") == ["c", "b", "d"]
    assert issues.change(10**9, lambda i: i) is None
    assert issues.issue(10**9) is None


def test_text_both_databases_refuse_is_stored_cleaned(issues: SqlIssueStore) -> None:
    odd = event(1, exceptions=(), message="nul\x00 and \ud800", release="r\x00", user_id="u\ud800")
    (change,) = issues.record([odd], observe)
    stored = issues.issue(change.after.id)
    assert stored is not None
    assert stored.title == "nul\ufffd and ?"
    assert stored.releases == {"r\ufffd": 1}


def test_writers_at_once_open_one_issue_and_lose_no_count(issues: SqlIssueStore) -> None:
    """Four threads count events of one new issue at once: the store's write transaction
    serialises them, so one issue holds every event."""
    barrier = threading.Barrier(4, timeout=60)
    failures: list[BaseException] = []

    def write(k: int) -> None:
        try:
            barrier.wait()
            for n in range(5):
                issues.record([event(100 * k + n)], observe)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    page = issues.search(IssueQuery())
    assert [(i.fingerprint, i.count) for i in page.issues] == [(KEY_A, 20)]


def test_services_are_counted_per_issue_and_filter_the_list(issues: SqlIssueStore) -> None:
    """An event's service (``ErrorEvent.service``: a tag, else the OTel resource) is counted
    per issue like a release; events naming none add no count."""
    otel = {"contexts": {"otel": {"resource": {"service.name": "worker"}}}}
    issues.record(
        [
            event(1, issue_key=KEY_A, tags={"service": "api"}),
            event(2, issue_key=KEY_A, payload=otel),
            event(3, issue_key=KEY_A, tags={"service.name": "api"}),
            event(4, issue_key=KEY_B),
        ],
        observe,
    )
    assert ids(issues, service="api") == ["a"]
    assert ids(issues, service="worker") == ["a"]
    assert ids(issues, service="db") == []
    (a,) = issues.search(IssueQuery(service="api")).issues
    stored = issues.issue(a.id)
    assert stored is not None
    assert stored.services == {"api": 2, "worker": 1}
    (b,) = issues.search(IssueQuery(fingerprints=(KEY_B,))).issues
    assert issues.issue(b.id).services == {}  # type: ignore[union-attr]
