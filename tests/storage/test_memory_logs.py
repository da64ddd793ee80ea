"""MemoryLogStore keeps the LogReader contract: half-open range, line filters, direction with
ties in write order, limit after ordering, streams and label lookups over the range."""

from __future__ import annotations

import asyncio

from spyglass.core.labels import labels_of
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.core.matchers import Matcher
from spyglass.storage import LineFilter, LogReader, LogSelection, MemoryLogStore

A = labels_of({"app": "a"})
B = labels_of({"app": "b", "env": "prod"})


def _store() -> MemoryLogStore:
    store = MemoryLogStore()
    store.load(
        [
            LogRecord(20, "second", A),
            LogRecord(10, "first", A),
            LogRecord(20, "tie written later", A),
            LogRecord(30, "error b", B),
            LogRecord(40, "end is exclusive", A),
        ]
    )
    return store


def _lines(records: list[LogRecord]) -> list[str]:
    return [r.line for r in records]


def test_is_a_log_reader() -> None:
    reader: LogReader = MemoryLogStore()
    assert reader.select_logs(LogSelection((), 0, 10)) == []


def test_range_is_half_open_and_forward_keeps_ties_in_write_order() -> None:
    got = _store().select_logs(
        LogSelection((Matcher.of("app", "=", "a"),), 10, 40, direction="forward")
    )
    assert _lines(got) == ["first", "second", "tie written later"]


def test_backward_is_newest_first_with_ties_still_in_write_order() -> None:
    got = _store().select_logs(LogSelection((Matcher.of("app", "=~", ".+"),), 0, 41))
    assert _lines(got) == ["end is exclusive", "error b", "second", "tie written later", "first"]


def test_limit_cuts_after_ordering() -> None:
    sel = LogSelection((Matcher.of("app", "=", "a"),), 0, 100, direction="forward", limit=2)
    assert _lines(_store().select_logs(sel)) == ["first", "second"]
    sel = LogSelection((Matcher.of("app", "=", "a"),), 0, 100, limit=1)
    assert _lines(_store().select_logs(sel)) == ["end is exclusive"]


def test_line_filters_all_apply() -> None:
    sel = LogSelection(
        (Matcher.of("app", "=~", ".*"),),
        0,
        100,
        line_filters=(LineFilter("!=", "first"), LineFilter("|~", "^(s|e)"), LineFilter("|=", "s")),
        direction="forward",
    )
    assert _lines(_store().select_logs(sel)) == ["second", "end is exclusive"]


def test_streams_and_labels_only_see_the_range() -> None:
    store = _store()
    assert store.log_streams([], 0, 30) == [A]
    assert store.log_streams([], 0, 100) == [A, B]
    assert store.log_streams([[Matcher.of("env", "=", "prod")]], 0, 100) == [B]
    assert store.log_label_names(0, 30) == ["app"]
    assert store.log_label_names(0, 31) == ["app", "env"]
    assert store.log_label_values("app", [], 0, 100) == ["a", "b"]
    assert store.log_label_values("app", [Matcher.of("env", "!=", "prod")], 0, 100) == ["a"]


def test_append_is_a_log_sink() -> None:
    store = MemoryLogStore()
    asyncio.run(store.append(LogBatch.of([LogRecord(5, "x", A)])))
    assert _lines(store.select_logs(LogSelection((), 0, 10))) == ["x"]
