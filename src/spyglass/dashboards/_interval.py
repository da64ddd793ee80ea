"""Grafana's query interval for a Prometheus panel, and the macros it gives queries.

How Grafana picks a panel's step (``$__interval``) for the Prometheus data source:

1. The time range divided by the panel's ``maxDataPoints``, rounded to a "nice" interval
   (``round_interval``), but at least the panel's ``interval`` (its "Min interval").
2. Prometheus' data source then raises it to the target's ``interval`` ("Min step") and to the
   range / 11,000, since Prometheus refuses more than 11,000 points per series.
3. ``$__rate_interval`` is ``max($__interval + scrape interval, 4 x scrape interval)``, the
   scrape interval being the target's "Min step", else the data source's ``timeInterval``
   (15 s unless set), so ``rate()`` always sees at least four samples.

``$__range`` is the range in whole seconds (``3600s``), ``$__range_s`` that number and
``$__range_ms`` the range in milliseconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from spyglass.dashboards._model import DashboardError

# Grafana's Prometheus data source's default "Scrape interval" (jsonData.timeInterval).
DEFAULT_SCRAPE_INTERVAL_S = 15.0
# Prometheus refuses query_range calls that would give more than this many points per series.
MAX_POINTS_PER_SERIES = 11_000

# Upper bounds (ms, exclusive) and the interval Grafana rounds to below each: rangeutil.ts.
_ROUNDING: tuple[tuple[int, int], ...] = (
    (10, 1),
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1_500, 1_000),
    (3_500, 2_000),
    (7_500, 5_000),
    (12_500, 10_000),
    (17_500, 15_000),
    (25_000, 20_000),
    (45_000, 30_000),
    (90_000, 60_000),
    (210_000, 120_000),
    (450_000, 300_000),
    (750_000, 600_000),
    (1_050_000, 900_000),
    (1_500_000, 1_200_000),
    (2_700_000, 1_800_000),
    (5_400_000, 3_600_000),
    (9_000_000, 7_200_000),
    (16_200_000, 10_800_000),
    (32_400_000, 21_600_000),
    (86_400_000, 43_200_000),
    (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000),
    (3_628_800_000, 2_592_000_000),
)
_YEAR_MS = 31_536_000_000

_UNIT_S = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "M": 2592000,
    "y": 31536000,
}
_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|M|y)?$", re.ASCII)


def round_interval(interval_ms: float) -> int:
    """Grafana's ``roundInterval``: the nice interval (ms) for a raw one."""
    for bound, nice in _ROUNDING:
        if interval_ms < bound:
            return nice
    return _YEAR_MS


def interval_to_seconds(text: str) -> float:
    """Seconds in a Grafana interval (``15s``, ``1m``, ``500ms``, ``2h``, a bare number is
    seconds); a leading ``>`` (old "at least") is ignored. ``DashboardError`` otherwise."""
    t = text.strip().lstrip(">").strip()
    m = _INTERVAL.match(t)
    if not m:
        raise DashboardError(f"invalid interval {text!r}")
    return float(m.group(1)) * _UNIT_S[m.group(2) or "s"]


def seconds_to_hms(seconds: float) -> str:
    """Grafana's ``secondsToHms``: the largest whole unit (``90`` → ``1m``, ``0.5`` → ``500ms``)."""
    for unit, size in (("y", 31536000), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{math.floor(seconds / size)}{unit}"
    if math.floor(seconds):
        return f"{math.floor(seconds)}s"
    ms = math.floor(seconds * 1000)
    return f"{ms}ms" if ms else "less than a millisecond"


@dataclass(frozen=True, slots=True)
class QueryInterval:
    """The step of one target and the macros its expression may use.

    ``step_s`` is the ``query_range`` step; ``macros`` maps ``__interval``, ``__interval_ms``,
    ``__rate_interval``, ``__range``, ``__range_s`` and ``__range_ms`` to their text.
    """

    step_s: float
    macros: dict[str, str]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def panel_interval(range_ms: int, max_data_points: int, min_interval: str = "") -> tuple[int, str]:
    """Grafana's ``calculateInterval``: ``(interval_ms, text)`` for a range and a panel's
    ``maxDataPoints`` and "Min interval"."""
    interval_ms = round_interval(range_ms / max(max_data_points, 1))
    if min_interval:
        low = interval_to_seconds(min_interval) * 1000
        interval_ms = max(interval_ms, int(low))
    return interval_ms, seconds_to_hms(interval_ms / 1000)


def query_interval(
    range_ms: int,
    max_data_points: int,
    *,
    panel_min_interval: str = "",
    target_interval: str = "",
    interval_factor: int = 1,
    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S,
) -> QueryInterval:
    """The step and macros for one Prometheus target, as Grafana's Prometheus data source sets
    them (see the module docstring)."""
    low = panel_min_interval
    interval_ms, text = panel_interval(range_ms, max_data_points, low)
    interval_s = interval_ms / 1000
    min_step_s = interval_to_seconds(target_interval) if target_interval else interval_s
    scrape_s = interval_to_seconds(target_interval) if target_interval else scrape_interval_s
    range_s = math.ceil(range_ms / 1000)
    safe = range_s / MAX_POINTS_PER_SERIES
    if safe > 1:
        safe = math.ceil(safe)
    adjusted = max(interval_s * max(interval_factor, 1), min_step_s, safe)
    if adjusted != interval_s:
        interval_text = f"{_num(adjusted)}s"
        interval_ms_text = _num(adjusted * 1000)
    else:
        interval_text = text
        interval_ms_text = str(interval_ms)
    if scrape_s == 0:
        scrape_s = DEFAULT_SCRAPE_INTERVAL_S
    rate = max(adjusted + scrape_s, 4 * scrape_s)
    range_whole_s = round(range_ms / 1000)
    return QueryInterval(
        step_s=adjusted,
        macros={
            "__interval": interval_text,
            "__interval_ms": interval_ms_text,
            "__rate_interval": f"{_num(rate)}s",
            "__range": f"{range_whole_s}s",
            "__range_s": str(range_whole_s),
            "__range_ms": str(range_ms),
        },
    )


__all__ = [
    "DEFAULT_SCRAPE_INTERVAL_S",
    "MAX_POINTS_PER_SERIES",
    "QueryInterval",
    "interval_to_seconds",
    "panel_interval",
    "query_interval",
    "round_interval",
    "seconds_to_hms",
]
