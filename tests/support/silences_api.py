"""STAND-IN for Alertmanager's API v2 silences, only for the Silences page's browser test, and a
same-origin proxy to a real Alertmanager to run the same test against.

Spyglass's own Alertmanager-compatible router (``GET``/``POST /api/v2/silences``,
``GET``/``DELETE /api/v2/silence/{id}``) is built on another branch. Until it is merged, the
Silences page's browser test runs the real page (the ``ui`` component) next to this small
in-memory API on a real uvicorn on loopback: same origin, as the page expects. Once Spyglass
serves the API itself, the test's ``silences_server`` fixture should start a real
``spyglass serve`` instead, and this module can go.

The shapes are Alertmanager's OpenAPI v2 (``gettableSilence``, ``postableSilence``,
``{"silenceID"}``), and the errors are what Alertmanager 0.25 answers, measured against Debian's
``prometheus-alertmanager``: a JSON string with status 400 for an invalid silence, go-swagger's
``{"code", "message"}`` with 422 for a body that misses a required field, ``"silence not
found"`` with 404 on POST and 500 on DELETE for an unknown id. ``AlertmanagerProxy`` passes the
same routes through to a real Alertmanager, so the page's test also runs against the real API.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from tests.support.servers import free_port

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_REQUIRED = ("matchers", "startsAt", "endsAt", "createdBy", "comment")


def _now() -> datetime:
    return datetime.now(UTC)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _go(moment: datetime) -> str:
    millis = moment.microsecond // 1000
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"


def _matches_empty(m: dict[str, Any]) -> bool:
    hit = re.fullmatch(m["value"], "") is not None if m.get("isRegex") else m["value"] == ""
    return bool(hit == m.get("isEqual", True))


def _invalid(body: dict[str, Any]) -> str | None:
    """Alertmanager's complaint about ``body``, or None."""
    start, end = _time(body["startsAt"]), _time(body["endsAt"])
    if start >= end:
        return "Failed to create silence: start time must be before end time"
    if end < _now():
        return "Failed to create silence: end time can't be in the past"
    for i, m in enumerate(body["matchers"]):
        if not _LABEL_NAME.match(m["name"]):
            return f'silence invalid: invalid label matcher {i}: invalid label name "{m["name"]}"'
        if m.get("isRegex"):
            try:
                re.compile(m["value"])
            except re.error as exc:
                return (
                    f"silence invalid: invalid label matcher {i}: invalid regular expression "
                    f'"{m["value"]}": {exc}'
                )
    if all(_matches_empty(m) for m in body["matchers"]):
        return "silence invalid: at least one matcher must not match the empty string"
    return None


class SilencesAPI:
    """The silences part of Alertmanager's API v2, in memory."""

    def __init__(self) -> None:
        self.silences: dict[str, dict[str, Any]] = {}

    def _state(self, s: dict[str, Any]) -> str:
        now = _now()
        if _time(s["endsAt"]) <= now:
            return "expired"
        return "pending" if _time(s["startsAt"]) > now else "active"

    def _gettable(self, s: dict[str, Any]) -> dict[str, Any]:
        return {**s, "status": {"state": self._state(s)}}

    async def list(self, request: Request) -> Response:
        del request
        return JSONResponse([self._gettable(s) for s in self.silences.values()])

    async def post(self, request: Request) -> Response:
        body = await request.json()
        for name in _REQUIRED:
            if name not in body:
                return JSONResponse({"code": 602, "message": f"{name} in body is required"}, 422)
        if not body["matchers"]:
            message = "matchers in body should have at least 1 items"
            return JSONResponse({"code": 612, "message": message}, 422)
        problem = _invalid(body)
        if problem:
            return JSONResponse(problem, 400)
        sid = body.get("id") or str(uuid.uuid4())
        if body.get("id") and sid not in self.silences:
            return JSONResponse("silence not found", 404)
        now = _now()
        starts = max(_time(body["startsAt"]), now)
        self.silences[sid] = {
            "id": sid,
            "matchers": [{"isEqual": True, **m} for m in body["matchers"]],
            "startsAt": _go(starts),
            "endsAt": _go(_time(body["endsAt"])),
            "createdBy": body["createdBy"],
            "comment": body["comment"],
            "updatedAt": _go(now),
        }
        return JSONResponse({"silenceID": sid})

    async def get(self, request: Request) -> Response:
        s = self.silences.get(request.path_params["sid"])
        if s is None:
            return Response(status_code=404)
        return JSONResponse(self._gettable(s))

    async def delete(self, request: Request) -> Response:
        s = self.silences.get(request.path_params["sid"])
        if s is None:
            return JSONResponse("silence not found", 500)
        now = _go(_now())
        if self._state(s) == "pending":
            s["startsAt"] = now
        if self._state(s) != "expired":
            s["endsAt"] = now
        s["updatedAt"] = now
        return Response(status_code=200)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v2/silences", self.list, methods=["GET"]),
            Route("/api/v2/silences", self.post, methods=["POST"]),
            Route("/api/v2/silence/{sid}", self.get, methods=["GET"]),
            Route("/api/v2/silence/{sid}", self.delete, methods=["DELETE"]),
        ]


class AlertmanagerProxy:
    """The silences routes of Alertmanager's API v2, passed through to a real Alertmanager at
    ``base_url`` (the page calls its own origin, as its Content-Security-Policy requires)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def forward(self, request: Request) -> Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            answer = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=await request.body(),
                headers={"Content-Type": request.headers.get("content-type", "application/json")},
            )
        return Response(
            answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v2/silences", self.forward, methods=["GET", "POST"]),
            Route("/api/v2/silence/{sid}", self.forward, methods=["GET", "DELETE"]),
        ]


@contextlib.contextmanager
def serve_app(app: Starlette) -> Iterator[str]:
    """``app`` on a real uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the stand-in server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


__all__ = ["AlertmanagerProxy", "SilencesAPI", "serve_app"]
