"""The ASGI application: mounts each API's routes, health endpoints and ``/metrics``.

It receives finished collaborators (``AppParts``) and knows nothing about which storage backend
is behind them; ``runtime.py`` builds those. The lifespan starts and stops the runtime, so a
SIGTERM to uvicorn ends with everything flushed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.server.api.prometheus import PrometheusAPI
from spyglass.server.api.write import WriteAPI
from spyglass.server.selfmetrics import HTTPMetricsMiddleware, SelfMetrics


async def _nothing() -> None:
    return None


def _always() -> bool:
    return True


@dataclass(frozen=True)
class AppParts:
    """What the application serves, built by the composition root."""

    prometheus: PrometheusAPI
    write: WriteAPI
    metrics: SelfMetrics
    ready: Callable[[], bool] = _always
    start: Callable[[], Awaitable[None]] = _nothing
    stop: Callable[[], Awaitable[None]] = _nothing


def create_app(parts: AppParts) -> Starlette:
    """The Starlette app serving ``parts``."""

    async def healthy(request: Request) -> Response:
        del request
        return PlainTextResponse("Spyglass is Healthy.\n")

    async def ready(request: Request) -> Response:
        del request
        if parts.ready():
            return PlainTextResponse("Spyglass is Ready.\n")
        return PlainTextResponse("Service Unavailable\n", status_code=503)

    async def metrics(request: Request) -> Response:
        body, content_type = parts.metrics.render(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    routes: list[BaseRoute] = [
        Route("/-/healthy", healthy, methods=["GET", "HEAD"]),
        Route("/-/ready", ready, methods=["GET", "HEAD"]),
        Route("/metrics", metrics, methods=["GET"]),
        *parts.prometheus.routes(),
        *parts.write.routes(),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        del app
        await parts.start()
        try:
            yield
        finally:
            await parts.stop()

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(HTTPMetricsMiddleware, metrics=parts.metrics, routes=routes)],
    )


__all__ = ["AppParts", "create_app"]
