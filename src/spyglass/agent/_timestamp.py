"""Promtail's ``timestamp`` stage: an extracted value becomes the entry's time.

``format`` is one of Go's named layouts (``RFC3339``, ``RFC3339Nano``, ``ANSIC``, ``RFC1123Z``,
...), ``Unix``/``UnixMs``/``UnixUs``/``UnixNs`` (epoch numbers; ``Unix`` may carry a fraction), or
a Go reference-time layout (``2006-01-02 15:04:05.000``), parsed by Spyglass's port of Go's
``time.ParseInLocation``. ``location`` (an IANA zone) applies when the text has no zone; a
layout without a year takes the current one, as Promtail does for syslog-style stamps.
``fallback_formats`` are tried in order. On failure, ``action_on_failure: fudge`` (the default)
sets the last good time of the same label set plus one nanosecond, so lines keep their order;
``skip`` leaves the read time.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable

from spyglass.agent._entry import Entry, value_text
from spyglass.agent._stage import EntryStage
from spyglass.core.config.fields import Section
from spyglass.core.template import TimeError, parse_time

_NAMED = {
    "ANSIC": "Mon Jan _2 15:04:05 2006",
    "UnixDate": "Mon Jan _2 15:04:05 MST 2006",
    "RubyDate": "Mon Jan 02 15:04:05 -0700 2006",
    "RFC822": "02 Jan 06 15:04 MST",
    "RFC822Z": "02 Jan 06 15:04 -0700",
    "RFC850": "Monday, 02-Jan-06 15:04:05 MST",
    "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST",
    "RFC1123Z": "Mon, 02 Jan 2006 15:04:05 -0700",
    "RFC3339": "2006-01-02T15:04:05Z07:00",
    "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00",
    "Kitchen": "3:04PM",
    "Stamp": "Jan _2 15:04:05",
    "StampMilli": "Jan _2 15:04:05.000",
    "StampMicro": "Jan _2 15:04:05.000000",
    "StampNano": "Jan _2 15:04:05.000000000",
}
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_UNIX_SCALE = {"UnixMs": 1_000_000, "UnixUs": 1_000, "UnixNs": 1}
# Label sets whose last time is remembered for fudging (Promtail keeps an LRU of them too).
_FUDGE_CACHE = 10_000

Parser = Callable[[str], int]


def _unix(text: str) -> int:
    whole, dot, frac = text.strip().partition(".")
    seconds = int(whole)
    if not dot:
        return seconds * 1_000_000_000
    if not frac.isdigit():
        raise ValueError(text)
    nanos = int((frac + "000000000")[:9])
    return seconds * 1_000_000_000 + (-nanos if whole.startswith("-") else nanos)


def _scaled(scale: int) -> Parser:
    def parse(text: str) -> int:
        return int(text.strip()) * scale

    return parse


def _layout(layout: str, zone: dt.tzinfo, now: Callable[[], int]) -> Parser:
    # Go's year elements are "2006" and "06"; a layout with neither gets this year.
    has_year = "06" in layout

    def parse(text: str) -> int:
        t = parse_time(layout, text, zone)
        if has_year:
            return t.ns
        # No year in the layout (syslog's "Jan _2 15:04:05"): this year, as Promtail does.
        year = dt.datetime.fromtimestamp(now() / 1e9, tz=t.zone).year
        wall = dt.datetime(
            year, int(t.month()), t.day(), t.hour(), t.minute(), t.second(), tzinfo=t.zone
        )
        return int(wall.timestamp()) * 1_000_000_000 + t.nanosecond()

    return parse


def _rfc3339(general: Parser) -> Parser:
    # RFC 3339 is most JSON logs' time format; Go's general layout parser costs ~100 µs a line
    # in Python, a regex ~3 µs. Text the regex does not take goes to the general parser, so
    # the result (and the error) is still Go's.
    def parse(text: str) -> int:
        m = _RFC3339.fullmatch(text)
        if m is None:
            return general(text)
        year, month, day, hh, mm, ss, frac, zone = m.groups()
        y, mo, d = int(year), int(month), int(day)
        in_range = y >= 1 and 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]
        if not (in_range and int(hh) < 24 and int(mm) < 60 and int(ss) < 60):
            return general(text)
        secs = calendar.timegm((y, mo, d, int(hh), int(mm), int(ss)))
        if zone != "Z":
            offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
            secs -= offset if zone[0] == "+" else -offset
        return secs * 1_000_000_000 + int((frac or "").ljust(9, "0"))

    return parse


def time_parser(fmt: str, zone: dt.tzinfo, now: Callable[[], int]) -> Parser:
    """A function reading text in ``fmt`` to nanoseconds since the epoch (raises
    ``ValueError`` on text it cannot read)."""
    if fmt == "Unix":
        return _unix
    if fmt in _UNIX_SCALE:
        return _scaled(_UNIX_SCALE[fmt])
    general = _layout(_NAMED.get(fmt, fmt), zone, now)
    return _rfc3339(general) if fmt in ("RFC3339", "RFC3339Nano") else general


class TimestampStage(EntryStage):
    """``timestamp``: parse ``source`` with ``format`` (then ``fallback_formats``)."""

    def __init__(self, source: str, parsers: list[Parser], fudge: bool) -> None:
        self.source = source
        self.parsers = parsers
        self.fudge = fudge
        self.last: OrderedDict[tuple[tuple[str, str], ...], int] = OrderedDict()

    def apply(self, entry: Entry, now_ns: int) -> bool:
        if self.source not in entry.extracted:
            return True
        text = value_text(entry.extracted[self.source])
        key = tuple(sorted(entry.labels.items()))
        parsed: int | None = None
        if text:
            for parse in self.parsers:
                try:
                    parsed = parse(text)
                    break
                except (TimeError, ValueError, OverflowError):
                    continue
        if parsed is None:
            if self.fudge and key in self.last:
                entry.ts_ns = self.last[key] + 1
                self.last[key] = entry.ts_ns
            return True
        entry.ts_ns = parsed
        self.last[key] = parsed
        self.last.move_to_end(key)
        if len(self.last) > _FUDGE_CACHE:
            self.last.popitem(last=False)
        return True


def build_timestamp(s: Section, now: Callable[[], int]) -> TimestampStage:
    """The ``timestamp`` stage."""
    if not s.text("source"):
        raise s.error("source", "source cannot be empty")
    if not s.text("format"):
        raise s.error("format", "format cannot be empty")
    zone: dt.tzinfo = dt.UTC
    if s.text("location"):
        try:
            zone = zoneinfo.ZoneInfo(s.text("location"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise s.error("location", f"unknown time zone {s.text('location')}") from None
    action = s.text("action_on_failure", "fudge")
    if action not in ("fudge", "skip"):
        raise s.error(
            "action_on_failure",
            f"invalid action on failure (supported values are fudge, skip): {action}",
        )
    formats = [s.text("format"), *s.strs("fallback_formats")]
    return TimestampStage(
        s.text("source"), [time_parser(f, zone, now) for f in formats], action == "fudge"
    )


__all__ = ["TimestampStage", "build_timestamp", "time_parser"]
