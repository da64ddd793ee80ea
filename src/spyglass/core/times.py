"""Time values in Prometheus' spellings.

Durations are Prometheus durations (``1h30m``, ``15s``, ``250ms``, units y w d h m s ms, largest
first, each at most once). Timestamps in the HTTP API are RFC 3339 or (fractional) unix seconds.
Internally Spyglass counts milliseconds since the epoch in ``int``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from spyglass.core.errors import BadInput

_UNITS_MS = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
_DURATION_RE = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_ORDER = ("y", "w", "d", "h", "m", "s", "ms")


def parse_duration_ms(text: str) -> int:
    """Parse a Prometheus duration into milliseconds; ``"0"`` is allowed, negatives are not."""
    text = text.strip()
    if text == "0":
        return 0
    m = _DURATION_RE.match(text)
    if not text or m is None or not any(m.groups()):
        raise BadInput(f'not a valid duration string: "{text}"')
    return sum(int(g) * _UNITS_MS[u] for g, u in zip(m.groups(), _ORDER, strict=True) if g)


def format_duration(ms: int) -> str:
    """Prometheus' canonical spelling of a duration (``1h30m``, ``0s``)."""
    if ms == 0:
        return "0s"
    out = []
    for unit in _ORDER:
        size = _UNITS_MS[unit]
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)


# Times and durations are int64: milliseconds here, nanoseconds in Prometheus' durations.
MAX_INT64 = (1 << 63) - 1


def parse_api_time_ms(text: str) -> int:
    """Parse an HTTP API timestamp (RFC 3339 or unix seconds with fraction) into milliseconds.

    Rounds to the millisecond like Prometheus does.
    """
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # Beyond int64 milliseconds no sample can exist; Prometheus would wrap around.
        if not abs(seconds) * 1e3 <= MAX_INT64:
            raise BadInput(f'cannot parse "{text}" to a valid timestamp')
        return round(seconds * 1000)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadInput(f'cannot parse "{text}" to a valid timestamp') from None
    if dt.tzinfo is None:
        raise BadInput(f'cannot parse "{text}" to a valid timestamp')
    return round(dt.timestamp() * 1000)


def parse_api_duration_ms(text: str) -> int:
    """Parse an API duration parameter (``step``, ``timeout``): float seconds or a duration."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        return parse_duration_ms(text)
    if math.isnan(seconds) or math.isinf(seconds):
        raise BadInput(f'cannot parse "{text}" to a valid duration')
    # Prometheus' own bound: the duration in nanoseconds must fit int64.
    if not abs(seconds) * 1e9 <= MAX_INT64:
        raise BadInput(f'cannot parse "{text}" to a valid duration. It overflows int64')
    return round(seconds * 1000)


__all__ = [
    "MAX_INT64",
    "format_duration",
    "parse_api_duration_ms",
    "parse_api_time_ms",
    "parse_duration_ms",
]
