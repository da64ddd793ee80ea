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
_ROUTE_CACHE_SIZE = 4096
# Extraction is skipped when a request has none of the headers the global propagator reads
# (traceparent, tracestate, baggage by default): that saves its cost on most requests.
_ALWAYS: frozenset[bytes] = frozenset((b"*",))


def _exemplar(span: Any) -> dict[str, str] | None:
    """OpenMetrics exemplar labels pointing at a sampled request's trace, else None.

    Only sampled spans are referenced: an exemplar is for jumping from a graph to a trace, and
    an unsampled trace is never stored anywhere.
    """
    if span is None or not span.is_recording():
        return None
    ctx = span.get_span_context()
    return {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}


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
        fast_root: Any = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.endpoints = endpoints
        self.header = request_id_header.lower().encode("latin-1")
        self.tracer = tracer
        self.access_log = access_log
        self.fast_root = fast_root
        # Per-request costs that need not be paid again: the route a (method, path) resolves
        # to, and the labelled metric children of a (method, route). Both are bounded: paths by
        # a size cap (IDs in paths would grow it forever), routes by the app's route table.
        self._route_cache: dict[tuple[str, str], str] = {}
        self._route_table: tuple[int, int] = (0, -1)
        self._children: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {}
        self._counters: dict[tuple[str, str, int], Any] = {}
        if tracer is not None:
            from opentelemetry import context, propagate, trace  # noqa: PLC0415

            self._context = context
            self._propagate = propagate
            self._trace = trace
            try:
                fields = propagate.get_global_textmap().fields
                self._propagation_headers = frozenset(f.lower().encode("latin-1") for f in fields)
            except Exception:  # noqa: BLE001 - a custom propagator without fields: always extract
                self._propagation_headers = _ALWAYS
        else:
            self._propagation_headers = frozenset()

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
        route = self._route(method, scope)
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        incoming = None
        propagated = False
        for name, value in headers:
            lname = name.lower()
            if lname == self.header:
                incoming = value
            elif lname in self._propagation_headers:
                propagated = True
        if self._propagation_headers is _ALWAYS:
            propagated = True
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

        children = self._children.get((method, route))
        if children is None:
            try:
                m = self.metrics
                children = (
                    m.in_progress.labels(method, route),
                    m.duration.labels(method, route),
                    m.request_size.labels(method, route),
                    m.response_size.labels(method, route),
                )
            except Exception:  # noqa: BLE001 - serve the request unobserved rather than fail it
                _log.exception("spyglass.sdk: preparing metrics failed")
                await self.app(scope, receive, send_observed)
                return
            self._children[(method, route)] = children
        in_progress, duration, request_size, response_size = children
        in_progress.inc()
        rid_token = _current.set(request_id)
        span = None
        ctx_token = None
        if self.tracer is not None:
            span, ctx_token = self._start_span(
                scope, headers if propagated else None, method, route, request_id
            )
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
                exemplar = _exemplar(span)
                counter = self._counters.get((method, route, code))
                if counter is None:
                    counter = self.metrics.requests.labels(method, route, str(code))
                    self._counters[(method, route, code)] = counter
                counter.inc(1, exemplar)
                duration.observe(elapsed, exemplar)
                request_size.observe(request_bytes)
                response_size.observe(response_bytes)
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
                # Whatever failed above, the gauge, the span's context and the request ID
                # context must be restored, or they would leak into later requests.
                in_progress.dec()
                if span is not None:
                    try:
                        self._end_span(span, ctx_token, code, failed)
                    except Exception:  # noqa: BLE001 - same
                        _log.exception("spyglass.sdk: ending a span failed")
                _current.reset(rid_token)

    def _route(self, method: str, scope: Scope) -> str:
        routes = self.routes()
        table = (id(routes), len(routes))
        if table != self._route_table:
            # Routes added after start (or a new table): forget what was resolved before.
            self._route_cache.clear()
            self._route_table = table
        key = (method, scope.get("path", ""))
        route = self._route_cache.get(key)
        if route is None:
            route = route_template(routes, dict(scope))
            if len(self._route_cache) < _ROUTE_CACHE_SIZE:
                self._route_cache[key] = route
        return route

    def _start_span(
        self,
        scope: Scope,
        headers: list[tuple[bytes, bytes]] | None,
        method: str,
        route: str,
        request_id: str,
    ) -> tuple[Any, Any]:
        token = None
        try:
            # Without a propagation header the span continues whatever span an outer
            # middleware made current, rather than starting a second root.
            parent = self._context.get_current()
            if headers is not None:
                parent = self._propagate.extract(
                    headers,
                    context=parent,
                    getter=_GETTER,  # type: ignore[arg-type]
                )
            name = f"{method} {route}" if route != UNMATCHED else method
            trace = self._trace
            if self.fast_root is not None and not trace.get_current_span(parent).is_recording():
                # No recording parent span: a root (or a child of a caller's context).
                span = self._fast_span(parent)
                if span is not None:
                    token = self._context.attach(trace.set_span_in_context(span, parent))
                    return span, token
            span = self.tracer.start_span(
                name,
                context=parent,
                kind=self._trace.SpanKind.SERVER,
                attributes={"http.request.method": method},
            )
            token = self._context.attach(self._trace.set_span_in_context(span, parent))
            if not span.is_recording():
                # Not sampled: skip building attributes nobody will see.
                return span, token
            attributes: dict[str, Any] = {
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
            span.set_attributes(attributes)
        except Exception:  # noqa: BLE001 - no span rather than no response
            _log.exception("spyglass.sdk: starting a span failed")
            if token is not None:
                self._context.detach(token)
            return None, None
        return span, token

    def _fast_span(self, parent: Any) -> Any:
        """A non-recording span for an unsampled new root; None to let the SDK decide."""
        trace = self._trace
        if trace.get_current_span(parent).get_span_context().is_valid:
            return None  # a caller's context: ParentBased follows its sampled flag
        trace_id, sampled = self.fast_root.new_trace_id()
        if sampled:
            self.fast_root.ids.preset(trace_id)
            return None
        return trace.NonRecordingSpan(
            trace.SpanContext(
                trace_id,
                self.fast_root.new_span_id(),
                is_remote=False,
                trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT),
            )
        )

    def _end_span(self, span: Any, token: Any, code: int, failed: BaseException | None) -> None:
        try:
            if not span.is_recording():
                return
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
