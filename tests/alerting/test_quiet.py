"""Quiet hours hold what can wait until they end, and let critical alerts through."""

from __future__ import annotations

from datetime import UTC, datetime

from spyglass.alerting import TimeInterval, TimeRange, parse_matchers
from spyglass.alerting._quiet import QuietHours
from spyglass.alerting._timeintervals import InclusiveRange

NIGHT = {
    "night": (
        TimeInterval(times=(TimeRange(22 * 60, 1440),)),
        TimeInterval(times=(TimeRange(0, 7 * 60),)),
    )
}
QUIET = QuietHours(("night",), tuple(parse_matchers('severity!="critical"')))


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_a_warning_at_night_waits_until_seven_and_a_critical_one_does_not() -> None:
    assert QUIET.holds({"alertname": "Slow", "severity": "warning"})
    assert not QUIET.holds({"alertname": "Down", "severity": "critical"})
    assert QUIET.quiet_until(NIGHT, _ms("2026-12-07T23:30:15")) == _ms("2026-12-08T07:00:00")
    assert QUIET.quiet_until(NIGHT, _ms("2026-12-08T06:59:59")) == _ms("2026-12-08T07:00:00")


def test_outside_quiet_hours_nothing_waits() -> None:
    assert QUIET.quiet_until(NIGHT, _ms("2026-12-07T12:00:00")) is None
    assert QUIET.quiet_until(NIGHT, _ms("2026-12-08T07:00:00")) is None


def test_a_weekend_ends_on_monday_morning() -> None:
    weekend = {"weekend": (TimeInterval(weekdays=(InclusiveRange(6, 6), InclusiveRange(0, 0))),)}
    quiet = QuietHours(("weekend",))
    # Saturday 2026-12-12 10:00 -> Monday 2026-12-14 00:00
    assert quiet.quiet_until(weekend, _ms("2026-12-12T10:00:00")) == _ms("2026-12-14T00:00:00")
