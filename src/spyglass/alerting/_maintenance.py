"""Maintenance windows: silences written in ``alertmanager.yml`` (a Spyglass extension).

A window mutes the alerts its matchers select while it is active, exactly as a silence would,
and reports itself as ``maintenance:<name>`` wherever a silence id would appear (an alert's
``silencedBy``). A one-off window has a ``start`` and an ``end``; a recurring one names a
``time_intervals`` entry and is active whenever that interval is (Alertmanager's time interval
semantics, in the interval's own ``location``), optionally only ``until`` a time.

One-off windows are also listed among the silences of the API (``createdBy`` is
``spyglass maintenance window``) so that amtool and the web UI show them; recurring ones are not
(a silence has one start and one end, a schedule has many) and show in the config instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from spyglass.alerting._matchers import Matcher
from spyglass.alerting._silence import Silence
from spyglass.alerting._timeintervals import TimeInterval

CREATED_BY = "spyglass maintenance window"
"""The ``createdBy`` of the silences that stand for one-off maintenance windows."""
ID_PREFIX = "maintenance:"
"""What a window's silence id starts with; the window's name follows."""


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """One ``spyglass.maintenance_windows`` entry.

    Either ``start_ms`` and ``end_ms`` (one-off) or ``time_interval`` (recurring, optionally
    ending at ``until_ms``) are set; the loader checks that.
    """

    name: str
    matchers: tuple[Matcher, ...]
    comment: str = ""
    start_ms: int | None = None
    end_ms: int | None = None
    time_interval: str = ""
    until_ms: int | None = None
    line: int = field(default=0, compare=False)

    @property
    def silence_id(self) -> str:
        """``maintenance:<name>``: the id it mutes alerts with."""
        return ID_PREFIX + self.name

    @property
    def recurring(self) -> bool:
        """Whether it follows a time interval rather than one start and end."""
        return bool(self.time_interval)

    def active(self, now_ms: int, intervals: Mapping[str, tuple[TimeInterval, ...]]) -> bool:
        """Whether the window is on at ``now_ms``."""
        if self.start_ms is not None and self.end_ms is not None:
            return self.start_ms <= now_ms < self.end_ms
        if self.until_ms is not None and now_ms >= self.until_ms:
            return False
        when = datetime.fromtimestamp(now_ms / 1000, UTC)
        return any(ti.contains(when) for ti in intervals.get(self.time_interval, ()))

    def as_silence(self) -> Silence | None:
        """The silence a one-off window stands for in the API (``None`` for a recurring one)."""
        if self.recurring or self.start_ms is None or self.end_ms is None:
            return None
        return Silence(
            matchers=self.matchers,
            starts_at_ms=self.start_ms,
            ends_at_ms=self.end_ms,
            created_by=CREATED_BY,
            comment=self.comment,
            id=self.silence_id,
            updated_at_ms=self.start_ms,
        )


class MaintenanceWindows:
    """The windows of the running config, with the time intervals recurring ones name."""

    def __init__(
        self,
        windows: Sequence[MaintenanceWindow] = (),
        intervals: Mapping[str, tuple[TimeInterval, ...]] | None = None,
    ) -> None:
        self.windows = tuple(windows)
        self.intervals = dict(intervals or {})

    def muting(self, labels: Mapping[str, str], now_ms: int) -> list[str]:
        """Ids of the active windows whose matchers all match ``labels``."""
        return [
            w.silence_id
            for w in self.windows
            if w.active(now_ms, self.intervals) and all(m.matches(labels) for m in w.matchers)
        ]

    def silences(self, now_ms: int, retention_ms: int) -> list[Silence]:
        """One-off windows as silences, those ended longer than ``retention_ms`` ago left out."""
        out = []
        for w in self.windows:
            s = w.as_silence()
            if s is not None and s.ends_at_ms + retention_ms > now_ms:
                out.append(s)
        return out

    def get(self, silence_id: str) -> Silence | None:
        """The one-off window whose silence id is ``silence_id``."""
        for w in self.windows:
            if w.silence_id == silence_id:
                return w.as_silence()
        return None


__all__ = ["CREATED_BY", "ID_PREFIX", "MaintenanceWindow", "MaintenanceWindows"]
