"""What is likely wrong in an alertmanager.yml, said so that the fix is obvious.

Alertmanager's messages are exact but terse (``field subject not found in type config.plain``).
``explain`` turns a load error into the advice a user needs (what to write instead); ``review``
looks at a file that loads for what usually means a mistake: timers off by orders of magnitude,
inhibit rules without ``equal``, routes that can never match, receivers nothing routes to,
template globs that match nothing, ``${VAR}`` placeholders Alertmanager would keep as text.
"""

from __future__ import annotations

import difflib
import glob
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from spyglass.alerting._config import AlertmanagerConfig, Route
from spyglass.alerting._extensions import EXTENSION_KEYS
from spyglass.alerting._routing import RoutingTree
from spyglass.core.config import Node, load_yaml
from spyglass.core.errors import ConfigError
from spyglass.core.times import format_duration

Severity = Literal["error", "warning", "note"]
_PLACEHOLDER = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_RULE_KEYS = frozenset({"groups", "rules", "alert", "expr", "record", "for", "keep_firing_for"})
_PROMETHEUS_KEYS = frozenset({"scrape_configs", "rule_files", "alerting", "remote_write"})
# Alertmanager's default --data.retention: notification logs older than this are gone, so a
# longer repeat_interval repeats sooner than asked.
RETENTION_MS = 120 * 3600_000


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of advice about a file, with where it applies and what to write instead."""

    severity: Severity
    message: str
    file: str = ""
    line: int = 0
    field: str = ""
    hint: str = ""

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [p for p in (where, self.field, self.message) if p]
        return ": ".join(parts)


def explain(error: ConfigError, text: str | bytes | None = None, *, expanded: bool = False) -> str:
    """Advice for a load error: what is wrong and how to write it instead (``""`` if none).

    ``text`` is the file's content (to name the receivers a route could have meant, or the
    value that failed); ``expanded`` says whether ``${VAR}`` were expanded while loading.
    """
    message, path = error.message, error.field
    key = path.rpartition(".")[2]
    unknown = re.match(r"field (\S+) not found in type (\S+)", message)
    if unknown:
        return _explain_unknown(unknown.group(1), path)
    m = re.match(r'undefined receiver "(.*)" used in route', message)
    if m:
        names = _receiver_names(text, error.file)
        close = difflib.get_close_matches(m.group(1), names, n=1)
        known = ", ".join(names) if names else "none"
        guess = f'Did you mean "{close[0]}"? ' if close else ""
        return (
            f"{guess}Every receiver a route names must be defined under receivers: (defined: "
            f"{known}); add `- name: {m.group(1)}` there or fix the route's receiver."
        )
    if message.startswith("no Slack API URL nor App token"):
        return (
            "Give this slack_configs entry `api_url: https://hooks.slack.com/services/...` (the "
            "incoming webhook's URL, or `api_url_file` to read it from a file), or set "
            "`slack_api_url` under global: for every Slack receiver; a bot token goes in "
            "`app_token` instead."
        )
    value = _value_at(text, error.file, path)
    placeholder = _PLACEHOLDER.search(value) if value is not None else None
    if placeholder is not None:
        name = placeholder.group(1) or placeholder.group(2)
        if expanded:
            return f"The file says {value!r}: check the value {name} is set to."
        return (
            f"The value is the text {value!r}: Alertmanager does not expand environment "
            f"variables. Spyglass does when run without --no-expand-env (then set {name}); for "
            "Alertmanager itself, write the value, or use the *_file variant of the field."
        )
    if "not a valid duration string" in message and re.fullmatch(r"\d+", value or ""):
        return f"Durations need a unit: write {value}s for {value} seconds ({value}m for minutes)."
    if message.startswith("cannot unmarshal !!str") and "[]" in message and value is not None:
        if key == "matchers" or key.endswith("_matchers"):
            return f"{key} is a list of strings: write `{key}: ['{value}']`."
        return f"{key} is a list: write `{key}: [{value}]`."
    if message.startswith("cannot unmarshal") and not path:
        return "An alertmanager.yml is a YAML mapping with route:, receivers: and so on."
    return ""


def _explain_unknown(name: str, path: str) -> str:
    where = path.rpartition(".")[0]
    if where == "spyglass":
        known = ", ".join(EXTENSION_KEYS)
        return f"The spyglass: section holds Spyglass's own alerting extensions: {known}."
    if where.startswith("spyglass.maintenance_windows"):
        return (
            "A maintenance window has name, matchers (a list like route matchers), comment, "
            "and either start and end (RFC 3339) or time_interval (a time_intervals entry) "
            "with an optional until."
        )
    if "email_configs" in where and name == "subject":
        return (
            "email_configs has no `subject`: the subject is a header, write "
            "`headers: {Subject: '...'}` (a template, like every other field)."
        )
    if "email_configs" in where and name in ("body", "message"):
        return (
            f"email_configs has no `{name}`: write the message as `html: '...'` (HTML mail, "
            "what Alertmanager sends by default) or `text: '...'` for a plain-text part."
        )
    if "opsgenie_configs" in where and name == "teams":
        return "OpsGenie `teams` was removed: write `responders: [{name: 'team-X', type: team}]`."
    if name in _RULE_KEYS:
        return (
            f"`{name}` belongs to a Prometheus rule file: alertmanager.yml only routes the alerts "
            "rules fire. Put the rules in their own file (groups: - name: ... rules: - alert: "
            "...) and list it under rule_files: in prometheus.yml."
        )
    if not where and name in _PROMETHEUS_KEYS:
        return (
            f"`{name}` belongs to prometheus.yml (check it with `spyglass check config`); "
            "alertmanager.yml has global, route, receivers, inhibit_rules, time_intervals and "
            "templates."
        )
    return ""


def review(
    config: AlertmanagerConfig,
    text: str | bytes | None = None,
    *,
    expanded: bool = True,
    now_ms: int | None = None,
) -> list[Finding]:
    """Warnings about a config that loaded.

    With ``text`` (the file's content) and ``expanded=False`` (the file was read as Alertmanager
    reads it), ``${VAR}`` placeholders left as text are reported too. ``now_ms`` (default: now)
    decides which maintenance windows are over.
    """
    file = config.file
    out = [Finding("warning", w) for w in config.warnings]
    if config.environment:
        names = ", ".join(config.environment)
        out.append(
            Finding(
                "note",
                f"expanded environment variables {names}: Alertmanager itself does not expand "
                "them, so this file works with Spyglass but not unchanged with Alertmanager",
                file,
            )
        )
    if text is not None and not expanded:
        out.extend(_placeholders(text, file))
    for rc in config.receivers:
        if rc.apprise_configs:
            out.append(
                Finding(
                    "note",
                    f'receiver "{rc.name}" uses apprise_configs, which is Spyglass\'s own: '
                    "Alertmanager refuses this file (field apprise_configs not found)",
                    file,
                    rc.line,
                    "receivers",
                )
            )
    out.extend(_extensions(config, time.time_ns() // 1_000_000 if now_ms is None else now_ms))
    tree = RoutingTree(config.route)
    for node in tree.walk():
        out.extend(
            _timers(
                node.config, node.options.group_interval_ms, node.options.repeat_interval_ms, file
            )
        )
    out.extend(_unreachable(config.route, file))
    used = {node.receiver for node in tree.walk()}
    for rc in config.receivers:
        if rc.name not in used:
            out.append(
                Finding(
                    "warning",
                    f'receiver "{rc.name}" is defined but no route sends to it',
                    file,
                    rc.line,
                    "receivers",
                )
            )
    for i, rule in enumerate(config.inhibit_rules):
        if not rule.equal:
            out.append(
                Finding(
                    "warning",
                    "inhibit rule without `equal`: any firing source alert mutes every matching "
                    "target alert, in every cluster and service",
                    file,
                    rule.line,
                    f"inhibit_rules[{i}]",
                    hint="Name the labels both alerts must share, e.g. "
                    "`equal: [alertname, cluster, service]`.",
                )
            )
    for i, pattern in enumerate(config.templates):
        if not glob.glob(pattern):
            out.append(
                Finding(
                    "warning",
                    f"{pattern} matches no file, so no templates are read from it",
                    file,
                    field=f"templates[{i}]",
                )
            )
    return out


def _extensions(config: AlertmanagerConfig, now_ms: int) -> Iterator[Finding]:
    windows = config.spyglass.maintenance_windows
    if not windows:
        return
    yield Finding(
        "note",
        "the spyglass: section (maintenance windows) is Spyglass's own: Alertmanager refuses "
        "this file (field spyglass not found)",
        config.file,
        field="spyglass",
    )
    for i, w in enumerate(windows):
        end = w.end_ms if w.end_ms is not None else w.until_ms
        if end is not None and end <= now_ms:
            yield Finding(
                "warning",
                f'maintenance window "{w.name}" is over: it mutes nothing any more',
                config.file,
                w.line,
                f"spyglass.maintenance_windows[{i}]",
                hint="Delete it, or move its times.",
            )


def _timers(
    route: Route, group_interval_ms: int, repeat_interval_ms: int, file: str
) -> Iterator[Finding]:
    where = route.path
    wait = route.group_wait_ms
    if wait is not None and wait > 15 * 60_000:
        minutes = wait // 60_000
        yield Finding(
            "warning",
            f"group_wait is {format_duration(wait)}: a new group's first notification waits "
            "that long; it is usually between 10s and 1m",
            file,
            route.line,
            f"{where}.group_wait",
            hint=f"Did you mean {minutes}s?" if wait % 60_000 == 0 and minutes <= 120 else "",
        )
    interval = route.group_interval_ms
    if interval is not None and interval < 30_000:
        yield Finding(
            "warning",
            f"group_interval is {format_duration(interval)}: every change to a group is "
            "notified that often; it is usually between 1m and 10m",
            file,
            route.line,
            f"{where}.group_interval",
            hint=f"Did you mean {interval // 1000}m?" if interval % 1000 == 0 else "",
        )
    sets_timers = route.repeat_interval_ms is not None or route.group_interval_ms is not None
    if sets_timers and repeat_interval_ms < group_interval_ms:
        yield Finding(
            "warning",
            "repeat_interval is less than group_interval. Notifications will not repeat "
            "until the next group_interval.",
            file,
            route.line,
            where,
        )
    if route.repeat_interval_ms is not None and repeat_interval_ms > RETENTION_MS:
        yield Finding(
            "warning",
            "repeat_interval is greater than the data retention period. It can lead to "
            "notifications being repeated more often than expected.",
            file,
            route.line,
            f"{where}.repeat_interval",
            hint="Alertmanager keeps its notification log for --data.retention (120h by default).",
        )


def _unreachable(route: Route, file: str) -> Iterator[Finding]:
    catch_all: Route | None = None
    for child in route.routes:
        if catch_all is not None:
            yield Finding(
                "warning",
                f"this route never matches: the route at line {catch_all.line} before it "
                "matches every alert and has no `continue: true`",
                file,
                child.line,
                child.path,
            )
        elif not child.all_matchers() and not child.continue_:
            catch_all = child
        yield from _unreachable(child, file)


def _placeholders(text: str | bytes, file: str) -> Iterator[Finding]:
    try:
        root = load_yaml(text, file)
    except ConfigError:
        return
    for node, path in _scalars(root, ""):
        value = node.value
        if not isinstance(value, str) or "$" not in value:
            continue
        outside = re.sub(r"\{\{.*?\}\}", "", value, flags=re.S)
        m = _PLACEHOLDER.search(outside)
        if m:
            yield Finding(
                "warning",
                f"{m.group(0)} stays as text in Alertmanager, which does not expand environment "
                "variables",
                file,
                node.line,
                path,
                hint="Spyglass expands it when run without --no-expand-env; for Alertmanager "
                "write the value or use the field's *_file variant.",
            )


def _scalars(node: Node, path: str) -> Iterator[tuple[Node, str]]:
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            yield from _scalars(child, f"{path}.{key}" if path else key)
    elif isinstance(node.value, list):
        for i, child in enumerate(node.value):
            yield from _scalars(child, f"{path}[{i}]")
    else:
        yield node, path


def _root(text: str | bytes | None, file: str) -> Node | None:
    if text is None:
        return None
    try:
        return load_yaml(text, file)
    except ConfigError:
        return None


def _receiver_names(text: str | bytes | None, file: str) -> list[str]:
    root = _root(text, file)
    if root is None or not isinstance(root.value, dict):
        return []
    receivers = root.value.get("receivers")
    if receivers is None or not isinstance(receivers.value, list):
        return []
    names = []
    for item in receivers.value:
        if isinstance(item.value, dict) and "name" in item.value:
            names.append(str(item.value["name"].text))
    return names


def _value_at(text: str | bytes | None, file: str, path: str) -> str | None:
    node = _root(text, file)
    if node is None or not path:
        return None
    for name, index in _PATH_PART.findall(path):
        if name:
            if not isinstance(node.value, dict) or name not in node.value:
                return None
            node = node.value[name]
        else:
            if not isinstance(node.value, list) or int(index) >= len(node.value):
                return None
            node = node.value[int(index)]
    return node.text if not isinstance(node.value, (dict, list)) else None


__all__ = ["RETENTION_MS", "Finding", "Severity", "explain", "review"]
