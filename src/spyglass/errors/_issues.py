"""What events and people do to an issue: counting, state changes and regressions.

Pure functions over ``core.error_issues.Issue``; the ``IssueStore`` applies them inside its
transactions. Sentry's rules, as its documentation states them:

- an event counts into its issue: count, last seen, latest level, title, culprit and release;
- **resolve**: the issue is fixed now; any event after that brings it back (a regression);
- **resolve in next release**: the fix ships with the next release; events of the release the
  issue was last seen in (the one current when it was resolved) do not bring it back, an event
  of any other release does. An issue seen without a release has no "current release", so
  there this is the same as resolve;
- **ignore**: the issue stays out of the way; its events are counted, nothing is alerted;
- **unresolve**: back to unresolved.

A regression makes the issue unresolved and marks it ``regressed`` until the next state change.
An event received before the resolution (counted late, after a crash) is counted but never
brings the issue back. Arrival, not the event's own time, decides: an SDK's clock running a few
minutes slow must not hide a regression.
"""

from __future__ import annotations

import dataclasses

from spyglass.core.error_events import ErrorEvent
from spyglass.core.error_issues import IGNORED, RESOLVED, UNRESOLVED, Issue
from spyglass.core.errors import BadInput
from spyglass.errors._grouping import culprit, title

RESOLVE = "resolve"
RESOLVE_IN_NEXT_RELEASE = "resolveInNextRelease"
IGNORE = "ignore"
UNRESOLVE = "unresolve"
ACTIONS = (RESOLVE, RESOLVE_IN_NEXT_RELEASE, IGNORE, UNRESOLVE)


def observe(before: Issue | None, event: ErrorEvent) -> Issue:
    """The issue after ``event`` (grouped: ``issue_key`` set) counted into it.

    ``users`` is left as it was: the store counts distinct users.
    """
    ts_ms = event.timestamp_ns // 1_000_000
    if before is None:
        before = Issue(
            project_id=event.project_id,
            fingerprint=event.issue_key,
            title="",
            first_seen_ms=ts_ms,
            last_seen_ms=ts_ms,
            first_release=event.release,
        )
    issue = dataclasses.replace(
        before,
        title=title(event),
        culprit=culprit(event),
        level=event.level,
        platform=event.platform,
        first_seen_ms=min(before.first_seen_ms, ts_ms),
        last_seen_ms=max(before.last_seen_ms, ts_ms),
        count=before.count + 1,
        last_release=event.release or before.last_release,
        last_event_id=event.event_id,
    )
    if is_regression(before, event):
        issue = dataclasses.replace(
            issue,
            status=UNRESOLVED,
            regressed=True,
            resolved_ms=0,
            resolved_in_next_release=False,
            resolved_release="",
        )
    return issue


def is_regression(issue: Issue, event: ErrorEvent) -> bool:
    """Whether ``event`` brings the resolved ``issue`` back."""
    if issue.status != RESOLVED:
        return False
    if event.received_ns // 1_000_000 <= issue.resolved_ms:
        return False  # it arrived before the fix was declared
    return not (
        issue.resolved_in_next_release
        and issue.resolved_release
        and event.release == issue.resolved_release
    )


def apply_action(issue: Issue, action: str, now_ms: int) -> Issue:
    """``issue`` after a person's ``action`` (one of ``ACTIONS``) at ``now_ms``."""
    cleared = dataclasses.replace(
        issue,
        regressed=False,
        resolved_ms=0,
        resolved_in_next_release=False,
        resolved_release="",
    )
    if action in (RESOLVE, RESOLVE_IN_NEXT_RELEASE):
        return dataclasses.replace(
            cleared,
            status=RESOLVED,
            resolved_ms=now_ms,
            resolved_in_next_release=action == RESOLVE_IN_NEXT_RELEASE,
            resolved_release=issue.last_release,
        )
    if action == IGNORE:
        return dataclasses.replace(cleared, status=IGNORED)
    if action == UNRESOLVE:
        return dataclasses.replace(cleared, status=UNRESOLVED)
    raise BadInput(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")


__all__ = [
    "ACTIONS",
    "IGNORE",
    "RESOLVE",
    "RESOLVE_IN_NEXT_RELEASE",
    "UNRESOLVE",
    "apply_action",
    "is_regression",
    "observe",
]
