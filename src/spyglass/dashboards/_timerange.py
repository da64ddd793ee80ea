"""Grafana's dashboard time range: ``from``/``to`` as ``now-6h``, ``now/d``, epoch milliseconds
or a date, turned into milliseconds since the epoch.

Relative times use Grafana's units ``s m h d w M y`` (a month is 30 days and a year 365 here,
which Grafana's date math only approximates too); ``/unit`` rounds down to the start of that
unit in UTC (``to`` rounds up to its end, as Grafana does for ``now/d`` as an end).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from spyglass.dashboards._model import DashboardError

_UNIT_MS = {
    "s": 1_000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "M": 2_592_000_000,
    "y": 31_536_000_000,
}
_RELATIVE = re.compile(r"^now(?:([+-])(\d+)([smhdwMy]))?(?:/([smhdwMy]))?$", re.ASCII)

DEFAULT_FROM = "now-6h"
DEFAULT_TO = "now"


def _round(ms: int, unit: str, up: bool) -> int:
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    if unit == "y":
        start = dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1)
    elif unit == "M":
        start = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    else:
        size = _UNIT_MS[unit]
        # Weeks start on Monday (ISO); 1970-01-01 was a Thursday.
        offset = 3 * 86_400_000 if unit == "w" else 0
        base = ms - (ms + offset) % size
        return base + size - 1 if up else base
    low = int(start.timestamp() * 1000)
    return int(end.timestamp() * 1000) - 1 if up else low


def parse_time(text: str, now_ms: int, *, is_end: bool = False) -> int:
    """Milliseconds for a Grafana time (see the module docstring); ``DashboardError`` when
    ``text`` is none."""
    t = text.strip().replace(" ", "")
    if m := _RELATIVE.match(t):
        ms = now_ms
        if m.group(1):
            delta = int(m.group(2)) * _UNIT_MS[m.group(3)]
            ms = ms - delta if m.group(1) == "-" else ms + delta
        if m.group(4):
            try:
                ms = _round(ms, m.group(4), is_end)
            except (OverflowError, ValueError, OSError):
                raise DashboardError(f"invalid time {text!r}: out of range") from None
        return ms
    if t.isascii() and t.isdigit():
        return int(t)
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DashboardError(f"invalid time {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def parse_range(start: str, end: str, now_ms: int) -> tuple[int, int]:
    """``(from_ms, to_ms)``; ``DashboardError`` when either is invalid or from is not before to."""
    lo = parse_time(start, now_ms)
    hi = parse_time(end, now_ms, is_end=True)
    if lo >= hi:
        raise DashboardError(f"time range from {start!r} is not before to {end!r}")
    return lo, hi


__all__ = ["DEFAULT_FROM", "DEFAULT_TO", "parse_range", "parse_time"]
