"""The ASGI application: mounts the routes of whatever components it is given.

It knows nothing about which storage, protocols or domains are behind them; ``runtime.py`` (the
composition root) builds the components. The lifespan starts them in order and stops them in
reverse (``component.Assembly``), so a SIGTERM to uvicorn ends with everything flushed. Each
component's collectors join the self-metrics registry behind ``/metrics``.

Responses are gzipped when the client accepts it (as Prometheus, Loki and Jaeger's query
service do): a trace's Jaeger JSON or page, a PromQL matrix and a logs page are text that
compresses 5-20 times. Starlette's middleware leaves alone what already has an encoding (the
pre-compressed static bundle), server-sent events, gRPC and websockets (Loki's tail), and
compresses a streamed body chunk by chunk with a sync flush, so nothing waits for the end of
a stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from spyglass.server.component import Assembly, Component
from spyglass.server.selfmetrics import HTTPMetricsMiddleware, SelfMetrics

# Smaller bodies gain little from gzip. Level 6 (zlib's default) against Starlette's 9: 2-12%
# more bytes for 40% of the CPU (a 5,000-span trace's page and JSON, docs/decisions.md).
GZIP_MINIMUM_BYTES = 1024
GZIP_LEVEL = 6


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
        middleware=[
            Middleware(HTTPMetricsMiddleware, metrics=metrics, routes=routes),
            Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL),
        ],
    )


__all__ = ["create_app"]
