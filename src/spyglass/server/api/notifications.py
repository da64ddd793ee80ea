"""The notification history over HTTP: every delivery the router attempted, newest first.

Alertmanager keeps no such history, so the route lives under Spyglass's own prefix. The web
UI's notification history page shows the same entries.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.alerting import Delivery, NotificationHistory, format_api_time

PREFIX = "/api/spyglass/v1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000


def delivery_json(d: Delivery) -> dict[str, object]:
    """One delivery as the API writes it."""
    return {
        "time": format_api_time(d.time_ms),
        "receiver": d.receiver,
        "integration": d.integration,
        "index": d.index,
        "groupKey": d.group_key,
        "firing": d.firing,
        "resolved": d.resolved,
        "alertnames": list(d.alertnames),
        "ok": d.ok,
        "error": d.error,
    }


class NotificationsAPI:
    """``GET /api/spyglass/v1/notifications?limit=N``."""

    def __init__(self, history: NotificationHistory) -> None:
        self.history = history

    def routes(self) -> list[BaseRoute]:
        """The history's route."""
        return [Route(PREFIX + "/notifications", self.list, methods=["GET"])]

    async def list(self, request: Request) -> Response:
        """The newest deliveries, newest first (``limit``: 1 to 1,000, default 100)."""
        text = request.query_params.get("limit", str(DEFAULT_LIMIT))
        try:
            limit = int(text)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            return JSONResponse(
                {"error": f"limit must be a whole number from 1 to {MAX_LIMIT}, not {text!r}"},
                status_code=400,
            )
        return JSONResponse([delivery_json(d) for d in self.history.recent(limit)])


__all__ = ["NotificationsAPI", "delivery_json"]
