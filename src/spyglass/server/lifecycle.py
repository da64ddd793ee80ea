"""The server's own endpoints: health, readiness, ``/metrics`` and config reload.

``/-/healthy``, ``/-/ready`` and ``/-/reload`` answer as Prometheus' do. Reload also runs on
SIGHUP. Its outcome is kept in a ``ReloadStatus``, exposed as
``spyglass_config_last_reload_successful`` and ``..._success_timestamp_seconds`` (Prometheus'
``prometheus_config_last_reload_*``) and in ``/api/v1/status/runtimeinfo``.

Unlike Prometheus, ``/-/reload`` needs no ``--web.enable-lifecycle``: a reload only re-reads the
files Spyglass was started with, and Spyglass offers no ``/-/quit`` (docs/api.md).

The lifecycle component is the last one started, so "ready" is said (and ``/-/ready`` answers
200) only once everything before it runs and the HTTP port is already listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import SpyglassError
from spyglass.server.selfmetrics import SelfMetrics

log = logging.getLogger("spyglass")


@dataclass
class ReloadStatus:
    """Outcome of the latest config (re)load."""

    successful: bool = True
    success_time: float = field(default_factory=time.time)
    error: str = ""

    def succeeded(self) -> None:
        """Record a successful load."""
        self.successful, self.success_time, self.error = True, time.time(), ""

    def failed(self, error: str) -> None:
        """Record a failed load (the previous config stays in force)."""
        self.successful, self.error = False, error


class _ReloadCollector(Collector):
    def __init__(self, status: ReloadStatus) -> None:
        self._status = status

    def collect(self) -> list[Metric]:
        s = self._status
        return [
            GaugeMetricFamily(
                "spyglass_config_last_reload_successful",
                "Whether the last configuration reload attempt was successful.",
                value=1.0 if s.successful else 0.0,
            ),
            GaugeMetricFamily(
                "spyglass_config_last_reload_success_timestamp_seconds",
                "Timestamp of the last successful configuration reload.",
                value=s.success_time,
            ),
        ]


async def _nothing() -> None:
    return None


class Lifecycle:
    """The component serving the server's own endpoints; ``reload`` re-reads the config."""

    name = "lifecycle"

    def __init__(
        self,
        metrics: SelfMetrics,
        *,
        reload: Callable[[], Awaitable[None]] = _nothing,
        status: ReloadStatus | None = None,
        ready: Callable[[], str] | None = None,
    ) -> None:
        """``ready`` gives the line logged once everything runs."""
        self.metrics = metrics
        self.status = status or ReloadStatus()
        self.ready = False
        self._reload = reload
        self._ready_message = ready
        self._reload_lock = asyncio.Lock()
        self._sighup = False
        self._tasks: set[asyncio.Task[None]] = set()

    # -- Component --------------------------------------------------------------------------
    async def start(self) -> None:
        """Say ready, and reload on SIGHUP (only where signals can be handled: the main
        thread of a process that runs its event loop there)."""
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)
                self._sighup = True
        self.ready = True
        if self._ready_message is not None:
            log.info("%s", self._ready_message())

    async def stop(self) -> None:
        """No longer ready; stop listening for SIGHUP."""
        self.ready = False
        if self._sighup:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self._sighup = False

    def routes(self) -> Sequence[BaseRoute]:
        """``/-/healthy``, ``/-/ready``, ``/-/reload`` and ``/metrics``."""
        return [
            Route("/-/healthy", self.healthy, methods=["GET", "HEAD"]),
            Route("/-/ready", self.ready_route, methods=["GET", "HEAD"]),
            Route("/-/reload", self.reload_route, methods=["POST", "PUT"]),
            Route("/metrics", self.metrics_route, methods=["GET"]),
        ]

    def collectors(self) -> Sequence[Collector]:
        """The reload gauges."""
        return [_ReloadCollector(self.status)]

    # -- reload -----------------------------------------------------------------------------
    async def reload_now(self) -> None:
        """Reload the config; raises (and keeps the old config) when it is bad."""
        async with self._reload_lock:  # SIGHUP and /-/reload at once run one after the other
            try:
                await self._reload()
            except SpyglassError as exc:
                self.status.failed(str(exc))
                log.error("reloading the configuration failed, keeping the old one: %s", exc)
                raise
            self.status.succeeded()
            log.info("configuration reloaded")

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading the configuration")
        task = asyncio.get_running_loop().create_task(self._reload_quietly())
        self._tasks.add(task)  # keep a reference until it ends
        task.add_done_callback(self._tasks.discard)

    async def _reload_quietly(self) -> None:
        with contextlib.suppress(SpyglassError):  # already logged and recorded
            await self.reload_now()

    # -- routes -----------------------------------------------------------------------------
    async def healthy(self, request: Request) -> Response:
        """Always 200 while the process serves HTTP."""
        del request
        return PlainTextResponse("Spyglass is Healthy.\n")

    async def ready_route(self, request: Request) -> Response:
        """200 once every component has started, 503 before and while stopping."""
        del request
        if self.ready:
            return PlainTextResponse("Spyglass is Ready.\n")
        return PlainTextResponse("Service Unavailable\n", status_code=503)

    async def reload_route(self, request: Request) -> Response:
        """Reload the config: 200, or 500 with the error (the old config stays)."""
        del request
        try:
            await self.reload_now()
        except SpyglassError as exc:
            return PlainTextResponse(f"failed to reload config: {exc}\n", status_code=500)
        return Response(status_code=200)

    async def metrics_route(self, request: Request) -> Response:
        """Spyglass's own metrics, in the format the scraper asks for."""
        body, content_type = self.metrics.render(request.headers.get("accept"))
        return Response(body, media_type=content_type)


__all__ = ["Lifecycle", "ReloadStatus"]
