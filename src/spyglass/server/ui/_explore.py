"""The Explore page: PromQL queries as a graph or a table, all of its state in the URL.

The URL holds ``from``/``to`` (Grafana's ``now-1h``, ``now/d``, epoch milliseconds or a date),
``step`` (empty: auto), ``mode`` (graph or table), ``stacked``, ``time`` (the table's evaluation
time; empty: the range's end), ``refresh`` (Grafana's auto-refresh interval), ``exemplars``
(``1``: the graph shows the queries' exemplars, ``frontend/src/exemplars.js``), one
``qN``/``legendN`` pair per query and the legend's hidden series (``hide``, or ``show`` when
fewer are shown).
The server renders that state into a plain GET form, so the page round-trips without scripts;
``frontend/src/explore.js`` reads the same URL, runs the queries against the Prometheus API and
draws them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from spyglass.server.ui._pages import Page

_QUERY_KEY = re.compile(r"^q(\d+)$")
# Grafana's shortest auto-refresh choices (Explore re-runs every query each time).
REFRESH_CHOICES = ("", "5s", "10s", "30s", "1m", "5m")


@dataclass(frozen=True)
class Query:
    """One query row: its PromQL and its legend format (``{{label}}``)."""

    expr: str
    legend: str


async def explore_context(request: Request) -> Mapping[str, Any]:
    """The URL's state, read as ``frontend/src/state.js`` reads it."""
    params = request.query_params
    indices = sorted(int(m.group(1)) for k in params if (m := _QUERY_KEY.match(k)))
    queries = [Query(params.get(f"q{i}", ""), params.get(f"legend{i}", "")) for i in indices]
    refresh = params.get("refresh", "")
    choices = [*REFRESH_CHOICES, *([refresh] if refresh not in REFRESH_CHOICES else [])]
    return {
        "queries": queries or [Query("", "")],
        "range_from": params.get("from") or "now-1h",
        "range_to": params.get("to") or "now",
        "step": params.get("step", ""),
        "mode": "table" if params.get("mode") == "table" else "graph",
        "stacked": params.get("stacked") == "1",
        "exemplars": params.get("exemplars") == "1",
        "eval_time": params.get("time", ""),
        "refresh": refresh,
        "refresh_choices": choices,
    }


EXPLORE = Page(
    path="/explore",
    aliases=("/",),
    title="Explore",
    template="explore.html",
    section="Explore",
    script="explore",
    context=explore_context,
)
