"""A dashboard made ready to draw: variables resolved, repeats expanded, queries interpolated.

``dashboard_view`` turns a stored dashboard, the URL's time range and ``var-`` values into what
the dashboard page's script needs and nothing it has to work out itself: sections (the panels
above the first row, then one per row, collapsed rows holding their panels), each panel with
its grid position, its title with variables put in, and its targets' PromQL with variables and
``$__interval``/``$__rate_interval``/``$__range`` macros put in, plus the ``step`` to query at.
Repeated panels (``repeat``) become one panel per selected value, laid out as Grafana lays
them (``repeatDirection`` ``h``: side by side, ``maxPerRow`` at most; ``v``: stacked), pushing
what is below them down; then panels float up and off each other as on Grafana's grid. A
panel type Spyglass does not draw is kept with a message saying so, so the page can show it in
its place.

Dashboards others wrote come in older shapes, which the view evens out so the page draws one:
a pre-Grafana-5 ``rows`` layout is laid out on the grid first (``_migrate``), old ``graph`` and
``singlestat`` panels are described as the ``timeseries`` and ``stat`` panels Grafana migrates
them to (``_legacy``), a repeated row becomes one section per value. Annotation queries
(``_annotations``) and links (``_links``, unsafe URLs emptied) come interpolated;
``transformations`` pass through for the page, which has the data they work on.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

from spyglass.dashboards._annotations import annotation_queries
from spyglass.dashboards._interpolate import VariableValue, interpolate
from spyglass.dashboards._interval import DEFAULT_SCRAPE_INTERVAL_S, query_interval
from spyglass.dashboards._legacy import graph_options, singlestat_options
from spyglass.dashboards._links import dashboard_links, panel_links
from spyglass.dashboards._migrate import migrate_layout
from spyglass.dashboards._model import GRID_COLUMNS, DashboardError, grid_pos, slugify
from spyglass.dashboards._variables import (
    ResolvedVariable,
    TimeContext,
    VariableSource,
    resolve_variables,
)

# What the page draws; older names map to the current panel that replaced them.
PANEL_TYPES = ("timeseries", "graph", "stat", "gauge", "bargauge", "table", "heatmap", "text")
_ALIASES = {"singlestat": "stat", "table-old": "table", "grafana-singlestat-panel": "stat"}
# Grafana sizes a panel's default maxDataPoints by its width in pixels; the server does not know
# the browser's width, so it assumes a 1,280-pixel-wide grid.
ASSUMED_GRID_PX = 1280


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return int(value)


def _builtins(start_ms: int, end_ms: int, uid: str, title: str) -> dict[str, VariableValue]:
    return {
        "__from": VariableValue.single(str(start_ms)),
        "__to": VariableValue.single(str(end_ms)),
        "__dashboard": VariableValue.single(title),
        "__dashboard_uid": VariableValue.single(uid),
    }


def _datasource_type(ds: Any) -> str:
    if isinstance(ds, dict):
        return _str(ds.get("type"))
    return ""


def _targets(
    panel: dict[str, Any],
    scope: Mapping[str, VariableValue],
    range_ms: int,
    width: int,
    scrape_interval_s: float,
) -> tuple[list[dict[str, Any]], list[str]]:
    raw = panel.get("targets")
    targets = [t for t in raw if isinstance(t, dict)] if isinstance(raw, list) else []
    max_points = _int(panel.get("maxDataPoints"), 0)
    if max_points <= 0:
        max_points = max(round(width / GRID_COLUMNS * ASSUMED_GRID_PX), 1)
    panel_min = interpolate(_str(panel.get("interval")), scope)
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    for i, t in enumerate(targets):
        ref = _str(t.get("refId")) or chr(ord("A") + i % 26)
        ds = _datasource_type(t.get("datasource")) or _datasource_type(panel.get("datasource"))
        if ds and ds not in ("prometheus", "datasource", "__expr__") and not ds.startswith("$"):
            notes.append(f"query {ref}: data source type {ds!r} is not supported")
            continue
        expr = _str(t.get("expr"))
        if t.get("hide") is True or not expr.strip():
            continue
        try:
            interval = query_interval(
                range_ms,
                max_points,
                panel_min_interval=panel_min,
                target_interval=interpolate(_str(t.get("interval")), scope),
                interval_factor=max(_int(t.get("intervalFactor"), 1), 1),
                scrape_interval_s=scrape_interval_s,
            )
        except DashboardError as exc:
            notes.append(f"query {ref}: {exc}")
            continue
        macros = {k: VariableValue.single(v) for k, v in interval.macros.items()}
        full = {**scope, **macros}
        fmt = _str(t.get("format")) or "time_series"
        out.append(
            {
                "refId": ref,
                "expr": interpolate(expr, full),
                "legendFormat": interpolate(_str(t.get("legendFormat")), full, "raw"),
                "instant": _instant(t, fmt),
                # Grafana's Prometheus query option: draw the query's exemplars on the graph.
                "exemplar": t.get("exemplar") is True,
                "format": fmt,
                "step": interval.step_s,
            }
        )
    return out, notes


def _panel_view(
    panel: dict[str, Any],
    *,
    scope: Mapping[str, VariableValue],
    range_ms: int,
    scrape_interval_s: float,
    pos: tuple[int, int, int, int],
    key: str,
) -> dict[str, Any]:
    raw_kind = _str(panel.get("type"))
    kind = _ALIASES.get(raw_kind, raw_kind)
    x, y, w, h = pos
    view: dict[str, Any] = {
        "key": key,
        "id": panel.get("id") if isinstance(panel.get("id"), int) else None,
        "type": kind,
        "title": interpolate(_str(panel.get("title")), scope, "text"),
        "description": interpolate(_str(panel.get("description")), scope, "text"),
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": _dict(panel.get("fieldConfig")),
        "options": _dict(panel.get("options")),
        "targets": [],
        "messages": [],
    }
    # Old panels are drawn as the panels Grafana migrates them to (``_legacy``).
    if kind == "graph":
        view["type"] = "timeseries"
        view["options"], view["fieldConfig"] = graph_options(panel)
    elif raw_kind in ("singlestat", "grafana-singlestat-panel"):
        view["type"], view["options"], view["fieldConfig"] = singlestat_options(panel)
    view["links"] = panel_links(panel, scope)
    if kind == "text":
        opts = view["options"]
        content = _str(opts.get("content")) or _str(panel.get("content"))
        mode = _str(opts.get("mode")) or _str(panel.get("mode")) or "markdown"
        view["text"] = {"content": interpolate(content, scope, "text"), "mode": mode}
        return view
    if isinstance(panel.get("libraryPanel"), dict) and not panel.get("targets"):
        view["messages"].append("Library panels are not supported by Spyglass")
        return view
    if kind not in PANEL_TYPES:
        shown = kind or "(none)"
        view["messages"].append(f"Panel type {shown} is not supported by Spyglass")
        return view
    # Transformations work on the query results, which the page fetches: it applies them.
    transformations = panel.get("transformations")
    if isinstance(transformations, list):
        view["transformations"] = [t for t in transformations if isinstance(t, dict)]
    targets, notes = _targets(panel, scope, range_ms, w, scrape_interval_s)
    view["targets"] = targets
    view["messages"].extend(notes)
    return view


def _repeat_values(name: str, variables: Mapping[str, ResolvedVariable]) -> list[VariableValue]:
    var = variables.get(name)
    if var is None:
        return []
    v = var.value
    texts = v.texts or v.values
    return [
        VariableValue((value,), (texts[i] if i < len(texts) else value,), multi=v.multi, name=name)
        for i, value in enumerate(v.values)
    ]


def _expand(
    panels: Sequence[dict[str, Any]], variables: Mapping[str, ResolvedVariable]
) -> list[tuple[dict[str, Any], tuple[int, int, int, int], dict[str, VariableValue], str]]:
    """Panels with their positions and repeat scopes; repeats expanded, panels below pushed."""
    out: list[tuple[dict[str, Any], tuple[int, int, int, int], dict[str, VariableValue], str]] = []
    shifts: list[tuple[int, int]] = []  # (y at or below which, extra height)
    ordered = sorted(enumerate(panels), key=lambda ip: (grid_pos(ip[1])[1], grid_pos(ip[1])[0]))
    for index, panel in ordered:
        x, y, w, h = grid_pos(panel)
        y += sum(extra for at, extra in shifts if grid_pos(panel)[1] >= at)
        repeat = _str(panel.get("repeat"))
        values = _repeat_values(repeat, variables) if repeat else []
        if len(values) <= 1:
            scope = {repeat: values[0]} if values else {}
            out.append((panel, (x, y, w, h), scope, f"p{index}"))
            continue
        direction = _str(panel.get("repeatDirection")) or "h"
        if direction == "v":
            for k, value in enumerate(values):
                out.append((panel, (x, y + k * h, w, h), {repeat: value}, f"p{index}-{k}"))
            shifts.append((grid_pos(panel)[1] + grid_pos(panel)[3], h * (len(values) - 1)))
            continue
        per_row = max(_int(panel.get("maxPerRow"), 4), 1)
        width = max(GRID_COLUMNS // len(values), GRID_COLUMNS // per_row, 1)
        col, row = 0, 0
        for k, value in enumerate(values):
            if col + width > GRID_COLUMNS:
                col, row = 0, row + 1
            out.append((panel, (col, y + row * h, width, h), {repeat: value}, f"p{index}-{k}"))
            col += width
        if row:
            shifts.append((grid_pos(panel)[1] + grid_pos(panel)[3], h * row))
    return out


def _compact(views: list[dict[str, Any]]) -> None:
    """Float panels up and off each other, as Grafana's grid does: in reading order, each goes
    to the first row below every panel already placed in the columns it spans."""
    placed: list[dict[str, int]] = []
    for v in sorted(views, key=lambda v: (v["gridPos"]["y"], v["gridPos"]["x"])):
        g = v["gridPos"]
        g["y"] = max(
            (
                p["y"] + p["h"]
                for p in placed
                if p["x"] < g["x"] + g["w"] and g["x"] < p["x"] + p["w"]
            ),
            default=0,
        )
        placed.append(g)


def _sections(panels: list[Any]) -> list[tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
    """Top-level panels split at rows: ``(row or None, its panels)`` in order."""
    valid = [p for p in panels if isinstance(p, dict)]
    ordered = sorted(valid, key=lambda p: (grid_pos(p)[1], grid_pos(p)[0]))
    sections: list[tuple[dict[str, Any] | None, list[dict[str, Any]]]] = [(None, [])]
    for panel in ordered:
        if panel.get("type") == "row":
            nested = panel.get("panels")
            inner = [p for p in nested if isinstance(p, dict)] if isinstance(nested, list) else []
            sections.append((panel, inner if panel.get("collapsed") else []))
        else:
            sections[-1][1].append(panel)
    if not sections[0][1]:
        sections.pop(0)
    return sections


def dashboard_view(
    dashboard: dict[str, Any],
    *,
    start_ms: int,
    end_ms: int,
    url_values: Mapping[str, Sequence[str]],
    source: VariableSource,
    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S,
) -> dict[str, Any]:
    """What the dashboard page draws (see the module docstring), as JSON-ready data."""
    dashboard = migrate_layout(dashboard)
    uid = _str(dashboard.get("uid"))
    title = _str(dashboard.get("title"))
    builtins = _builtins(start_ms, end_ms, uid, title)
    templating = dashboard.get("templating")
    raw_vars = templating.get("list") if isinstance(templating, dict) else None
    var_specs = [v for v in raw_vars if isinstance(v, dict)] if isinstance(raw_vars, list) else []
    resolved = resolve_variables(
        var_specs, url_values, source, TimeContext(start_ms, end_ms), builtins
    )
    by_name = {v.name: v for v in resolved}
    scope: dict[str, VariableValue] = {**builtins, **{v.name: v.value for v in resolved}}
    range_ms = end_ms - start_ms
    sections = []
    for index, (row, members) in enumerate(_sections(_list(dashboard.get("panels")))):
        row_y = grid_pos(row)[1] + 1 if row is not None else 0
        repeat = _str(row.get("repeat")) if row is not None else ""
        values = _repeat_values(repeat, by_name) if repeat else []
        # A repeated row is drawn once per selected value, the variable holding that value
        # inside it (Grafana's row repeat); a panel repeat inside it repeats in each copy.
        copies: list[tuple[dict[str, VariableValue], str]] = (
            [({repeat: v}, f"s{index}r{k}-") for k, v in enumerate(values)]
            if len(values) > 1
            else [({repeat: values[0]} if values else {}, f"s{index}-" if index else "")]
        )
        for row_scope, prefix in copies:
            sections.append(
                _section(
                    row,
                    members,
                    scope={**scope, **row_scope},
                    by_name=by_name,
                    row_y=row_y,
                    prefix=prefix,
                    range_ms=range_ms,
                    scrape_interval_s=scrape_interval_s,
                )
            )
    time = _dict(dashboard.get("time"))
    return {
        "uid": uid,
        "title": title,
        "slug": slugify(title),
        "tags": [t for t in _list(dashboard.get("tags")) if isinstance(t, str)],
        "refresh": _str(dashboard.get("refresh")),
        "time": {"from": _str(time.get("from")), "to": _str(time.get("to"))},
        "range": {"from": start_ms, "to": end_ms},
        "variables": [v.as_json() for v in resolved],
        "annotations": annotation_queries(dashboard, scope, range_ms, scrape_interval_s),
        "links": dashboard_links(dashboard, scope),
        "sections": sections,
    }


def _section(
    row: dict[str, Any] | None,
    members: list[dict[str, Any]],
    *,
    scope: dict[str, VariableValue],
    by_name: Mapping[str, ResolvedVariable],
    row_y: int,
    prefix: str,
    range_ms: int,
    scrape_interval_s: float,
) -> dict[str, Any]:
    views = []
    for panel, (x, y, w, h), repeat_scope, key in _expand(members, by_name):
        local = {**scope, **repeat_scope}
        # Inside a section, rows are counted from its top (collapsed rows keep the y their
        # panels had when the row was open, so they are made relative too).
        pos = (x, max(y - row_y, 0), w, h)
        views.append(
            _panel_view(
                panel,
                scope=local,
                range_ms=range_ms,
                scrape_interval_s=scrape_interval_s,
                pos=pos,
                key=prefix + key,
            )
        )
    _compact(views)
    return {
        "row": None
        if row is None
        else {
            "title": interpolate(_str(row.get("title")), scope, "text"),
            "collapsed": row.get("collapsed") is True,
        },
        "panels": views,
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _instant(target: dict[str, Any], fmt: str) -> bool:
    """Instant queries: ``instant: true``, or a table-format target not asking for a range."""
    if target.get("instant") is True:
        return True
    return fmt == "table" and target.get("range") is not True


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def copy_dashboard(dashboard: dict[str, Any]) -> dict[str, Any]:
    """A deep copy (views never change the stored dashboard)."""
    return copy.deepcopy(dashboard)


__all__ = ["ASSUMED_GRID_PX", "PANEL_TYPES", "copy_dashboard", "dashboard_view"]
