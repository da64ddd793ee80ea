"""What events and people do to an issue: counting, resolve, resolve in next release, ignore,
unresolve, and which events bring a resolved issue back (a regression)."""

from __future__ import annotations

import dataclasses

import pytest
from tests.support.error_events import BASE_NS, event

from spyglass.core.error_issues import IGNORED, RESOLVED, UNRESOLVED, Issue
from spyglass.core.errors import BadInput
from spyglass.errors import (
    IGNORE,
    RESOLVE,
    RESOLVE_IN_NEXT_RELEASE,
    UNRESOLVE,
    apply_action,
    is_regression,
    observe,
)

LATER_MS = BASE_NS // 1_000_000 + 10_000  # after event(1) .. event(9)


def opened(*ns: int, release: str = "1.0") -> Issue:
    issue = None
    for n in ns:
        issue = observe(issue, event(n, release=release))
    assert issue is not None
    return dataclasses.replace(issue, id=7)


def test_the_first_event_opens_the_issue_and_later_ones_count() -> None:
    first = observe(None, event(2, release="1.0"))
    assert (first.count, first.status, first.regressed) == (1, UNRESOLVED, False)
    assert first.title == "ValueError: bad value 2"
    assert first.culprit == "app in handler"
    assert first.first_release == first.last_release == "1.0"
    later = observe(first, event(5, release="1.1", level="fatal"))
    earlier = observe(later, event(1, release=""))  # late arrival, no release
    assert earlier.count == 3
    assert earlier.first_seen_ms == BASE_NS // 1_000_000 + 1_000
    assert earlier.last_seen_ms == BASE_NS // 1_000_000 + 5_000
    assert earlier.last_release == "1.1"  # an event without a release keeps the last one
    assert later.level == "fatal"
    assert earlier.first_release == "1.0"


def test_resolved_comes_back_with_any_later_event() -> None:
    issue = apply_action(opened(1), RESOLVE, now_ms=BASE_NS // 1_000_000 + 1_500)
    assert (issue.status, issue.resolved_release) == (RESOLVED, "1.0")
    assert not issue.resolved_in_next_release
    back = observe(issue, event(2, release="1.0"))
    assert (back.status, back.regressed, back.resolved_ms) == (UNRESOLVED, True, 0)
    assert is_regression(issue, event(2, release="2.0"))


def test_an_event_received_before_the_resolution_does_not_bring_it_back() -> None:
    issue = apply_action(opened(1), RESOLVE, now_ms=LATER_MS)
    late = observe(issue, event(3))
    assert (late.status, late.count) == (RESOLVED, 2)
    # A slow SDK clock: the event says it happened before, but it arrived after.
    slow = event(3, received_ns=(LATER_MS + 1) * 1_000_000)
    assert observe(issue, slow).regressed


def test_resolved_in_next_release_comes_back_only_with_another_release() -> None:
    issue = apply_action(opened(1, release="1.0"), RESOLVE_IN_NEXT_RELEASE, now_ms=LATER_MS - 9_000)
    assert issue.resolved_in_next_release
    assert issue.resolved_release == "1.0"
    same = observe(issue, event(5, release="1.0"))
    assert (same.status, same.count) == (RESOLVED, 2)
    newer = observe(same, event(6, release="1.1"))
    assert (newer.status, newer.regressed, newer.count) == (UNRESOLVED, True, 3)
    assert newer.resolved_release == ""
    assert is_regression(issue, event(6, release=""))


def test_without_releases_next_release_is_plain_resolve() -> None:
    issue = apply_action(opened(1, release=""), RESOLVE_IN_NEXT_RELEASE, now_ms=LATER_MS - 9_000)
    assert is_regression(issue, event(5, release=""))


def test_ignored_and_unresolved_issues_count_and_never_regress() -> None:
    ignored = apply_action(opened(1), IGNORE, now_ms=LATER_MS)
    after = observe(ignored, event(20))
    assert (after.status, after.count, after.regressed) == (IGNORED, 2, False)
    assert not is_regression(opened(1), event(20))


def test_a_state_change_clears_the_regression_mark() -> None:
    issue = apply_action(opened(1), RESOLVE, now_ms=BASE_NS // 1_000_000)
    back = observe(issue, event(3))
    assert back.regressed
    for action, status in ((UNRESOLVE, UNRESOLVED), (IGNORE, IGNORED), (RESOLVE, RESOLVED)):
        changed = apply_action(back, action, now_ms=LATER_MS)
        assert (changed.status, changed.regressed) == (status, False)
    with pytest.raises(BadInput, match="unknown action"):
        apply_action(back, "delete", now_ms=LATER_MS)
