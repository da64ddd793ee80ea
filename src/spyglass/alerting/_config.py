"""The ``alertmanager.yml`` model: a user's file loaded unchanged, with Alertmanager's defaults.

``load_alertmanager_config`` reads the file as Alertmanager 0.34 does: strictly (unknown keys are
errors), every notifier fully modelled with its defaults, global settings handed down to the
notifiers that do not set them, and the same validation with the same messages. Every error is a
``ConfigError`` naming the file, the line and the field. The one addition is environment variable
expansion (``_env``); ``expand_env=False`` turns it off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spyglass.alerting import _receivers as r
from spyglass.alerting._decode import Invalid, decode
from spyglass.alerting._env import expand_env as expand_env_tree
from spyglass.alerting._extensions import SpyglassConfig, check_extensions, load_extensions
from spyglass.alerting._global import ORDER, GlobalConfig, hand_down
from spyglass.alerting._golang import Regex
from spyglass.alerting._http import DEFAULT_HTTP_CONFIG, TLSConfig
from spyglass.alerting._matchers import (
    Matcher,
    MatcherError,
    Mode,
    is_legacy_label_name,
    is_valid_label_name,
    parse_matchers,
    sort_matchers,
)
from spyglass.alerting._timeintervals import (
    TimeInterval,
    parse_days_of_month,
    parse_location,
    parse_months,
    parse_time_range,
    parse_weekdays,
    parse_years,
)
from spyglass.core.config import Node, load_yaml
from spyglass.core.config.fields import Section, kind, mapping, resolve, sequence, string
from spyglass.core.errors import BadInput, ConfigError

_TOP = (
    "global",
    "route",
    "inhibit_rules",
    "receivers",
    "templates",
    "mute_time_intervals",
    "time_intervals",
    "tracing",
    "event_recorder",
    "spyglass",  # Spyglass's own extensions (_extensions), the one key Alertmanager lacks
)
_ROUTE = (
    "receiver",
    "group_by",
    "match",
    "match_re",
    "matchers",
    "mute_time_intervals",
    "active_time_intervals",
    "continue",
    "routes",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "labels",
)
_INHIBIT = (
    "name",
    "source_match",
    "source_match_re",
    "source_matchers",
    "target_match",
    "target_match_re",
    "target_matchers",
    "equal",
)
_TIME_INTERVAL = ("times", "weekdays", "days_of_month", "months", "years", "location")


@dataclass(frozen=True, slots=True)
class Route:
    """A ``route:`` node as written. ``None`` settings are inherited from the parent route."""

    receiver: str = ""
    group_by: tuple[str, ...] | None = None
    group_by_all: bool = False
    match: tuple[tuple[str, str], ...] = ()
    match_re: tuple[tuple[str, str], ...] = ()
    matchers: tuple[Matcher, ...] = ()
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    continue_: bool = False
    routes: tuple[Route, ...] = ()
    group_wait_ms: int | None = None
    group_interval_ms: int | None = None
    repeat_interval_ms: int | None = None
    labels: tuple[tuple[str, str], ...] = ()
    line: int = field(default=0, compare=False)
    path: str = field(default="route", compare=False)
    key_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)

    def line_of(self, key: str) -> int:
        """The line of ``key`` in this route (the route's own line when it is not set)."""
        return dict(self.key_lines).get(key, self.line)

    def all_matchers(self) -> tuple[Matcher, ...]:
        """``match``, ``match_re`` and ``matchers`` as one sorted list, as Alertmanager routes.

        A ``match_re`` regex keeps Alertmanager's spelling: its value is ``^(?:regex)$``.
        """
        ms = [Matcher.of(n, "=", v) for n, v in self.match]
        ms += [Matcher.of(n, "=~", f"^(?:{v})$") for n, v in self.match_re]
        return sort_matchers([*ms, *self.matchers])


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """An ``inhibit_rules`` entry: ``source_*`` and ``target_*`` merged into matcher lists."""

    source_matchers: tuple[Matcher, ...] = ()
    target_matchers: tuple[Matcher, ...] = ()
    equal: tuple[str, ...] = ()
    name: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class NamedTimeInterval:
    """A ``time_intervals`` (or deprecated ``mute_time_intervals``) entry."""

    name: str
    time_intervals: tuple[TimeInterval, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """A loaded ``alertmanager.yml``.

    ``warnings`` lists what loads but deserves a look (matchers only the classic parser reads);
    ``environment`` the variables that were expanded.
    """

    global_config: GlobalConfig
    route: Route
    receivers: tuple[r.Receiver, ...] = ()
    inhibit_rules: tuple[InhibitRule, ...] = ()
    templates: tuple[str, ...] = ()
    mute_time_intervals: tuple[NamedTimeInterval, ...] = ()
    time_intervals: tuple[NamedTimeInterval, ...] = ()
    tracing: dict[str, Any] = field(default_factory=dict)
    event_recorder: dict[str, Any] = field(default_factory=dict)
    spyglass: SpyglassConfig = field(default_factory=SpyglassConfig)
    file: str = ""
    warnings: tuple[str, ...] = ()
    environment: tuple[str, ...] = ()

    def receiver(self, name: str) -> r.Receiver | None:
        """The receiver called ``name``."""
        return next((rc for rc in self.receivers if rc.name == name), None)

    def intervals(self) -> dict[str, tuple[TimeInterval, ...]]:
        """Every named time interval (both sections), by name."""
        return {t.name: t.time_intervals for t in (*self.mute_time_intervals, *self.time_intervals)}


def load_alertmanager_config_file(
    path: str | Path,
    *,
    expand_env: bool = True,
    environ: Mapping[str, str] | None = None,
    matcher_mode: Mode = "fallback",
) -> AlertmanagerConfig:
    """Read and validate an ``alertmanager.yml``; errors are ``ConfigError`` with file and line.

    Relative ``templates`` and ``http_config`` file names resolve against the file's directory,
    as Alertmanager resolves them.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", file=str(path)) from None
    return load_alertmanager_config(
        data,
        file=str(path),
        directory=p.parent,
        expand_env=expand_env,
        environ=environ,
        matcher_mode=matcher_mode,
    )


def load_alertmanager_config(
    text: str | bytes,
    *,
    file: str = "",
    directory: str | Path | None = None,
    expand_env: bool = True,
    environ: Mapping[str, str] | None = None,
    matcher_mode: Mode = "fallback",
) -> AlertmanagerConfig:
    """Parse and validate ``alertmanager.yml`` text.

    ``environ`` (default ``os.environ``) supplies ``${VAR}`` values when ``expand_env`` is on;
    ``matcher_mode`` picks Alertmanager's matcher parser (its ``--enable-feature`` flags).
    """
    root = load_yaml(text, file)
    used: tuple[str, ...] = ()
    if expand_env:
        root, used = expand_env_tree(root, os.environ if environ is None else environ)
    loader = _Loader(root, Path(directory) if directory is not None else None, matcher_mode)
    return replace(loader.load(), environment=used)


class _Loader:
    def __init__(self, root: Node, directory: Path | None, mode: Mode) -> None:
        self.root = root
        self.dir = directory
        self.mode = mode
        self.warnings: list[str] = []

    def warn(self, node: Node, path: str, message: str) -> None:
        where = f"{node.file}:{node.line}" if node.file else f"line {node.line}"
        self.warnings.append(f"{where}: {path}: {message}")

    def load(self) -> AlertmanagerConfig:
        if self.root.is_null:
            raise self.root.error("no route provided in config")
        if not isinstance(self.root.value, (dict, list)):
            text = self.root.text if len(self.root.text) <= 10 else self.root.text[:7] + "..."
            raise self.root.error(f"cannot unmarshal {kind(self.root)} `{text}` into config.plain")
        top = Section(self.root, "config.plain", "", _TOP)
        # First everything is read, in the file's order, each part checking itself; then the
        # checks across parts run, in Alertmanager's order (so the same error comes first).
        parts: dict[str, Any] = {}
        for key in top.items:
            if key in top:
                parts[key] = self.section(top, key)
        gc: GlobalConfig = parts.get("global", GlobalConfig())
        if "global" in parts:
            try:
                gc.validate()
            except Invalid as exc:
                raise Section(top.at("global"), "", "global").error(exc.key, exc.message) from None
        gc = replace(
            gc,
            http_config=(gc.http_config or DEFAULT_HTTP_CONFIG).with_directory(self.dir),
            smtp_tls_config=gc.smtp_tls_config or TLSConfig(),
        )
        receivers = self.inherit(parts.get("receivers", []), gc)
        route: Route | None = parts.get("route")
        if route is None:
            raise top.error("route", "no routes provided")
        self.check_root(route)
        self.check_receivers(route, {rc.name for rc in receivers})
        mute = parts.get("mute_time_intervals", [])
        intervals = parts.get("time_intervals", [])
        seen: set[str] = set()
        for what, section in (("mute time interval", mute), ("time interval", intervals)):
            for named, node, path in section:
                if named.name in seen:
                    raise node.error(f'{what} "{named.name}" is not unique', path)
                seen.add(named.name)
        self.check_intervals(route, seen)
        extensions: SpyglassConfig = parts.get("spyglass", SpyglassConfig())
        check_extensions(extensions, seen, self.root, {rc.name for rc in receivers})
        if route.continue_:
            raise ConfigError(
                "cannot have continue in root route",
                file=self.root.file,
                line=route.line_of("continue"),
                field="route.continue",
            )
        return AlertmanagerConfig(
            global_config=gc,
            route=route,
            receivers=receivers,
            inhibit_rules=parts.get("inhibit_rules", ()),
            templates=parts.get("templates", ()),
            mute_time_intervals=tuple(n for n, _, _ in mute),
            time_intervals=tuple(n for n, _, _ in intervals),
            tracing=parts.get("tracing", {}),
            event_recorder=parts.get("event_recorder", {}),
            spyglass=extensions,
            file=self.root.file,
            warnings=tuple(self.warnings),
        )

    def section(self, top: Section, key: str) -> Any:
        node = top.at(key)
        if key == "global":
            return decode(GlobalConfig, node, "global")
        if key == "route":
            return self.route(node, "route", line=top.node.key_lines.get("route", node.line))
        if key == "inhibit_rules":
            return tuple(
                self.inhibit_rule(n, f"inhibit_rules[{i}]")
                for i, n in enumerate(top.seq(key, "[]common.InhibitRule"))
            )
        if key == "receivers":
            return [
                self.receiver(n, f"receivers[{i}]")
                for i, n in enumerate(top.seq(key, "[]config.Receiver"))
            ]
        if key == "templates":
            return tuple(
                resolve(self.dir, string(n, f"templates[{i}]"))
                for i, n in enumerate(top.seq(key, "[]string"))
            )
        if key in ("mute_time_intervals", "time_intervals"):
            what = "mute time interval" if key.startswith("mute") else "time interval"
            return self.named_intervals(top, key, what)
        if key == "spyglass":
            return load_extensions(node, self.mode)
        mapping(node, "config.plain", key)
        data = node.plain()
        return data if isinstance(data, dict) else {}

    # -- routes ------------------------------------------------------------------------------
    def route(self, node: Node, path: str, line: int = 0) -> Route:
        s = Section(node, "config.plain", path, _ROUTE)
        # What Go decodes with its own unmarshaler (child routes, matchers, regexes) fails in
        # the file's order before this route's checks run, as in Alertmanager.
        decoded: dict[str, Any] = {"routes": (), "matchers": (), "match_re": ()}
        for key in s.items:
            if key == "routes":
                decoded[key] = tuple(
                    self.route(child, f"{s.p('routes')}[{i}]")
                    for i, child in enumerate(s.seq("routes", "[]*config.Route"))
                )
            elif key == "matchers":
                decoded[key] = self.matchers(s, key)
            elif key == "match_re":
                decoded[key] = self.match_re(s, key)
        match = s.strmap("match")
        for name in match:
            if not is_legacy_label_name(name):
                raise s.error("match", f'invalid label name "{name}"')
        labels = s.strmap("labels")
        for name in labels:
            if not is_valid_label_name(name, self.mode):
                raise s.error("labels", f'invalid label name "{name}" in route labels')
        group_by: tuple[str, ...] | None = None
        group_by_all = False
        if "group_by" in s:
            names = s.strs("group_by")
            group_by = ()
            for name in names:
                if name == "...":
                    group_by_all = True
                elif not is_valid_label_name(name, self.mode):
                    raise s.error("group_by", f'invalid label name "{name}" in group_by list')
                else:
                    if name in group_by:
                        raise s.error("group_by", f'duplicated label "{name}" in group_by')
                    group_by += (name,)
            if group_by_all:
                if group_by:
                    raise s.error(
                        "group_by",
                        "cannot have wildcard group_by (`...`) and other labels at the same time",
                    )
                group_by = None
        timers: dict[str, int | None] = {}
        for key in ("group_wait", "group_interval", "repeat_interval"):
            timers[key] = s.dur(key) if key in s else None
        for key in ("group_interval", "repeat_interval"):
            if timers[key] == 0:
                raise s.error(key, f"{key} cannot be zero")
        return Route(
            receiver=s.text("receiver"),
            group_by=group_by,
            group_by_all=group_by_all,
            match=tuple(sorted(match.items())),
            match_re=decoded["match_re"],
            matchers=decoded["matchers"],
            mute_time_intervals=tuple(s.strs("mute_time_intervals")),
            active_time_intervals=tuple(s.strs("active_time_intervals")),
            continue_=s.flag("continue", False),
            routes=decoded["routes"],
            group_wait_ms=timers["group_wait"],
            group_interval_ms=timers["group_interval"],
            repeat_interval_ms=timers["repeat_interval"],
            labels=tuple(sorted(labels.items())),
            line=line or node.line,
            path=path,
            key_lines=tuple(node.key_lines.items()),
        )

    def match_re(self, s: Section, key: str) -> tuple[tuple[str, str], ...]:
        if key not in s:
            return ()
        items = mapping(s.at(key), "config.MatchRegexps", s.p(key))
        out = []
        for name, value in items.items():
            if not is_legacy_label_name(name):
                raise s.error(key, f'invalid label name "{name}"')
            if value.is_null:
                raise s.error(key, f'invalid regexp value for "{name}"')
            regex = string(value, f"{s.p(key)}.{name}")
            try:
                Regex(f"^(?:{regex})$")
            except BadInput as exc:
                raise value.error(str(exc), f"{s.p(key)}.{name}") from None
            out.append((name, regex))
        return tuple(sorted(out))

    def matchers(self, s: Section, key: str) -> tuple[Matcher, ...]:
        out: list[Matcher] = []
        for i, item in enumerate(s.seq(key, "[]string")):
            where = f"{s.p(key)}[{i}]"
            text = string(item, where)
            found: list[str] = []
            try:
                out.extend(parse_matchers(text, mode=self.mode, warnings=found))
            except MatcherError as exc:
                raise item.error(str(exc), where) from None
            for message in found:
                self.warn(item, where, message)
        return sort_matchers(out)

    def check_root(self, route: Route) -> None:
        def fail(message: str, key: str) -> ConfigError:
            return ConfigError(
                message, file=self.root.file, line=route.line_of(key), field=f"route.{key}"
            )

        if not route.receiver:
            raise fail("root route must specify a default receiver", "receiver")
        if route.match or route.match_re or route.matchers:
            key = next(k for k in ("match", "match_re", "matchers") if getattr(route, k))
            raise fail("root route must not have any matchers", key)
        if route.mute_time_intervals:
            raise fail("root route must not have any mute time intervals", "mute_time_intervals")
        if route.active_time_intervals:
            raise fail(
                "root route must not have any active time intervals", "active_time_intervals"
            )

    def check_receivers(self, route: Route, names: set[str]) -> None:
        for child in route.routes:
            self.check_receivers(child, names)
        if route.receiver and route.receiver not in names:
            raise ConfigError(
                f'undefined receiver "{route.receiver}" used in route',
                file=self.root.file,
                line=route.line_of("receiver"),
                field=f"{route.path}.receiver",
            )

    def check_intervals(self, route: Route, names: set[str]) -> None:
        for child in route.routes:
            self.check_intervals(child, names)
        for key, used in (
            ("active_time_intervals", route.active_time_intervals),
            ("mute_time_intervals", route.mute_time_intervals),
        ):
            for name in used:
                if name not in names:
                    raise ConfigError(
                        f'undefined time interval "{name}" used in route',
                        file=self.root.file,
                        line=route.line_of(key),
                        field=f"{route.path}.{key}",
                    )

    # -- inhibit rules -----------------------------------------------------------------------
    def inhibit_rule(self, node: Node, path: str) -> InhibitRule:
        s = Section(node, "common.plain", path, _INHIBIT)
        sides = []
        for side in ("source", "target"):
            match = s.strmap(f"{side}_match")
            for name in match:
                if not is_legacy_label_name(name):
                    raise s.error(f"{side}_match", f'invalid label name "{name}"')
            ms = [Matcher.of(n, "=", v) for n, v in sorted(match.items())]
            ms += [
                Matcher.of(n, "=~", f"^(?:{v})$") for n, v in self.match_re(s, f"{side}_match_re")
            ]
            sides.append((*ms, *self.matchers(s, f"{side}_matchers")))
        equal = tuple(s.strs("equal"))
        for name in equal:
            if not is_valid_label_name(name, self.mode):
                raise s.error("equal", f'invalid label name "{name}" in equal list')
        return InhibitRule(sides[0], sides[1], equal, s.text("name"), node.line)

    # -- time intervals ----------------------------------------------------------------------
    def named_intervals(
        self, top: Section, key: str, what: str
    ) -> list[tuple[NamedTimeInterval, Node, str]]:
        out = []
        for i, node in enumerate(
            top.seq(key, f"[]config.{'Mute' if 'mute' in what else ''}TimeInterval")
        ):
            path = f"{key}[{i}]"
            s = Section(node, "config.plain", path, ("name", "time_intervals"))
            intervals = tuple(
                self.time_interval(n, f"{s.p('time_intervals')}[{j}]")
                for j, n in enumerate(s.seq("time_intervals", "[]timeinterval.TimeInterval"))
            )
            name = s.text("name")
            if not name:
                raise node.error(f"missing name in {what}", path)
            out.append((NamedTimeInterval(name, intervals), node, f"{path}.name"))
        return out

    def time_interval(self, node: Node, path: str) -> TimeInterval:
        s = Section(node, "timeinterval.TimeInterval", path, _TIME_INTERVAL)
        values: dict[str, Any] = {}
        for key, parse, go in (
            ("weekdays", parse_weekdays, "WeekdayRange"),
            ("days_of_month", parse_days_of_month, "DayOfMonthRange"),
            ("months", parse_months, "MonthRange"),
            ("years", parse_years, "YearRange"),
        ):
            if key not in s.items:
                continue
            items = sequence(s.items[key], s.p(key), f"[]timeinterval.{go}")
            ranges = []
            for i, item in enumerate(items):
                try:
                    ranges.append(parse(string(item, f"{s.p(key)}[{i}]")))
                except BadInput as exc:
                    raise item.error(str(exc), f"{s.p(key)}[{i}]") from None
            values[key] = tuple(ranges) if s.items[key].value is not None else None
        if "times" in s.items:
            times = []
            items = sequence(s.items["times"], s.p("times"), "[]timeinterval.TimeRange")
            for i, item in enumerate(items):
                where = f"{s.p('times')}[{i}]"
                t = Section(item, "timeinterval.yamlTimeRange", where, ("start_time", "end_time"))
                try:
                    times.append(parse_time_range(t.text("start_time"), t.text("end_time")))
                except BadInput as exc:
                    raise item.error(str(exc), where) from None
            values["times"] = tuple(times) if s.items["times"].value is not None else None
        if "location" in s:
            try:
                values["location"] = parse_location(s.text("location"))
            except BadInput as exc:
                raise s.error("location", str(exc)) from None
        return TimeInterval(**values)

    # -- receivers ---------------------------------------------------------------------------
    def receiver(self, node: Node, path: str) -> _ReadReceiver:
        s = Section(node, "config.plain", path, ("name", "labels", *r.INTEGRATIONS))
        integrations = []
        for key, cls in r.INTEGRATIONS.items():
            if key not in s.items:
                continue
            entries = []
            for j, item in enumerate(sequence(s.items[key], s.p(key), f"[]*{key}")):
                where = f"{s.p(key)}[{j}]"
                entries.append((None if item.is_null else decode(cls, item, where), item, where))
            integrations.append((key, entries))
        name = s.text("name")
        if not name:
            raise node.error("missing name in receiver", path)
        labels = s.strmap("labels")
        if labels.get("name", name) != name:
            raise s.error(
                "labels",
                f'receiver label "name" must match receiver name "{name}", got "{labels["name"]}"',
            )
        return _ReadReceiver(name, {**labels, "name": name}, integrations, s)

    def inherit(self, read: list[_ReadReceiver], gc: GlobalConfig) -> tuple[r.Receiver, ...]:
        out = []
        seen: set[str] = set()
        for rc in read:
            if rc.name in seen:
                raise rc.section.error(
                    "name", f'notification config name "{rc.name}" is not unique'
                )
            by_key = dict(rc.integrations)
            integrations = []
            for key in ORDER:
                if key in by_key:
                    configs = tuple(
                        hand_down(key, cfg, gc, node=node, path=where, directory=self.dir)
                        for cfg, node, where in by_key[key]
                    )
                    integrations.append((key, configs))
            order = list(r.INTEGRATIONS)
            integrations.sort(key=lambda item: order.index(item[0]))
            out.append(r.Receiver(rc.name, rc.labels, tuple(integrations), rc.section.node.line))
            seen.add(rc.name)
        return tuple(out)


@dataclass(slots=True)
class _ReadReceiver:
    """A receiver as read, before ``global:`` is handed down to its notifiers."""

    name: str
    labels: dict[str, str]
    integrations: list[tuple[str, list[tuple[Any, Node, str]]]]
    section: Section


# The order in which Alertmanager hands global settings down (and so reports their errors).


__all__ = [
    "AlertmanagerConfig",
    "GlobalConfig",
    "InhibitRule",
    "NamedTimeInterval",
    "Route",
    "load_alertmanager_config",
    "load_alertmanager_config_file",
]
