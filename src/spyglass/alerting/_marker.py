"""The alert marker: what the last look at each alert found (silenced, inhibited, muted).

The pipeline marks alerts as it filters them and the Alertmanager API reads the marks
(``status.state``, ``silencedBy``, ``inhibitedBy``, ``mutedBy``). An alert nobody has looked at
yet is ``unprocessed``; one with any mark is ``suppressed``; otherwise it is ``active``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """One alert's marks."""

    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    muted_by: tuple[str, ...] = ()
    processed: bool = True

    @property
    def state(self) -> str:
        """``unprocessed``, ``suppressed`` or ``active``, as Alertmanager's API says."""
        if not self.processed:
            return "unprocessed"
        if self.silenced_by or self.inhibited_by or self.muted_by:
            return "suppressed"
        return "active"


UNPROCESSED = AlertStatus(processed=False)


class Marker:
    """Alert statuses by fingerprint."""

    def __init__(self) -> None:
        self._status: dict[str, AlertStatus] = {}

    def status(self, fp: str) -> AlertStatus:
        """The marks of ``fp`` (``unprocessed`` when it has none)."""
        return self._status.get(fp, UNPROCESSED)

    def set_inhibited(self, fp: str, by: Iterable[str] = ()) -> None:
        """Record which alerts inhibit ``fp`` (none: not inhibited)."""
        self._status[fp] = replace(self._status.get(fp, AlertStatus()), inhibited_by=tuple(by))

    def set_silenced(self, fp: str, by: Iterable[str] = ()) -> None:
        """Record which silences mute ``fp`` (none: not silenced)."""
        self._status[fp] = replace(self._status.get(fp, AlertStatus()), silenced_by=tuple(by))

    def set_muted(self, fp: str, by: Iterable[str] = ()) -> None:
        """Record which time intervals mute ``fp`` (none: not muted)."""
        self._status[fp] = replace(self._status.get(fp, AlertStatus()), muted_by=tuple(by))

    def delete(self, fp: str) -> None:
        """Forget ``fp`` (the store dropped it)."""
        self._status.pop(fp, None)

    def count(self, fps: Iterable[str]) -> Counter[str]:
        """How many of ``fps`` are in each state."""
        return Counter(self.status(fp).state for fp in fps)


__all__ = ["UNPROCESSED", "AlertStatus", "Marker"]
