"""Track every call an httpx client makes to an external service, errors included.

A transport wrapper rather than event hooks: hooks never see a request that fails to connect
or times out, which are the failures a dependency dashboard exists for.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry

from spyglass.sdk._timing import Timed, track_external_call


class TrackedTransport:
    """httpx transport recording ``external_call_duration_seconds`` / ``external_calls_total``
    per request (labels: service, operation = HTTP method, outcome), then delegating.

    ``outcome`` is ``success`` below status 400, else ``error``; a transport exception (connect
    error, timeout) is an ``error`` and is re-raised unchanged.
    """

    def __init__(self, service: str, inner: Any, registry: CollectorRegistry | None) -> None:
        self.service = service
        self.inner = inner
        self.registry = registry
        self._timers: dict[str, Timed] = {}

    def _timer(self, method: str) -> Timed:
        timer = self._timers.get(method)
        if timer is None:
            timer = track_external_call(self.service, method, registry=self.registry)
            self._timers[method] = timer
        return timer

    def handle_request(self, request: Any) -> Any:
        """Sync transport entry point."""
        start = time.perf_counter()
        outcome = "error"
        try:
            response = self.inner.handle_request(request)
            outcome = "success" if response.status_code < 400 else "error"
            return response
        finally:
            self._timer(request.method).record(time.perf_counter() - start, outcome)

    async def handle_async_request(self, request: Any) -> Any:
        """Async transport entry point."""
        start = time.perf_counter()
        outcome = "error"
        try:
            response = await self.inner.handle_async_request(request)
            outcome = "success" if response.status_code < 400 else "error"
            return response
        finally:
            self._timer(request.method).record(time.perf_counter() - start, outcome)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()

    async def aclose(self) -> None:
        """Close the wrapped async transport."""
        await self.inner.aclose()

    def __enter__(self) -> TrackedTransport:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)

    async def __aenter__(self) -> TrackedTransport:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.inner.__aexit__(*exc)


def tracked_transport(
    service: str,
    transport: Any = None,
    *,
    asynchronous: bool = False,
    registry: CollectorRegistry | None = None,
) -> TrackedTransport:
    """A transport for ``httpx.Client(transport=...)`` (or ``AsyncClient`` with
    ``asynchronous=True``) that tracks calls to ``service``; wraps ``transport`` if given."""
    if transport is None:
        import httpx  # noqa: PLC0415 - optional dependency

        transport = httpx.AsyncHTTPTransport() if asynchronous else httpx.HTTPTransport()
    return TrackedTransport(service, transport, registry)


__all__ = ["TrackedTransport", "tracked_transport"]
