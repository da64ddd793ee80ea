"""A trace's waterfall rows: depth-first order with children by start time, depths, bars on the
trace's axis, service colours, errors, orphans and cycles, and durations as Jaeger's UI writes
them. A property test checks that any set of spans, however its parents point, gives each span
exactly one row, a child right below its parent's subtree start, and bars inside the axis."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.spans import Span, SpanEvent
from spyglass.server.ui._waterfall import AXIS, COLOURS, format_duration, span_row, waterfall

TRACE = "0af7651916cd43dd8448eb211c80319c"
T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def span(
    sid: str, parent: str, start_ms: float, dur_ms: float, service: str = "api", **kw: object
) -> Span:
    return Span(
        trace_id=TRACE,
        span_id=sid,
        parent_span_id=parent,
        name=f"op-{sid}",
        start_ns=T0 + int(start_ms * MS),
        duration_ns=int(dur_ms * MS),
        service_name=service,
        **kw,  # type: ignore[arg-type]
    )


def test_rows_come_depth_first_with_children_by_start_time() -> None:
    spans = [
        span("c", "a", 50, 10),  # second child of a, started later
        span("a", "", 0, 100),
        span("b", "a", 10, 30, "db"),
        span("d", "b", 12, 5, "db"),
    ]
    w = waterfall(spans)
    assert [(r.span_id, r.depth, r.children) for r in w.rows] == [
        ("a", 0, 2),
        ("b", 1, 1),
        ("d", 2, 0),
        ("c", 1, 0),
    ]
    assert w.root.span_id == "a"
    assert w.depth == 3
    assert w.duration_ns == 100 * MS
    assert w.services == (("api", 2), ("db", 2))
    assert w.ticks == ["0ns", "25ms", "50ms", "75ms", "100ms"]


def test_bars_sit_on_the_trace_axis() -> None:
    w = waterfall([span("a", "", 0, 200), span("b", "a", 50, 100), span("t", "a", 100, 0.0001)])
    by_id = {r.span_id: r for r in w.rows}
    assert (by_id["a"].x, by_id["a"].width) == (0, AXIS)
    assert (by_id["b"].x, by_id["b"].width) == (250, 500)
    # A span too short to see still gets a visible sliver.
    assert by_id["t"].width == 2.0
    assert by_id["b"].offset == "50ms"
    assert by_id["b"].duration == "100ms"


def test_each_service_keeps_one_colour_in_order_of_first_span() -> None:
    spans = [span(f"{i:x}", "", i, 1, f"svc{i}") for i in range(COLOURS + 2)]
    w = waterfall(spans)
    assert w.colours["svc0"] == 0
    assert w.colours["svc1"] == 1
    assert w.colours[f"svc{COLOURS}"] == 0  # the palette wraps round


def test_error_spans_are_marked_by_status_or_an_error_attribute() -> None:
    w = waterfall(
        [
            span("a", "", 0, 10, status_code="Error", status_message="boom"),
            span("b", "a", 1, 1, attributes={"error": "true"}),
            span("c", "a", 2, 1, status_code="Ok"),
        ]
    )
    assert [r.error for r in w.rows] == [True, True, False]
    assert w.errors == 2


def test_a_span_whose_parent_is_missing_starts_its_own_tree_and_says_so() -> None:
    w = waterfall([span("a", "", 0, 10), span("b", "ffffffffffffffff", 2, 3)])
    assert [(r.span_id, r.depth, r.orphan) for r in w.rows] == [("a", 0, False), ("b", 0, True)]
    assert w.root.span_id == "a"


def test_spans_in_a_parent_cycle_are_shown_once_each() -> None:
    w = waterfall([span("a", "b", 0, 10), span("b", "a", 1, 3), span("c", "c", 2, 1)])
    assert sorted(r.span_id for r in w.rows) == ["a", "b", "c"]


def test_an_exception_events_stack_trace_is_kept_apart() -> None:
    event = SpanEvent(
        T0 + 3 * MS,
        "exception",
        {"exception.type": "ValueError", "exception.stacktrace": "Traceback\n  line 1"},
    )
    (row,) = waterfall([span("a", "", 0, 10, events=(event,))]).rows
    (e,) = row.events
    assert e.name == "exception"
    assert e.offset == "3ms"
    assert e.attributes == (("exception.type", "ValueError"),)
    assert e.stacktrace == "Traceback\n  line 1"


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0ns"),
        (850_000, "850μs"),
        (12_345_678, "12.35ms"),
        (1_500_000_000, "1.5s"),
        (123_000_000_000, "2m 3s"),
    ],
)
def test_durations_read_as_jaegers_ui_writes_them(ns: int, text: str) -> None:
    assert format_duration(ns) == text


def test_no_spans_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one span"):
        waterfall([])


IDS = [f"{i:016x}" for i in range(1, 13)]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(IDS),
            st.sampled_from(["", "ffffffffffffffff", *IDS]),
            st.integers(0, 10_000),
            st.integers(0, 10_000),
        ),
        min_size=1,
        max_size=12,
        unique_by=lambda t: t[0],
    )
)
def test_any_spans_give_one_row_each_in_a_consistent_tree(
    specs: list[tuple[str, str, int, int]],
) -> None:
    spans = [span(sid, parent, start, dur) for sid, parent, start, dur in specs]
    w = waterfall(spans)
    assert sorted(r.span_id for r in w.rows) == sorted(s.span_id for s in spans)
    for i, row in enumerate(w.rows):
        assert row.x >= 0
        assert row.x + row.width <= AXIS + 0.01
        if row.depth > 0:
            # Its parent is the nearest row above it one level up.
            above = next(r for r in reversed(w.rows[:i]) if r.depth == row.depth - 1)
            assert above.span_id == row.span.parent_span_id


@given(
    st.lists(
        st.tuples(
            st.sampled_from(IDS),
            st.sampled_from(["", "ffffffffffffffff", *IDS]),
            st.integers(0, 10_000),
            st.integers(0, 10_000),
            st.sampled_from(["api", "db", "cache"]),
        ),
        min_size=1,
        max_size=12,
        unique_by=lambda t: t[0],
    )
)
def test_one_spans_row_is_its_row_in_the_whole_waterfall(
    specs: list[tuple[str, str, int, int, str]],
) -> None:
    """What a span's details show (geometry, colour, offset, duration, error, orphan, events)
    is the same computed alone as in the whole trace's layout; only depth and children, which
    the details do not show, are left at 0."""
    spans = [span(sid, parent, start, dur, service) for sid, parent, start, dur, service in specs]
    for row in waterfall(spans).rows:
        assert span_row(spans, row.span_id) == replace(row, depth=0, children=0)
    assert span_row(spans, "0123456789abcdef") is None
