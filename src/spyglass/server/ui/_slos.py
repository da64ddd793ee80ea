"""The SLO pages: every SLO at a glance (``/slos``) and one SLO's burn-down (``/slos/<id>``).

Rendered on the server from what ``/api/spyglass/v1/slos`` answers (the SLO service's
``status``): objective, SLI, budget left as a bar and as time, and the burn rate of every window
against the multi-window alert thresholds (14.4 and 6 page, 3 and 1 open a ticket, as the
generated rules do). Beside each SLO, its burn-rate alerts that are pending or firing now (the
ones ``/api/v1/alerts`` lists with its ``sloth_id``). The burn-down chart is drawn by
``frontend/src/slo.js`` with uPlot from the points the page carries in a data attribute (the
same ``burndown`` as the API's), so it needs no second computation.

SLOs kept in the state store (written through ``/api/spyglass/v1/slo-specs``) are edited in the
page too: ``/slos/new`` and ``/slos/<id>/edit`` hold the editor (``frontend/src/sloedit.js``: a
form for one SLO and the spec's YAML, kept in step through ``/api/spyglass/v1/slo-preview``,
which also shows the rules a spec generates), and the SLO's page deletes its spec. SLOs of
``--slo-files`` are read-only here and say which file to change.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from spyglass.promql import Engine
from spyglass.rules import AlertingRule
from spyglass.server.ui._format import ago, utc
from spyglass.server.ui._pages import Page
from spyglass.server.ui._rules import RuleGroups
from spyglass.slo import PAGE, SLI_WINDOWS, TICKET, SLOService, SLOStatus, period_text, status

# The burn rates the generated alerts fire at, highest first (page, then ticket).
THRESHOLDS: tuple[float, ...] = tuple(sorted({f for f, _, _ in (*PAGE, *TICKET)}, reverse=True))
# The burn-rate bars' scale: a little past the highest threshold, further when a rate is higher.
BAR_SCALE = 16.0
API_SOURCE = "api:"  # the file of an SLO kept in the state store: ``api:<spec name>``


@dataclass(frozen=True)
class BurnBar:
    """One window's burn rate, laid out on a bar (SVG units 0..100)."""

    window: str
    rate: float | None
    width: float
    level: str  # "page", "ticket", "ok" or "none"


@dataclass(frozen=True)
class SLOAlert:
    """A pending or firing burn-rate alert of an SLO."""

    name: str
    state: str
    severity: str
    since: str


def budget_text(seconds: float | None) -> str:
    """Budget left as outage time: ``3d 4h``, ``12m 5s``, ``-1h 2m`` once overspent."""
    if seconds is None:
        return "no data"
    sign = "-" if seconds < 0 else ""
    s = abs(int(seconds))
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    return f"{sign}{minutes}m {s % 60}s"


def percent(value: float | None, digits: int = 2) -> str:
    """``value`` (a ratio) in percent, or ``-`` for none."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value * 100:.{digits}f}%"


def _level(rate: float | None) -> str:
    if rate is None:
        return "none"
    if rate >= PAGE[-1][0]:
        return "page"
    if rate >= TICKET[-1][0]:
        return "ticket"
    return "ok"


def burn_bars(rates: Mapping[str, float | None]) -> tuple[list[BurnBar], float]:
    """The windows' burn rates as bars, and the scale (burn rate at the bar's full width)."""
    known = [r for r in rates.values() if r is not None and math.isfinite(r)]
    scale = max([BAR_SCALE, *(r * 1.05 for r in known)])
    bars = []
    for w in SLI_WINDOWS:
        r = rates.get(w)
        finite = r is not None and math.isfinite(r)
        width = min(max(r or 0.0, 0.0) / scale * 100, 100.0) if finite else 0.0
        bars.append(
            BurnBar(w, r if finite else None, round(width, 2), _level(r if finite else None))
        )
    return bars, scale


def _alerts(groups: RuleGroups, now_s: float) -> dict[str, list[SLOAlert]]:
    out: dict[str, list[SLOAlert]] = {}
    for group in groups():
        for rule in group.rules:
            if not isinstance(rule, AlertingRule):
                continue
            for alert in rule.active_alerts():
                labels = dict(alert.labels)
                if "sloth_id" not in labels:
                    continue
                out.setdefault(labels["sloth_id"], []).append(
                    SLOAlert(
                        name=labels.get("alertname", rule.name),
                        state=alert.state,
                        severity=labels.get("severity", ""),
                        since=ago(alert.active_at_ms, now_s),
                    )
                )
    return out


def spec_name(file: str) -> str:
    """The stored spec's name of an SLO that came from the API (``api:<name>``), else ``""``."""
    return file[len(API_SOURCE) :] if file.startswith(API_SOURCE) else ""


def _view(s: SLOStatus, alerts: list[SLOAlert]) -> dict[str, Any]:
    slo = s.slo
    bars, scale = burn_bars(s.burn_rates)
    remaining = s.budget_remaining
    return {
        "id": slo.id,
        "service": slo.service,
        "name": slo.name,
        "description": slo.description,
        "objective": f"{slo.objective:g}%",
        "period": period_text(slo) + (f" (calendar {slo.calendar})" if slo.calendar else ""),
        "sli": percent(s.sli, 4),
        "availability": percent(None if s.sli is None else 1 - s.sli, 4),
        "sli_expr": slo.sli_at("5m"),
        "remaining": percent(remaining, 1),
        "remaining_width": 0.0
        if remaining is None
        else round(min(max(remaining, 0.0), 1.0) * 100, 2),
        "remaining_level": "none"
        if remaining is None
        else ("spent" if remaining <= 0 else ("low" if remaining < 0.25 else "ok")),
        "remaining_time": budget_text(s.budget_remaining_s),
        "bars": bars,
        "thresholds": [(t, round(t / scale * 100, 2)) for t in THRESHOLDS],
        "alerts": alerts,
        "file": slo.file,
        "spec_name": spec_name(slo.file),
    }


def explore_link(expr: str, start_ms: int, end_ms: int) -> str:
    """Explore graphing ``expr`` from ``start_ms`` to ``end_ms`` (a little wider, for context)."""
    pad = max((end_ms - start_ms) // 4, 300_000)
    return "/explore?" + urlencode({"q0": expr, "from": start_ms - pad, "to": end_ms + pad})


def slo_pages(
    service: SLOService,
    engine: Engine,
    groups: RuleGroups,
    clock: Callable[[], float] = time.time,
) -> list[Page]:
    """``/slos`` and ``/slos/<id>`` over ``service``'s SLOs, measured with ``engine``."""

    async def list_context(request: Request) -> Mapping[str, Any]:
        del request
        now = clock()
        slos = list(service.slos.values())
        found = await asyncio.to_thread(lambda: [status(s, engine, int(now * 1000)) for s in slos])
        alerts = _alerts(groups, now)
        return {
            "slos": [_view(s, alerts.get(s.slo.id, [])) for s in found],
            "files": service.files(),
            "editable": service.state is not None,
        }

    async def new_context(request: Request) -> Mapping[str, Any]:
        del request
        return {"mode": "new", "spec_name": "", "text": "", "slo_id": ""}

    async def edit_context(request: Request) -> Mapping[str, Any]:
        ident = request.path_params["slo_id"]
        slo = service.slos.get(ident)
        if slo is None:
            return {"mode": "missing", "slo_id": ident, "status_code": 404}
        name = spec_name(slo.file)
        if not name:
            return {"mode": "file", "slo_id": ident, "file": slo.file}
        text = (await asyncio.to_thread(service.stored)).get(name)
        if text is None:  # deleted since the rules were last loaded
            return {"mode": "missing", "slo_id": ident, "status_code": 404}
        return {"mode": "edit", "spec_name": name, "text": text, "slo_id": ident}

    async def slo_context(request: Request) -> Mapping[str, Any]:
        ident = request.path_params["slo_id"]
        slo = service.slos.get(ident)
        if slo is None:
            return {"slo": None, "slo_id": ident, "status_code": 404}
        now = clock()
        found = await asyncio.to_thread(status, slo, engine, int(now * 1000), detail=True)
        view = _view(found, _alerts(groups, now).get(ident, []))
        expr = slo.sli_at("5m")
        episodes = [
            {
                "start": utc(e.start_ms),
                "end": utc(e.end_ms),
                "minutes": (e.end_ms - e.start_ms) // 60_000,
                "peak": f"{e.peak_burn_rate:.1f}x",
                "spent": percent(e.budget_spent, 2),
                "explore": explore_link(expr, e.start_ms, e.end_ms),
            }
            for e in reversed(found.episodes)
        ]
        return {
            "slo": view,
            "slo_id": ident,
            "period_start": utc(found.period_start_ms),
            "burndown": [[t / 1000, v] for t, v in found.burndown],
            "episodes": episodes,
        }

    return [
        Page(
            path="/slos", title="SLOs", template="slos.html", section="SLOs", context=list_context
        ),
        # Before /slos/{slo_id}: an SLO's id is <service>-<name>, never "new".
        Page(
            path="/slos/new",
            title="New SLO",
            template="slo_edit.html",
            section="SLOs",
            script="sloedit",
            context=new_context,
        ),
        Page(
            path="/slos/{slo_id}/edit",
            title="Edit SLO",
            template="slo_edit.html",
            section="SLOs",
            script="sloedit",
            context=edit_context,
        ),
        Page(
            path="/slos/{slo_id}",
            title="SLO",
            template="slo.html",
            section="SLOs",
            script="slo",
            context=slo_context,
        ),
    ]
