"""The Traces pages: trace search (``/traces``) and one trace as a waterfall (``/traces/<id>``).

The search page is a plain GET form whose fields are the URL's parameters, so a search link
round-trips: ``service``, ``operation``, ``tags`` (Jaeger's logfmt box, ``error=true
http.status_code=500``), ``minDuration``/``maxDuration`` (Go durations, ``100ms``, ``1.5s``),
``limit``, ``from``/``to`` (as every page's time picker writes them) and ``sort``. An
incident's Traces link sends Jaeger's ``start``/``end`` (Unix microseconds) instead of
``from``/``to``; they are read as the same window, as is Jaeger UI's ``lookback`` (``1h`` to
``7d``) without either. ``frontend/src/traces.js`` runs the search
against Jaeger's query API (``/api/traces``: the page has no search of its own) and draws the
scatter and the list.

A trace's page is rendered here from the trace reader, as ``/api/traces/<id>`` reads it: a
malformed id is a 400 page with Jaeger's words, an unknown one a 404 "trace not found" page.
It draws every span's row but not its details (attributes, events, links: most of a span's
bytes), so a trace of thousands of spans stays a page a browser opens at once; a span's details
come alone from ``/traces/<id>/spans/<span id>`` (an HTML fragment the page's script fetches on
a click), or inside the page for the span its ``?span=`` names (the link a click follows
without the script).
With the error tracker, it lists the error issues whose events carry the trace id (Sentry's
``contexts.trace.trace_id``), read by trace id over the trace's window, not by a scan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from spyglass.core.errors import BadInput
from spyglass.errors import ErrorTracker
from spyglass.server.ui._format import limit_param, utc
from spyglass.server.ui._pages import Page
from spyglass.server.ui._waterfall import span_row, waterfall
from spyglass.storage.ports import TraceReader
from spyglass.traces import parse_trace_id

DEFAULT_LIMIT = 20  # what Jaeger's UI asks for
MAX_LIMIT = 1500  # the largest choice Jaeger's UI offers
SORTS = {
    "recent": "Most recent",
    "longest": "Longest first",
    "shortest": "Shortest first",
    "most-spans": "Most spans",
    "fewest-spans": "Fewest spans",
}
# The logs link's and the error lookup's window: the trace's own, widened so a log line or an
# error event written just before the first span or after the last (a retry, a late flush, a
# client clock a little off) is in it.
LOGS_MARGIN_MS = 5 * 60_000
# The most spans a trace's page draws (about 2 KB of page each): past it, the first in tree
# order, and the JSON download has them all. A runaway trace must not make a page the browser
# cannot open.
MAX_ROWS = 5000
# Jaeger UI's ``lookback`` choices read as the time picker's ``from`` (``2d`` -> ``now-2d``).
_LOOKBACK = {"1h", "2h", "3h", "6h", "12h", "24h", "2d", "7d"}


def _micros_to_ms(text: str | None) -> str:
    """Jaeger's ``start``/``end`` (Unix microseconds) as the time picker's epoch milliseconds."""
    if text is None or not text.isdigit():
        return ""
    return str(int(text) // 1000)


async def search_context(request: Request) -> Mapping[str, Any]:
    """The URL's search, echoed into the form that ``traces.js`` reads."""
    params = request.query_params
    lookback = params.get("lookback", "")
    range_from = (
        params.get("from")
        or _micros_to_ms(params.get("start"))
        or (f"now-{lookback}" if lookback in _LOOKBACK else "now-1h")
    )
    range_to = params.get("to") or _micros_to_ms(params.get("end")) or "now"
    sort = params.get("sort", "recent")
    return {
        "service": params.get("service", ""),
        "operation": params.get("operation", ""),
        "tags": params.get("tags", ""),
        "min_duration": params.get("minDuration", ""),
        "max_duration": params.get("maxDuration", ""),
        "limit": limit_param(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT),
        "max_limit": MAX_LIMIT,
        "range_from": range_from,
        "range_to": range_to,
        "sort": sort if sort in SORTS else "recent",
        "sorts": SORTS,
    }


def logs_url(trace_id: str, start_ns: int, end_ns: int) -> str:
    """The logs page showing the lines that carry ``trace_id``, around the trace's time."""
    query = f'{{service_name=~".+"}} |= "{trace_id}"'
    start_ms = start_ns // 1_000_000 - LOGS_MARGIN_MS
    end_ms = end_ns // 1_000_000 + LOGS_MARGIN_MS
    return "/logs?" + urlencode({"query": query, "from": start_ms, "to": end_ms})


def trace_pages(reader: TraceReader, errors: ErrorTracker | None = None) -> list[Page]:
    """``/traces`` and ``/traces/<id>`` over ``reader``; a trace's error issues from ``errors``."""

    async def trace_context(request: Request) -> Mapping[str, Any]:
        text = request.path_params["trace_id"]
        try:
            trace_id = parse_trace_id(text)
        except BadInput as exc:
            return {"trace": None, "trace_id": text, "problem": str(exc), "status_code": 400}
        spans = await run_in_threadpool(reader.trace, trace_id)
        if not spans:
            return {
                "trace": None,
                "trace_id": trace_id,
                "problem": "trace not found",
                "status_code": 404,
            }
        trace = waterfall(spans)
        issues = []
        if errors is not None:
            margin = LOGS_MARGIN_MS * 1_000_000
            end = trace.start_ns + trace.duration_ns
            found = await errors.trace_issues(trace_id, trace.start_ns - margin, end + margin)
            issues = [
                {"id": i.id, "title": i.title, "culprit": i.culprit, "level": i.level}
                for i in found
            ]
        return {
            "open_span": request.query_params.get("span", ""),
            "rows": trace.rows[:MAX_ROWS],
            "issues": issues,
            "trace": trace,
            "trace_id": trace_id,
            "started": utc(trace.start_ns // 1_000_000),
            "logs_url": logs_url(trace_id, trace.start_ns, trace.start_ns + trace.duration_ns),
            "json_url": f"/api/traces/{quote(trace_id)}",
            "search_url": "/traces?" + urlencode({"service": trace.root.span.service_name}),
        }

    async def span_context(request: Request) -> Mapping[str, Any]:
        text = request.path_params["trace_id"]
        span_id = request.path_params["span_id"]
        try:
            trace_id = parse_trace_id(text)
        except BadInput as exc:
            return {"row": None, "problem": f"Not a trace id: {exc}", "status_code": 400}
        spans = await run_in_threadpool(reader.trace, trace_id)
        # The whole trace is read, not the span alone: the span's start offset is from the
        # trace's first span.
        row = span_row(spans, span_id)
        if row is None:
            return {"row": None, "problem": "span not found", "status_code": 404}
        return {"row": row, "problem": ""}

    return [
        Page(
            path="/traces",
            title="Traces",
            template="traces.html",
            section="Traces",
            script="traces",
            context=search_context,
        ),
        Page(
            path="/traces/{trace_id}",
            title="Trace",
            template="trace.html",
            section="Traces",
            script="waterfall",
            context=trace_context,
        ),
        # A fragment, not a page: its template does not extend the layout.
        Page(
            path="/traces/{trace_id}/spans/{span_id}",
            title="Span",
            template="span_detail.html",
            context=span_context,
        ),
    ]


__all__ = ["DEFAULT_LIMIT", "MAX_ROWS", "SORTS", "logs_url", "search_context", "trace_pages"]
