"""Spyglass's own metrics, served on ``/metrics`` in the Prometheus formats.

A private ``CollectorRegistry`` (never prometheus_client's global one, which an embedding app may
own) holds request, ingest and query metrics plus process metrics, and the collectors each running
component offers (storage counters are read at scrape time from ``stats()`` snapshots through
``core.stats.StatsCollector``, so the write path does no metric bookkeeping of its own).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spyglass.core.stats import StatField, StatsCollector

_HANDLER_CACHE_ENTRIES = 1024
_QUERY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class SelfMetrics:
    """The registry behind ``/metrics`` and the hooks the APIs report into."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._http_requests = Counter(
            "spyglass_http_requests",
            "HTTP requests served, by route and status code.",
            ["handler", "code"],
            registry=self.registry,
        )
        self._http_duration = Histogram(
            "spyglass_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["handler"],
            buckets=_QUERY_BUCKETS,
            registry=self.registry,
        )
        self._ingest_requests = Counter(
            "spyglass_ingest_requests",
            "Write requests by protocol and outcome (accepted, rejected, failed, unsupported).",
            ["protocol", "outcome"],
            registry=self.registry,
        )
        self._ingest_samples = Counter(
            "spyglass_ingest_samples",
            "Samples accepted, by protocol.",
            ["protocol"],
            registry=self.registry,
        )
        self._query_duration = Histogram(
            "spyglass_query_duration_seconds",
            "PromQL evaluation time, by endpoint (query, query_range).",
            ["endpoint"],
            buckets=_QUERY_BUCKETS,
            registry=self.registry,
        )

    def observe_ingest(self, protocol: str, outcome: str, samples: int) -> None:
        """Count one write request."""
        self._ingest_requests.labels(protocol, outcome).inc()
        if samples:
            self._ingest_samples.labels(protocol).inc(samples)

    def observe_query(self, endpoint: str, seconds: float) -> None:
        """Record one query's evaluation time."""
        self._query_duration.labels(endpoint).observe(seconds)

    def observe_http(self, handler: str, code: int, seconds: float) -> None:
        """Record one HTTP request."""
        self._http_requests.labels(handler, str(code)).inc()
        self._http_duration.labels(handler).observe(seconds)

    def add(self, collector: Collector) -> None:
        """Register another collector (storage stats, scrape manager...)."""
        self.registry.register(collector)

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition in the format ``accept`` asks for (OpenMetrics or text 0.0.4)."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class HTTPMetricsMiddleware:
    """ASGI middleware timing every request, labelled by route template, never raw path."""

    def __init__(self, app: ASGIApp, metrics: SelfMetrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = [r for r in routes if isinstance(r, Route)]
        # path -> route template: matching the path against every route's regex was some tens
        # of microseconds a request, a few percent of a small remote_write push. Bounded, since
        # paths with parameters (or a scanner's made-up ones) are unbounded.
        self._handlers: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.observe_http(
                self._handler(scope["path"]), status, time.perf_counter() - started
            )

    def _handler(self, path: str) -> str:
        handler = self._handlers.get(path)
        if handler is None:
            handler = next((r.path for r in self.routes if r.path_regex.match(path)), "other")
            if len(self._handlers) >= _HANDLER_CACHE_ENTRIES:
                self._handlers.clear()
            self._handlers[path] = handler
        return handler


__all__ = ["HTTPMetricsMiddleware", "SelfMetrics", "StatField", "StatsCollector"]
