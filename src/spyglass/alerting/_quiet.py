"""Quiet hours: notifications that can wait are held until the quiet hours end.

``mute_time_intervals`` drops what a route would send while muted: a warning that fires at
night and resolves before morning is never told. Quiet hours hold it instead: while one of
the named ``time_intervals`` is in effect, an alert that ``QuietHours.matchers`` select (say
``severity!="critical"``) is not notified, and when the quiet hours end its group is flushed
as usual, so the morning shift gets what happened. Alerts the matchers do not select (the
critical ones) are notified at once, quiet hours or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from spyglass.alerting._matchers import Matcher, matches_all
from spyglass.alerting._timeintervals import TimeInterval, active_intervals

# Time intervals are minute-grained; a week and a day covers every weekly pattern, and a
# quiet period that never ends within it (a month, a year) is not looked past.
_HORIZON_MINUTES = 8 * 24 * 60


@dataclass(frozen=True, slots=True)
class QuietHours:
    """While any of ``time_intervals`` is in effect, alerts matching ``matchers`` wait."""

    time_intervals: tuple[str, ...]
    matchers: tuple[Matcher, ...] = ()

    def holds(self, labels: Mapping[str, str]) -> bool:
        """Whether an alert with ``labels`` waits during quiet hours."""
        return matches_all(self.matchers, labels)

    def quiet_until(
        self, intervals: Mapping[str, tuple[TimeInterval, ...]], now_ms: int
    ) -> int | None:
        """When the quiet hours in effect at ``now_ms`` end (ms), or ``None`` when not quiet.

        The end is the first whole minute at which no named interval is in effect, looking at
        most eight days ahead (then that horizon is the answer).
        """
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        if not active_intervals(intervals, self.time_intervals, now):
            return None
        minute = now.replace(second=0, microsecond=0)
        for _ in range(_HORIZON_MINUTES):
            minute += timedelta(minutes=1)
            if not active_intervals(intervals, self.time_intervals, minute):
                return int(minute.timestamp() * 1000)
        return int(minute.timestamp() * 1000)


__all__ = ["QuietHours"]
