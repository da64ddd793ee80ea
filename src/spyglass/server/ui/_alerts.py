"""The Alerts page: alerting rules by state (firing, pending, inactive) with counts, each
opening to its active alerts with their labels, rendered annotations, value and the time they
became active, as Prometheus' alerts page shows them.

Rendered on the server from the running groups, like the Rules page; the filters are URL
parameters: ``state`` (repeatable, none means all) and ``search`` (rule name, group, or a label
name or value of the rule or of one of its alerts). Each alert links to the Silences page with
a new silence's matchers filled in from its labels, and has a "Why?" panel that asks the why API
about the rule's expression around the time the alert became active (``_why``).

Under the rules, **Other alerts** lists the alerts this server's Alertmanager API holds that no
rule of the page fired: those another Prometheus posts to ``/api/v2/alerts``, and those Spyglass
raises itself (error issues). One whose ``generatorURL`` names an expression (``g0.expr``, as
Prometheus writes it) gets a "Why?" panel too, as on the incident page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from spyglass.core.alerts import Alert as HeldAlert
from spyglass.rules import Alert, AlertingRule, RuleGroup
from spyglass.server.ui._format import ago, quoted, utc, value
from spyglass.server.ui._pages import Page
from spyglass.server.ui._rules import RuleGroups, RuleRow, rule_row
from spyglass.server.ui._why import WhyQuestion, alert_question, generator_expression

STATES: tuple[str, ...] = ("firing", "pending", "inactive")
SILENCES_PATH = "/alerts/silences"


@dataclass(frozen=True)
class AlertRow:
    """One pending or firing alert."""

    state: str
    labels: list[tuple[str, str]]
    annotations: list[tuple[str, str]]
    value: str
    active_since: str
    active_since_utc: str
    silence_url: str
    why: WhyQuestion | None = None
    source_url: str = ""


@dataclass(frozen=True)
class AlertRuleView:
    """An alerting rule, its state and its active alerts."""

    rule: RuleRow
    group: str
    file: str
    state: str
    alerts: list[AlertRow]

    @property
    def firing(self) -> int:
        """How many of its alerts fire."""
        return sum(a.state == "firing" for a in self.alerts)

    @property
    def pending(self) -> int:
        """How many of its alerts are pending."""
        return sum(a.state == "pending" for a in self.alerts)


def silence_url(labels: Sequence[tuple[str, str]]) -> str:
    """The Silences page with a new silence matching exactly ``labels``."""
    return SILENCES_PATH + "?" + urlencode([("matcher", f"{n}={quoted(v)}") for n, v in labels])


def alert_row(alert: Alert, now_s: float, expr: str = "") -> AlertRow:
    """``alert`` for the page; ``expr``, its rule's expression, gives it a "Why?" panel."""
    labels = list(alert.labels)
    name = dict(labels).get("alertname", "alert")
    return AlertRow(
        state=alert.state,
        labels=labels,
        annotations=list(alert.annotations),
        value=value(alert.value),
        active_since=ago(alert.active_at_ms, now_s),
        active_since_utc=utc(alert.active_at_ms),
        silence_url=silence_url(labels),
        why=alert_question(name, expr, alert.active_at_ms, int(now_s * 1000)) if expr else None,
    )


def held_row(alert: HeldAlert, now_s: float) -> AlertRow:
    """An alert held by the Alertmanager API (no rule of this server's): firing since its
    start, a "Why?" panel when its generator URL names an expression, the URL as its source
    when it is a web link."""
    labels = list(alert.labels)
    url = alert.generator_url
    expr = generator_expression(url)
    now_ms = int(now_s * 1000)
    return AlertRow(
        state="firing",
        labels=labels,
        annotations=list(alert.annotations),
        value="",
        active_since=ago(alert.starts_at_ms, now_s),
        active_since_utc=utc(alert.starts_at_ms),
        silence_url=silence_url(labels),
        why=alert_question(alert.name or "alert", expr, alert.starts_at_ms, now_ms)
        if expr
        else None,
        source_url=url if url.startswith(("http://", "https://")) else "",
    )


def held_alerts(
    alerts: Sequence[HeldAlert], views: Sequence[AlertRuleView], now_s: float, search: str = ""
) -> list[AlertRow]:
    """The ``alerts`` no rule of ``views`` fired (a rule's alert carries its name and its
    expression in its generator URL), that ``search`` matches, oldest first."""
    own = {(v.rule.name, v.rule.expr) for v in views}
    needle = search.casefold()
    rows = []
    for alert in sorted(alerts, key=lambda a: (a.starts_at_ms, a.labels)):
        if (alert.name, generator_expression(alert.generator_url)) in own:
            continue
        if needle and not any(needle in f"{n}={v}".casefold() for n, v in alert.labels):
            continue
        rows.append(held_row(alert, now_s))
    return rows


def _matches(text: str, view: AlertRuleView) -> bool:
    needle = text.casefold()
    haystack = [view.rule.name, view.group, *(f"{n}={v}" for n, v in view.rule.labels)]
    haystack += [f"{n}={v}" for a in view.alerts for n, v in a.labels]
    return any(needle in h.casefold() for h in haystack)


def alert_rules(groups: Sequence[RuleGroup], now_s: float) -> list[AlertRuleView]:
    """Every alerting rule of ``groups`` in load order, with its state and active alerts."""
    views = []
    for g in groups:
        for rule in g.rules:
            if not isinstance(rule, AlertingRule):
                continue
            views.append(
                AlertRuleView(
                    rule=rule_row(rule, now_s, g.language),
                    group=g.name,
                    file=g.file,
                    # Never evaluated yet: Prometheus' page shows such a rule as inactive.
                    state=rule.state() or "inactive",
                    # The why API explains PromQL; a LogQL rule's alerts get no panel.
                    alerts=[
                        alert_row(a, now_s, rule.expr if g.language == "promql" else "")
                        for a in rule.active_alerts()
                    ],
                )
            )
    return views


def filtered(
    views: Sequence[AlertRuleView], *, states: Sequence[str] = (), search: str = ""
) -> list[AlertRuleView]:
    """The rules in one of ``states`` (all when empty) that ``search`` matches."""
    return [
        v
        for v in views
        if (not states or v.state in states) and (not search or _matches(search, v))
    ]


def alerts_page(
    groups: RuleGroups,
    clock: Callable[[], float] = time.time,
    held: Callable[[], Sequence[HeldAlert]] = tuple,
) -> Page:
    """The Alerts page over ``groups`` (the rule manager's running groups) and ``held`` (the
    alerts the Alertmanager API holds now); ``clock`` says what time it is (for the times shown
    as "ago")."""

    async def context(request: Request) -> Mapping[str, Any]:
        search = request.query_params.get("search", "").strip()
        states = [s for s in request.query_params.getlist("state") if s in STATES]
        now = clock()
        views = alert_rules(list(groups()), now)
        counts = {s: sum(v.state == s for v in views) for s in STATES}
        others = held_alerts(held(), views, now, search)
        return {
            "others": others if not states or "firing" in states else [],
            "rules": filtered(views, states=states, search=search),
            "search": search,
            "states": states or list(STATES),
            "counts": counts,
            "total": len(views),
            "silences_path": SILENCES_PATH,
        }

    return Page(
        path="/alerts",
        title="Alerts",
        template="alerts.html",
        section="Alerts",
        script="alerts",
        context=context,
    )
