"""The pure ASGI middleware: metrics, request ID, server span, and the SDK's own endpoints.

Pure ASGI (not Starlette's BaseHTTPMiddleware) so streaming responses stream and the per-request
cost stays a few dict lookups. It only observes: the request and response pass through
unchanged except for the added request-ID header.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextvars import Token
from operator import itemgetter, methodcaller
from time import perf_counter
from typing import Any

from spyglass.sdk._ids import random_bits
from spyglass.sdk._metrics import HttpRecorder, RouteRecorder
from spyglass.sdk._request_id import V4_CLEAR, V4_SET, _current, request_id_from
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
_LOW_64 = (1 << 64) - 1
_name_of = itemgetter(0)
_lower = methodcaller("lower")
_islower = methodcaller("islower")


def _exemplar(span: Any) -> dict[str, str]:
    """OpenMetrics exemplar labels pointing at a sampled request's trace.

    Only sampled spans are referenced: an exemplar is for jumping from a graph to a trace, and
    an unsampled trace is never stored anywhere.
    """
    ctx = span.get_span_context()
    return {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}


class Middleware:
    """ASGI middleware; built by ``instrument()``, not meant to be constructed by hand."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpRecorder,
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
        # to, and the metrics of a (method, route). Both are bounded: paths by a size cap (IDs
        # in paths would grow it forever), routes by the app's route table.
        self._route_cache: dict[tuple[str, str], tuple[str, RouteRecorder | None]] = {}
        self._route_table: Sequence[Any] | None = None
        self._route_count = -1
        self._recorders: dict[tuple[str, str], RouteRecorder] = {}
        if tracer is not None:
            from opentelemetry import propagate, trace  # noqa: PLC0415

            from spyglass.sdk._tracing import context_ops  # noqa: PLC0415 - needs OpenTelemetry

            ops = context_ops()
            self._get_context = ops.get
            self._attach = ops.attach
            self._detach = ops.detach
            self._request_context = ops.request_context
            self._propagate = propagate
            self._trace = trace
            self._server_kind = trace.SpanKind.SERVER
            if fast_root is not None:
                # A new root whose trace ID's low 64 bits reach this is not sampled.
                self._sampled_below = fast_root.bound
                self._unsampled_span = fast_root.unsampled_span
                self._new_span_id = fast_root.new_span_id
            else:
                self._sampled_below = _LOW_64 + 1  # none reach it: all go to _start_span
            try:
                fields = propagate.get_global_textmap().fields
                self._propagation_headers = frozenset(f.lower().encode("latin-1") for f in fields)
            except Exception:  # noqa: BLE001 - a custom propagator without fields: always extract
                self._propagation_headers = _ALWAYS
        else:
            self._propagation_headers = frozenset()

    # One coroutine for the whole request (no helper coroutine per request): this runs for
    # every request the app serves, so its Python-level calls are kept few on purpose.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        endpoint = self.endpoints.get(path)
        if endpoint is not None:
            await endpoint(scope, receive, send)
            return
        start = perf_counter()
        method = scope.get("method", "GET")
        if method not in _KNOWN_METHODS:
            method = "OTHER"
        routes = self.routes()
        if routes is not self._route_table or len(routes) != self._route_count:
            # Routes added after start (or a new table): forget what was resolved before.
            self._route_cache.clear()
            self._route_table = routes
            self._route_count = len(routes)
        cached = self._route_cache.get((method, path))
        route, recorder = self._resolve(method, path, scope) if cached is None else cached
        # A dict of the headers answers each lookup in C rather than in a Python loop over every
        # header. ASGI servers give names in lowercase, but an adapter or test client may not:
        # the check that they are is one C pass too. On repeated names the last one counts.
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        by_name = dict(headers)
        if not all(map(_islower, by_name)):
            by_name = {name.lower(): value for name, value in headers}
        header_name = self.header
        incoming = by_name.get(header_name)
        propagation = self._propagation_headers
        propagated = propagation is _ALWAYS or not propagation.isdisjoint(by_name)
        if incoming is None:
            # new_request_id(), inline.
            request_id = ((random_bits(128) & V4_CLEAR) | V4_SET).to_bytes(16, "big").hex()
        else:
            request_id = request_id_from(incoming)
        rid_header = (header_name, request_id.encode("ascii"))
        status = 0
        response_bytes = 0
        # The request body's size is its Content-Length (an HTTP/1 server has checked the body
        # against it); receive is only wrapped to count a body of unknown length.
        request_bytes = _declared_length(by_name, scope)
        counted_receive = receive

        rid_token: Token[str | None] | None = None
        ctx_token = None
        # The OpenTelemetry context current when the request came in.
        outer: Any = None

        # A plain function returning the server's own awaitable, not a coroutine around it:
        # that saves a coroutine object and frame on every message sent.
        def send_observed(message: Message) -> Awaitable[None]:
            nonlocal status, response_bytes
            kind = message.get("type")
            if kind == "http.response.body":
                body = message.get("body")
                if body:
                    response_bytes += len(body)
                last = not message.get("more_body")
                if last and (ctx_token is not None or rid_token is not None):
                    return send_last(message)
            elif kind == "http.response.start":
                status = int(message.get("status", 0))
                out = list(message.get("headers") or ())
                # An ID the app set itself is replaced (checked in C: most responses have none).
                if header_name in map(_lower, map(_name_of, out)):
                    out = [h for h in out if h[0].lower() != header_name]
                out.append(rid_header)
                message = {**message, "headers": out}
            return send(message)

        async def send_last(message: Message) -> None:
            # The server finishes the response under the context as it was before the request.
            # What it schedules then copies the current context: uvicorn's keep-alive timer
            # keeps it for seconds, and a pipelined next request's task starts in it. With the
            # request's trace context and span in it, each finished request left objects alive
            # long enough to be promoted by the garbage collector, whose full collections then
            # cost more than this does; and neither a timer nor the next request has any
            # business logging under a finished request's IDs. Set and reset here, in whatever
            # task sends: background tasks run after the response and log under the request.
            if ctx_token is not None:
                before = self._attach(outer)
                try:
                    await send(message)
                finally:
                    self._detach(before)
            else:
                rid_before = _current.set(None)
                try:
                    await send(message)
                finally:
                    _current.reset(rid_before)

        if request_bytes is None:
            request_bytes = 0

            async def receive_counted() -> Message:
                nonlocal request_bytes
                message = await receive()
                body = message.get("body")
                if body:
                    request_bytes += len(body)
                return message

            counted_receive = receive_counted

        if recorder is None:
            # Serve the request unobserved rather than fail it.
            await self.app(scope, receive, send_observed)
            return
        recorder.start()
        span = None
        recording = False
        if self.tracer is not None:
            # The request ID goes in the context with the span: one context change, not two.
            outer = self._get_context()
            trace_id = random_bits(128) or 1  # zero is the invalid trace ID
            if not outer and not propagated and (trace_id & _LOW_64) >= self._sampled_below:
                # Most requests: a new root (no parent in the context or the headers) that the
                # ratio does not sample. Made here rather than in _start_span, a call with six
                # arguments and a tuple returned, on every request.
                try:
                    span = self._unsampled_span(trace_id, self._new_span_id)
                    ctx_token = self._attach(self._request_context(span, outer, request_id))
                except Exception:  # noqa: BLE001 - no span rather than no response
                    _log.exception("spyglass.sdk: starting a span failed")
                    span = None
            else:
                span, recording, ctx_token = self._start_span(
                    outer,
                    scope,
                    headers if propagated else None,
                    method,
                    route,
                    request_id=request_id,
                    trace_id=trace_id,
                )
        if ctx_token is None:
            rid_token = _current.set(request_id)
        failed: BaseException | None = None
        try:
            await self.app(scope, counted_receive, send_observed)
        except BaseException as exc:
            failed = exc
            raise
        finally:
            # An exception is a failed request whatever was already sent.
            code = 500 if failed is not None or status == 0 else status
            elapsed = perf_counter() - start
            try:
                exemplar = _exemplar(span) if recording else None
                recorder.record(code, elapsed, request_bytes, response_bytes, exemplar)
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
                try:
                    recorder.done()
                except Exception:  # noqa: BLE001 - same
                    _log.exception("spyglass.sdk: recording a request failed")
                if ctx_token is not None:
                    if recording:
                        try:
                            self._end_span(span, code, failed)
                        except Exception:  # noqa: BLE001 - same
                            _log.exception("spyglass.sdk: ending a span failed")
                    try:
                        self._detach(ctx_token)
                    except Exception:  # noqa: BLE001 - same
                        _log.exception("spyglass.sdk: restoring the trace context failed")
                elif rid_token is not None:
                    _current.reset(rid_token)

    def _resolve(self, method: str, path: str, scope: Scope) -> tuple[str, RouteRecorder | None]:
        """The route template of a request and its metrics, remembered for its (method, path)."""
        route = route_template(self._route_table or (), dict(scope))
        recorder = self._recorders.get((method, route))
        if recorder is None:
            try:
                recorder = self._recorders[(method, route)] = self.metrics.route(method, route)
            except Exception:  # noqa: BLE001 - the caller serves the request unobserved
                _log.exception("spyglass.sdk: preparing metrics failed")
                return route, None  # not remembered: the next request tries again
        if len(self._route_cache) < _ROUTE_CACHE_SIZE:
            self._route_cache[(method, path)] = (route, recorder)
        return route, recorder

    def _start_span(
        self,
        parent: Any,
        scope: Scope,
        headers: list[tuple[bytes, bytes]] | None,
        method: str,
        route: str,
        *,
        request_id: str,
        trace_id: int,
    ) -> tuple[Any, bool, Any]:
        """The request's span, whether it records, and the token of its attached context.

        ``parent`` is the current context: without a propagation header the span continues
        whatever span an outer middleware made current, rather than starting a second root.
        ``trace_id`` is the trace ID a new root gets.
        """
        trace = self._trace
        token = None
        # Method and route template, or the method alone off the routes.
        name = f"{method} {route}" if route != UNMATCHED else method
        try:
            if headers is not None:
                parent = self._propagate.extract(
                    headers,
                    context=parent,
                    getter=_GETTER,  # type: ignore[arg-type]
                )
            fast = self.fast_root
            # An empty context holds no span (the usual case in a server): no need to look.
            new_root = fast is not None and (
                not parent or not trace.get_current_span(parent).get_span_context().is_valid
            )
            if new_root:
                # TraceIdRatioBased's rule: the trace ID's low 64 bits below the ratio's bound.
                if (trace_id & _LOW_64) < fast.bound:
                    # All attributes at once, on a span that is to processors and exporters
                    # what the SDK's Tracer would have made (see server_span_class).
                    span = fast.server_span(
                        name,
                        trace_id,
                        fast.new_span_id(),
                        _request_attributes(method, scope, route, request_id),
                        parent,
                    )
                    recording = True
                else:
                    span = fast.unsampled_span(trace_id, fast.new_span_id)
                    recording = False
                token = self._attach(self._request_context(span, parent, request_id))
                return span, recording, token
            # The attributes are given at the start, where a sampler can see them.
            span = self.tracer.start_span(
                name,
                context=parent,
                kind=self._server_kind,
                attributes=_request_attributes(method, scope, route, request_id),
            )
            token = self._attach(self._request_context(span, parent, request_id))
            recording = bool(span.is_recording())
        except Exception:  # noqa: BLE001 - no span rather than no response
            _log.exception("spyglass.sdk: starting a span failed")
            if token is not None:
                self._detach(token)
            return None, False, None
        return span, recording, token

    def _end_span(self, span: Any, code: int, failed: BaseException | None) -> None:
        """End a recording request span with the response's status."""
        span.set_attribute("http.response.status_code", code)
        if failed is not None:
            span.record_exception(failed)
        if failed is not None or code >= 500:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
            span.set_attribute("error.type", type(failed).__name__ if failed else str(code))
        span.end()


def _declared_length(by_name: dict[bytes, bytes], scope: Scope) -> int | None:
    """The request body's size when known without reading it, else None.

    A valid Content-Length gives it; without one an HTTP/1 request has no body unless it is
    chunked. HTTP/2 and 3 may send a body without declaring its length.
    """
    length = by_name.get(b"content-length")
    if length is not None:
        # A value that is no plain number (or absurdly long: int() refuses over 4300 digits)
        # is left to the server; the body is then counted as it is read.
        return int(length) if length.isdigit() and len(length) <= 18 else None
    if b"transfer-encoding" in by_name or scope.get("http_version") not in ("1.1", "1.0"):
        return None
    return 0


def _request_attributes(method: str, scope: Scope, route: str, request_id: str) -> dict[str, Any]:
    """A server span's request attributes (OpenTelemetry's HTTP conventions)."""
    attributes = {
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
    return attributes


__all__ = ["ASGIApp", "Endpoint", "Middleware"]
