"""What the router does beyond Alertmanager, from the file's ``spyglass:`` section.

``Beyond`` plugs four extensions into the router's stages (maintenance windows are silences
and live with them):

- **flapping**: it watches every alert the store takes (``observe``); at a flush, an alert
  that changed state too often in the window is held (``mutedBy: ["flapping"]``) and a summary
  alert ``AlertFlapping`` is put in the store in its place, routed like any alert; once the
  alert calms down the summary resolves and the alert is notified again.
- **quiet hours**: while one is in effect, the alerts it selects are held
  (``mutedBy: ["quiet-hours"]``) and the flush reports that it must be tried again, so the
  group keeps its alerts, resolved ones included, and sends them once the quiet hours end.
- **acknowledgement**: a group does not repeat while every firing alert in it is acknowledged
  after it started (an acknowledgement made before an alert fired again does not count).
- **escalation**: a firing alert not acknowledged ``after`` its start is also sent to the
  escalation's receiver, once per the route's ``repeat_interval`` (the notification log of
  that receiver's integrations under the group's key keeps it from repeating sooner).

Correlation groups change how alerts are grouped and live in the dispatcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace

from spyglass.alerting._acks import Acknowledgements, due_escalations
from spyglass.alerting._alertstore import AlertStore, StoredAlert
from spyglass.alerting._extensions import SpyglassConfig
from spyglass.alerting._flapping import FlapDetector, summary_alert
from spyglass.alerting._marker import Marker
from spyglass.alerting._timeintervals import TimeInterval
from spyglass.core.template import fingerprint

FLAPPING = "flapping"
QUIET_HOURS = "quiet-hours"


class Beyond:
    """The extensions of one loaded config, for the pipeline to ask."""

    def __init__(
        self,
        config: SpyglassConfig,
        intervals: Mapping[str, tuple[TimeInterval, ...]],
        acks: Acknowledgements,
        store: AlertStore,
    ) -> None:
        self.config = config
        self.intervals = intervals
        self.acks = acks
        self.store = store
        self.flaps = FlapDetector(config.flapping) if config.flapping is not None else None
        self._summaries: dict[str, StoredAlert] = {}  # held fingerprint -> its summary
        self._summary_fps: set[str] = set()  # the summaries' own, which are not counted

    def observe(self, alert: StoredAlert, now_ms: int) -> None:
        """Count the alert's state (the store calls this for every alert it takes)."""
        if self.flaps is not None and alert.fingerprint not in self._summary_fps:
            self.flaps.observe(alert.fingerprint, not alert.resolved_at(now_ms), now_ms)

    def forget(self, fingerprint: str) -> None:
        """Drop what is kept about an alert the store deleted."""
        if self.flaps is not None:
            self.flaps.forget(fingerprint)

    def hold(
        self, alerts: Sequence[StoredAlert], marker: Marker, now_ms: int
    ) -> tuple[list[StoredAlert], bool]:
        """The alerts to notify now, and whether some wait for the quiet hours to end."""
        kept: list[StoredAlert] = []
        waiting = False
        quiet_now = [
            q for q in self.config.quiet_hours if q.quiet_until(self.intervals, now_ms) is not None
        ]
        for a in alerts:
            held: list[str] = []
            if self._flapping(a, now_ms):
                held.append(FLAPPING)
            if any(q.holds(a.labels) for q in quiet_now):
                held.append(QUIET_HOURS)
                waiting = True
            if held:
                marker.set_muted(a.fingerprint, held)
            else:
                kept.append(a)
        return kept, waiting

    def _flapping(self, alert: StoredAlert, now_ms: int) -> bool:
        if self.flaps is None:
            return False
        fp = alert.fingerprint
        state = self.flaps.state(fp, now_ms)
        summary = self._summaries.get(fp)
        if state is None:
            if summary is not None:  # calm again: the summary resolves
                del self._summaries[fp]
                self._summary_fps.discard(summary.fingerprint)
                self.store.receive([replace(summary.alert, ends_at_ms=now_ms)], now_ms)
            return False
        assert self.config.flapping is not None
        text = summary_alert(alert.alert, state, self.config.flapping)
        self.store.receive([text], now_ms)  # refreshed at every flush while it flaps
        stored = self.store.get(fingerprint(dict(text.labels)))
        if stored is not None:
            self._summaries[fp] = stored
            self._summary_fps.add(stored.fingerprint)
        return True

    async def acknowledged(self, firing: Sequence[StoredAlert]) -> bool:
        """Whether every firing alert was acknowledged after it started (no repeat then)."""
        if not firing:
            return False
        acked = await asyncio.to_thread(self.acks.current, _starts(firing))
        return len(acked) == len(firing)

    async def escalations(
        self, firing: Sequence[StoredAlert], now_ms: int
    ) -> dict[str, list[StoredAlert]]:
        """The firing alerts due to go to each escalation receiver."""
        rules = self.config.escalations
        if not rules or not firing:
            return {}
        acked = await asyncio.to_thread(self.acks.current, _starts(firing))
        by_fp = {a.fingerprint: a for a in firing}
        due = due_escalations(
            rules,
            [(a.fingerprint, a.labels, a.alert.starts_at_ms) for a in firing],
            acked,
            now_ms,
        )
        out: dict[str, list[StoredAlert]] = {}
        for e in due:
            out.setdefault(e.rule.receiver, []).append(by_fp[e.fingerprint])
        return out


def _starts(alerts: Sequence[StoredAlert]) -> list[tuple[str, int]]:
    return [(a.fingerprint, a.alert.starts_at_ms) for a in alerts]


__all__ = ["FLAPPING", "QUIET_HOURS", "Beyond"]
