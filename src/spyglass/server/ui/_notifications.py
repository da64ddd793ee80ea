"""The notification history page: every delivery the router attempted, newest first.

Rendered on the server from the router's history (``/api/spyglass/v1/notifications`` gives the
same entries as JSON): when, which receiver and integration, which group, how many alerts
firing and resolved with their names, and whether it was sent or failed with the error.
``?failed=1`` shows the failures only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request

from spyglass.alerting import Delivery
from spyglass.server.ui._format import ago, utc
from spyglass.server.ui._pages import Page

SHOWN = 200


def notifications_page(recent: Callable[[int], list[Delivery]]) -> Page:
    """The page over ``recent(limit)``, the router's newest deliveries."""

    async def context(request: Request) -> Mapping[str, Any]:
        failed_only = request.query_params.get("failed", "") not in ("", "0")
        now_s = time.time()
        rows = [
            {
                "when": ago(d.time_ms, now_s),
                "when_utc": utc(d.time_ms),
                "receiver": d.receiver,
                "integration": f"{d.integration}[{d.index}]",
                "group": d.group_key,
                "firing": d.firing,
                "resolved": d.resolved,
                "alertnames": ", ".join(d.alertnames),
                "ok": d.ok,
                "error": d.error,
            }
            for d in recent(SHOWN)
            if not failed_only or not d.ok
        ]
        return {"rows": rows, "failed_only": failed_only, "shown": SHOWN}

    return Page(
        path="/alerts/notifications",
        title="Notification history",
        template="notifications.html",
        section="Alerts",
        context=context,
    )


__all__ = ["notifications_page"]
