"""Time intervals: which instants a mute or active interval contains, in its location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from spyglass.alerting import InclusiveRange, TimeInterval, TimeRange, active_intervals
from spyglass.alerting._timeintervals import (
    parse_days_of_month,
    parse_months,
    parse_time_range,
    parse_weekdays,
    parse_years,
)
from spyglass.core.errors import BadInput

# 2026-03-02 is a Monday.
MONDAY_0900_UTC = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_an_empty_interval_contains_every_instant() -> None:
    assert TimeInterval().contains(MONDAY_0900_UTC)


def test_times_include_the_start_and_exclude_the_end() -> None:
    office = TimeInterval(times=(parse_time_range("09:00", "17:00"),))
    assert office.contains(MONDAY_0900_UTC)
    assert office.contains(MONDAY_0900_UTC.replace(hour=16, minute=59))
    assert not office.contains(MONDAY_0900_UTC.replace(hour=17))
    assert not office.contains(MONDAY_0900_UTC.replace(hour=8, minute=59))
    assert TimeInterval(times=(parse_time_range("00:00", "24:00"),)).contains(
        MONDAY_0900_UTC.replace(hour=23, minute=59)
    )


def test_weekdays_months_and_years() -> None:
    weekdays = TimeInterval(weekdays=(parse_weekdays("Monday:friday"),))
    assert weekdays.contains(MONDAY_0900_UTC)
    assert not weekdays.contains(MONDAY_0900_UTC - timedelta(days=1))  # Sunday
    assert TimeInterval(weekdays=(parse_weekdays("sunday"),)).contains(
        MONDAY_0900_UTC - timedelta(days=1)
    )
    assert TimeInterval(months=(parse_months("january:march"),)).contains(MONDAY_0900_UTC)
    assert not TimeInterval(months=(parse_months("4:12"),)).contains(MONDAY_0900_UTC)
    assert TimeInterval(years=(parse_years("2025:2026"),)).contains(MONDAY_0900_UTC)
    assert not TimeInterval(years=(parse_years("2027"),)).contains(MONDAY_0900_UTC)


def test_negative_days_count_back_from_the_end_of_each_month() -> None:
    last_two = TimeInterval(days_of_month=(parse_days_of_month("-2:-1"),))
    assert last_two.contains(datetime(2026, 2, 27, tzinfo=UTC))
    assert last_two.contains(datetime(2026, 2, 28, tzinfo=UTC))
    assert not last_two.contains(datetime(2026, 2, 26, tzinfo=UTC))
    assert last_two.contains(datetime(2026, 3, 31, tzinfo=UTC))
    assert not last_two.contains(datetime(2026, 3, 29, tzinfo=UTC))
    # Day 31 does not exist in April, so a range starting there never matches it.
    assert not TimeInterval(days_of_month=(InclusiveRange(31, 31),)).contains(
        datetime(2026, 4, 30, tzinfo=UTC)
    )
    # A range ending past the month's last day is clamped to it.
    assert TimeInterval(days_of_month=(InclusiveRange(25, 31),)).contains(
        datetime(2026, 2, 28, tzinfo=UTC)
    )


def test_location_decides_the_local_time_and_day() -> None:
    # 23:30 UTC on a Monday is already Tuesday 00:30 in Berlin (winter time).
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    berlin_tuesday = TimeInterval(weekdays=(parse_weekdays("tuesday"),), location="Europe/Berlin")
    assert berlin_tuesday.contains(late)
    assert not TimeInterval(weekdays=(parse_weekdays("tuesday"),)).contains(late)
    # Summer time: Berlin is UTC+2.
    night = TimeInterval(times=(TimeRange(60, 180),), location="Europe/Berlin")
    assert night.contains(datetime(2026, 7, 1, 23, 30, tzinfo=UTC))
    assert not night.contains(datetime(2026, 7, 1, 1, 30, tzinfo=UTC))
    # Other offsets are converted first; naive datetimes are UTC.
    assert night.contains(datetime(2026, 7, 2, 1, 30, tzinfo=timezone(timedelta(hours=2))))
    assert TimeInterval(times=(TimeRange(540, 541),)).contains(datetime(2026, 3, 2, 9, 0))


def test_active_intervals_names_the_ones_in_effect() -> None:
    intervals = {
        "office": (TimeInterval(times=(TimeRange(540, 1020),)),),
        "weekend": (TimeInterval(weekdays=(InclusiveRange(6, 6), InclusiveRange(0, 0))),),
    }
    assert active_intervals(intervals, ["office", "weekend"], MONDAY_0900_UTC) == ["office"]
    assert active_intervals(intervals, ["weekend"], MONDAY_0900_UTC) == []


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_weekdays, "friday:monday", "start day cannot be before end day"),
        (parse_weekdays, "mon", "mon is not a valid weekday"),
        (parse_weekdays, "a:b:c", "couldn't parse range a:b:c, invalid format"),
        (parse_days_of_month, "0", "0 is not a valid day of the month: out of range"),
        (parse_days_of_month, "-5:3", "end day must be negative if start day is negative"),
        (parse_days_of_month, "10:-25", "end day -25 is always before start day 10"),
        (parse_days_of_month, "x", 'strconv.Atoi: parsing "x": invalid syntax'),
        (parse_months, "march:january", "end month january is before start month march"),
        (parse_months, "smarch", "smarch is not a valid month"),
        (parse_years, "2026:2020", "end year 2020 is before start year 2026"),
    ],
)
def test_range_errors_are_alertmanagers(parse: object, text: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        parse(text)  # type: ignore[operator]
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("", "10:00", "both start and end times must be provided"),
        ("9:00", "10:00", "couldn't parse timestamp 9:00, invalid format"),
        ("09:00", "24:01", "couldn't parse timestamp 24:01, invalid format"),
        ("10:00", "10:00", "start time cannot be equal or greater than end time"),
    ],
)
def test_time_range_errors(start: str, end: str, message: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_time_range(start, end)
    assert str(info.value) == message
