"""How pages write times, durations, values and matchers, the same way on every page.

Relative times ("12.3s ago") because that is what a person on call reads first, with the
absolute UTC time beside them where a page has room; durations as Prometheus spells them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from urllib.parse import urlencode

from spyglass.core.times import format_duration


def limit_param(text: str | None, default: int, most: int) -> int:
    """A page's ``limit`` query parameter: ``default`` when missing, not a number or not
    positive, at most ``most``."""
    try:
        limit = int(text or "")
    except ValueError:
        return default
    return min(limit, most) if limit > 0 else default


def ago(ms: int | None, now_s: float) -> str:
    """``12.3s ago``, ``4m 2s ago``, ``3h 5m ago``, ``2d 1h ago``; ``never`` for no time."""
    if ms is None or ms <= 0:
        return "never"
    seconds = max(now_s - ms / 1000, 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)}m {int(seconds % 60)}s ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60)}m ago"
    return f"{int(seconds // 86400)}d {int(seconds % 86400 // 3600)}h ago"


def utc(ms: int | None) -> str:
    """``2026-12-07 06:15:02 UTC``; empty for no time."""
    if ms is None or ms <= 0:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def took(seconds: object) -> str:
    """How long something took: ``12.3ms`` under a second, else ``1.234s``; empty for none."""
    if not isinstance(seconds, int | float) or seconds <= 0:
        return ""
    return f"{seconds * 1000:.1f}ms" if seconds < 1 else f"{seconds:.3f}s"


def duration(ms: int) -> str:
    """A configured duration as Prometheus spells it (``5m``, ``1h30m``)."""
    return format_duration(ms)


def value(v: float) -> str:
    """A sample value as PromQL's table shows it: ``1``, ``0.25``, ``1.5e+21``, ``NaN``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return f"{v:.15g}"


def quoted(text: str) -> str:
    """``text`` in double quotes with ``\\``, ``"`` and newlines escaped, as PromQL and
    Alertmanager write label values."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def explore_url(expr: str) -> str:
    """Explore showing ``expr`` as a table (an alert's expression is read at one instant)."""
    return "/explore?" + urlencode({"q0": expr, "mode": "table"})
