"""Incidents over HTTP (Spyglass's own API), as docs/api.md lists them.

Every write names who made it (``by``) and lands on the incident's timeline. Errors are
``{"status": "error", "error": ...}``: 400 for a bad body, 404 for an unknown incident.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput
from spyglass.incidents import (
    STATUSES,
    BudgetSpent,
    IncidentService,
    NotFound,
    links,
    postmortem,
)

PREFIX = "/api/spyglass/v1/incidents"
MAX_BODY = 256 * 1024


class IncidentsAPI:
    """Open, list, read, note, change status, edit, and the postmortem of incidents."""

    def __init__(
        self,
        service: IncidentService,
        budget_spent: BudgetSpent | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.budget_spent = budget_spent
        self.clock = clock

    def routes(self) -> list[BaseRoute]:
        """The incident routes."""
        return [
            Route(PREFIX, self.list, methods=["GET"]),
            Route(PREFIX, self.open, methods=["POST"]),
            Route("/api/spyglass/v1/incident-severities", self.severities, methods=["GET"]),
            Route(PREFIX + "/{id}", self.one, methods=["GET"]),
            Route(PREFIX + "/{id}", self.edit, methods=["PATCH"]),
            Route(PREFIX + "/{id}/notes", self.note, methods=["POST"]),
            Route(PREFIX + "/{id}/status", self.status, methods=["POST"]),
            Route(PREFIX + "/{id}/postmortem", self.get_postmortem, methods=["GET"]),
            Route(PREFIX + "/{id}/postmortem", self.put_postmortem, methods=["PUT"]),
        ]

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _view(self, incident: dict[str, Any]) -> dict[str, Any]:
        out = dict(incident)
        out["links"] = links(incident, self._now_ms(), self.service.external_url)
        return out

    async def _call(self, fn: Callable[[], dict[str, Any]], code: int = 200) -> Response:
        try:
            incident = await asyncio.to_thread(fn)
        except NotFound as exc:
            return _error(str(exc), 404)
        except BadInput as exc:
            return _error(str(exc), 400)
        return JSONResponse({"status": "success", "data": self._view(incident)}, status_code=code)

    async def list(self, request: Request) -> Response:
        """Incidents newest first; ``status``: open (default), resolved or all."""
        status = request.query_params.get("status", "open")
        if status not in ("open", "resolved", "all"):
            return _error("status must be open, resolved or all", 400)
        found = await asyncio.to_thread(self.service.search, status)
        return JSONResponse({"status": "success", "data": found})

    async def severities(self, request: Request) -> Response:
        """The SEV scale in force."""
        data = [
            {"level": s.level, "name": s.name, "description": s.description}
            for s in self.service.config.severities
        ]
        return JSONResponse({"status": "success", "data": data})

    async def open(self, request: Request) -> Response:
        """Open one: ``title`` (required), ``severity``, ``commander``, ``summary``, ``by``."""
        body = await _body(request)
        if isinstance(body, Response):
            return body
        return await self._call(
            lambda: self.service.open(
                body.get("title", ""),
                body.get("severity", "SEV3"),
                commander=body.get("commander", ""),
                summary=body.get("summary", ""),
                by=body.get("by", ""),
            ),
            201,
        )

    async def one(self, request: Request) -> Response:
        """One incident with its timeline and links."""
        ident = request.path_params["id"]
        return await self._call(lambda: self.service.get(ident))

    async def edit(self, request: Request) -> Response:
        """Change title, severity, commander, summary, root_cause or actions."""
        body = await _body(request)
        if isinstance(body, Response):
            return body
        by = body.pop("by", "")
        ident = request.path_params["id"]
        return await self._call(lambda: self.service.update(ident, body, by))

    async def note(self, request: Request) -> Response:
        """Add a note: ``text``, ``by``."""
        body = await _body(request)
        if isinstance(body, Response):
            return body
        ident = request.path_params["id"]
        return await self._call(
            lambda: self.service.note(ident, body.get("text", ""), body.get("by", ""))
        )

    async def status(self, request: Request) -> Response:
        """Change status: ``status`` (one of STATUSES), ``text``, ``by``."""
        body = await _body(request)
        if isinstance(body, Response):
            return body
        if body.get("status") not in STATUSES:
            return _error(f"status must be one of {', '.join(STATUSES)}", 400)
        ident = request.path_params["id"]
        return await self._call(
            lambda: self.service.set_status(
                ident, body["status"], body.get("by", ""), body.get("text", "")
            )
        )

    async def get_postmortem(self, request: Request) -> Response:
        """The postmortem (edited, or the draft) as Markdown."""
        ident = request.path_params["id"]
        try:
            incident = await asyncio.to_thread(self.service.get, ident)
            text = await asyncio.to_thread(
                postmortem, incident, self.service.config, self._now_ms(), self.budget_spent
            )
        except NotFound as exc:
            return _error(str(exc), 404)
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")

    async def put_postmortem(self, request: Request) -> Response:
        """Keep an edited postmortem (the body, as Markdown; empty: back to the draft)."""
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _error(f"body larger than {MAX_BODY} bytes", 413)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _error("the postmortem must be UTF-8 text", 400)
        ident = request.path_params["id"]
        by = request.query_params.get("by", "")
        return await self._call(lambda: self.service.set_postmortem(ident, text or None, by))


async def _body(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _error(f"body larger than {MAX_BODY} bytes", 413)
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        return _error(f"invalid JSON: {exc}", 400)
    if not isinstance(body, dict):
        return _error("the body must be a JSON object", 400)
    return body


def _error(message: str, code: int) -> Response:
    return JSONResponse({"status": "error", "error": message}, status_code=code)


__all__ = ["IncidentsAPI"]
