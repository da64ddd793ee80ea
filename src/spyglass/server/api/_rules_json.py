"""``/api/v1/rules`` and ``/api/v1/alerts`` in Prometheus' JSON shape, from running rule groups.

Times are Go's RFC 3339 with trailing-zero-trimmed fractions (``2024-01-02T03:04:05.12Z``;
never evaluated: Go's zero time ``0001-01-01T00:00:00Z``), durations seconds, alert values Go's
``%e`` shortest form (``1e+00``), as Prometheus' API writes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from spyglass.rules import Alert, AlertingRule, RuleGroup

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_time(ms: int | None) -> str:
    """A time as Go marshals ``time.Time`` to JSON (RFC 3339, nanosecond precision trimmed)."""
    if ms is None:
        return GO_ZERO_TIME
    moment = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{ms % 1000:03d}".rstrip("0")
    return f"{moment}.{fraction}Z" if fraction else f"{moment}Z"


def go_exp(v: float) -> str:
    """``strconv.FormatFloat(v, 'e', -1, 64)``: ``1e+00``, ``2.5e-01``, ``NaN``, ``+Inf``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return str(np.format_float_scientific(v, unique=True, trim="-", exp_digits=2))


def alert_json(a: Alert) -> dict[str, Any]:
    """One alert of ``/api/v1/alerts`` or of a rule in ``/api/v1/rules``."""
    out: dict[str, Any] = {
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "state": a.state,
        "activeAt": go_time(a.active_at_ms),
        "value": go_exp(a.value),
    }
    if a.keep_firing_since_ms is not None:
        out["keepFiringSince"] = go_time(a.keep_firing_since_ms)
    return out


def rules_json(groups: Iterable[RuleGroup], params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The ``data`` of ``/api/v1/rules``, filtered as Prometheus filters it: ``type``
    (``alert``/``record``), ``rule_name[]``, ``rule_group[]``, ``file[]``, ``exclude_alerts``."""
    kind = (params.get("type") or [""])[0]
    names = set(params.get("rule_name[]", ()))
    group_names = set(params.get("rule_group[]", ()))
    files = set(params.get("file[]", ()))
    exclude_alerts = (params.get("exclude_alerts") or ["false"])[0] == "true"
    out = []
    for g in groups:
        if (group_names and g.name not in group_names) or (files and g.file not in files):
            continue
        rules = []
        for rule in g.rules:
            alerting = isinstance(rule, AlertingRule)
            if (kind == "alert" and not alerting) or (kind == "record" and alerting):
                continue
            if names and rule.name not in names:
                continue
            entry: dict[str, Any] = {"name": rule.name, "query": rule.spec.expr}
            if isinstance(rule, AlertingRule):
                state = rule.state() or "inactive"
                entry = {
                    "state": state,
                    **entry,
                    "duration": rule.hold_ms / 1000,
                    "keepFiringFor": rule.keep_firing_for_ms / 1000,
                    "labels": dict(rule.labels),
                    "annotations": dict(rule.annotations),
                }
                if not exclude_alerts:
                    entry["alerts"] = [alert_json(a) for a in rule.active_alerts()]
            else:
                entry["labels"] = dict(rule.labels)
            entry["health"] = rule.health
            if rule.last_error:
                entry["lastError"] = rule.last_error
            entry["evaluationTime"] = rule.evaluation_seconds
            entry["lastEvaluation"] = go_time(rule.last_evaluation_ms)
            entry["type"] = "alerting" if alerting else "recording"
            rules.append(entry)
        if not rules:
            continue  # Prometheus leaves out groups without rules (the filters emptied them)
        out.append(
            {
                "name": g.name,
                "file": g.file,
                "rules": rules,
                "interval": g.interval_ms / 1000,
                "limit": g.limit,
                "evaluationTime": g.evaluation_seconds,
                "lastEvaluation": go_time(g.last_evaluation_ms),
            }
        )
    return {"groups": out}


def alerts_json(groups: Iterable[RuleGroup]) -> dict[str, Any]:
    """The ``data`` of ``/api/v1/alerts``: every pending and firing alert."""
    return {
        "alerts": [
            alert_json(a)
            for g in groups
            for rule in g.alerting_rules()
            for a in rule.active_alerts()
        ]
    }


__all__ = ["GO_ZERO_TIME", "alert_json", "alerts_json", "go_exp", "go_time", "rules_json"]
