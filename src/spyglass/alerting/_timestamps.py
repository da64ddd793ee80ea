"""Timestamps as Alertmanager reads and writes them in its API and as RFC 3339 in config files.

Alertmanager's API v2 (go-openapi's ``strfmt.DateTime``) writes times in UTC with milliseconds,
``2026-01-02T15:04:05.000Z``, and reads RFC 3339 with or without fractional seconds and offset
(no offset: UTC), also with minutes only. Maintenance windows in ``alertmanager.yml`` take
strict RFC 3339 (an offset is required), like Go's ``time.RFC3339``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from spyglass.core.errors import BadInput

_API = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?\Z"
)
_STRICT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _parse(pattern: re.Pattern[str], text: str) -> int:
    m = pattern.match(text)
    if m is None:
        raise BadInput(f'parsing time "{text}": not an RFC 3339 time')
    year, month, day, hour, minute, second, frac, _z, sign, oh, om = m.groups()
    zone = UTC
    if sign:
        offset = timedelta(hours=int(oh), minutes=int(om))
        if int(oh) > 23 or int(om) > 59:
            raise BadInput(f'parsing time "{text}": time zone offset out of range')
        zone = timezone(offset if sign == "+" else -offset)
    try:
        when = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=zone
        )
    except ValueError as exc:
        raise BadInput(f'parsing time "{text}": {exc}') from None
    ms = (when - _EPOCH) // timedelta(milliseconds=1)
    return ms + int((frac or "0").ljust(9, "0")[:3])


def parse_api_time(text: str) -> int:
    """Milliseconds since the epoch of an API v2 time (``BadInput`` if it is not one)."""
    return _parse(_API, text)


def parse_rfc3339(text: str) -> int:
    """Milliseconds since the epoch of a strict RFC 3339 time (``BadInput`` if it is not one)."""
    return _parse(_STRICT, text)


def format_api_time(ms: int) -> str:
    """``2026-01-02T15:04:05.000Z``: how Alertmanager's API writes a time."""
    seconds, milli = divmod(ms, 1000)
    t = _EPOCH + timedelta(seconds=seconds)
    # Formatted by hand: strftime costs ten times as much, and listings format three per silence.
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{milli:03d}Z"
    )


__all__ = ["format_api_time", "parse_api_time", "parse_rfc3339"]
