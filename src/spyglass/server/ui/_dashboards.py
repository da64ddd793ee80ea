"""The dashboard pages: the list at ``/dashboards`` and one dashboard at ``/d/<uid>`` (and
``/d/<uid>/<slug>``, Grafana's URL).

The list is rendered on the server from the dashboards API's search (``?query=`` and ``?tag=``
filter it as Grafana's search does); its script imports pasted or uploaded JSON through
``POST /api/dashboards/db`` and deletes through ``DELETE /api/dashboards/uid/<uid>``. A
dashboard page holds only its frame (title, time picker, refresh); ``frontend/src/dashboard.js``
reads the URL (``from``, ``to``, ``var-<name>``, ``refresh``), asks
``/api/dashboards/uid/<uid>/view`` for the dashboard ready to draw and draws each panel with its
queries against the Prometheus API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from spyglass.dashboards import DEFAULT_FROM, DEFAULT_TO, DashboardService
from spyglass.server.ui._pages import Page

# Grafana's refresh choices (the picker offers them; a dashboard's own `refresh` is added).
REFRESH_CHOICES = ("", "5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h")


def dashboard_pages(service: DashboardService) -> list[Page]:
    """The list page and the dashboard page over ``service``."""

    async def list_context(request: Request) -> Mapping[str, Any]:
        params = request.query_params
        query = params.get("query", "")
        tags = tuple(t for t in params.getlist("tag") if t)
        hits = await run_in_threadpool(service.search, query, tags)
        every = await run_in_threadpool(service.search)
        all_tags = sorted({t for h in every for t in h["tags"]})
        return {"hits": hits, "query": query, "tags": tags, "all_tags": all_tags}

    async def dashboard_context(request: Request) -> Mapping[str, Any]:
        uid = request.path_params.get("uid", "")
        found = await run_in_threadpool(service.get, uid)
        params = request.query_params
        saved = found.dashboard.get("time") if found else None
        saved_time = saved if isinstance(saved, dict) else {}
        refresh = params.get("refresh")
        if refresh is None and found is not None:
            own = found.dashboard.get("refresh")
            refresh = own if isinstance(own, str) else ""
        choices = list(REFRESH_CHOICES)
        if refresh and refresh not in choices:
            choices.append(refresh)
        return {
            "uid": uid,
            "found": found is not None,
            "dashboard_title": str(found.dashboard.get("title", "")) if found else "",
            "provisioned": bool(found.meta.get("provisioned")) if found else False,
            "range_from": params.get("from") or str(saved_time.get("from") or DEFAULT_FROM),
            "range_to": params.get("to") or str(saved_time.get("to") or DEFAULT_TO),
            "refresh": refresh or "",
            "refresh_choices": choices,
            # Grafana answers an unknown uid with its "Dashboard not found" page and a 404.
            "status_code": 200 if found is not None else 404,
        }

    return [
        Page(
            path="/dashboards",
            title="Dashboards",
            template="dashboards.html",
            section="Dashboards",
            script="dashboards",
            context=list_context,
        ),
        Page(
            path="/d/{uid}",
            aliases=("/d/{uid}/{slug}",),
            title="Dashboard",
            template="dashboard.html",
            script="dashboard",
            context=dashboard_context,
        ),
    ]


__all__ = ["REFRESH_CHOICES", "dashboard_pages"]
