"""Restoring alerts' ``for`` state after a restart, as Prometheus' ``RestoreForState``.

An alert that was pending for 4 of its 5 minutes before Spyglass stopped should not wait 5 more
after it starts. Every evaluation writes ``ALERTS_FOR_STATE`` (value: when the alert became
active, in unix seconds); after the first evaluations of a freshly started group, this reads
those series back and moves each pending alert's ``activeAt``:

* the alert had already waited out its ``for``: keep the stored ``activeAt`` (it fires now);
* less than the grace period was left: give it the grace period from now, so a restart never
  fires an alert sooner than ``for_grace_period`` after start;
* otherwise: shift ``activeAt`` by the downtime, so the time already spent pending counts.

Rules whose ``for`` is shorter than the grace period are not restored; series older than the
outage tolerance are not read; a stale (last) sample means the alert was not active.
"""

from __future__ import annotations

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import METRIC_NAME
from spyglass.core.samples import is_stale
from spyglass.rules._group import RuleGroup
from spyglass.storage.ports import Querier

DEFAULT_OUTAGE_TOLERANCE_MS = 3_600_000
DEFAULT_FOR_GRACE_PERIOD_MS = 600_000


def restore_for_state(
    group: RuleGroup,
    querier: Querier,
    now_ms: int,
    *,
    outage_tolerance_ms: int = DEFAULT_OUTAGE_TOLERANCE_MS,
    for_grace_period_ms: int = DEFAULT_FOR_GRACE_PERIOD_MS,
) -> list[str]:
    """Restore ``activeAt`` of the group's current alerts from ``ALERTS_FOR_STATE`` in storage.

    ``now_ms`` is the (wall-clock) time of the restore. Afterwards every alerting rule writes
    its ``ALERTS`` and ``ALERTS_FOR_STATE`` series again, restored or not. Returns the rules
    whose series could not be read (``"name: error"``), for the caller to log; as in
    Prometheus, they go on without their old state. The defaults are Prometheus'
    ``--rules.alert.for-outage-tolerance`` (1h) and ``--rules.alert.for-grace-period`` (10m).
    """
    start_ms = now_ms - outage_tolerance_ms
    problems = []
    for rule in group.alerting_rules():
        try:
            if rule.hold_ms < for_grace_period_ms:
                continue
            try:
                found = querier.select(rule.for_state_matchers(), start_ms, now_ms)
            except SpyglassError as exc:
                problems.append(f"{rule.name}: {exc}")
                continue
            last: dict[tuple[tuple[str, str], ...], tuple[int, float]] = {}
            for s in found:
                if len(s.timestamps) == 0:
                    continue
                key = tuple(p for p in s.labels if p[0] != METRIC_NAME)
                last[key] = (int(s.timestamps[-1]), float(s.values[-1]))
            for labels, alert in rule.instances().items():
                point = last.get(labels)
                if point is None or is_stale(point[1]):
                    continue
                t_ms, value = point
                # Prometheus works in whole seconds here: the sample's time truncated, the
                # stored activeAt as written.
                down_ms = int(t_ms / 1000) * 1000
                restored_ms = int(value) * 1000
                remaining_ms = rule.hold_ms - (down_ms - restored_ms)
                if remaining_ms <= 0:
                    pass
                elif remaining_ms < for_grace_period_ms:
                    restored_ms = now_ms + for_grace_period_ms - rule.hold_ms
                else:
                    restored_ms += now_ms - down_ms
                alert.active_at_ms = restored_ms
        finally:
            rule.restored = True
    return problems


__all__ = ["DEFAULT_FOR_GRACE_PERIOD_MS", "DEFAULT_OUTAGE_TOLERANCE_MS", "restore_for_state"]
