"""The errors API: issues and their events, and issue state changes.

- ``GET /api/errors/issues``: the issue list. Query parameters: ``project``, ``status``
  (``unresolved``, ``resolved``, ``ignored``), ``release``, ``environment``, ``service`` (the
  service an event names: ``ErrorEvent.service``), ``query`` (text in the title or culprit),
  ``sort`` (``last_seen``, ``first_seen``, ``count``, ``users``; newest or most first),
  ``limit`` (1 to 1000, default 100) and ``offset``. Answer:
  ``{"total": <matches>, "offset", "limit", "issues": [...]}``.
- ``GET /api/errors/issues/{id}``: one issue, with ``releases``, ``environments`` and
  ``services`` (events per name, most first) and ``series``: events per hour over the last
  ``hours`` hours (default 24, at most 720), for a sparkline.
- ``GET /api/errors/issues/{id}/events?limit=``: the issue's latest events (default 50), whole.
- ``GET /api/errors/events/{event_id}``: one event, whole.
- ``PUT`` or ``POST /api/errors/issues/{id}`` with ``{"status": "resolved"}``, ``"ignored"``,
  ``"unresolved"``, or ``"resolvedInNextRelease"`` (also Sentry's
  ``{"status": "resolved", "statusDetails": {"inNextRelease": true}}``): the issue after.

Errors are Spyglass's own shape, as the other ``/api/spyglass`` routes give them:
``{"error": "..."}`` with 400 for a bad parameter or body, 404 for an unknown issue or event
and 503 when storage cannot answer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.error_issues import IGNORED, RESOLVED, SORTS, STATUSES, UNRESOLVED, IssueQuery
from spyglass.core.errors import BadInput, SpyglassError
from spyglass.errors import IGNORE, RESOLVE, RESOLVE_IN_NEXT_RELEASE, UNRESOLVE, ErrorTracker
from spyglass.server.api._errors_json import ISSUES_PATH, detail_json, event_json, issue_json

MAX_BODY_BYTES = 64 * 1024
MAX_ISSUES = 1000
MAX_EVENTS = 1000
MAX_HOURS = 720
_HEX32 = frozenset("0123456789abcdef")
_ACTIONS = {
    RESOLVED: RESOLVE,
    "resolvedInNextRelease": RESOLVE_IN_NEXT_RELEASE,
    IGNORED: IGNORE,
    UNRESOLVED: UNRESOLVE,
}


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


def _answers(handler: Handler) -> Handler:
    """``handler`` with Spyglass's errors mapped to their statuses."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except BadInput as exc:
            return _error(400, str(exc))
        except SpyglassError as exc:
            return _error(503, f"storage could not answer: {exc}")

    return run


class ErrorsAPI:
    """The errors API routes over an ``ErrorTracker``."""

    def __init__(self, tracker: ErrorTracker) -> None:
        self.tracker = tracker

    def routes(self) -> list[BaseRoute]:
        """Issue list, issue, its events, one event, state changes."""
        issue = ISSUES_PATH + "/{issue_id}"
        return [
            Route(ISSUES_PATH, _answers(self.list_issues), methods=["GET"]),
            Route(issue, _answers(self.get_issue), methods=["GET"]),
            Route(issue, _answers(self.change_issue), methods=["PUT", "POST"]),
            Route(issue + "/events", _answers(self.issue_events), methods=["GET"]),
            Route("/api/errors/events/{event_id}", _answers(self.get_event), methods=["GET"]),
        ]

    async def list_issues(self, request: Request) -> Response:
        """``GET /api/errors/issues``."""
        q = request.query_params
        project = q.get("project", "")
        status = q.get("status", "")
        if status and status not in STATUSES:
            raise BadInput(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        sort = q.get("sort", "last_seen") or "last_seen"
        if sort not in SORTS:
            raise BadInput(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        query = IssueQuery(
            project_id=_int(project, "project", 1, 2**63 - 1) if project else None,
            status=status,
            release=q.get("release", ""),
            environment=q.get("environment", ""),
            service=q.get("service", ""),
            text=q.get("query", ""),
            sort=sort,
            offset=_int(q.get("offset", "0"), "offset", 0, 2**31),
            limit=_int(q.get("limit", "100"), "limit", 1, MAX_ISSUES),
        )
        page = await self.tracker.search(query)
        return JSONResponse(
            {
                "total": page.total,
                "offset": query.offset,
                "limit": query.limit,
                "issues": [issue_json(i) for i in page.issues],
            }
        )

    async def get_issue(self, request: Request) -> Response:
        """``GET /api/errors/issues/{id}``."""
        issue_id = _issue_id(request)
        hours = _int(request.query_params.get("hours", "24"), "hours", 1, MAX_HOURS)
        detail = await self.tracker.issue(issue_id, hours=hours)
        if detail is None:
            return _error(404, f"no issue {issue_id}")
        return JSONResponse(detail_json(detail))

    async def issue_events(self, request: Request) -> Response:
        """``GET /api/errors/issues/{id}/events``."""
        issue_id = _issue_id(request)
        limit = _int(request.query_params.get("limit", "50"), "limit", 1, MAX_EVENTS)
        issue = await self.tracker.find(issue_id)
        if issue is None:
            return _error(404, f"no issue {issue_id}")
        events = await self.tracker.issue_events(issue, limit)
        return JSONResponse({"events": [event_json(e) for e in events]})

    async def get_event(self, request: Request) -> Response:
        """``GET /api/errors/events/{event_id}``."""
        text = request.path_params["event_id"].replace("-", "").lower()
        if len(text) != 32 or not set(text) <= _HEX32:
            raise BadInput(f"invalid event id {request.path_params['event_id']!r}: 32 hex digits")
        event = await self.tracker.event(text)
        if event is None:
            return _error(404, f"no event {text}")
        return JSONResponse(event_json(event))

    async def change_issue(self, request: Request) -> Response:
        """``PUT``/``POST /api/errors/issues/{id}``: a state change."""
        issue_id = _issue_id(request)
        action = _action(await _json_body(request))
        issue = await self.tracker.act(issue_id, action)
        if issue is None:
            return _error(404, f"no issue {issue_id}")
        return JSONResponse(issue_json(issue))


async def _json_body(request: Request) -> Any:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadInput(f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"body is not JSON: {exc}") from None


def _action(body: Any) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        raise BadInput('body must be a JSON object with a "status"')
    status = body["status"]
    details = body.get("statusDetails")
    if status == RESOLVED and isinstance(details, dict) and details.get("inNextRelease") is True:
        return RESOLVE_IN_NEXT_RELEASE
    action = _ACTIONS.get(status)
    if action is None:
        raise BadInput(f"status must be one of {', '.join(_ACTIONS)}, not {status!r}")
    return action


def _issue_id(request: Request) -> int:
    return _int(request.path_params["issue_id"], "issue id", 1, 2**63 - 1)


def _int(text: str, what: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise BadInput(f"{what} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


# The JSON shapes too: the errors pages show what the API answers.
__all__ = ["ErrorsAPI", "detail_json", "event_json", "issue_json"]
