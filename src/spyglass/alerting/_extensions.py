"""The ``spyglass:`` section of ``alertmanager.yml``: what Spyglass adds to Alertmanager's file.

Alertmanager refuses unknown keys, and so does Spyglass everywhere else in the file; Spyglass's
own settings for alerting live under this one top-level key (DESIGN.md) so the rest of the file
stays exactly Alertmanager's. Each extension is one key of the section with its own reader here;
today ``maintenance_windows``. (A file with a ``spyglass:`` section no longer loads in
Alertmanager itself.)

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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spyglass.alerting._maintenance import MaintenanceWindow
from spyglass.alerting._matchers import Matcher, MatcherError, Mode, parse_matchers, sort_matchers
from spyglass.alerting._timestamps import parse_rfc3339
from spyglass.core.config import Node
from spyglass.core.config.fields import Section, string
from spyglass.core.errors import BadInput, ConfigError

EXTENSION_KEYS = ("maintenance_windows",)
"""The keys the ``spyglass:`` section accepts."""
_WINDOW_KEYS = ("name", "matchers", "comment", "start", "end", "time_interval", "until")


@dataclass(frozen=True, slots=True)
class SpyglassConfig:
    """The ``spyglass:`` section (empty when the file has none)."""

    maintenance_windows: tuple[MaintenanceWindow, ...] = ()


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
    return SpyglassConfig(maintenance_windows=tuple(windows))


def check_extensions(
    config: SpyglassConfig, intervals: Iterable[str], node: Node | None = None
) -> None:
    """Fail on a recurring maintenance window naming a time interval the file does not define."""
    names = set(intervals)
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
    matchers: list[Matcher] = []
    for j, item in enumerate(s.seq("matchers", "[]string")):
        where = f"{s.p('matchers')}[{j}]"
        try:
            matchers.extend(parse_matchers(string(item, where), mode=mode))
        except MatcherError as exc:
            raise item.error(str(exc), where) from None
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
        matchers=sort_matchers(matchers),
        comment=s.text("comment"),
        start_ms=times["start"],
        end_ms=times["end"],
        time_interval=interval,
        until_ms=times["until"],
        line=line,
    )


def _time(s: Section, key: str) -> int | None:
    if key not in s:
        return None
    text = s.text(key)
    try:
        return parse_rfc3339(text)
    except BadInput as exc:
        raise s.error(key, f"{exc} (want RFC 3339, like 2026-01-02T15:04:05Z)") from None


__all__ = ["EXTENSION_KEYS", "SpyglassConfig", "check_extensions", "load_extensions"]
