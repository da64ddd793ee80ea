"""The Incidents pages: open and resolved incidents (``/incidents``) and one incident
(``/incidents/<id>``).

Rendered on the server from the incident service, as ``/api/spyglass/v1/incidents`` answers
it; every change (opening one, severity, status, commander, notes, the postmortem) goes through
that API from ``frontend/src/incidents.js``, which reloads the page to show the result, so the
timeline the server renders is always the stored one. The postmortem is fetched as Markdown from
``/api/spyglass/v1/incidents/<id>/postmortem`` and rendered by ``frontend/src/markdown.js``,
which builds DOM nodes and never HTML, so nothing in it can run. "Why?" panels ask the why API
about the expressions of the incident's alerts over its window (``_why``). The list takes
``status`` (``all`` by default, ``open`` or ``resolved``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request

from spyglass.incidents import (
    LEVELS,
    STATUSES,
    IncidentService,
    NotFound,
    duration_text,
    links,
    window,
)
from spyglass.server.ui._format import ago, utc
from spyglass.server.ui._pages import Page
from spyglass.server.ui._why import incident_questions

LIST_STATUSES = ("all", "open", "resolved")


def _row(incident: Mapping[str, Any], now_s: float) -> dict[str, Any]:
    now_ms = int(now_s * 1000)
    end = incident.get("resolved_ms") or now_ms
    return {
        **incident,
        "opened": utc(incident["opened_ms"]),
        "opened_ago": ago(incident["opened_ms"], now_s),
        "duration": duration_text(end - incident["opened_ms"]),
        "resolved": incident["status"] == "resolved",
    }


def _web_link(url: str) -> bool:
    return url.startswith(("http://", "https://", "/")) and not url.startswith("//")


def incident_pages(service: IncidentService, clock: Callable[[], float] = time.time) -> list[Page]:
    """``/incidents`` and ``/incidents/<id>`` over ``service``."""

    async def list_context(request: Request) -> Mapping[str, Any]:
        status = request.query_params.get("status", "all")
        status = status if status in LIST_STATUSES else "all"
        found = await asyncio.to_thread(service.search, status)
        now = clock()
        rows = [_row(i, now) for i in found]
        return {
            "open": [r for r in rows if not r["resolved"]],
            "closed": [r for r in rows if r["resolved"]],
            "status": status,
            "statuses": LIST_STATUSES,
            "severities": service.config.severities,
        }

    async def incident_context(request: Request) -> Mapping[str, Any]:
        ident = request.path_params["incident_id"]
        try:
            incident = await asyncio.to_thread(service.get, ident)
        except NotFound:
            return {"incident": None, "incident_id": ident, "status_code": 404}
        now = clock()
        view = _row(incident, now)
        found = links(incident, int(now * 1000), "")
        # Generator URLs come from whoever sent the alert: only web links become links.
        found["graphs"] = [g for g in found["graphs"] if _web_link(g)]
        view["links"] = found
        timeline = [
            {**e, "at": utc(e["time_ms"]), "ago": ago(e["time_ms"], now)}
            for e in incident["timeline"]
        ]
        start, end = window(incident, int(now * 1000))
        return {
            "incident": view,
            "incident_id": ident,
            "why": incident_questions(incident, start, end),
            "timeline": timeline,
            "levels": LEVELS,
            "statuses": STATUSES,
            "severities": service.config.severities,
        }

    return [
        Page(
            path="/incidents",
            title="Incidents",
            template="incidents.html",
            section="Incidents",
            script="incidents",
            context=list_context,
        ),
        Page(
            path="/incidents/{incident_id}",
            title="Incident",
            template="incident.html",
            section="Incidents",
            script="incidents",
            context=incident_context,
        ),
    ]
