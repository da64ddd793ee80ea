"""The Errors pages: the issue list (``/errors``) and one issue (``/errors/<id>``).

Both are rendered on the server from the error tracker, in the shapes the errors API answers
(``/api/errors/issues``, ``/api/errors/issues/<id>`` and its ``/events``), so what the page shows
and what a script reads are one thing. The list's filters are URL parameters a plain GET form
writes: ``status`` (``unresolved`` by default, as Sentry opens on ``is:unresolved``; ``all`` for
every state), ``release``, ``environment``, ``service`` (as the service map links it),
``query`` (text in the title or culprit) and
``sort``; ``start`` and ``end`` (Unix seconds, as an incident's Errors link sets them) keep
the issues seen in that window (first seen before its end, last seen after its start).
``frontend/src/errors.js`` shows the times in the zone Explore's "Use local time" chose (the
server writes UTC, the browser's zone is the browser's) and sends the state buttons of an issue
to the API.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request

from spyglass.core.alerts import format_time
from spyglass.core.error_issues import SORTS, STATUSES, IssueQuery
from spyglass.errors import ErrorTracker
from spyglass.server.api.errors import detail_json, event_json, issue_json
from spyglass.server.ui._format import ago, utc
from spyglass.server.ui._pages import Page
from spyglass.server.ui._sparkline import sparkline

# Issues a page lists (their sparklines come from one read).
PAGE_SIZE = 50
# The latest events an issue's page shows whole.
EVENTS_SHOWN = 10
# With a time window (``start``/``end``), the most issues searched before it is applied.
WINDOW_SEARCH = 1000
SORT_NAMES = {
    "last_seen": "Last seen",
    "first_seen": "First seen",
    "count": "Events",
    "users": "Users",
}


def _seen(text: str | None, now_s: float) -> str:
    """An API time (RFC 3339) as "ago"."""
    if not text:
        return ""
    ms = int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    return ago(ms, now_s)


def _window(params: Mapping[str, str]) -> tuple[int, int] | None:
    """``start``/``end`` (Unix seconds, as an incident's Errors link gives them) in ms."""
    try:
        start, end = float(params["start"]), float(params["end"])
    except (KeyError, ValueError):
        return None
    if not (math.isfinite(start) and math.isfinite(end)) or end < start:
        return None
    return int(start * 1000), int(end * 1000)


def _status_of(params: Mapping[str, str]) -> str:
    status = params.get("status", "unresolved")
    return status if status in (*STATUSES, "all") else "unresolved"


def error_pages(tracker: ErrorTracker, clock: Callable[[], float] = time.time) -> list[Page]:
    """``/errors`` and ``/errors/<id>`` over ``tracker``."""

    async def list_context(request: Request) -> Mapping[str, Any]:
        params = request.query_params
        status = _status_of(params)
        sort = params.get("sort", "last_seen")
        sort = sort if sort in SORTS else "last_seen"
        window = _window(params)
        query = IssueQuery(
            status="" if status == "all" else status,
            release=params.get("release", "").strip(),
            environment=params.get("environment", "").strip(),
            service=params.get("service", "").strip(),
            text=params.get("query", "").strip(),
            sort=sort,
            # A time window is applied here, after the search: ask for as many as it may take.
            limit=WINDOW_SEARCH if window else PAGE_SIZE,
        )
        found = await tracker.search(query)
        issues, total = list(found.issues), found.total
        if window:
            start_ms, end_ms = window
            issues = [i for i in issues if i.last_seen_ms >= start_ms and i.first_seen_ms <= end_ms]
            total = len(issues)
        now = clock()
        rows = []
        for detail in await tracker.activity(issues[:PAGE_SIZE], hours=24):
            series = detail.series
            row = issue_json(detail.issue)
            row["spark"] = sparkline([float(n) for n in series])
            row["last24h"] = sum(series)
            row["firstAgo"] = _seen(row["firstSeen"], now)
            row["lastAgo"] = _seen(row["lastSeen"], now)
            rows.append(row)
        return {
            "issues": rows,
            "total": total,
            "window": [utc(w) for w in window] if window else None,
            "window_iso": [format_time(w) for w in window] if window else None,
            "start": params.get("start", ""),
            "end": params.get("end", ""),
            "status": status,
            "statuses": ["unresolved", "resolved", "ignored", "all"],
            "release": query.release,
            "environment": query.environment,
            "service": query.service,
            "query": query.text,
            "sort": sort,
            "sorts": SORT_NAMES,
        }

    async def issue_context(request: Request) -> Mapping[str, Any]:
        text = request.path_params["issue_id"]
        detail = await tracker.issue(int(text), hours=24) if text.isdigit() else None
        if detail is None:
            return {"issue": None, "issue_id": text, "status_code": 404, "events": []}
        events = await tracker.issue_events(detail.issue, EVENTS_SHOWN)
        issue = detail_json(detail)
        now = clock()
        issue["spark"] = sparkline([float(n) for n in detail.series])
        issue["firstAgo"] = _seen(issue["firstSeen"], now)
        issue["lastAgo"] = _seen(issue["lastSeen"], now)
        return {
            "issue": issue,
            "issue_id": text,
            "events": [event_json(e) for e in events],
        }

    return [
        Page(
            path="/errors",
            title="Errors",
            template="errors.html",
            section="Errors",
            script="errors",
            context=list_context,
        ),
        Page(
            path="/errors/{issue_id}",
            title="Issue",
            template="error_issue.html",
            section="Errors",
            script="errors",
            context=issue_context,
        ),
    ]
