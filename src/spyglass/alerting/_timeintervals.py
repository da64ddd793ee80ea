"""Alertmanager's time intervals: when a route is muted (``mute_time_intervals``) or active.

A ``TimeInterval`` holds ranges of times of day, weekdays, days of the month (negative counts
from the month's end), months and years, in a location (UTC when none is given); a time is
inside when every kind of range that is set contains it. ``time_intervals:`` in alertmanager.yml
names lists of them; a name is in effect when any interval of its list contains the time.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from spyglass.core.errors import BadInput

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_TIME = re.compile(r"(?:([01][0-9]|2[0-3]):([0-5][0-9])|(24):(00))\Z")
_INT = re.compile(r"[+-]?[0-9]+\Z")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Minutes of the day, ``start_minute`` included, ``end_minute`` excluded (0-1440)."""

    start_minute: int
    end_minute: int


@dataclass(frozen=True, slots=True)
class InclusiveRange:
    """``begin`` to ``end``, both included (weekdays 0=Sunday, months 1-12, days, years)."""

    begin: int
    end: int


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """One interval of a named ``time_intervals`` entry. ``None`` means "any"."""

    times: tuple[TimeRange, ...] | None = None
    weekdays: tuple[InclusiveRange, ...] | None = None
    days_of_month: tuple[InclusiveRange, ...] | None = None
    months: tuple[InclusiveRange, ...] | None = None
    years: tuple[InclusiveRange, ...] | None = None
    location: str = ""

    def contains(self, when: datetime) -> bool:
        """Whether ``when`` falls in this interval (a naive datetime is read as UTC)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(_zone(self.location)) if self.location else when.astimezone(UTC)
        if self.times is not None:
            minute = when.hour * 60 + when.minute
            if not any(r.start_minute <= minute < r.end_minute for r in self.times):
                return False
        if self.days_of_month is not None:
            size = calendar.monthrange(when.year, when.month)[1]
            if not any(_day_in(r, when.day, size) for r in self.days_of_month):
                return False
        if self.months is not None and not any(r.begin <= when.month <= r.end for r in self.months):
            return False
        weekday = (when.weekday() + 1) % 7  # Go counts from Sunday
        if self.weekdays is not None and not any(
            r.begin <= weekday <= r.end for r in self.weekdays
        ):
            return False
        return self.years is None or any(r.begin <= when.year <= r.end for r in self.years)


def _day_in(r: InclusiveRange, day: int, size: int) -> bool:
    begin = size + r.begin + 1 if r.begin < 0 else r.begin
    end = size + r.end + 1 if r.end < 0 else r.end
    if begin > size:  # a range starting after this month's last day never matches
        return False
    begin = max(-size, min(begin, size))
    end = max(-size, min(end, size))
    return begin <= day <= end


def active_intervals(
    intervals: Mapping[str, tuple[TimeInterval, ...]], names: Iterable[str], when: datetime
) -> list[str]:
    """The names among ``names`` with an interval containing ``when``.

    What Alertmanager's mute and active time interval stages ask; an unknown name is a
    ``KeyError`` (a loaded config has none: they are checked when it loads).
    """
    return [name for name in names if any(ti.contains(when) for ti in intervals[name])]


def _zone(name: str) -> tzinfo:
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    return zoneinfo.ZoneInfo(name)


def parse_location(text: str) -> str:
    """Check a ``location`` as Go's ``time.LoadLocation`` does; ``BadInput`` when unknown."""
    if text in ("", "UTC", "Local"):
        return text
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise BadInput(f"unknown time zone {text}") from None
    return text


def parse_time_range(start: str, end: str) -> TimeRange:
    """``start_time``/``end_time`` (``HH:MM``, ``24:00`` allowed as an end)."""
    if not start or not end:
        raise BadInput("both start and end times must be provided")
    first, last = _minutes(start), _minutes(end)
    if first >= last:
        raise BadInput("start time cannot be equal or greater than end time")
    return TimeRange(first, last)


def _minutes(text: str) -> int:
    m = _TIME.match(text)
    if m is None:
        raise BadInput(f"couldn't parse timestamp {text}, invalid format")
    hours, minutes = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return int(hours) * 60 + int(minutes)


def _members(text: str, member: type[_Member]) -> tuple[int, int]:
    text = text.lower()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 2:
            raise BadInput(f"couldn't parse range {text}, invalid format")
        return member.read(parts[0]), member.read(parts[1])
    value = member.read(text)
    return value, value


class _Member:
    @staticmethod
    def read(text: str) -> int:
        if not _INT.match(text):
            raise BadInput(f'strconv.Atoi: parsing "{text}": invalid syntax')
        return int(text)


class _Weekday(_Member):
    @staticmethod
    def read(text: str) -> int:
        if text not in WEEKDAYS:
            raise BadInput(f"{text} is not a valid weekday")
        return WEEKDAYS.index(text)


class _Month(_Member):
    @staticmethod
    def read(text: str) -> int:
        if text in MONTHS:
            return MONTHS.index(text) + 1
        if not _INT.match(text):
            raise BadInput(f"{text} is not a valid month")
        return int(text)


def parse_weekdays(text: str) -> InclusiveRange:
    """``monday``, ``monday:friday`` (case-insensitive)."""
    begin, end = _members(text, _Weekday)
    if begin > end:
        raise BadInput("start day cannot be before end day")
    return InclusiveRange(begin, end)


def parse_days_of_month(text: str) -> InclusiveRange:
    """``1``, ``1:15``, ``-3:-1`` (negative days count back from the month's last day)."""
    begin, end = _members(text, _Member)
    for day in (begin, end):
        if day == 0 or day < -31 or day > 31:
            raise BadInput(f"{day} is not a valid day of the month: out of range")
    if begin < 0 < end:
        raise BadInput("end day must be negative if start day is negative")
    # Alertmanager rejects what would be empty even in a 28-day month.
    if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
        raise BadInput(f"end day {end} is always before start day {begin}")
    return InclusiveRange(begin, end)


def parse_months(text: str) -> InclusiveRange:
    """``january``, ``january:march``, ``1:3``."""
    begin, end = _members(text, _Month)
    if begin > end:
        name = dict(enumerate(MONTHS, start=1))
        raise BadInput(f"end month {name.get(end, '')} is before start month {name.get(begin, '')}")
    return InclusiveRange(begin, end)


def parse_years(text: str) -> InclusiveRange:
    """``2024``, ``2024:2026``."""
    begin, end = _members(text, _Member)
    if begin > end:
        raise BadInput(f"end year {end} is before start year {begin}")
    return InclusiveRange(begin, end)


__all__ = [
    "MONTHS",
    "WEEKDAYS",
    "InclusiveRange",
    "TimeInterval",
    "TimeRange",
    "active_intervals",
    "parse_days_of_month",
    "parse_location",
    "parse_months",
    "parse_time_range",
    "parse_weekdays",
    "parse_years",
]
