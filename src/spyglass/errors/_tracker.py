"""``ErrorTracker``: accepted error events in, issues and alerts out, and the questions the API
asks.

The path of one accepted request:

1. each event is grouped (``group``: its issue key) and a time Sentry would not believe (more
   than a minute ahead of its arrival, or older than the events' retention) becomes the time it
   arrived, as Sentry corrects clock drift;
2. events whose id was already counted are dropped, as Sentry drops a resent event;
3. the rest go to the ``ErrorEventSink`` (fsynced WAL) and are then counted into their issues
   (``IssueStore.record`` with ``observe``), in one transaction with the other requests
   waiting at the same time (group commit: a commit waits for the disk);
4. an event that opened an issue raises ``NewErrorIssue``, one that brought a resolved issue
   back raises ``RegressedErrorIssue``, through the ``AlertSink`` (the router).

The request is answered after step 3, so an acknowledged event is stored and counted. A crash
between 3's two halves leaves stored events no issue counted (in the WAL, or already flushed to
ClickHouse: the flush runs on its own). So at start the tracker reads the events received since
shortly before the newest one counted (``RECOUNT_WINDOW_MS``: longer than any request takes)
and counts them; the store skips those it had counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.registry import Collector

from spyglass.core.alerts import Alert, AlertSink
from spyglass.core.error_events import ErrorBatch, ErrorEvent
from spyglass.core.error_issues import RESOLVED, Issue, IssueChange, IssuePage, IssueQuery
from spyglass.core.errors import BadInput, Unavailable
from spyglass.core.stats import StatField, StatsCollector
from spyglass.errors._alerts import NEW_ISSUE, REGRESSED_ISSUE, issue_alert
from spyglass.errors._grouping import group
from spyglass.errors._issues import ACTIONS, apply_action, observe
from spyglass.storage.ports import ErrorEventQuery, ErrorEventReader, ErrorEventSink, IssueStore

log = logging.getLogger(__name__)

MAX_CLOCK_DRIFT_NS = 60 * 10**9  # Sentry's allowance for an SDK's clock running ahead
HOUR_NS = 3_600 * 10**9
TRIM_INTERVAL_S = 3_600.0
# How long counted event ids are remembered: SDKs resend within minutes, and the start-up
# recount reads back minutes; a day bounds the table at one row per event of the last day.
SEEN_KEEP_MS = 86_400_000
# Events of requests in flight at a crash were received at most this long before the newest
# event counted; the start-up recount reads back that far.
RECOUNT_WINDOW_MS = 5 * 60_000
MAX_RECOUNT = 10_000  # events the recount reads at most (the event store's limit per read)
MAX_UNCOUNTED = 10_000  # stored events whose count failed, kept to count with the next ones
TRACE_EVENTS = 200  # the events of one trace looked at for its issues (a trace has a few)


class ErrorStoreLike(ErrorEventSink, ErrorEventReader, Protocol):
    """The event store the tracker needs: durable appends and reads."""


@dataclass(frozen=True, slots=True)
class TrackerStats:
    """Counters of the tracker."""

    events_counted: int
    events_duplicate: int
    issues_opened: int
    regressions: int


@dataclass(frozen=True, slots=True)
class IssueDetail:
    """One issue with its recent history: events per hour, oldest hour first, from
    ``series_start_ms``."""

    issue: Issue
    series_start_ms: int
    series_step_ms: int
    series: tuple[int, ...]


class ErrorTracker:
    """The errors domain over its ports; ``start``, ``stop`` and ``collectors`` make it a part
    of the running server (the routes are ``server.api``'s)."""

    def __init__(
        self,
        events: ErrorStoreLike,
        issues: IssueStore,
        alerts: AlertSink,
        *,
        external_url: str,
        retention_ms: int,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.events = events
        self.issues = issues
        self.alerts = alerts
        self.external_url = external_url
        self.retention_ms = retention_ms
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._counted = 0
        self._duplicates = 0
        self._opened = 0
        self._regressions = 0
        self._uncounted: list[ErrorEvent] = []
        self._waiting: list[tuple[list[ErrorEvent], asyncio.Future[list[IssueChange]]]] = []
        self._counter: asyncio.Task[None] | None = None

    # -- component --------------------------------------------------------------------------
    async def start(self) -> None:
        """Count the stored events a crash kept from being counted (see the module's
        docstring); start forgetting old event ids every hour. A recount that fails is
        logged: the server starts all the same."""
        try:
            await self._recount()
        except Exception:  # a damaged stored event must not keep the server from starting
            log.exception("errors: counting the events a crash left uncounted failed")
        self._task = asyncio.create_task(self._trim_loop(), name="spyglass-errors-trim")

    async def _recount(self) -> None:
        newest = await asyncio.to_thread(self.issues.newest_seen_ms)
        since_ns = max(0, newest - RECOUNT_WINDOW_MS) * 1_000_000 if newest else 0
        query = ErrorEventQuery(limit=MAX_RECOUNT, received_since_ns=since_ns)
        stored = await asyncio.to_thread(self.events.error_events, query)
        if stored:
            stored.reverse()  # oldest first, as they arrived
            changes = await asyncio.to_thread(self.issues.record, stored, observe)
            if changes:
                log.info("errors: counted %d stored events a crash left uncounted", len(changes))
            self._after(changes, {e.event_id: e for e in stored})

    async def stop(self) -> None:
        """Stop the hourly trim."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def stats(self) -> TrackerStats:
        """A snapshot of the counters."""
        return TrackerStats(self._counted, self._duplicates, self._opened, self._regressions)

    def collectors(self) -> Sequence[Collector]:
        """Events counted and dropped as duplicates, issues opened, regressions."""
        return [StatsCollector(self.stats, _FIELDS)]

    async def _trim_loop(self) -> None:
        while True:
            await asyncio.sleep(TRIM_INTERVAL_S)
            try:
                await self.forget_old_ids()
            except Exception:  # a database hiccup: try again next hour
                log.exception("errors: forgetting old event ids failed")

    async def forget_old_ids(self) -> int:
        """Forget counted event ids older than a day, but never those the start-up recount
        reads (the last ``RECOUNT_WINDOW_MS`` before the newest, with as much again to
        spare): forgotten, they would be counted again. How many went."""
        newest = await asyncio.to_thread(self.issues.newest_seen_ms)
        before = min(self.clock() // 1_000_000 - SEEN_KEEP_MS, newest - 2 * RECOUNT_WINDOW_MS)
        return await asyncio.to_thread(self.issues.forget_events, before)

    # -- ingest -----------------------------------------------------------------------------
    def prepare(self, batch: ErrorBatch) -> ErrorBatch:
        """``batch`` grouped into issues, with implausible times replaced by arrival times."""
        oldest = self.clock() - self.retention_ms * 1_000_000
        out = []
        for event in batch.events:
            ts = event.timestamp_ns
            if ts > event.received_ns + MAX_CLOCK_DRIFT_NS or ts < oldest:
                ts = event.received_ns
            grouped = dataclasses.replace(event, timestamp_ns=ts)
            out.append(dataclasses.replace(grouped, issue_key=group(grouped).key))
        return ErrorBatch(tuple(out))

    async def ingest(self, batch: ErrorBatch) -> list[IssueChange]:
        """Store and count ``batch`` (see the module's docstring); returns once both are
        durable. Raises what the stores raise (``Unavailable`` when storage is down)."""
        if not len(batch):
            return []
        prepared = self.prepare(batch)
        fresh = await asyncio.to_thread(self._unseen, prepared.events)
        self._duplicates += len(prepared) - len(fresh)
        if not fresh:
            return []
        await self.events.append(ErrorBatch(tuple(fresh)))
        return await self._count(fresh)

    async def _count(self, events: list[ErrorEvent]) -> list[IssueChange]:
        """Count ``events`` (stored) into their issues, in one transaction with those of the
        requests waiting at the same time: each commit waits for a disk flush, so concurrent
        requests share one (group commit, as the WAL does)."""
        done: asyncio.Future[list[IssueChange]] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, done))
        if self._counter is None or self._counter.done():
            self._counter = asyncio.create_task(self._count_waiting(), name="spyglass-errors-count")
        return await done

    async def _count_waiting(self) -> None:
        while self._waiting:
            waiting, self._waiting = self._waiting, []
            # Stored but not yet counted: events whose count failed before are counted with
            # these (the store skips any it did count), so a failure is not left for a restart.
            todo = [*self._uncounted, *(e for events, _ in waiting for e in events)]
            try:
                changes = await asyncio.to_thread(self.issues.record, todo, observe)
            except Exception as exc:  # noqa: BLE001 - every waiting request fails with it
                # Kept for the next try only when the database was out of reach: events a bug
                # fails on must not fail every later request too.
                self._uncounted = todo[-MAX_UNCOUNTED:] if isinstance(exc, Unavailable) else []
                for _, done in waiting:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self._uncounted = []
            self._after(changes, {e.event_id: e for e in todo})
            for events, done in waiting:
                ids = {e.event_id for e in events}
                if not done.done():
                    done.set_result([c for c in changes if c.event_id in ids])

    def _unseen(self, events: Sequence[ErrorEvent]) -> list[ErrorEvent]:
        by_project: dict[int, list[str]] = {}
        for e in events:
            by_project.setdefault(e.project_id, []).append(e.event_id)
        seen = {(p, eid) for p, ids in by_project.items() for eid in self.issues.seen(p, ids)}
        out, taken = [], set()
        for e in events:
            key = (e.project_id, e.event_id)
            if key not in seen and key not in taken:
                taken.add(key)
                out.append(e)
        return out

    def _after(self, changes: Sequence[IssueChange], events: dict[str, ErrorEvent]) -> None:
        """Count and alert on what ``changes`` did."""
        alerts: list[Alert] = []
        self._counted += len(changes)
        for change in changes:
            event = events[change.event_id]
            if change.before is None:
                self._opened += 1
                alerts.append(issue_alert(NEW_ISSUE, change.after, event, self.external_url))
            elif change.before.status == RESOLVED and change.after.regressed:
                self._regressions += 1
                alerts.append(issue_alert(REGRESSED_ISSUE, change.after, event, self.external_url))
        if alerts:
            self.alerts.send(alerts)

    # -- questions --------------------------------------------------------------------------
    async def search(self, query: IssueQuery) -> IssuePage:
        """A page of the issue list."""
        return await asyncio.to_thread(self.issues.search, query)

    async def trace_issues(
        self, trace_id: str, start_ns: int, end_ns: int, limit: int = TRACE_EVENTS
    ) -> list[Issue]:
        """The issues of the events that carry ``trace_id`` (a Sentry event's
        ``contexts.trace.trace_id``) and happened in ``[start_ns, end_ns)``, most recently seen
        first. One read of the events (the window and the trace id narrow it) and one of the
        issues; at most ``limit`` events are looked at."""
        query = ErrorEventQuery(trace_id=trace_id, start_ns=start_ns, end_ns=end_ns, limit=limit)
        events = await asyncio.to_thread(self.events.error_events, query)
        keys = {(e.project_id, e.issue_key) for e in events if e.issue_key}
        if not keys:
            return []
        fingerprints = tuple(sorted({key for _, key in keys}))
        page = await self.search(IssueQuery(fingerprints=fingerprints, limit=len(fingerprints)))
        # A fingerprint is unique within a project only.
        return [i for i in page.issues if (i.project_id, i.fingerprint) in keys]

    async def issue(self, issue_id: int, *, hours: int = 24) -> IssueDetail | None:
        """The issue with its events per hour over the last ``hours`` hours (this one
        included), or ``None``."""
        issue = await asyncio.to_thread(self.issues.issue, issue_id)
        if issue is None:
            return None
        (detail,) = await self.activity([issue], hours=hours)
        return detail

    async def activity(self, issues: Sequence[Issue], *, hours: int = 24) -> list[IssueDetail]:
        """Each issue with its events per hour over the last ``hours`` hours (this one
        included), read in one query for all of them."""
        now = self.clock()
        end = (now // HOUR_NS + 1) * HOUR_NS
        start = end - hours * HOUR_NS
        keys = [(i.project_id, i.fingerprint) for i in issues]
        series = await asyncio.to_thread(self.events.error_counts, keys, start, end, HOUR_NS)
        return [
            IssueDetail(issue, start // 1_000_000, HOUR_NS // 1_000_000, tuple(counts))
            for issue, counts in zip(issues, series, strict=True)
        ]

    async def find(self, issue_id: int) -> Issue | None:
        """The issue alone (no series), or ``None``."""
        return await asyncio.to_thread(self.issues.issue, issue_id)

    async def issue_events(self, issue: Issue, limit: int = 100) -> list[ErrorEvent]:
        """The issue's latest events, newest first."""
        query = ErrorEventQuery(
            project_id=issue.project_id, issue_key=issue.fingerprint, limit=limit
        )
        return await asyncio.to_thread(self.events.error_events, query)

    async def event(self, event_id: str) -> ErrorEvent | None:
        """One event by id (any project)."""
        return await asyncio.to_thread(self.events.error_event, event_id)

    async def act(self, issue_id: int, action: str) -> Issue | None:
        """Apply a person's ``action`` (``ACTIONS``) to the issue; the issue after, or
        ``None`` when there is none."""
        if action not in ACTIONS:
            raise BadInput(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
        now_ms = self.clock() // 1_000_000
        return await asyncio.to_thread(
            self.issues.change, issue_id, lambda issue: apply_action(issue, action, now_ms)
        )


_FIELDS = (
    StatField(
        "events_counted",
        "spyglass_errors_events_counted",
        "counter",
        "Error events counted into issues.",
    ),
    StatField(
        "events_duplicate",
        "spyglass_errors_events_duplicate",
        "counter",
        "Error events dropped because their event id was already counted (SDK resends).",
    ),
    StatField("issues_opened", "spyglass_errors_issues_opened", "counter", "New issues opened."),
    StatField(
        "regressions",
        "spyglass_errors_regressions",
        "counter",
        "Resolved issues brought back by a new event.",
    ),
)


__all__ = ["ErrorStoreLike", "ErrorTracker", "IssueDetail", "TrackerStats"]
