"""The OTLP/HTTP listener on 127.0.0.1:4318, beside the main HTTP listener in the same server.

OpenTelemetry SDKs send to ``http://localhost:4318/v1/{metrics,logs,traces}`` unless told
otherwise, because that is where the OpenTelemetry Collector listens. Spyglass listens there too
(``--otlp-http-address``), so an instrumented app reaches it with no setting at all.

It is the same uvicorn server with a second socket, not a second server: one event loop, one
lifespan, one graceful shutdown. ``ListenerSplit`` sends what arrives on that socket to an app
holding only the OTLP routes (every route whose path starts with ``/v1/``, whichever components
offer them: metrics today, logs, traces once their receivers exist), and everything else to the
main app, so the port of the OTLP receivers serves no UI and no query API.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from spyglass.server.selfmetrics import HTTPMetricsMiddleware, SelfMetrics

OTLP_PATH_PREFIX = "/v1/"


def otlp_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The OTLP/HTTP receivers among ``routes``: those whose path starts with ``/v1/``."""
    return [r for r in routes if isinstance(r, Route) and r.path.startswith(OTLP_PATH_PREFIX)]


def otlp_app(routes: Sequence[BaseRoute], metrics: SelfMetrics) -> Starlette:
    """An app serving only the OTLP routes of ``routes`` (404 for any other path), timed in
    the same self-metrics as the main listener."""
    mine = otlp_routes(routes)
    return Starlette(
        routes=mine, middleware=[Middleware(HTTPMetricsMiddleware, metrics=metrics, routes=mine)]
    )


class ListenerSplit:
    """ASGI app: requests that arrived on local port ``port`` go to ``otlp``, all else (other
    ports, and the lifespan) to ``main``."""

    def __init__(self, main: ASGIApp, otlp: ASGIApp, port: int) -> None:
        self.main = main
        self.otlp = otlp
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] != "lifespan" and server is not None and server[1] == self.port:
            await self.otlp(scope, receive, send)
        else:
            await self.main(scope, receive, send)


__all__ = ["OTLP_PATH_PREFIX", "ListenerSplit", "otlp_app", "otlp_routes"]
