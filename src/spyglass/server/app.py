"""The ASGI application: mounts the routes of whatever components it is given.

It knows nothing about which storage, protocols or domains are behind them; ``runtime.py`` (the
composition root) builds the components. The lifespan starts them in order and stops them in
reverse (``component.Assembly``), so a SIGTERM to uvicorn ends with everything flushed. Each
component's collectors join the self-metrics registry behind ``/metrics``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from spyglass.server.component import Assembly, Component
from spyglass.server.selfmetrics import HTTPMetricsMiddleware, SelfMetrics


def create_app(components: Assembly | Sequence[Component], metrics: SelfMetrics) -> Starlette:
    """The Starlette app serving ``components``; ``metrics`` times every request."""
    assembly = components if isinstance(components, Assembly) else Assembly(components)
    for collector in assembly.collectors():
        metrics.add(collector)
    routes = assembly.routes()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        del app
        await assembly.start()
        try:
            yield
        finally:
            await assembly.stop()

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(HTTPMetricsMiddleware, metrics=metrics, routes=routes)],
    )


__all__ = ["create_app"]
