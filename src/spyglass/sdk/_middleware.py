"""The pure ASGI middleware: metrics, request ID, server span, and the SDK's own endpoints.

Pure ASGI (not Starlette's BaseHTTPMiddleware) so streaming responses stream and the per-request
cost stays a few dict lookups. It only observes: the request and response pass through
unchanged except for the added request-ID header.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from spyglass.sdk._metrics import HttpMetrics
from spyglass.sdk._request_id import _current, request_id_from
from spyglass.sdk._routes import UNMATCHED, route_template

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Endpoint = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logging.getLogger("spyglass.sdk")

# Anything else (a scanner's "FOO", a typo) shares one label value, so methods cannot make
# series without bound.
_KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)


class _HeaderGetter:
    """OpenTelemetry propagation Getter over ASGI's list of (name, value) byte pairs."""

    def get(self, carrier: Sequence[tuple[bytes, bytes]], key: str) -> list[str] | None:
        name = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier if k.lower() == name]
        return found or None

    def keys(self, carrier: Sequence[tuple[bytes, bytes]]) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier]


_GETTER = _HeaderGetter()


class Middleware:
    """ASGI middleware; built by ``instrument()``, not meant to be constructed by hand."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpMetrics,
        routes: Callable[[], Sequence[Any]],
        endpoints: dict[str, Endpoint],
        request_id_header: str,
        tracer: Any,
        access_log: bool,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.endpoints = endpoints
        self.header = request_id_header.lower().encode("latin-1")
        self.tracer = tracer
        self.access_log = access_log
        if tracer is not None:
            from opentelemetry import context, propagate, trace  # noqa: PLC0415

            self._context = context
            self._propagate = propagate
            self._trace = trace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = self.endpoints.get(scope.get("path", ""))
        if endpoint is not None:
            await endpoint(scope, receive, send)
            return
        await self._observe(scope, receive, send)

    async def _observe(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        method = scope.get("method", "GET")
        method = method if method in _KNOWN_METHODS else "OTHER"
        route = route_template(self.routes(), dict(scope))
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        incoming = None
        for name, value in headers:
            if name.lower() == self.header:
                incoming = value
                break
        request_id = request_id_from(incoming)
        rid_header = (self.header, request_id.encode("ascii"))
        status = 0
        request_bytes = 0
        response_bytes = 0
        header_name = self.header

        async def receive_counted() -> Message:
            nonlocal request_bytes
            message = await receive()
            if message.get("type") == "http.request":
                request_bytes += len(message.get("body", b""))
            return message

        async def send_observed(message: Message) -> None:
            nonlocal status, response_bytes
            kind = message.get("type")
            if kind == "http.response.start":
                status = int(message.get("status", 0))
                out = [h for h in message.get("headers", ()) if h[0].lower() != header_name]
                out.append(rid_header)
                message = {**message, "headers": out}
            elif kind == "http.response.body":
                response_bytes += len(message.get("body", b""))
            await send(message)

        in_progress = self.metrics.in_progress.labels(method, route)
        in_progress.inc()
        rid_token = _current.set(request_id)
        span = None
        ctx_token = None
        if self.tracer is not None:
            span, ctx_token = self._start_span(scope, headers, method, route, request_id)
        failed: BaseException | None = None
        try:
            await self.app(scope, receive_counted, send_observed)
        except BaseException as exc:
            failed = exc
            raise
        finally:
            # An exception is a failed request whatever was already sent.
            code = 500 if failed is not None or status == 0 else status
            elapsed = time.perf_counter() - start
            try:
                m = self.metrics
                m.requests.labels(method, route, str(code)).inc()
                m.duration.labels(method, route).observe(elapsed)
                m.request_size.labels(method, route).observe(request_bytes)
                m.response_size.labels(method, route).observe(response_bytes)
                in_progress.dec()
                if span is not None:
                    self._end_span(span, ctx_token, code, failed)
                if self.access_log:
                    _log.info(
                        "%s %s %d",
                        method,
                        route,
                        code,
                        extra={
                            "http_method": method,
                            "route": route,
                            "status_code": code,
                            "duration_ms": round(elapsed * 1000, 3),
                        },
                    )
            except Exception:  # noqa: BLE001 - telemetry never breaks the response
                _log.exception("spyglass.sdk: recording a request failed")
            finally:
                _current.reset(rid_token)

    def _start_span(
        self,
        scope: Scope,
        headers: list[tuple[bytes, bytes]],
        method: str,
        route: str,
        request_id: str,
    ) -> tuple[Any, Any]:
        try:
            # Without a traceparent header the span continues whatever span an outer
            # middleware made current, rather than starting a second root.
            parent = self._propagate.extract(
                headers,
                context=self._context.get_current(),
                getter=_GETTER,  # type: ignore[arg-type]
            )
            attributes: dict[str, Any] = {
                "http.request.method": method,
                "url.path": scope.get("path", ""),
                "url.scheme": scope.get("scheme", "http"),
                "request.id": request_id,
            }
            if route != UNMATCHED:
                attributes["http.route"] = route
            server = scope.get("server")
            if server:
                attributes["server.address"] = str(server[0])
                if server[1] is not None:
                    attributes["server.port"] = int(server[1])
            client = scope.get("client")
            if client:
                attributes["client.address"] = str(client[0])
            span = self.tracer.start_span(
                f"{method} {route}" if route != UNMATCHED else method,
                context=parent,
                kind=self._trace.SpanKind.SERVER,
                attributes=attributes,
            )
            token = self._context.attach(self._trace.set_span_in_context(span, parent))
        except Exception:  # noqa: BLE001 - no span rather than no response
            _log.exception("spyglass.sdk: starting a span failed")
            return None, None
        return span, token

    def _end_span(self, span: Any, token: Any, code: int, failed: BaseException | None) -> None:
        try:
            span.set_attribute("http.response.status_code", code)
            if failed is not None:
                span.record_exception(failed)
            if failed is not None or code >= 500:
                span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
                span.set_attribute("error.type", type(failed).__name__ if failed else str(code))
            span.end()
        finally:
            self._context.detach(token)


__all__ = ["ASGIApp", "Endpoint", "Middleware"]
