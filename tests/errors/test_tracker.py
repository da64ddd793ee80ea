"""``ErrorTracker``: a request's events are grouped, resent ones dropped, the rest stored then
counted, and new or regressed issues alerted on; at start, events the WAL replay found are
counted unless they were; implausible times become arrival times; the API's questions.

The issue store is the real one on SQLite; the event store is a list (its own tests are in
tests/storage/errors)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from tests.support.error_events import BASE_NS, event

from spyglass.core.alerts import Alert
from spyglass.core.error_events import ErrorBatch, ErrorEvent
from spyglass.core.error_issues import IssueChange, IssueQuery
from spyglass.core.errors import BadInput, Unavailable
from spyglass.errors import RESOLVE_IN_NEXT_RELEASE, ErrorTracker, group, observe
from spyglass.storage import ErrorEventQuery, IssueUpdate
from spyglass.storage.errors import SqlIssueStore
from spyglass.storage.state import open_state_store

DAY_MS = 86_400_000
NOW_NS = BASE_NS + 3_600 * 10**9


class Events:
    """The event store as a list."""

    def __init__(self) -> None:
        self.stored: list[ErrorEvent] = []
        self.counts_asked: list[tuple[int, str, int, int, int]] = []

    async def append(self, batch: ErrorBatch) -> None:
        self.stored.extend(batch.events)

    def error_events(self, query: ErrorEventQuery) -> list[ErrorEvent]:
        found = [
            e
            for e in self.stored
            if (not query.issue_key or e.issue_key == query.issue_key)
            and (not query.trace_id or e.trace_id == query.trace_id)
            and query.start_ns <= e.timestamp_ns < query.end_ns
            and e.received_ns >= query.received_since_ns
        ]
        return sorted(found, key=lambda e: -e.timestamp_ns)[: query.limit]

    def error_event(self, event_id: str, project_id: int | None = None) -> ErrorEvent | None:
        return next((e for e in self.stored if e.event_id == event_id), None)

    def error_counts(
        self, keys: Sequence[tuple[int, str]], start: int, end: int, step: int
    ) -> list[list[int]]:
        self.counts_asked.extend((p, k, start, end, step) for p, k in keys)
        return [[0] * ((end - start) // step) for _ in keys]


class Alerts:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def send(self, alerts: Sequence[Alert]) -> None:
        self.sent.extend(alerts)

    def names(self) -> list[tuple[str, str]]:
        return [(a.name, dict(a.labels)["issue_id"]) for a in self.sent]


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[ErrorTracker, Events, Alerts]]:
    with open_state_store("", tmp_path) as state:
        events, alerts = Events(), Alerts()
        tracker = ErrorTracker(
            events,
            SqlIssueStore(state),
            alerts,
            external_url="http://sg",
            retention_ms=15 * DAY_MS,
            clock=lambda: NOW_NS,
        )
        yield tracker, events, alerts


def raw(n: int, **fields: object) -> ErrorEvent:
    """Event ``n`` as it comes from the decoder: not grouped yet."""
    return event(n, issue_key="", **fields)  # type: ignore[arg-type]


def after(n: int, **fields: object) -> ErrorEvent:
    """Event ``n``, ``n`` seconds after the tracker's now (after any resolution)."""
    ns = NOW_NS + n * 10**9
    return raw(n, timestamp_ns=ns, received_ns=ns, **fields)


def ingest(tracker: ErrorTracker, *events: ErrorEvent) -> None:
    asyncio.run(tracker.ingest(ErrorBatch(events)))


def test_events_are_grouped_stored_counted_and_new_issues_alerted_once(
    parts: tuple[ErrorTracker, Events, Alerts],
) -> None:
    tracker, events, alerts = parts
    other = raw(3, exceptions=(), message="disk full")
    ingest(tracker, raw(1), raw(2), other)
    assert [e.issue_key for e in events.stored] == [group(raw(1)).key] * 2 + [group(other).key]
    page = asyncio.run(tracker.search(IssueQuery()))
    assert sorted(i.count for i in page.issues) == [1, 2]
    assert [name for name, _ in alerts.names()] == ["NewErrorIssue", "NewErrorIssue"]
    ingest(tracker, raw(1), raw(4))  # 1 is a resend: dropped, not stored, not counted
    assert len(events.stored) == 4
    assert tracker.stats().events_duplicate == 1
    assert tracker.stats().events_counted == 4
    assert tracker.stats().issues_opened == 2
    assert len(alerts.sent) == 2


def test_a_traces_issues_are_those_of_its_events_in_the_window(
    parts: tuple[ErrorTracker, Events, Alerts],
) -> None:
    tracker, _, _ = parts
    trace = "ab" * 16
    ingest(
        tracker,
        raw(1, trace_id=trace),
        raw(2, trace_id=trace, exceptions=(), message="disk full"),
        raw(3, exceptions=(), message="quota exceeded"),  # no trace
        raw(4, trace_id="cd" * 16, exceptions=(), message="timeout"),
    )
    found = asyncio.run(tracker.trace_issues(trace, 0, 2**63 - 1))
    assert sorted(i.title for i in found) == ["ValueError: bad value 1", "disk full"]
    assert asyncio.run(tracker.trace_issues("ef" * 16, 0, 2**63 - 1)) == []
    # Outside the window: nothing is looked at.
    start = raw(2).timestamp_ns + 1
    assert asyncio.run(tracker.trace_issues(trace, start, start + 10**9)) == []


def test_a_regression_is_alerted_and_ignored_issues_stay_quiet(
    parts: tuple[ErrorTracker, Events, Alerts],
) -> None:
    tracker, _, alerts = parts
    ingest(tracker, raw(1, release="1.0"))
    (issue,) = asyncio.run(tracker.search(IssueQuery())).issues
    resolved = asyncio.run(tracker.act(issue.id, RESOLVE_IN_NEXT_RELEASE))
    assert resolved is not None
    ingest(tracker, after(5, release="1.0"))  # the release it was resolved in: stays resolved
    ingest(tracker, after(6, release="1.1"))
    assert alerts.names() == [
        ("NewErrorIssue", str(issue.id)),
        ("RegressedErrorIssue", str(issue.id)),
    ]
    assert dict(alerts.sent[1].labels)["release"] == "1.1"
    asyncio.run(tracker.act(issue.id, "ignore"))
    ingest(tracker, after(7, release="1.2"))
    assert len(alerts.sent) == 2
    with pytest.raises(BadInput, match="unknown action"):
        asyncio.run(tracker.act(issue.id, "delete"))
    assert asyncio.run(tracker.act(10**6, "ignore")) is None


def test_times_sentry_would_not_believe_become_arrival_times(
    parts: tuple[ErrorTracker, Events, Alerts],
) -> None:
    tracker, events, _ = parts
    ahead = raw(1, timestamp_ns=NOW_NS + 61 * 10**9, received_ns=NOW_NS)
    slightly = raw(2, timestamp_ns=NOW_NS + 30 * 10**9, received_ns=NOW_NS)
    ancient = raw(3, timestamp_ns=NOW_NS - 16 * DAY_MS * 10**6, received_ns=NOW_NS)
    ingest(tracker, ahead, slightly, ancient)
    assert [e.timestamp_ns for e in events.stored] == [NOW_NS, NOW_NS + 30 * 10**9, NOW_NS]


def test_start_counts_stored_events_a_crash_left_uncounted(tmp_path: Path) -> None:
    """Events 1 to 3 are stored, only 1 was counted before the crash; 0 is old and counted.
    Start reads back from shortly before the newest counted one and counts 2 and 3."""
    with open_state_store("", tmp_path) as state:
        issues = SqlIssueStore(state)

        def grouped(n: int, received_ns: int) -> ErrorEvent:
            e = raw(n, received_ns=received_ns)
            return dataclasses.replace(e, issue_key=group(e).key)

        minute = 60 * 10**9
        old = grouped(0, NOW_NS - 60 * minute)
        stored = [old, grouped(1, NOW_NS), grouped(2, NOW_NS - minute), grouped(3, NOW_NS + 1)]
        issues.record([old, stored[1]], observe)
        events, alerts = Events(), Alerts()
        events.stored = stored
        tracker = ErrorTracker(
            events, issues, alerts, external_url="http://sg", retention_ms=DAY_MS
        )

        async def go() -> None:
            await tracker.start()
            await tracker.stop()

        asyncio.run(go())
        (issue,) = issues.search(IssueQuery()).issues
        assert issue.count == 4
        assert tracker.stats().events_counted == 2
        assert alerts.sent == []  # the issue was not new when the recount counted into it
        asyncio.run(go())  # a second start counts nothing again
        assert issues.search(IssueQuery()).issues[0].count == 4


def test_an_issue_comes_with_its_last_day_per_hour(
    parts: tuple[ErrorTracker, Events, Alerts],
) -> None:
    tracker, events, _ = parts
    ingest(tracker, raw(1))
    (issue,) = asyncio.run(tracker.search(IssueQuery())).issues
    detail = asyncio.run(tracker.issue(issue.id, hours=24))
    assert detail is not None
    hour = 3_600 * 10**9
    end = (NOW_NS // hour + 1) * hour
    assert events.counts_asked == [(1, issue.fingerprint, end - 24 * hour, end, hour)]
    assert detail.series_start_ms == (end - 24 * hour) // 1_000_000
    assert detail.series_step_ms == 3_600_000
    assert len(detail.series) == 24
    assert asyncio.run(tracker.issue(10**6)) is None
    assert [e.event_id for e in asyncio.run(tracker.issue_events(issue))] == [f"{1:032x}"]
    assert asyncio.run(tracker.event(f"{1:032x}")) == events.stored[0]


class Flaky(SqlIssueStore):
    """An issue store whose next ``record`` fails (a database that cannot be reached)."""

    fail = False

    def record(self, events: Sequence[ErrorEvent], update: IssueUpdate) -> list[IssueChange]:
        if self.fail:
            self.fail = False
            raise Unavailable("state database unreachable")
        return super().record(events, update)


def test_events_whose_count_failed_are_counted_with_the_next_request(tmp_path: Path) -> None:
    with open_state_store("", tmp_path) as state:
        issues, events, alerts = Flaky(state), Events(), Alerts()
        tracker = ErrorTracker(
            events,
            issues,
            alerts,
            external_url="http://sg",
            retention_ms=DAY_MS,
            clock=lambda: NOW_NS,
        )
        issues.fail = True
        with pytest.raises(Unavailable):
            ingest(tracker, raw(1))
        assert len(events.stored) == 1  # stored, not counted
        ingest(tracker, raw(2))
        (issue,) = issues.search(IssueQuery()).issues
        assert issue.count == 2
        assert alerts.names() == [("NewErrorIssue", str(issue.id))]


def test_requests_at_once_each_get_their_own_changes(
    parts: tuple[ErrorTracker, Events, Alerts],
) -> None:
    """Requests counted together (one transaction) still answer each with its own events."""
    tracker, _, alerts = parts

    async def go() -> list[list[str]]:
        results = await asyncio.gather(
            *(tracker.ingest(ErrorBatch((raw(10 * k), raw(10 * k + 1)))) for k in range(5))
        )
        return [[c.event_id for c in changes] for changes in results]

    got = asyncio.run(go())
    assert got == [[f"{10 * k:032x}", f"{10 * k + 1:032x}"] for k in range(5)]
    (issue,) = asyncio.run(tracker.search(IssueQuery())).issues
    assert issue.count == 10
    assert len(alerts.sent) == 1


def test_forgetting_old_ids_keeps_what_the_recount_reads(tmp_path: Path) -> None:
    """A quiet day must not empty the table of counted ids: the next start would read back
    the stored events and count them again."""
    with open_state_store("", tmp_path) as state:
        issues, events = SqlIssueStore(state), Events()
        now = [NOW_NS]
        tracker = ErrorTracker(
            events,
            issues,
            Alerts(),
            external_url="h",
            retention_ms=30 * DAY_MS,
            clock=lambda: now[0],
        )
        ingest(tracker, raw(1, received_ns=NOW_NS - 20 * 60 * 10**9), raw(2, received_ns=NOW_NS))
        now[0] = NOW_NS + 3 * DAY_MS * 10**6  # three quiet days later
        assert asyncio.run(tracker.forget_old_ids()) == 1  # 20 minutes before the newest
        restarted = ErrorTracker(
            events,
            issues,
            Alerts(),
            external_url="h",
            retention_ms=30 * DAY_MS,
            clock=lambda: now[0],
        )

        async def go() -> None:
            await restarted.start()
            await restarted.stop()

        asyncio.run(go())
        assert issues.search(IssueQuery()).issues[0].count == 2
