"""Acknowledgements over HTTP: someone owns an alert, so its group stops repeating.

Alertmanager has no acknowledgement, so these routes live under Spyglass's own prefix
(``/api/spyglass/v1``) rather than in Alertmanager's API v2. An alert is named by the
``fingerprint`` ``GET /api/v2/alerts`` gives it. Errors are ``{"error": "..."}`` with 400 for a
bad body and 404 for an alert the router does not hold.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.alerting import Acknowledgement, Router, format_api_time, parse_rfc3339
from spyglass.core.errors import BadInput

MAX_BODY_BYTES = 64 * 1024
PREFIX = "/api/spyglass/v1"


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _json(ack: Acknowledgement) -> dict[str, Any]:
    return {
        "fingerprint": ack.fingerprint,
        "by": ack.by,
        "comment": ack.comment,
        "at": format_api_time(ack.at_ms),
        "expiresAt": format_api_time(ack.expires_ms) if ack.expires_ms else None,
    }


class AcksAPI:
    """``GET /api/spyglass/v1/acks`` and ``POST``/``DELETE .../alerts/<fingerprint>/ack``."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def routes(self) -> list[BaseRoute]:
        """The acknowledgement routes."""
        path = PREFIX + "/alerts/{fingerprint}/ack"
        return [
            Route(PREFIX + "/acks", self.list, methods=["GET"]),
            Route(path, self.ack, methods=["POST"]),
            Route(path, self.withdraw, methods=["DELETE"]),
        ]

    async def list(self, request: Request) -> Response:
        """Every current acknowledgement."""
        del request
        acks = await asyncio.to_thread(self.router.acks.all)
        return JSONResponse([_json(a) for a in acks])

    async def ack(self, request: Request) -> Response:
        """Acknowledge one alert: ``{"by": ..., "comment": ..., "expiresAt": RFC 3339}``."""
        fp = request.path_params["fingerprint"]
        if self.router.store.get(fp) is None:
            return _error(404, f"no alert with fingerprint {fp}")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            doc = json.loads(body or b"{}")
        except ValueError as exc:
            return _error(400, f"body is not JSON: {exc}")
        if not isinstance(doc, dict):
            return _error(400, "body must be a JSON object")
        by, comment, expires = doc.get("by", ""), doc.get("comment", ""), doc.get("expiresAt")
        if not isinstance(by, str) or not isinstance(comment, str):
            return _error(400, "by and comment must be strings")
        now = self.router.clock.now_ms()
        try:
            expires_ms = 0 if expires in (None, "") else parse_rfc3339(str(expires))
            ack = await asyncio.to_thread(self.router.acks.ack, fp, by, comment, now, expires_ms)
        except BadInput as exc:
            return _error(400, str(exc))
        return JSONResponse(_json(ack))

    async def withdraw(self, request: Request) -> Response:
        """Withdraw an alert's acknowledgement."""
        fp = request.path_params["fingerprint"]
        if not await asyncio.to_thread(self.router.acks.withdraw, fp):
            return _error(404, f"alert {fp} is not acknowledged")
        return JSONResponse({"fingerprint": fp})


__all__ = ["AcksAPI"]
