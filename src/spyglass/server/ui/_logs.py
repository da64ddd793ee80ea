"""The logs page: LogQL against this server's Loki API, as Grafana's Explore shows Loki.

The URL holds ``query`` (LogQL), ``from``/``to`` (as Explore takes them), ``limit`` (the most
lines, at most Loki's 5,000) and ``direction`` (``backward``, newest first, or ``forward``).
The server renders that state into a plain GET form, so the page round-trips without scripts;
``frontend/src/logs.js`` reads the same URL, runs the query against ``/loki/api/v1/...`` (no API
of its own) and draws the histogram, the lines or a metric query's graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from spyglass.server.ui._format import limit_param
from spyglass.server.ui._pages import Page

DEFAULT_LIMIT = 1000
# Loki's default max_entries_limit_per_query: a bigger limit is refused by the API.
MAX_LIMIT = 5000


async def logs_context(request: Request) -> Mapping[str, Any]:
    """The URL's state, read as ``frontend/src/logstate.js`` reads it."""
    params = request.query_params
    return {
        "query": params.get("query", ""),
        "range_from": params.get("from") or "now-1h",
        "range_to": params.get("to") or "now",
        "limit": limit_param(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT),
        "max_limit": MAX_LIMIT,
        "direction": "forward" if params.get("direction", "").lower() == "forward" else "backward",
    }


LOGS = Page(
    path="/logs",
    title="Logs",
    template="logs.html",
    section="Logs",
    script="logs",
    context=logs_context,
)
