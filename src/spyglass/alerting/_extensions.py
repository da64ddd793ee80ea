"""The ``spyglass:`` section of ``alertmanager.yml``: what Spyglass adds to Alertmanager's file.

Alertmanager refuses unknown keys, and so does Spyglass everywhere else in the file; Spyglass's
own settings for alerting live under this one top-level key (DESIGN.md) so the rest of the file
stays exactly Alertmanager's. Each extension is one key of the section with its own reader here:
``maintenance_windows``, ``flapping``, ``correlations``, ``escalations`` and ``quiet_hours``;
``incidents`` is read by ``spyglass.incidents`` (docs/incidents.md).
(A file with a ``spyglass:`` section no longer loads in Alertmanager itself.)

::

    spyglass:
      maintenance_windows:
        - name: db-upgrade
          matchers: ['service="db"']
          comment: PostgreSQL 17 upgrade
          start: 2026-12-08T22:00:00Z
          end: 2026-12-09T02:00:00Z
        - name: nightly-backup
          matchers: ['job="backup"', 'severity!="critical"']
          time_interval: nights         # a time_intervals entry
          until: 2027-03-31T00:00:00Z   # optional
      flapping:                         # more changes than this in the window: held, summarised
        max_changes: 4
        window: 1h
      correlations:                     # these alerts of one service notify as one
        - name: service-degraded
          alerts: [ServiceDown, HighErrorRate, HighResponseTime]
          by: [service]
      escalations:                      # unacknowledged after 15m: the next receiver too
        - matchers: ['severity="critical"']
          after: 15m
          receiver: secondary-oncall
      quiet_hours:                      # held (not dropped) until the interval ends
        - time_intervals: [nights]
          matchers: ['severity!="critical"']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from spyglass.alerting._acks import EscalationRule
from spyglass.alerting._correlation import CorrelationRule
from spyglass.alerting._flapping import FlappingPolicy
from spyglass.alerting._maintenance import MaintenanceWindow
from spyglass.alerting._matchers import Matcher, MatcherError, Mode, parse_matchers, sort_matchers
from spyglass.alerting._quiet import QuietHours
from spyglass.alerting._timestamps import parse_rfc3339
from spyglass.core.config import Node
from spyglass.core.config.fields import Section, string
from spyglass.core.errors import BadInput, ConfigError

EXTENSION_KEYS = (
    "maintenance_windows",
    "flapping",
    "correlations",
    "escalations",
    "quiet_hours",
    "incidents",
)
"""The keys the ``spyglass:`` section accepts."""
_WINDOW_KEYS = ("name", "matchers", "comment", "start", "end", "time_interval", "until")


@dataclass(frozen=True, slots=True)
class SpyglassConfig:
    """The ``spyglass:`` section (empty when the file has none)."""

    maintenance_windows: tuple[MaintenanceWindow, ...] = ()
    flapping: FlappingPolicy | None = None
    correlations: tuple[CorrelationRule, ...] = ()
    escalations: tuple[EscalationRule, ...] = ()
    quiet_hours: tuple[QuietHours, ...] = ()
    # ``incidents``, read by the incidents domain (``spyglass.incidents``), which builds on
    # alerting and so cannot be imported from here.
    incidents: Node | None = field(default=None, compare=False)
    # Where each escalation and quiet hours entry is written, for errors found across sections.
    lines: dict[str, int] = field(default_factory=dict, compare=False)


def load_extensions(node: Node, mode: Mode = "fallback") -> SpyglassConfig:
    """Read the ``spyglass:`` section; errors are ``ConfigError`` with file, line and field.

    Time interval names are checked by ``check_extensions`` once all intervals are read.
    """
    s = Section(node, "spyglass", "spyglass", EXTENSION_KEYS)
    windows: list[MaintenanceWindow] = []
    seen: set[str] = set()
    for i, item in enumerate(s.seq("maintenance_windows", "[]spyglass.MaintenanceWindow")):
        window = _window(item, f"spyglass.maintenance_windows[{i}]", mode)
        if window.name in seen:
            raise item.error(
                f'maintenance window "{window.name}" is not unique',
                f"spyglass.maintenance_windows[{i}].name",
            )
        seen.add(window.name)
        windows.append(window)
    lines: dict[str, int] = {}
    flapping = _flapping(s.at("flapping")) if "flapping" in s else None
    correlations: list[CorrelationRule] = []
    for i, item in enumerate(s.seq("correlations", "[]spyglass.Correlation")):
        rule = _correlation(item, f"spyglass.correlations[{i}]", mode)
        if any(c.name == rule.name for c in correlations):
            raise item.error(
                f'correlation "{rule.name}" is not unique', f"spyglass.correlations[{i}].name"
            )
        correlations.append(rule)
    escalations: list[EscalationRule] = []
    for i, item in enumerate(s.seq("escalations", "[]spyglass.Escalation")):
        escalations.append(_escalation(item, f"spyglass.escalations[{i}]", mode))
        lines[f"escalations[{i}]"] = item.line
    quiet: list[QuietHours] = []
    for i, item in enumerate(s.seq("quiet_hours", "[]spyglass.QuietHours")):
        quiet.append(_quiet(item, f"spyglass.quiet_hours[{i}]", mode))
        lines[f"quiet_hours[{i}]"] = item.line
    return SpyglassConfig(
        maintenance_windows=tuple(windows),
        flapping=flapping,
        correlations=tuple(correlations),
        escalations=tuple(escalations),
        quiet_hours=tuple(quiet),
        incidents=s.items["incidents"] if "incidents" in s else None,
        lines=lines,
    )


def check_extensions(
    config: SpyglassConfig,
    intervals: Iterable[str],
    node: Node | None = None,
    receivers: Iterable[str] | None = None,
) -> None:
    """Fail on a name the file does not define: a recurring maintenance window's or quiet
    hours' time interval, an escalation's receiver."""
    names = set(intervals)
    file = node.file if node is not None else ""
    for i, q in enumerate(config.quiet_hours):
        for name in q.time_intervals:
            if name not in names:
                raise ConfigError(
                    f'undefined time interval "{name}" used in quiet hours',
                    file=file,
                    line=config.lines.get(f"quiet_hours[{i}]", 0),
                    field=f"spyglass.quiet_hours[{i}].time_intervals",
                )
    if receivers is not None:
        known = set(receivers)
        for i, e in enumerate(config.escalations):
            if e.receiver not in known:
                raise ConfigError(
                    f'undefined receiver "{e.receiver}" used in escalation',
                    file=file,
                    line=config.lines.get(f"escalations[{i}]", 0),
                    field=f"spyglass.escalations[{i}].receiver",
                )
    for i, w in enumerate(config.maintenance_windows):
        if w.time_interval and w.time_interval not in names:
            raise ConfigError(
                f'undefined time interval "{w.time_interval}" used in maintenance window',
                file=node.file if node is not None else "",
                line=w.line,
                field=f"spyglass.maintenance_windows[{i}].time_interval",
            )


def _window(node: Node, path: str, mode: Mode) -> MaintenanceWindow:
    s = Section(node, "spyglass.MaintenanceWindow", path, _WINDOW_KEYS)
    name = s.text("name")
    if not name:
        raise node.error("missing name in maintenance window", path)
    matchers = _matchers(s, "matchers", mode)
    if not matchers:
        raise s.error("matchers", "a maintenance window needs at least one matcher")
    if all(m.matches_value("") and m.op.value in ("=", "=~") for m in matchers):
        raise s.error(
            "matchers", "at least one matcher must not match the empty string (it would mute all)"
        )
    times = {key: _time(s, key) for key in ("start", "end", "until")}
    interval = s.text("time_interval")
    line = node.key_lines.get("time_interval", node.line)
    if interval:
        for key in ("start", "end"):
            if times[key] is not None:
                raise s.error(key, f"{key} cannot be used with time_interval (pick one kind)")
    else:
        for key in ("start", "end"):
            if times[key] is None:
                raise s.error(
                    key, f"missing {key}: give start and end, or a time_interval to recur on"
                )
        if times["until"] is not None:
            raise s.error("until", "until needs a time_interval (a one-off window has an end)")
        start, end = times["start"], times["end"]
        if start is not None and end is not None and end <= start:
            raise s.error("end", "end must be after start")
    return MaintenanceWindow(
        name=name,
        matchers=matchers,
        comment=s.text("comment"),
        start_ms=times["start"],
        end_ms=times["end"],
        time_interval=interval,
        until_ms=times["until"],
        line=line,
    )


def _matchers(s: Section, key: str, mode: Mode) -> tuple[Matcher, ...]:
    out: list[Matcher] = []
    for j, item in enumerate(s.seq(key, "[]string")):
        where = f"{s.p(key)}[{j}]"
        try:
            out.extend(parse_matchers(string(item, where), mode=mode))
        except MatcherError as exc:
            raise item.error(str(exc), where) from None
    return sort_matchers(out)


def _flapping(node: Node) -> FlappingPolicy:
    s = Section(node, "spyglass.Flapping", "spyglass.flapping", ("max_changes", "window"))
    changes = s.count("max_changes") if "max_changes" in s else 4
    window = s.dur("window") if "window" in s else 3_600_000
    if changes < 1:
        raise s.error("max_changes", "max_changes must be at least 1")
    if window <= 0:
        raise s.error("window", "window must be positive")
    return FlappingPolicy(max_changes=changes, window_ms=window)


def _correlation(node: Node, path: str, mode: Mode) -> CorrelationRule:
    s = Section(node, "spyglass.Correlation", path, ("name", "alerts", "by", "matchers"))
    name = s.text("name")
    if not name:
        raise node.error("missing name in correlation", path)
    alerts = tuple(s.strs("alerts"))
    if len(alerts) < 2:
        raise s.error("alerts", "a correlation names at least two alerts (alertname values)")
    return CorrelationRule(
        name, alerts, by=tuple(s.strs("by")), matchers=_matchers(s, "matchers", mode)
    )


def _escalation(node: Node, path: str, mode: Mode) -> EscalationRule:
    s = Section(node, "spyglass.Escalation", path, ("matchers", "after", "receiver"))
    receiver = s.text("receiver")
    if not receiver:
        raise s.error("receiver", "missing receiver in escalation")
    after = s.dur("after")
    if after <= 0:
        raise s.error("after", "an escalation needs after: a positive duration, like 15m")
    return EscalationRule(receiver, after, _matchers(s, "matchers", mode))


def _quiet(node: Node, path: str, mode: Mode) -> QuietHours:
    s = Section(node, "spyglass.QuietHours", path, ("time_intervals", "matchers"))
    intervals = tuple(s.strs("time_intervals"))
    if not intervals:
        raise s.error("time_intervals", "quiet hours name at least one time_intervals entry")
    return QuietHours(intervals, _matchers(s, "matchers", mode))


def _time(s: Section, key: str) -> int | None:
    if key not in s:
        return None
    text = s.text(key)
    try:
        return parse_rfc3339(text)
    except BadInput as exc:
        raise s.error(key, f"{exc} (want RFC 3339, like 2026-01-02T15:04:05Z)") from None


__all__ = ["EXTENSION_KEYS", "SpyglassConfig", "check_extensions", "load_extensions"]
