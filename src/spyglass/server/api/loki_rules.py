"""Loki's ruler read API over the running LogQL rule groups.

Loki serves its rules three ways, and tools call each: ``GET /loki/api/v1/rules`` (optionally
``/{namespace}`` and ``/{namespace}/{group}``) answers the rule groups as YAML keyed by
namespace, as they were written (Spyglass's namespace is the file path, its leading slash
optional in the URL); ``GET
/prometheus/api/v1/rules`` and ``/prometheus/api/v1/alerts`` answer Prometheus' JSON with each
rule's health and alerts, which is what Grafana's Loki data source reads for alerting. Only
LogQL groups are listed here: the Prometheus API at ``/api/v1/rules`` lists every group.
Errors are Loki's: plain text (``no rule groups found``, 404).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.times import format_duration
from spyglass.rules import AlertingRule, RuleGroup
from spyglass.server.api._params import read_params
from spyglass.server.api._promjson import success
from spyglass.server.api._rules_json import alerts_json, rules_json

NO_RULE_GROUPS = "no rule groups found"
YAML_CONTENT_TYPE = "application/yaml"


class LokiRulesAPI:
    """The routes of Loki's ruler read API; ``rule_groups`` gives the running groups."""

    def __init__(self, rule_groups: Callable[[], Sequence[RuleGroup]]) -> None:
        self.rule_groups = rule_groups

    def logql_groups(self) -> list[RuleGroup]:
        """The running groups whose expressions are LogQL."""
        return [g for g in self.rule_groups() if g.language == "logql"]

    def routes(self) -> list[BaseRoute]:
        """Starlette routes (GET only: Spyglass's rules come from files, not from this API)."""
        return [
            Route("/loki/api/v1/rules", self.list_rules, methods=["GET"]),
            Route("/loki/api/v1/rules/{namespace:path}", self.list_rules, methods=["GET"]),
            Route("/prometheus/api/v1/rules", self.prometheus_rules, methods=["GET"]),
            Route("/prometheus/api/v1/alerts", self.prometheus_alerts, methods=["GET"]),
        ]

    async def list_rules(self, request: Request) -> Response:
        """``/loki/api/v1/rules[/{namespace}[/{group}]]``: the rule groups as YAML."""
        wanted = request.path_params.get("namespace", "")
        out: dict[str, list[dict[str, Any]]] = {}
        for g in self.logql_groups():
            if wanted and not _selects(wanted, g):
                continue
            out.setdefault(g.file, []).append(group_yaml(g))
        if not out:
            return PlainTextResponse(NO_RULE_GROUPS + "\n", status_code=404)
        if wanted and not any(_same_file(wanted, f) for f in out):
            # Loki answers one group (not a namespace map) when the path names a group.
            return _yaml(next(iter(out.values()))[0])
        return _yaml(out)

    async def prometheus_rules(self, request: Request) -> Response:
        """``/prometheus/api/v1/rules``: Prometheus' rules JSON for the LogQL groups."""
        params = await read_params(request)
        form = {key: params.getlist(key) for key in params}
        return success(rules_json(self.logql_groups(), form))

    async def prometheus_alerts(self, request: Request) -> Response:
        """``/prometheus/api/v1/alerts``: the pending and firing alerts of LogQL rules."""
        del request
        return success(alerts_json(self.logql_groups()))


def group_yaml(group: RuleGroup) -> dict[str, Any]:
    """A group as it reads in a rule file (Loki's ruler answers what it was given)."""
    out: dict[str, Any] = {"name": group.name}
    if group.spec.interval_ms:
        out["interval"] = format_duration(group.spec.interval_ms)
    if group.limit:
        out["limit"] = group.limit
    rules: list[dict[str, Any]] = []
    for rule in group.rules:
        spec = rule.spec
        entry: dict[str, Any] = (
            {"alert": spec.name} if isinstance(rule, AlertingRule) else {"record": spec.name}
        )
        entry["expr"] = spec.expr
        if spec.for_ms:
            entry["for"] = format_duration(spec.for_ms)
        if spec.keep_firing_for_ms:
            entry["keep_firing_for"] = format_duration(spec.keep_firing_for_ms)
        if spec.labels:
            entry["labels"] = dict(spec.labels)
        if spec.annotations:
            entry["annotations"] = dict(spec.annotations)
        rules.append(entry)
    out["rules"] = rules
    return out


def _same_file(wanted: str, file: str) -> bool:
    # A namespace is a file path; in a URL path its leading slash is gone.
    return wanted.strip("/") == file.strip("/")


def _selects(wanted: str, group: RuleGroup) -> bool:
    """Whether ``wanted`` (a namespace, or namespace/group) names ``group`` or its file."""
    return _same_file(wanted, group.file) or _same_file(wanted, f"{group.file}/{group.name}")


def _yaml(data: object) -> Response:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return Response(text, media_type=YAML_CONTENT_TYPE)


__all__ = ["NO_RULE_GROUPS", "LokiRulesAPI", "group_yaml"]
