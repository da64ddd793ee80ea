"""Old dashboards brought to the layout the page draws, as Grafana's dashboard migrator does.

Dashboards from before Grafana 5 (``schemaVersion`` under 16: Grafana 4 exports and many
community dashboards on grafana.com) have no ``gridPos``: they hold ``rows``, each with a pixel
``height`` and ``panels`` sized by ``span`` on a 12-column grid. ``migrate_layout`` turns them
into Grafana 5's 24-column grid the way Grafana's ``DashboardMigrator.upgradeToGridLayout``
does: a panel's width is ``span * 2``; its height (the row's, or its own ``height``) is pixels
over a 38-pixel grid cell, never under 90 pixels; panels fill a row's height left to right and
wrap within it. Rows become ``row`` panels only when some row is collapsed, repeated or shows its
title (else the panels just follow one another); a collapsed row holds its panels.

The migration is pure and works on a copy: the stored dashboard keeps its original shape, so
exporting gives back what was imported.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from spyglass.dashboards._model import GRID_COLUMNS

# Grafana's grid: cells 30 px high with 8 px between them; rows default to 250 px and panels
# to a third of the width; no panel is shorter than three cells.
GRID_CELL_HEIGHT = 30
GRID_CELL_VMARGIN = 8
DEFAULT_ROW_HEIGHT = 250
DEFAULT_PANEL_SPAN = 4
MIN_PANEL_HEIGHT = GRID_CELL_HEIGHT * 3
GRID_LAYOUT_SCHEMA = 16


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            n = float(value.strip().removesuffix("px"))
        except ValueError:
            return None
        return n if math.isfinite(n) else None
    return None


def grid_height(height: Any) -> int:
    """Grid cells for a pixel height (``250``, ``"250px"``), as Grafana's ``getGridHeight``."""
    px = _num(height)
    px = DEFAULT_ROW_HEIGHT if px is None else px
    px = max(px, MIN_PANEL_HEIGHT)
    return min(math.ceil(px / (GRID_CELL_HEIGHT + GRID_CELL_VMARGIN)), 1000)


class _RowArea:
    """The columns' filled heights inside one old row, to place its panels as Grafana does:
    each panel goes to the right of the ones before it while the row's height has room there,
    else a new band of the row's height starts below."""

    def __init__(self, height: int, y: int) -> None:
        self.area = [0] * GRID_COLUMNS
        self.y = y
        self.height = height

    def add(self, x: int, y: int, w: int, h: int) -> None:
        for i in range(x, min(x + w, GRID_COLUMNS)):
            self.area[i] = max(self.area[i], y + h - self.y)

    def place(self, width: int, *, again: bool = False) -> tuple[int, int]:
        start: int | None = None
        end: int | None = None
        for i in range(GRID_COLUMNS - 1, -1, -1):
            if self.height - self.area[i] <= 0:
                break
            if end is None:
                end = i
            elif i < GRID_COLUMNS - 1 and self.area[i] <= self.area[i + 1]:
                start = i
            else:
                break
        if start is not None and end is not None and end - start >= width - 1:
            return start, max(self.area[start:])
        if again:
            # Grafana leaves such a panel without a place; put it on a fresh band instead.
            self.y += self.height
            self.area = [0] * GRID_COLUMNS
            return 0, 0
        self.y += self.height
        self.area = [0] * GRID_COLUMNS
        return self.place(width, again=True)


def needs_migration(dashboard: dict[str, Any]) -> bool:
    """Whether ``dashboard`` has the pre-Grafana-5 ``rows`` layout (and no panels of its own)."""
    rows = dashboard.get("rows")
    if not isinstance(rows, list) or not rows:
        return False
    panels = dashboard.get("panels")
    version = _num(dashboard.get("schemaVersion"))
    old = version is None or version < GRID_LAYOUT_SCHEMA
    return old and not (isinstance(panels, list) and panels)


def migrate_layout(dashboard: dict[str, Any]) -> dict[str, Any]:
    """``dashboard`` with its ``rows`` laid out as ``panels`` (see the module docstring); the
    same object when there is nothing to migrate, else a migrated copy."""
    if not needs_migration(dashboard):
        return dashboard
    out = copy.deepcopy(dashboard)
    rows = [r for r in out.pop("rows") if isinstance(r, dict)]
    out["schemaVersion"] = GRID_LAYOUT_SCHEMA
    ids = [
        p["id"]
        for r in rows
        for p in _panels_of(r)
        if isinstance(p.get("id"), int) and not isinstance(p.get("id"), bool)
    ]
    next_id = max(ids, default=0) + 1
    show_rows = any(r.get("collapse") or r.get("showTitle") or r.get("repeat") for r in rows)
    panels: list[dict[str, Any]] = []
    y = 0
    for row in rows:
        if row.get("repeatIteration"):
            continue  # a copy a repeat made when the dashboard was saved: the repeat remakes it
        row_h = grid_height(row.get("height"))
        collapsed = bool(row.get("collapse"))
        row_panel: dict[str, Any] | None = None
        if show_rows:
            row_panel = {
                "id": next_id,
                "type": "row",
                "title": row.get("title") if isinstance(row.get("title"), str) else "",
                "collapsed": collapsed,
                "panels": [],
                "gridPos": {"x": 0, "y": y, "w": GRID_COLUMNS, "h": row_h},
            }
            if isinstance(row.get("repeat"), str) and row["repeat"]:
                row_panel["repeat"] = row["repeat"]
            next_id += 1
            y += 1
        area = _RowArea(row_h, y)
        for panel in _panels_of(row):
            span = _num(panel.pop("span", None)) or DEFAULT_PANEL_SPAN
            width = min(max(math.floor(span) * 2, 1), GRID_COLUMNS)
            own = panel.get("height")
            height = grid_height(own) if _num(own) is not None else row_h
            x, dy = area.place(width)
            y = area.y
            panel["gridPos"] = {"x": x, "y": y + dy, "w": width, "h": height}
            area.add(x, y + dy, width, height)
            if row_panel is not None and collapsed:
                row_panel["panels"].append(panel)
            else:
                panels.append(panel)
        if row_panel is not None:
            panels.append(row_panel)
        if not collapsed or row_panel is None:
            y += row_h
    out["panels"] = panels
    return out


def _panels_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    raw = row.get("panels")
    return [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []


__all__ = ["GRID_LAYOUT_SCHEMA", "grid_height", "migrate_layout", "needs_migration"]
