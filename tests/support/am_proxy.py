"""A same-origin proxy to a real Alertmanager's API v2 silences, for the Silences page's browser
test: the page calls its own origin (its Content-Security-Policy allows nothing else), so the
test serves the page and these routes together on a real uvicorn on loopback and runs the same
page against Debian's Alertmanager as against ``spyglass serve``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from tests.support.servers import free_port


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
            raise RuntimeError("the proxy server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


__all__ = ["AlertmanagerProxy", "serve_app"]
