"""Grafana's old panels described in the options of the panels that replaced them.

Grafana migrates an old ``graph`` panel to ``timeseries`` and a ``singlestat`` to ``stat``
when it opens them (its ``graphPanelChangedHandler`` and ``sharedSingleStatMigrationHandler``);
the page draws only the new ones, so the view translates the old options the same way:

* graph: ``legend`` (``show``, ``alignAsTable``, ``rightSide``, ``values`` with ``avg``/``min``/
  ``max``/``current``/``total``, ``sort``/``sortDesc``) → ``options.legend``; ``stack`` and
  ``percentage`` → ``custom.stacking``; ``bars``/``points``/``lines`` → ``custom.drawStyle``;
  ``linewidth``/``fill`` → ``custom.lineWidth``/``fillOpacity``; the left y axis' ``format``,
  ``min``, ``max``, ``show`` → unit, min, max, ``axisPlacement``; ``seriesOverrides`` (an alias
  or ``/regex/``, with ``transform: negative-Y``, ``color``, ``fill``, ``linewidth``, ``lines``/
  ``bars``/``points``, ``stack``) and ``aliasColors`` → ``fieldConfig.overrides``.
* singlestat: ``valueName`` → the reducer, ``format``/``decimals`` → unit, ``valueMaps`` and
  ``rangeMaps`` → value mappings, ``thresholds`` ("80,90")
  and ``colors`` → threshold steps, ``colorValue``/``colorBackground`` → ``colorMode``,
  ``sparkline.show`` → ``graphMode``, ``gauge.show`` with ``minValue``/``maxValue`` → a gauge.

Options the new panel sets already win over the translated ones.
"""

from __future__ import annotations

import math
from typing import Any

# Graph legend values and singlestat value names → Grafana's reducer ids.
_LEGEND_CALCS = (
    ("min", "min"),
    ("max", "max"),
    ("avg", "mean"),
    ("current", "lastNotNull"),
    ("total", "sum"),
)
_STAT_CALCS = {
    "avg": "mean",
    "current": "lastNotNull",
    "max": "max",
    "min": "min",
    "total": "sum",
    "first": "firstNotNull",
    "delta": "delta",
    "diff": "diff",
    "range": "range",
    "name": "lastNotNull",
}


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            n = float(value)
        except ValueError:
            return None
        return n if math.isfinite(n) else None
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _merge(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``own`` on top, nested objects merged."""
    out = dict(base)
    for k, v in own.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _matcher(alias: str) -> dict[str, Any]:
    # Grafana's graph takes an alias written /like this/ as a regular expression.
    if len(alias) >= 2 and alias.startswith("/") and alias.rfind("/") > 0:
        return {"id": "byRegexp", "options": alias[1 : alias.rfind("/")]}
    return {"id": "byName", "options": alias}


def _override_properties(o: dict[str, Any]) -> list[dict[str, Any]]:
    props: list[dict[str, Any]] = []
    if o.get("transform") == "negative-Y":
        props.append({"id": "custom.transform", "value": "negative-Y"})
    if isinstance(o.get("color"), str):
        props.append({"id": "color", "value": {"mode": "fixed", "fixedColor": o["color"]}})
    fill = _num(o.get("fill"))
    if fill is not None:
        props.append({"id": "custom.fillOpacity", "value": fill * 10})
    width = _num(o.get("linewidth"))
    if width is not None:
        props.append({"id": "custom.lineWidth", "value": width})
    if o.get("bars") is True:
        props.append({"id": "custom.drawStyle", "value": "bars"})
    elif o.get("points") is True and o.get("lines") is False:
        props.append({"id": "custom.drawStyle", "value": "points"})
    elif o.get("lines") is True:
        props.append({"id": "custom.drawStyle", "value": "line"})
    if o.get("stack") is False:
        props.append({"id": "custom.stacking", "value": {"mode": "none"}})
    if o.get("legend") is False:
        props.append({"id": "custom.hideFrom", "value": {"legend": True}})
    return props


def graph_options(panel: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An old graph panel's ``(options, fieldConfig)`` as a ``timeseries`` panel's."""
    legend = _dict(panel.get("legend"))
    calcs = [calc for key, calc in _LEGEND_CALCS if legend.get(key) is True]
    if legend.get("values") is False:
        calcs = []
    legend_opts: dict[str, Any] = {
        "showLegend": legend.get("show") is not False,
        "displayMode": "table" if legend.get("alignAsTable") is True else "list",
        "placement": "right" if legend.get("rightSide") is True else "bottom",
        "calcs": calcs,
    }
    sort = legend.get("sort")
    if isinstance(sort, str) and sort:
        legend_opts["sortBy"] = dict(_LEGEND_CALCS).get(sort, sort)
        legend_opts["sortDesc"] = legend.get("sortDesc") is True
    custom: dict[str, Any] = {}
    if panel.get("stack") is True:
        custom["stacking"] = {"mode": "percent" if panel.get("percentage") is True else "normal"}
    if panel.get("bars") is True:
        custom["drawStyle"] = "bars"
    elif panel.get("points") is True and panel.get("lines") is False:
        custom["drawStyle"] = "points"
    width = _num(panel.get("linewidth"))
    if width is not None:
        custom["lineWidth"] = width
    fill = _num(panel.get("fill"))
    if fill is not None:
        custom["fillOpacity"] = fill * 10
    defaults: dict[str, Any] = {}
    yaxes = panel.get("yaxes")
    left = _dict(yaxes[0]) if isinstance(yaxes, list) and yaxes else {}
    if isinstance(left.get("format"), str):
        defaults["unit"] = left["format"]
    for key in ("min", "max"):
        n = _num(left.get(key))
        if n is not None:
            defaults[key] = n
    if isinstance(left.get("decimals"), int):
        defaults["decimals"] = left["decimals"]
    if left.get("show") is False:
        custom["axisPlacement"] = "hidden"
    defaults["custom"] = custom
    overrides: list[dict[str, Any]] = []
    raw = panel.get("seriesOverrides")
    for o in raw if isinstance(raw, list) else []:
        if not isinstance(o, dict) or not isinstance(o.get("alias"), str):
            continue
        props = _override_properties(o)
        if props:
            overrides.append({"matcher": _matcher(o["alias"]), "properties": props})
    for name, color in _dict(panel.get("aliasColors")).items():
        if isinstance(color, str):
            overrides.append(
                {
                    "matcher": {"id": "byName", "options": name},
                    "properties": [
                        {"id": "color", "value": {"mode": "fixed", "fixedColor": color}}
                    ],
                }
            )
    own_fc = _dict(panel.get("fieldConfig"))
    field_config = _merge({"defaults": defaults}, own_fc)
    field_config["overrides"] = [
        *overrides,
        *[o for o in own_fc.get("overrides", []) if isinstance(o, dict)],
    ]
    options = _merge({"legend": legend_opts}, _dict(panel.get("options")))
    return options, field_config


def singlestat_options(panel: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An old singlestat's ``(type, options, fieldConfig)``: a ``stat`` or, with its gauge
    shown, a ``gauge``."""
    value_name = panel.get("valueName")
    calc = _STAT_CALCS.get(value_name, "mean") if isinstance(value_name, str) else "mean"
    defaults: dict[str, Any] = {}
    if isinstance(panel.get("format"), str) and panel["format"] != "none":
        defaults["unit"] = panel["format"]
    if isinstance(panel.get("decimals"), int):
        defaults["decimals"] = panel["decimals"]
    colors = (
        [c for c in panel.get("colors", []) if isinstance(c, str)]
        if isinstance(panel.get("colors"), list)
        else []
    )
    raw_thresholds = panel.get("thresholds")
    values = [_num(t) for t in raw_thresholds.split(",")] if isinstance(raw_thresholds, str) else []
    if colors:
        steps: list[dict[str, Any]] = [{"value": None, "color": colors[0]}]
        for i, v in enumerate(values):
            if v is not None and i + 1 < len(colors):
                steps.append({"value": v, "color": colors[i + 1]})
        defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    gauge = _dict(panel.get("gauge"))
    kind = "gauge" if gauge.get("show") is True else "stat"
    if kind == "gauge":
        for key, src in (("min", "minValue"), ("max", "maxValue")):
            n = _num(gauge.get(src))
            if n is not None:
                defaults[key] = n
    color_mode = "none"
    if panel.get("colorBackground") is True:
        color_mode = "background"
    elif panel.get("colorValue") is True:
        color_mode = "value"
    mappings = _singlestat_mappings(panel)
    if mappings:
        defaults["mappings"] = mappings
    sparkline = _dict(panel.get("sparkline"))
    options: dict[str, Any] = {
        "reduceOptions": {"calcs": [calc], "fields": "", "values": False},
        "colorMode": color_mode,
        "graphMode": "area" if sparkline.get("show") is True else "none",
        "textMode": "auto",
    }
    own_fc = _dict(panel.get("fieldConfig"))
    field_config = _merge({"defaults": defaults}, own_fc)
    field_config.setdefault("overrides", [])
    return kind, _merge(options, _dict(panel.get("options"))), field_config


def _singlestat_mappings(panel: dict[str, Any]) -> list[dict[str, Any]]:
    """A singlestat's ``valueMaps`` and ``rangeMaps`` as the value mappings Grafana migrates
    them to (a ``null`` value becomes a special mapping)."""
    out: list[dict[str, Any]] = []
    values = panel.get("valueMaps")
    for m in values if isinstance(values, list) else []:
        if not isinstance(m, dict) or not isinstance(m.get("text"), str):
            continue
        value = m.get("value")
        if value == "null":
            out.append(
                {"type": "special", "options": {"match": "null", "result": {"text": m["text"]}}}
            )
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out.append({"type": "value", "options": {str(value): {"text": m["text"]}}})
    ranges = panel.get("rangeMaps")
    for m in ranges if isinstance(ranges, list) else []:
        if not isinstance(m, dict) or not isinstance(m.get("text"), str):
            continue
        lo, hi = _num(m.get("from")), _num(m.get("to"))
        if lo is not None or hi is not None:
            out.append(
                {"type": "range", "options": {"from": lo, "to": hi, "result": {"text": m["text"]}}}
            )
    return out


__all__ = ["graph_options", "singlestat_options"]
