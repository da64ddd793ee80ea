"""Flap detection: more state changes than allowed in the window holds an alert."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.alerting._flapping import (
    SUMMARY_ALERTNAME,
    FlapDetector,
    FlappingPolicy,
    summary_alert,
)
from spyglass.core.alerts import Alert

MIN = 60_000


def _flip(d: FlapDetector, fp: str, times: list[int]) -> None:
    firing = True
    for t in times:
        d.observe(fp, firing, t)
        firing = not firing


def test_an_alert_that_fires_and_resolves_more_than_the_limit_is_flapping() -> None:
    d = FlapDetector(FlappingPolicy(max_changes=3, window_ms=10 * MIN))
    _flip(d, "a", [0, 1 * MIN, 2 * MIN, 3 * MIN])  # first observation is no change: 3 changes
    assert not d.flapping("a", 3 * MIN)
    d.observe("a", True, 4 * MIN)  # fourth change
    state = d.state("a", 4 * MIN)
    assert state is not None
    assert (state.changes, state.first_change_ms, state.last_change_ms) == (4, MIN, 4 * MIN)


def test_repeating_the_same_state_is_not_a_change() -> None:
    d = FlapDetector(FlappingPolicy(max_changes=1, window_ms=10 * MIN))
    for t in range(10):
        d.observe("a", True, t * MIN)
    assert not d.flapping("a", 10 * MIN)


def test_flapping_ends_once_the_changes_leave_the_window() -> None:
    d = FlapDetector(FlappingPolicy(max_changes=2, window_ms=5 * MIN))
    _flip(d, "a", [0, MIN, 2 * MIN, 3 * MIN])
    assert d.flapping("a", 3 * MIN)
    assert not d.flapping("a", 3 * MIN + 5 * MIN + 1)
    assert d.state("a", 3 * MIN + 5 * MIN + 1) is None


def test_alerts_are_counted_apart() -> None:
    d = FlapDetector(FlappingPolicy(max_changes=2, window_ms=10 * MIN))
    _flip(d, "a", [0, MIN, 2 * MIN, 3 * MIN])
    _flip(d, "b", [0, MIN])
    assert d.flapping("a", 3 * MIN)
    assert not d.flapping("b", 3 * MIN)
    d.forget("a")
    assert not d.flapping("a", 3 * MIN)


def test_the_summary_routes_like_the_held_alert_and_says_what_happened() -> None:
    held = Alert(
        (("alertname", "HighLatency"), ("service", "api"), ("severity", "critical")),
        starts_at_ms=5,
        generator_url="http://x/graph",
    )
    policy = FlappingPolicy(max_changes=4, window_ms=60 * MIN)
    d = FlapDetector(policy)
    _flip(d, "f", [0, MIN, 2 * MIN, 3 * MIN, 4 * MIN, 5 * MIN])
    state = d.state("f", 5 * MIN)
    assert state is not None
    summary = summary_alert(held, state, policy)
    assert dict(summary.labels) == {
        "alertname": SUMMARY_ALERTNAME,
        "flapping_alertname": "HighLatency",
        "service": "api",
        "severity": "critical",
    }
    assert (
        "HighLatency changed state 5 times in the last 60m" in dict(summary.annotations)["summary"]
    )
    assert summary.starts_at_ms == MIN
    assert summary.generator_url == "http://x/graph"


@pytest.mark.parametrize(("changes", "window"), [(0, MIN), (1, 0), (1, -5)])
def test_a_policy_that_could_never_hold_or_always_holds_is_refused(
    changes: int, window: int
) -> None:
    with pytest.raises(ValueError, match="flapping"):
        FlappingPolicy(max_changes=changes, window_ms=window)


@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 100 * MIN)), max_size=60),
    st.integers(1, 6),
    st.integers(1, 30),
)
def test_flapping_means_more_changes_in_the_window_than_allowed(
    events: list[tuple[bool, int]], limit: int, window_min: int
) -> None:
    policy = FlappingPolicy(max_changes=limit, window_ms=window_min * MIN)
    d = FlapDetector(policy)
    events.sort(key=lambda e: e[1])
    last: bool | None = None
    changes: list[int] = []
    for firing, t in events:
        d.observe("x", firing, t)
        if last is not None and last != firing:
            changes.append(t)
        last = firing
    now = events[-1][1] if events else 0
    in_window = [c for c in changes if c >= now - policy.window_ms]
    assert d.flapping("x", now) == (len(in_window) > limit)
