"""The Rules page: every rule group with its file, interval and last evaluation, and every rule
with its definition, health, last error and evaluation time, as Prometheus' rules page shows
them.

Rendered on the server from the running groups (``RuleManager.groups``), the objects
``/api/v1/rules`` serialises, so the page needs no script to show its data and its filters are
plain URL parameters: ``search`` (rule name, group, file or label) and ``health`` (``ok``,
``err``, ``unknown``; repeatable, none means all).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from spyglass.rules import AlertingRule, QueryLanguage, Rule, RuleGroup
from spyglass.server.ui._format import ago, duration, explore_url, took, utc
from spyglass.server.ui._pages import Page

RuleGroups = Callable[[], Sequence[RuleGroup]]
HEALTHS: tuple[str, ...] = ("ok", "err", "unknown")


@dataclass(frozen=True)
class RuleRow:
    """One rule as the page shows it."""

    kind: str  # "alerting" or "recording"
    name: str
    expr: str
    explore: str
    options: list[tuple[str, str]]  # for / keep_firing_for, when set
    labels: list[tuple[str, str]]
    annotations: list[tuple[str, str]]
    health: str
    error: str
    last_evaluation: str
    last_evaluation_utc: str
    took: str


@dataclass(frozen=True)
class GroupView:
    """A rule group and the rules of it the filters keep."""

    name: str
    file: str
    interval: str
    last_evaluation: str
    last_evaluation_utc: str
    took: str
    rules: list[RuleRow]
    total: int
    errors: int = field(default=0)


def rule_row(rule: Rule, now_s: float, language: QueryLanguage = "promql") -> RuleRow:
    """``rule``'s definition and health for the page; a LogQL rule's expression links nowhere
    (Explore runs PromQL)."""
    options: list[tuple[str, str]] = []
    annotations: list[tuple[str, str]] = []
    if isinstance(rule, AlertingRule):
        if rule.hold_ms:
            options.append(("for", duration(rule.hold_ms)))
        if rule.keep_firing_for_ms:
            options.append(("keep_firing_for", duration(rule.keep_firing_for_ms)))
        annotations = sorted(rule.annotations.items())
    expr = rule.spec.expr.strip()  # a YAML block scalar (`expr: |`) ends in a newline
    return RuleRow(
        kind=rule.kind,
        name=rule.name,
        expr=expr,
        explore=explore_url(expr) if language == "promql" else "",
        options=options,
        labels=sorted(rule.labels.items()),
        annotations=annotations,
        health=rule.health,
        error=rule.last_error,
        last_evaluation=ago(rule.last_evaluation_ms, now_s),
        last_evaluation_utc=utc(rule.last_evaluation_ms),
        took=took(rule.evaluation_seconds) if rule.last_evaluation_ms else "",
    )


def _matches(text: str, group: RuleGroup, row: RuleRow) -> bool:
    needle = text.casefold()
    haystack = [row.name, group.name, group.file, *(f"{n}={v}" for n, v in row.labels)]
    return any(needle in h.casefold() for h in haystack)


def group_views(
    groups: Sequence[RuleGroup], now_s: float, *, search: str = "", health: Sequence[str] = ()
) -> list[GroupView]:
    """The groups in load order, each with the rules ``search`` and ``health`` keep; groups
    left without rules are left out."""
    views = []
    for g in groups:
        rows = [rule_row(r, now_s, g.language) for r in g.rules]
        kept = [
            row
            for row in rows
            if (not health or row.health in health) and (not search or _matches(search, g, row))
        ]
        if not kept:
            continue
        views.append(
            GroupView(
                name=g.name,
                file=g.file,
                interval=duration(g.interval_ms),
                last_evaluation=ago(g.last_evaluation_ms, now_s),
                last_evaluation_utc=utc(g.last_evaluation_ms),
                took=took(g.evaluation_seconds) if g.last_evaluation_ms else "",
                rules=kept,
                total=len(rows),
                errors=sum(row.health == "err" for row in rows),
            )
        )
    return views


def health_counts(groups: Sequence[RuleGroup]) -> dict[str, int]:
    """How many rules of all ``groups`` have each health."""
    counts = dict.fromkeys(HEALTHS, 0)
    for g in groups:
        for r in g.rules:
            counts[r.health] = counts.get(r.health, 0) + 1
    return counts


def rules_page(groups: RuleGroups, clock: Callable[[], float] = time.time) -> Page:
    """The Rules page over ``groups`` (the rule manager's running groups);
    ``clock`` says what time it is (for the times shown as "ago")."""

    async def context(request: Request) -> Mapping[str, Any]:
        search = request.query_params.get("search", "").strip()
        health = [h for h in request.query_params.getlist("health") if h in HEALTHS]
        running = list(groups())
        views = group_views(running, clock(), search=search, health=health)
        return {
            "groups": views,
            "search": search,
            "health": health or list(HEALTHS),
            "counts": health_counts(running),
            "total_groups": len(running),
            "shown": sum(len(v.rules) for v in views),
        }

    return Page(
        path="/rules",
        title="Rules",
        template="rules.html",
        section="Rules",
        script="rules",
        context=context,
    )
