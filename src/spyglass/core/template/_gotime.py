"""Go's ``time.Time`` and ``time.Duration`` as templates see them.

Templates call methods on times (``{{ .StartsAt.Format "15:04" }}``, ``.Unix``, ``.Add``) and
print them (``2015-06-23 13:19:44.128 +0000 UTC``), and Alertmanager's ``date``/``toDate`` take
Go layouts (``2006-01-02 15:04:05``). ``GoTime`` keeps nanoseconds since the epoch and a zone;
``GoDuration`` is an ``int`` of nanoseconds that prints as Go does (``1h2m0.5s``).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, NamedTuple

from spyglass.core.template._printing import go_quote

_NS = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
UTC = dt.UTC

_LONG_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_LONG_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


class TimeError(ValueError):
    """A time could not be parsed or converted; the message is Go's."""


def fixed_zone(name: str, offset_seconds: int) -> dt.tzinfo:
    """Go's ``time.FixedZone``: a constant offset under a name (``""``: none)."""
    return dt.timezone(dt.timedelta(seconds=offset_seconds), name)


class Civil(NamedTuple):
    """Wall-clock fields of an instant in a zone (proleptic Gregorian, any year)."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int  # Sunday is 0
    yday: int


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_unix(seconds: int) -> Civil:
    """The UTC wall-clock fields of ``seconds`` since the epoch (already shifted by the offset)."""
    days, rem = divmod(seconds, 86_400)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    yday = days - days_from_civil(y, 1, 1) + 1
    return Civil(y, m, d, rem // 3600, rem // 60 % 60, rem % 60, (days + 4) % 7, yday)


class GoDuration(int):
    """Go's ``time.Duration``: nanoseconds; prints as ``1h2m3.5s``."""

    __go_type__: ClassVar[str] = "time.Duration"
    __go_fields__: ClassVar[dict[str, str]] = {
        "String": "string",
        "Seconds": "seconds",
        "Minutes": "minutes",
        "Hours": "hours",
        "Milliseconds": "milliseconds",
        "Microseconds": "microseconds",
        "Nanoseconds": "nanoseconds",
        "Abs": "abs",
    }

    def string(self) -> str:
        """Go's ``Duration.String``."""
        return format_duration(int(self))

    def seconds(self) -> float:
        """The duration in seconds."""
        return int(self) / _NS

    def minutes(self) -> float:
        """The duration in minutes."""
        return int(self) / (60 * _NS)

    def hours(self) -> float:
        """The duration in hours."""
        return int(self) / (3600 * _NS)

    def milliseconds(self) -> int:
        """Whole milliseconds."""
        return _trunc_div(int(self), 1_000_000)

    def microseconds(self) -> int:
        """Whole microseconds."""
        return _trunc_div(int(self), 1_000)

    def nanoseconds(self) -> int:
        """Nanoseconds."""
        return int(self)

    def abs(self) -> GoDuration:
        """The absolute value."""
        return GoDuration(abs(int(self)))

    def __repr__(self) -> str:
        return f"GoDuration({format_duration(int(self))})"


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def _frac(v: int, prec: int) -> tuple[str, int]:
    digits = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        v //= 10
    text = "".join(reversed(digits))
    return ("." + text if printed else ""), v


def format_duration(ns: int) -> str:
    """Go's ``Duration.String``: ``0s``, ``1.5µs``, ``2m30s``, ``1h0m0s``."""
    neg = ns < 0
    u = -ns if neg else ns
    if u < _NS:
        if u == 0:
            return "0s"
        if u < 1_000:
            frac, u = _frac(u, 0)
            unit = "ns"
        elif u < 1_000_000:
            frac, u = _frac(u, 3)
            unit = "µs"
        else:
            frac, u = _frac(u, 6)
            unit = "ms"
        out = f"{u}{frac}{unit}"
    else:
        frac, u = _frac(u, 9)
        out = f"{u % 60}{frac}s"
        u //= 60
        if u > 0:
            out = f"{u % 60}m" + out
            u //= 60
            if u > 0:
                out = f"{u}h" + out
    return "-" + out if neg else out


class GoMonth(int):
    """Go's ``time.Month``: an int that prints as its English name."""

    __go_type__: ClassVar[str] = "time.Month"
    __go_fields__: ClassVar[dict[str, str]] = {"String": "string"}

    def string(self) -> str:
        """January, February, ..."""
        return _LONG_MONTHS[int(self) - 1] if 1 <= int(self) <= 12 else f"%!Month({int(self)})"


class GoWeekday(int):
    """Go's ``time.Weekday``: Sunday is 0."""

    __go_type__: ClassVar[str] = "time.Weekday"
    __go_fields__: ClassVar[dict[str, str]] = {"String": "string"}

    def string(self) -> str:
        """Sunday, Monday, ..."""
        return _LONG_DAYS[int(self)] if 0 <= int(self) <= 6 else f"%!Weekday({int(self)})"


class GoTime:
    """Go's ``time.Time``: an instant in nanoseconds since the epoch, shown in a zone."""

    __slots__ = ("_civil", "ns", "zone")
    _civil: Civil | None
    __go_type__: ClassVar[str] = "time.Time"
    __go_fields__: ClassVar[dict[str, str]] = {
        "Format": "format",
        "String": "string",
        "Unix": "unix",
        "UnixMilli": "unix_milli",
        "UnixMicro": "unix_micro",
        "UnixNano": "unix_nano",
        "Add": "add",
        "Sub": "sub",
        "UTC": "utc",
        "Year": "year",
        "Month": "month",
        "Day": "day",
        "Hour": "hour",
        "Minute": "minute",
        "Second": "second",
        "Nanosecond": "nanosecond",
        "Weekday": "weekday",
        "YearDay": "year_day",
        "IsZero": "is_zero",
        "Before": "before",
        "After": "after",
        "Equal": "equal",
    }

    def __init__(self, ns: int, zone: dt.tzinfo = UTC) -> None:
        self.ns = ns
        self.zone = zone
        self._civil = None

    @classmethod
    def from_datetime(cls, value: dt.datetime) -> GoTime:
        """A GoTime for an aware ``datetime`` (a naive one is taken as UTC)."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta = value - _EPOCH
        ns = (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1_000
        return cls(ns, value.tzinfo or UTC)

    @classmethod
    def zero(cls) -> GoTime:
        """Go's zero time, January 1, year 1, 00:00:00 UTC."""
        return cls(-62_135_596_800 * _NS, UTC)

    # --- civil time ------------------------------------------------------------------------
    def civil(self) -> Civil:
        """The wall-clock fields in the zone."""
        if self._civil is None:
            _, offset = self.zone_name_offset()
            self._civil = civil_from_unix(self.ns // _NS + offset)
        return self._civil

    def zone_name_offset(self) -> tuple[str, int]:
        """The zone's abbreviation (``""`` when it has none) and offset in seconds."""
        if self.zone is UTC:
            return "UTC", 0
        if isinstance(self.zone, dt.timezone):
            offset = self.zone.utcoffset(None)
            name = self.zone.tzname(None)
            # dt.timezone names an unnamed offset "UTC+01:00"; Go's has no name.
            if name.startswith("UTC") and len(name) > 3:
                name = ""
            return name, int(offset.total_seconds())
        try:
            moment = (_EPOCH + dt.timedelta(seconds=self.ns // _NS)).astimezone(self.zone)
        except (OverflowError, ValueError):
            return "UTC", 0  # outside the years a zone database describes
        off = moment.utcoffset() or dt.timedelta(0)
        return moment.tzname() or "", int(off.total_seconds())

    # --- Go methods --------------------------------------------------------------------------
    def format(self, layout: str) -> str:
        """Go's ``Time.Format`` with a reference-time layout."""
        return format_time(self, layout)

    def string(self) -> str:
        """Go's ``Time.String``."""
        return format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST")

    def unix(self) -> int:
        """Seconds since the epoch."""
        return self.ns // _NS

    def unix_milli(self) -> int:
        """Milliseconds since the epoch."""
        return self.ns // 1_000_000

    def unix_micro(self) -> int:
        """Microseconds since the epoch."""
        return self.ns // 1_000

    def unix_nano(self) -> int:
        """Nanoseconds since the epoch."""
        return self.ns

    def add(self, d: GoDuration) -> GoTime:
        """The time plus a duration."""
        return GoTime(self.ns + int(d), self.zone)

    def sub(self, other: GoTime) -> GoDuration:
        """The duration between two times."""
        return GoDuration(self.ns - other.ns)

    def utc(self) -> GoTime:
        """The same instant shown in UTC."""
        return GoTime(self.ns, UTC)

    def in_zone(self, zone: dt.tzinfo) -> GoTime:
        """The same instant shown in another zone."""
        return GoTime(self.ns, zone)

    def year(self) -> int:
        """The year."""
        return self.civil().year

    def month(self) -> GoMonth:
        """The month."""
        return GoMonth(self.civil().month)

    def day(self) -> int:
        """The day of the month."""
        return self.civil().day

    def hour(self) -> int:
        """The hour."""
        return self.civil().hour

    def minute(self) -> int:
        """The minute."""
        return self.civil().minute

    def second(self) -> int:
        """The second."""
        return self.civil().second

    def nanosecond(self) -> int:
        """The nanoseconds within the second."""
        return self.ns % _NS

    def weekday(self) -> GoWeekday:
        """The day of the week."""
        return GoWeekday(self.civil().weekday)

    def year_day(self) -> int:
        """The day of the year, from 1."""
        return self.civil().yday

    def is_zero(self) -> bool:
        """Whether this is Go's zero time."""
        return self.ns == GoTime.zero().ns

    def before(self, other: GoTime) -> bool:
        """Whether this instant is before another."""
        return self.ns < other.ns

    def after(self, other: GoTime) -> bool:
        """Whether this instant is after another."""
        return self.ns > other.ns

    def equal(self, other: GoTime) -> bool:
        """Whether both are the same instant."""
        return self.ns == other.ns

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoTime) and self.ns == other.ns and self.zone == other.zone

    def __hash__(self) -> int:
        return hash(self.ns)

    def __repr__(self) -> str:
        return f"GoTime({self.string()})"


# --- layouts ---------------------------------------------------------------------------------

# Layout elements, spelled as in Go's reference time Mon Jan 2 15:04:05 MST 2006.
_STD = (
    "January",
    "Jan",
    "Monday",
    "Mon",
    "MST",
    "2006",
    "002",
    "__2",
    "_2",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "15",
    "1",
    "2",
    "3",
    "4",
    "5",
    "PM",
    "pm",
    "-07:00:00",
    "-070000",
    "-07:00",
    "-0700",
    "-07",
    "Z07:00:00",
    "Z070000",
    "Z07:00",
    "Z0700",
    "Z07",
)


def _starts_lower(s: str) -> bool:
    return bool(s) and "a" <= s[0] <= "z"


def _chunks(layout: str) -> list[tuple[str, str]]:
    """Split a layout into ``(literal, element)`` pairs (element ``""`` at the end)."""
    out: list[tuple[str, str]] = []
    lit: list[str] = []
    i = 0
    n = len(layout)
    while i < n:
        std = _std_at(layout, i)
        if std:
            out.append(("".join(lit), std))
            lit = []
            i += len(std)
            continue
        lit.append(layout[i])
        i += 1
    out.append(("".join(lit), ""))
    return out


def _std_at(layout: str, i: int) -> str:
    rest = layout[i:]
    c = rest[0]
    if c == "J" and rest.startswith("Jan"):
        if rest.startswith("January"):
            return "January"
        return "" if _starts_lower(rest[3:]) else "Jan"
    if c == "M":
        if rest.startswith("Mon"):
            if rest.startswith("Monday"):
                return "Monday"
            if not _starts_lower(rest[3:]):
                return "Mon"
        if rest.startswith("MST"):
            return "MST"
        return ""
    if c == "0":
        if len(rest) >= 2 and "1" <= rest[1] <= "6":
            return rest[:2]
        return "002" if rest.startswith("002") else ""
    if c == "1":
        return "15" if rest.startswith("15") else "1"
    if c == "2":
        return "2006" if rest.startswith("2006") else "2"
    if c == "_":
        if rest.startswith("_2"):
            # "_2006" is a literal underscore followed by the year.
            return "" if rest.startswith("_2006") else "_2"
        return "__2" if rest.startswith("__2") else ""
    if c in "345":
        return c
    if c == "P":
        return "PM" if rest.startswith("PM") else ""
    if c == "p":
        return "pm" if rest.startswith("pm") else ""
    if c in "-Z":
        for std in ("07:00:00", "070000", "07:00", "0700", "07"):
            if rest.startswith(c + std):
                return c + std
        return ""
    if c in ".," and len(rest) >= 2 and rest[1] in "09":
        j = 1
        while j < len(rest) and rest[j] == rest[1]:
            j += 1
        if not (j < len(rest) and rest[j].isdigit() and rest[j].isascii()):
            return rest[:j]  # a fractional second: .000 or .999 (also with a comma)
    return ""


def _pad(v: int, width: int) -> str:
    return ("-" if v < 0 else "") + str(abs(v)).rjust(width, "0")


def _tz_numeric(std: str, offset: int) -> str:
    zone = offset // 60 if offset >= 0 else -((-offset) // 60)
    absoffset = offset
    if zone < 0:
        sign = "-"
        zone = -zone
        absoffset = -absoffset
    else:
        sign = "+"
    out = sign + _pad(zone // 60, 2)
    body = std.lstrip("-Z")
    if body in ("07:00", "07:00:00"):
        out += ":"
    if body != "07":
        out += _pad(zone % 60, 2)
    if body in ("070000", "07:00:00"):
        if body == "07:00:00":
            out += ":"
        out += _pad(absoffset % 60, 2)
    return out


def format_time(t: GoTime, layout: str) -> str:
    """Go's ``Time.Format``."""
    civil = t.civil()
    name, offset = t.zone_name_offset()
    nanos = t.ns % _NS
    out: list[str] = []
    for literal, std in _chunks(layout):
        out.append(literal)
        if not std:
            continue
        if std == "2006":
            out.append(_pad(civil.year, 4))
        elif std == "06":
            out.append(_pad(civil.year % 100, 2))
        elif std == "January":
            out.append(_LONG_MONTHS[civil.month - 1])
        elif std == "Jan":
            out.append(_LONG_MONTHS[civil.month - 1][:3])
        elif std == "1":
            out.append(str(civil.month))
        elif std == "01":
            out.append(_pad(civil.month, 2))
        elif std == "Monday":
            out.append(_LONG_DAYS[civil.weekday])
        elif std == "Mon":
            out.append(_LONG_DAYS[civil.weekday][:3])
        elif std == "2":
            out.append(str(civil.day))
        elif std == "_2":
            out.append(str(civil.day).rjust(2, " "))
        elif std == "02":
            out.append(_pad(civil.day, 2))
        elif std == "__2":
            out.append(str(civil.yday).rjust(3, " "))
        elif std == "002":
            out.append(_pad(civil.yday, 3))
        elif std == "15":
            out.append(_pad(civil.hour, 2))
        elif std in ("3", "03"):
            hr = civil.hour % 12 or 12
            out.append(str(hr) if std == "3" else _pad(hr, 2))
        elif std in ("4", "04"):
            out.append(str(civil.minute) if std == "4" else _pad(civil.minute, 2))
        elif std in ("5", "05"):
            out.append(str(civil.second) if std == "5" else _pad(civil.second, 2))
        elif std == "PM":
            out.append("PM" if civil.hour >= 12 else "AM")
        elif std == "pm":
            out.append("pm" if civil.hour >= 12 else "am")
        elif std.startswith("Z") and offset == 0:
            out.append("Z")
        elif std[0] in "-Z":
            out.append(_tz_numeric(std, offset))
        elif std == "MST":
            if name:
                out.append(name)
            else:
                z = offset // 60 if offset >= 0 else -((-offset) // 60)
                sign = "-" if z < 0 else "+"
                z = abs(z)
                out.append(sign + _pad(z // 60, 2) + _pad(z % 60, 2))
        elif std[0] in ".,":
            digits = str(nanos).rjust(9, "0")[: min(len(std) - 1, 9)]
            if std[1] == "9":
                digits = digits.rstrip("0")
                if digits:
                    out.append(std[0] + digits)
            else:
                out.append(std[0] + digits)
    return "".join(out)


# --- parsing ---------------------------------------------------------------------------------


class _Bad(Exception):
    pass


def _digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _getnum(s: str, fixed: bool) -> tuple[int, str]:
    if not _digit(s, 0):
        raise _Bad
    if not _digit(s, 1):
        if fixed:
            raise _Bad
        return int(s[0]), s[1:]
    return int(s[:2]), s[2:]


def _getnum3(s: str, fixed: bool) -> tuple[int, str]:
    i = 0
    while i < 3 and _digit(s, i):
        i += 1
    if i == 0 or (fixed and i != 3):
        raise _Bad
    return int(s[:i]), s[i:]


def _lookup(names: tuple[str, ...], value: str) -> tuple[int, str]:
    for i, name in enumerate(names):
        if len(value) >= len(name) and value[: len(name)].lower() == name.lower():
            return i, value[len(name) :]
    raise _Bad


def _skip(value: str, prefix: str) -> str:
    while prefix:
        if prefix[0] == " ":
            if value and value[0] != " ":
                raise _Bad
            prefix = prefix.lstrip(" ")
            value = value.lstrip(" ")
            continue
        if not value or value[0] != prefix[0]:
            raise _Bad
        prefix = prefix[1:]
        value = value[1:]
    return value


def _nanoseconds(value: str, n: int) -> int:
    digits = value[1:n][:9]
    if not digits.isdigit():
        raise _Bad
    return int(digits.ljust(9, "0"))


def _zone_abbreviation_length(value: str) -> int:
    if value.startswith("GMT"):
        i = 3
        if i < len(value) and value[i] in "+-":
            j = i + 1
            while _digit(value, j):
                j += 1
            return j if j > i + 1 else 3
        return 3
    n = 0
    while n < len(value) and "A" <= value[n] <= "Z":
        n += 1
    if n == 3 or (n in (4, 5) and value[n - 1] == "T"):
        return n
    if value.startswith(("ChST", "MeST")):
        return 4
    raise _Bad


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_time(layout: str, value: str, default_zone: dt.tzinfo = UTC) -> GoTime:
    """Go's ``time.ParseInLocation``; ``TimeError`` carries Go's message."""
    original = value
    year, month, day, yday = 0, -1, -1, -1
    hour = minute = sec = nsec = 0
    pm_set = am_set = False
    zone: dt.tzinfo | None = None
    zone_offset: int | None = None
    zone_name = ""
    chunks = _chunks(layout)

    def fail(elem: str, rest: str, message: str = "") -> TimeError:
        if message:
            return TimeError(f"parsing time {go_quote(original)}{message}")
        return TimeError(
            f"parsing time {go_quote(original)} as {go_quote(layout)}: "
            f"cannot parse {go_quote(rest)} as {go_quote(elem)}"
        )

    for k, (literal, std) in enumerate(chunks):
        try:
            value = _skip(value, literal)
        except _Bad:
            raise fail(literal, value) from None
        if not std:
            if value:
                raise fail("", "", f": extra text: {go_quote(value)}")
            break
        hold = value
        range_error = ""
        try:
            if std == "06":
                if len(value) < 2 or not value[:2].isdigit():
                    raise _Bad
                year = int(value[:2])
                year += 1900 if year >= 69 else 2000
                value = value[2:]
            elif std == "2006":
                if len(value) < 4 or not value[:4].isdigit():
                    raise _Bad
                year, value = int(value[:4]), value[4:]
            elif std in ("Jan", "January"):
                names = _LONG_MONTHS if std == "January" else tuple(m[:3] for m in _LONG_MONTHS)
                month, value = _lookup(names, value)
                month += 1
            elif std in ("1", "01"):
                month, value = _getnum(value, std == "01")
                if not 1 <= month <= 12:
                    range_error = "month"
            elif std in ("Mon", "Monday"):
                names = _LONG_DAYS if std == "Monday" else tuple(d[:3] for d in _LONG_DAYS)
                _, value = _lookup(names, value)
            elif std in ("2", "_2", "02"):
                if std == "_2" and value[:1] == " ":
                    value = value[1:]
                day, value = _getnum(value, std == "02")
            elif std in ("__2", "002"):
                for _ in range(2):
                    if std == "__2" and value[:1] == " ":
                        value = value[1:]
                yday, value = _getnum3(value, std == "002")
            elif std == "15":
                hour, value = _getnum(value, False)
                if not 0 <= hour < 24:
                    range_error = "hour"
            elif std in ("3", "03"):
                hour, value = _getnum(value, std == "03")
                if not 0 <= hour <= 12:
                    range_error = "hour"
            elif std in ("4", "04"):
                minute, value = _getnum(value, std == "04")
                if not 0 <= minute < 60:
                    range_error = "minute"
            elif std in ("5", "05"):
                sec, value = _getnum(value, std == "05")
                if not 0 <= sec < 60:
                    range_error = "second"
                elif len(value) >= 2 and value[0] in ".," and _digit(value, 1):
                    following = chunks[k + 1][1] if k + 1 < len(chunks) else ""
                    if following[:1] not in (".", ","):
                        n = 2
                        while _digit(value, n):
                            n += 1
                        nsec = _nanoseconds(value, n)
                        value = value[n:]
            elif std in ("PM", "pm"):
                if len(value) < 2:
                    raise _Bad
                p, value = value[:2], value[2:]
                want = ("PM", "AM") if std == "PM" else ("pm", "am")
                if p == want[0]:
                    pm_set = True
                elif p == want[1]:
                    am_set = True
                else:
                    raise _Bad
            elif std[0] in "-Z":
                if std[0] == "Z" and value[:1] == "Z":
                    value = value[1:]
                    zone = UTC
                else:
                    zone_offset, value, range_error = _parse_offset(std, value)
            elif std == "MST":
                if value.startswith("UTC"):
                    zone = UTC
                    value = value[3:]
                else:
                    n = _zone_abbreviation_length(value)
                    zone_name, value = value[:n], value[n:]
            elif std[0] in ".,":
                if std[1] == "0":
                    ndigit = len(std)
                    if len(value) < ndigit or value[0] not in ".,":
                        raise _Bad
                    nsec = _nanoseconds(value, ndigit)
                    value = value[ndigit:]
                elif len(value) >= 2 and value[0] in ".," and _digit(value, 1):
                    i = 0
                    while _digit(value, i + 1):
                        i += 1
                    nsec = _nanoseconds(value, 1 + i)
                    value = value[1 + i :]
        except _Bad:
            raise fail(std, hold) from None
        if range_error:
            raise fail(std, value, f": {range_error} out of range")

    if pm_set and hour < 12:
        hour += 12
    elif am_set and hour == 12:
        hour = 0
    if yday >= 0:
        leap = _days_in(2, year) == 29
        if yday < 1 or yday > (366 if leap else 365):
            raise fail("", value, ": day-of-year out of range")
        if month < 0 or day < 0:
            found = civil_from_unix((days_from_civil(year, 1, 1) + yday - 1) * 86_400)
            month, day = found.month, found.day
    else:
        if month < 0:
            month = 1
        if day < 0:
            day = 1
    if day < 1 or day > _days_in(month, year):
        raise fail("", value, ": day out of range")
    base = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + sec
    if zone is not None:
        return GoTime((base - _offset_of(zone, base)) * _NS + nsec, zone)
    if zone_offset is not None:
        return GoTime((base - zone_offset) * _NS + nsec, fixed_zone("", zone_offset))
    if zone_name:
        offset = 0
        if zone_name.startswith("GMT") and len(zone_name) > 3:
            offset = int(zone_name[3:]) * 3600
        return GoTime((base - offset) * _NS + nsec, fixed_zone(zone_name, offset))
    return GoTime((base - _offset_of(default_zone, base)) * _NS + nsec, default_zone)


def _offset_of(zone: dt.tzinfo, wall_seconds: int) -> int:
    """The zone's offset at a wall-clock time (seconds since the epoch, read as local)."""
    if zone is UTC:
        return 0
    try:
        wall = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=wall_seconds)
    except OverflowError:
        return 0
    off = zone.utcoffset(wall)
    return int(off.total_seconds()) if off is not None else 0


def _parse_offset(std: str, value: str) -> tuple[int, str, str]:
    body = std.lstrip("-Z")
    if body in ("07:00",):
        if len(value) < 6 or value[3] != ":":
            raise _Bad
        sign, hh, mm, ss, rest = value[0], value[1:3], value[4:6], "00", value[6:]
    elif body == "07":
        if len(value) < 3:
            raise _Bad
        sign, hh, mm, ss, rest = value[0], value[1:3], "00", "00", value[3:]
    elif body == "07:00:00":
        if len(value) < 9 or value[3] != ":" or value[6] != ":":
            raise _Bad
        sign, hh, mm, ss, rest = value[0], value[1:3], value[4:6], value[7:9], value[9:]
    elif body == "070000":
        if len(value) < 7:
            raise _Bad
        sign, hh, mm, ss, rest = value[0], value[1:3], value[3:5], value[5:7], value[7:]
    else:
        if len(value) < 5:
            raise _Bad
        sign, hh, mm, ss, rest = value[0], value[1:3], value[3:5], "00", value[5:]
    hr, _ = _getnum(hh, True)
    mn, _ = _getnum(mm, True)
    sc, _ = _getnum(ss, True)
    range_error = ""
    if hr > 24:
        range_error = "time zone offset hour"
    if mn > 60:
        range_error = "time zone offset minute"
    if sc > 60:
        range_error = "time zone offset second"
    offset = (hr * 60 + mn) * 60 + sc
    if sign == "-":
        offset = -offset
    elif sign != "+":
        raise _Bad
    return offset, rest, range_error
