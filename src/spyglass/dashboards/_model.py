"""Grafana dashboard JSON, read leniently as Grafana's import reads it.

A dashboard stays the JSON object it came as: Spyglass checks the fields it uses (``title``,
``uid``, ``tags``, ``panels`` and their ``gridPos``, ``templating.list``) and keeps every other
field untouched, so exporting gives back what was imported. What is not a dashboard at all (not
a JSON object, no title, panels that are not objects) is a ``DashboardError`` saying which field
is wrong; what is too big is a ``DashboardTooLarge`` naming the limit.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Iterator
from typing import Any

from spyglass.core.errors import BadInput, LimitExceeded

# Grafana's import takes any size its HTTP server accepts; exported dashboards of hundreds of
# panels are a few hundred KB, so 10 MiB is generous while keeping one request from eating memory.
MAX_DASHBOARD_BYTES = 10 * 1024 * 1024
# Panels counted with those nested in collapsed rows; large generated dashboards hold ~300.
MAX_PANELS = 1000
# Grafana's own limit on uids (dashboards.ErrDashboardUidTooLong).
MAX_UID_LENGTH = 40
GRID_COLUMNS = 24

_UID_CHARS = re.compile(r"^[a-zA-Z0-9_-]*$")
_UID_ALPHABET = string.ascii_letters + string.digits


class DashboardError(BadInput):
    """A document that is not a dashboard Spyglass can store; the message names the field."""


class DashboardTooLarge(LimitExceeded):
    """A dashboard over the size or panel-count limit."""


def new_uid() -> str:
    """A fresh uid of 14 characters, as Grafana's generator makes them."""
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(14))


def slugify(title: str) -> str:
    """Grafana's URL slug of a title: lower case, runs of other characters become one dash."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "dashboard"


def decode_json(body: bytes | str) -> Any:
    """JSON text as Python values; ``DashboardTooLarge`` over ``MAX_DASHBOARD_BYTES``,
    ``DashboardError`` when it is not JSON."""
    size = len(body.encode() if isinstance(body, str) else body)
    if size > MAX_DASHBOARD_BYTES:
        raise DashboardTooLarge(
            "max_dashboard_bytes",
            MAX_DASHBOARD_BYTES,
            f"dashboard is {size} bytes, more than the limit of {MAX_DASHBOARD_BYTES}",
        )
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise DashboardError(f"not JSON: {exc}") from None


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, with the panels collapsed rows hold right after their row."""
    for panel in panels:
        yield panel
        nested = panel.get("panels")
        if panel.get("type") == "row" and isinstance(nested, list):
            yield from (p for p in nested if isinstance(p, dict))


def validate_dashboard(value: Any) -> dict[str, Any]:
    """Check ``value`` is a dashboard and return it (the same object, fields untouched).

    Raises ``DashboardError`` for what Grafana would refuse or Spyglass cannot lay out, and
    ``DashboardTooLarge`` beyond ``MAX_PANELS`` panels.
    """
    if not isinstance(value, dict):
        raise DashboardError(f"a dashboard is a JSON object, not {_kind(value)}")
    title = value.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DashboardError("Dashboard title cannot be empty")
    uid = value.get("uid")
    if uid is not None:
        if not isinstance(uid, str):
            raise DashboardError(f"uid must be a string, not {_kind(uid)}")
        if len(uid) > MAX_UID_LENGTH:
            raise DashboardError(f"uid too long, max {MAX_UID_LENGTH} characters")
        if not _UID_CHARS.match(uid):
            raise DashboardError("uid contains illegal characters")
    tags = value.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DashboardError("tags must be a list of strings")
    panels = value.get("panels", [])
    if not isinstance(panels, list):
        raise DashboardError(f"panels must be a list, not {_kind(panels)}")
    count = 0
    for i, panel in enumerate(panels):
        _check_panel(panel, f"panels[{i}]")
        nested = panel.get("panels")
        if nested is not None:
            if not isinstance(nested, list):
                raise DashboardError(f"panels[{i}].panels must be a list")
            for j, inner in enumerate(nested):
                _check_panel(inner, f"panels[{i}].panels[{j}]")
            count += len(nested)
        count += 1
    # Pre-Grafana-5 dashboards hold their panels in ``rows`` (``_migrate`` lays them out).
    rows = value.get("rows", [])
    if not isinstance(rows, list):
        raise DashboardError(f"rows must be a list, not {_kind(rows)}")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise DashboardError(f"rows[{i}] must be an object, not {_kind(row)}")
        nested = row.get("panels", [])
        if not isinstance(nested, list):
            raise DashboardError(f"rows[{i}].panels must be a list")
        for j, inner in enumerate(nested):
            _check_panel(inner, f"rows[{i}].panels[{j}]")
        count += len(nested)
    if count > MAX_PANELS:
        raise DashboardTooLarge(
            "max_dashboard_panels",
            MAX_PANELS,
            f"dashboard has {count} panels, more than {MAX_PANELS}",
        )
    templating = value.get("templating", {})
    if not isinstance(templating, dict):
        raise DashboardError("templating must be an object")
    variables = templating.get("list", [])
    if not isinstance(variables, list):
        raise DashboardError("templating.list must be a list")
    for i, var in enumerate(variables):
        if not isinstance(var, dict) or not isinstance(var.get("name"), str):
            raise DashboardError(f"templating.list[{i}] must be an object with a name")
    return value


def _check_panel(panel: Any, where: str) -> None:
    if not isinstance(panel, dict):
        raise DashboardError(f"{where} must be an object, not {_kind(panel)}")
    grid = panel.get("gridPos")
    if grid is None:
        return
    if not isinstance(grid, dict):
        raise DashboardError(f"{where}.gridPos must be an object")
    for key in ("x", "y", "w", "h"):
        v = grid.get(key, 0)
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise DashboardError(f"{where}.gridPos.{key} must be a number")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def grid_pos(panel: dict[str, Any]) -> tuple[int, int, int, int]:
    """The panel's ``(x, y, w, h)`` in Grafana's 24-column grid, clamped to the grid.

    Grafana's defaults for a panel without ``gridPos``: 12 wide, 8 high, at the top left.
    """
    grid = panel.get("gridPos")
    g = grid if isinstance(grid, dict) else {}

    def num(key: str, default: int) -> int:
        v = g.get(key, default)
        return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else default

    w = min(max(num("w", 12), 1), GRID_COLUMNS)
    x = min(max(num("x", 0), 0), GRID_COLUMNS - w)
    return x, max(num("y", 0), 0), w, max(num("h", 8), 1)


__all__ = [
    "GRID_COLUMNS",
    "MAX_DASHBOARD_BYTES",
    "MAX_PANELS",
    "MAX_UID_LENGTH",
    "DashboardError",
    "DashboardTooLarge",
    "decode_json",
    "grid_pos",
    "iter_panels",
    "new_uid",
    "slugify",
    "validate_dashboard",
]
