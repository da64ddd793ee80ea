"""The Silences page, as Alertmanager's: silences by state (active, pending, expired) with their
matchers, creator, comment and times; a form that creates one; an Expire button on each.

The data is Alertmanager's API v2 on this server (``GET``/``POST /api/v2/silences``,
``DELETE /api/v2/silence/{id}``), which the page's script calls, so the page shows exactly what
``amtool`` sees and errors arrive in Alertmanager's words. The server renders the form,
filled from the URL: each ``matcher`` parameter is a line of matchers (the Alerts page's
Silence button links here with an alert's labels), ``comment`` and ``createdBy`` the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from spyglass.server.ui._pages import Page

ALERTMANAGER_API = "/api/v2"
DEFAULT_DURATION = "2h"


def silences_page(api: str = ALERTMANAGER_API) -> Page:
    """The Silences page over the Alertmanager API v2 at ``api`` on the same server."""

    async def context(request: Request) -> Mapping[str, Any]:
        matchers = "\n".join(m.strip() for m in request.query_params.getlist("matcher"))
        return {
            "api": api,
            "matchers": matchers,
            "created_by": request.query_params.get("createdBy", ""),
            "comment": request.query_params.get("comment", ""),
            "duration": DEFAULT_DURATION,
            "open_form": bool(matchers),
        }

    return Page(
        path="/alerts/silences",
        title="Silences",
        template="silences.html",
        section="Alerts",
        script="silences",
        context=context,
    )
