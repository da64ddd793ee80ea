"""Refused and failed writes leave lines in the server log, but a broken sender cannot flood it."""

from __future__ import annotations

import logging

import pytest

from spyglass.server.rejections import RejectionLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rejections(clock: Clock) -> RejectionLog:
    return RejectionLog(logging.getLogger("test.rejections"), interval_s=10, clock=clock)


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "test.rejections"]
    caplog.clear()
    return lines


def test_a_refusal_names_protocol_client_status_and_reason(
    rejections: RejectionLog, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "test.rejections"):
        rejections.refused("remote_write", "10.0.0.7:41234", "400", "series has no metric name")
    assert _lines(caplog) == [
        (
            logging.WARNING,
            "remote_write write from 10.0.0.7:41234 refused with 400: series has no metric name",
        )
    ]


def test_one_line_per_protocol_per_interval_then_the_count_left_out(
    rejections: RejectionLog, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "test.rejections"):
        for _ in range(50):
            rejections.refused("remote_write", "c:1", "400", "bad")
        # Another protocol is not held back by the first one's flood.
        rejections.refused("otlp_http", "c:2", "415", "text/plain")
        assert [text for _, text in _lines(caplog)] == [
            "remote_write write from c:1 refused with 400: bad",
            "otlp_http write from c:2 refused with 415: text/plain",
        ]
        clock.now += 9.9
        rejections.refused("remote_write", "c:1", "400", "bad")
        assert _lines(caplog) == []
        clock.now += 0.1
        rejections.refused("remote_write", "c:3", "413", "too big")
        assert [text for _, text in _lines(caplog)] == [
            "remote_write write from c:3 refused with 413: too big"
            " (50 more refused since the previous line, not logged)"
        ]
        clock.now += 10
        rejections.refused("remote_write", "c:1", "400", "bad")
        assert [text for _, text in _lines(caplog)] == [
            "remote_write write from c:1 refused with 400: bad"
        ]


def test_failures_are_errors_and_not_hidden_by_a_flood_of_refusals(
    rejections: RejectionLog, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "test.rejections"):
        rejections.refused("remote_write", "c:1", "400", "bad")
        rejections.refused("remote_write", "c:1", "400", "bad")
        try:
            raise OSError("disk full")
        except OSError as exc:
            rejections.failed("remote_write", "c:1", "503", "could not store", exc)
    [(level, text)] = [(r.levelno, r.getMessage()) for r in caplog.records if r.exc_info]
    assert level == logging.ERROR
    assert text == "remote_write write from c:1 failed with 503: could not store"
    assert "OSError: disk full" in caplog.text


def test_what_the_client_sent_cannot_break_the_line(
    rejections: RejectionLog, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "test.rejections"):
        rejections.refused("otlp_http", "c:1", "400", "bad label 'a\nb\x1b[31m'" + "x" * 5000)
    [(_, text)] = _lines(caplog)
    assert "\n" not in text
    assert "\x1b" not in text
    assert "a\\nb\\x1b[31m" in text
    assert len(text) < 700
    assert text.endswith("...")
