"""Import inputs: what grafana.com downloads and Grafana's "Export for sharing externally" ask
for before a dashboard can be saved.

Such a dashboard lists its ``__inputs`` (``{"name": "DS_PROMETHEUS", "type": "datasource",
"pluginId": "prometheus"}``, or ``"type": "constant"`` with a ``value``) and writes
``${DS_PROMETHEUS}`` wherever the chosen data source goes. Grafana's import
(``POST /api/dashboards/import``) takes ``inputs`` with a ``value`` for each and puts the values
in every string of the dashboard, as its ``DashTemplateEvaluator`` does; ``__inputs``,
``__requires`` and ``__elements`` are dropped. Spyglass has one Prometheus data source, so a
data source input nobody answered takes it, and a constant nobody answered keeps the value
the export wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from spyglass.dashboards._model import DashboardError

# The data source every Prometheus reference resolves to: Spyglass's own.
DATASOURCE_UID = "prometheus"
DATASOURCE_NAME = "Prometheus"
_REFERENCE = re.compile(r"\$\{(.+?)\}")
_EXPORT_ONLY = ("__inputs", "__requires", "__elements")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def input_values(dashboard: Mapping[str, Any], given: Sequence[Any]) -> dict[str, str]:
    """The value of each of the dashboard's ``__inputs``: the one ``given`` (Grafana's import
    ``inputs``), else Spyglass's data source or the constant's exported value.

    ``DashboardError`` when ``given`` is not a list of objects.
    """
    answers: dict[str, str] = {}
    for i, item in enumerate(given):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise DashboardError(f"inputs[{i}] must be an object with a name")
        answers[item["name"]] = _str(item.get("value"))
    declared = dashboard.get("__inputs")
    values: dict[str, str] = {}
    for item in declared if isinstance(declared, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        answer = answers.get(name, "")
        if answer:
            values[name] = answer
        elif item.get("type") == "datasource":
            values[name] = DATASOURCE_UID
        else:
            values[name] = _str(item.get("value"))
    # Inputs given for names the dashboard does not declare still apply (Grafana's API users
    # send them for hand-written dashboards that use ${DS_...} without __inputs).
    for name, answer in answers.items():
        values.setdefault(name, answer)
    return values


def apply_inputs(dashboard: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """A copy of ``dashboard`` with ``${name}`` replaced in every string for each input, the
    export-only fields dropped."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return _REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    out = {k: v for k, v in dashboard.items() if k not in _EXPORT_ONLY}
    try:
        return {k: walk(v) for k, v in out.items()}
    except RecursionError:
        raise DashboardError("dashboard nested too deeply") from None


__all__ = ["DATASOURCE_NAME", "DATASOURCE_UID", "apply_inputs", "input_values"]
