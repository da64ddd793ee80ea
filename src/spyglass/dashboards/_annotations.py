"""A dashboard's annotation queries, ready for the page to run.

Grafana's ``annotations.list`` holds the built-in ``-- Grafana --`` entry (``builtIn: 1``,
annotations kept in Grafana's own database, which Spyglass has none of: skipped quietly) and
queries against data sources. A Prometheus one (``expr``, ``step``, ``titleFormat``,
``textFormat``, ``tagKeys``, ``useValueForTime``, ``enable``, ``hide``, ``iconColor``) is a range
query over the dashboard's range at ``step`` (Grafana's default ``60s``); the page turns the
points where a series is non-zero into markers, merging consecutive points into a region, as
Grafana's Prometheus data source does. Annotations of other data sources are listed with a
message saying they are not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from spyglass.dashboards._interpolate import VariableValue, interpolate
from spyglass.dashboards._interval import interval_to_seconds, query_interval
from spyglass.dashboards._model import DashboardError

# Grafana's Prometheus annotation step when none is set, and its cap on points per query
# (the step grows until the range holds no more than this many).
DEFAULT_STEP = "60s"
MAX_POINTS = 11_000
MAX_ANNOTATIONS = 50


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _datasource_type(ds: Any) -> str:
    return _str(ds.get("type")) if isinstance(ds, dict) else ""


def annotation_queries(
    dashboard: Mapping[str, Any],
    scope: Mapping[str, VariableValue],
    range_ms: int,
    scrape_interval_s: float,
) -> list[dict[str, Any]]:
    """The dashboard's annotations (see the module docstring), each with its PromQL
    interpolated and its ``step`` in seconds, or an ``error`` saying why it is not drawn."""
    raw = dashboard.get("annotations")
    items = raw.get("list") if isinstance(raw, dict) else None
    out: list[dict[str, Any]] = []
    for a in items[:MAX_ANNOTATIONS] if isinstance(items, list) else []:
        if not isinstance(a, dict) or a.get("builtIn") in (1, True):
            continue
        name = _str(a.get("name")) or "Annotations"
        item: dict[str, Any] = {
            "name": interpolate(name, scope, "text"),
            "enable": a.get("enable") is not False,
            "hide": a.get("hide") is True,
            "iconColor": _str(a.get("iconColor")) or "rgba(0, 211, 255, 1)",
            "titleFormat": _str(a.get("titleFormat")),
            "textFormat": _str(a.get("textFormat")),
            "tagKeys": [k.strip() for k in _str(a.get("tagKeys")).split(",") if k.strip()],
            "useValueForTime": a.get("useValueForTime") is True,
            "expr": "",
            "step": 0,
            "error": "",
        }
        ds = _datasource_type(a.get("datasource"))
        target = a.get("target")
        nested = _str(target.get("expr")) if isinstance(target, dict) else ""
        expr = _str(a.get("expr")) or nested
        if ds and ds not in ("prometheus", "datasource") and not ds.startswith("$"):
            item["error"] = f"annotations from data source type {ds!r} are not supported"
        elif not expr.strip():
            item["error"] = "no query"
        else:
            try:
                step_s = interval_to_seconds(
                    interpolate(_str(a.get("step")) or DEFAULT_STEP, scope)
                )
                step_s = max(step_s, 1.0, math.ceil(range_ms / 1000 / MAX_POINTS))
                macros = query_interval(
                    range_ms,
                    max(int(range_ms / 1000 / step_s), 1),
                    scrape_interval_s=scrape_interval_s,
                ).macros
            except DashboardError as exc:
                item["error"] = str(exc)
            else:
                full = {**scope, **{k: VariableValue.single(v) for k, v in macros.items()}}
                item["expr"] = interpolate(expr, full)
                item["step"] = step_s
        out.append(item)
    return out


__all__ = ["DEFAULT_STEP", "MAX_ANNOTATIONS", "annotation_queries"]
