"""``instrument(app, service=...)``: the one call that wires metrics, IDs, logs, traces, health.

For a Starlette or FastAPI app the middleware is put outermost (around Starlette's own error
middleware), so a handler's exception is seen as the 500 the client gets, and the response still
carries the request ID. Any other ASGI app is wrapped: serve ``Instrumentation.app`` instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from operator import attrgetter
from typing import Any, TextIO

from prometheus_client import REGISTRY, CollectorRegistry

from spyglass.sdk._health import Health, Status
from spyglass.sdk._log_export import LogShipper, ship_logs_from_env
from spyglass.sdk._logging import DEFAULT_REDACT_KEYS, configure_logging
from spyglass.sdk._metrics import DURATION_BUCKETS, HttpRecorder, http_recorder, render
from spyglass.sdk._middleware import ASGIApp, Endpoint, Middleware, Receive, Scope, Send
from spyglass.sdk._timing import Timed, set_default_registry, timed, track_external_call
from spyglass.sdk._tracing import TRACER_NAME, setup_tracing

_log = logging.getLogger("spyglass.sdk")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class Options:
    """Every option of ``instrument()``, with its default and meaning (docs/sdk.md lists them)."""

    registry: CollectorRegistry | None = field(
        default=None,
        metadata=_help("prometheus_client registry for the metrics; default a new one"),
    )
    use_global_registry: bool = field(
        default=False,
        metadata=_help("use prometheus_client's global REGISTRY when no registry is given"),
    )
    metrics_path: str | None = field(
        default="/metrics", metadata=_help("path serving the metrics page; None turns it off")
    )
    duration_buckets: tuple[float, ...] = field(
        default=DURATION_BUCKETS,
        metadata=_help("bucket bounds of http_request_duration_seconds"),
    )
    health: Health | None = field(
        default=None, metadata=_help("the Health whose checks /health runs; default a new one")
    )
    health_path: str | None = field(
        default="/health",
        metadata=_help("base of /health, /health/live, /health/ready; None turns them off"),
    )
    request_id_header: str = field(
        default="X-Request-ID", metadata=_help("header read and echoed as the request ID")
    )
    logging: bool = field(
        default=True, metadata=_help("configure structlog + stdlib logging as JSON lines")
    )
    log_level: str = field(default="INFO", metadata=_help("root log level"))
    log_stream: TextIO | None = field(
        default=None, metadata=_help("where JSON log lines go; default stdout")
    )
    redact_keys: tuple[str, ...] = field(
        default=DEFAULT_REDACT_KEYS,
        metadata=_help("key substrings whose values are replaced by [REDACTED] in logs"),
    )
    ship_logs: bool | None = field(
        default=None,
        metadata=_help(
            "also send the JSON log records over OTLP/HTTP logs (/v1/logs, batched in a "
            "background thread); default on when OTEL_LOGS_EXPORTER names otlp"
        ),
    )
    access_log: bool = field(
        default=False, metadata=_help("log one line per request (method, route, status, ms)")
    )
    tracing: bool = field(
        default=True, metadata=_help("make a server span per request (needs opentelemetry-sdk)")
    )
    otlp_endpoint: str | None = field(
        default=None,
        metadata=_help(
            "OTLP/HTTP endpoint (traces and shipped logs); default "
            "OTEL_EXPORTER_OTLP_(TRACES_|LOGS_)ENDPOINT, else http://127.0.0.1:4318"
        ),
    )
    sample_ratio: float | None = field(
        default=None,
        metadata=_help(
            "share of new traces sampled (ParentBased(TraceIdRatio)); default "
            "OTEL_TRACES_SAMPLER/OTEL_TRACES_SAMPLER_ARG, else 1.0"
        ),
    )
    span_exporter: Any = field(
        default=None, metadata=_help("a SpanExporter used instead of the OTLP one")
    )
    instrument_libraries: bool = field(
        default=True,
        metadata=_help("switch on httpx/requests/SQLAlchemy/Redis tracing when installed"),
    )


OPTION_NAMES = tuple(f.name for f in fields(Options))
_MARK = "_spyglass_sdk_instrumented"


class Instrumentation:
    """What ``instrument()`` built: the registry, health checks, tracer and helpers."""

    def __init__(self, app: Any, service: str, options: Options) -> None:
        self.service = service
        self.options = options
        registry = options.registry
        if registry is None:
            registry = REGISTRY if options.use_global_registry else CollectorRegistry()
        self.registry: CollectorRegistry = registry
        set_default_registry(registry)
        self.health: Health = options.health if options.health is not None else Health()
        self.metrics: HttpRecorder = http_recorder(registry, options.duration_buckets)
        self.log_shipper: LogShipper | None = None
        ship = options.ship_logs if options.ship_logs is not None else ship_logs_from_env()
        if ship and not options.logging:
            _log.warning("spyglass.sdk: ship_logs needs logging=True; logs are not shipped")
        elif ship:
            self.log_shipper = _log_shipper(service, options.otlp_endpoint, registry)
        if options.logging:
            configure_logging(
                service,
                level=options.log_level,
                stream=options.log_stream,
                redact_keys=options.redact_keys,
                shipper=self.log_shipper,
            )
        self.tracer_provider: Any = None
        self.tracer: Any = None
        if options.tracing:
            self.tracer_provider = setup_tracing(
                service,
                endpoint=options.otlp_endpoint,
                sample_ratio=options.sample_ratio,
                exporter=options.span_exporter,
                instrument_libraries=options.instrument_libraries,
            )
            if self.tracer_provider is not None:
                self.tracer = self.tracer_provider.get_tracer(TRACER_NAME)
                _quiet_native_fastapi_tracing(app)
        self._target = app
        self.app: ASGIApp = self._attach(app)

    # -- wiring ---------------------------------------------------------------------------

    def _routes(self) -> Sequence[Any]:
        routes = getattr(self._target, "routes", None)
        # Concrete types first: this runs per request and ABC checks are slow.
        if isinstance(routes, (list, tuple, Sequence)):
            return routes
        return ()

    def _routes_getter(self) -> Callable[[], Sequence[Any]]:
        router = getattr(self._target, "router", None)
        if isinstance(getattr(router, "routes", None), list):
            # Starlette/FastAPI keep the table on their router: read it there with C-level
            # callables, no Python frame per request (app.routes is a property around it).
            return partial(attrgetter("routes"), router)
        return self._routes

    def _endpoints(self) -> dict[str, Endpoint]:
        out: dict[str, Endpoint] = {}
        if self.options.metrics_path:
            out[self.options.metrics_path] = self._serve_metrics
        base = self.options.health_path
        if base:
            base = base.rstrip("/") or ""
            out[base or "/"] = self._serve_health
            out[base + "/live"] = self._serve_live
            out[base + "/ready"] = self._serve_ready
        return out

    def _middleware(self, inner: ASGIApp) -> Middleware:
        return Middleware(
            inner,
            metrics=self.metrics,
            routes=self._routes_getter(),
            endpoints=self._endpoints(),
            request_id_header=self.options.request_id_header,
            tracer=self.tracer,
            access_log=self.options.access_log,
            fast_root=getattr(self.tracer_provider, "spyglass_fast_root", None),
        )

    def _attach(self, app: Any) -> ASGIApp:
        if getattr(app, _MARK, False):
            # A second middleware would count every request twice.
            raise RuntimeError("this app is already instrumented")
        build = getattr(app, "build_middleware_stack", None)
        if callable(build) and getattr(app, "middleware_stack", "absent") is None:
            # Starlette builds its middleware stack on the first request; wrapping the builder
            # puts us around ServerErrorMiddleware, and add_middleware() later still works.
            def build_with_sdk() -> ASGIApp:
                return self._middleware(build())

            app.build_middleware_stack = build_with_sdk
            setattr(app, _MARK, True)
            return app  # type: ignore[no-any-return]
        return self._middleware(app)

    # -- endpoints --------------------------------------------------------------------------

    async def _serve_metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = ""
        for name, value in scope.get("headers") or ():
            if name.lower() == b"accept":
                accept = value.decode("latin-1")
        try:
            body, content_type = render(self.registry, accept)
            status = 200
        except Exception:  # noqa: BLE001 - a failing collector answers 500, the app lives on
            _log.exception("spyglass.sdk: rendering metrics failed")
            body, content_type, status = b"metrics collection failed\n", "text/plain", 500
        await _respond(send, status, body, content_type)

    async def _serve_live(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _respond_json(send, 200, {"status": "alive", "service": self.service})

    async def _serve_ready(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, doc = await self._health_doc()
        code = 503 if status is Status.UNHEALTHY else 200
        await _respond_json(send, code, {"status": doc["status"], "service": self.service})

    async def _serve_health(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, doc = await self._health_doc()
        await _respond_json(send, 503 if status is Status.UNHEALTHY else 200, doc)

    async def _health_doc(self) -> tuple[Status, dict[str, Any]]:
        try:
            report = await self.health.report()
        except Exception as exc:  # noqa: BLE001 - Health.report does not raise; belt and braces
            _log.exception("spyglass.sdk: health report failed")
            return Status.UNHEALTHY, {"status": "unhealthy", "message": repr(exc)[:200]}
        doc = report.to_dict()
        doc["service"] = self.service
        return report.status, doc

    # -- helpers ----------------------------------------------------------------------------

    def timed(self, name: str, labels: dict[str, str] | None = None) -> Timed:
        """``timed`` on this instrumentation's registry."""
        return timed(name, labels, registry=self.registry)

    def track_external_call(self, service: str, operation: str = "call") -> Timed:
        """``track_external_call`` on this instrumentation's registry."""
        return track_external_call(service, operation, registry=self.registry)

    def instrument_sqlalchemy(self, engine: Any) -> None:
        """Query duration metrics for ``engine`` on this instrumentation's registry."""
        from spyglass.sdk._sqlalchemy import instrument_sqlalchemy  # noqa: PLC0415

        instrument_sqlalchemy(engine, registry=self.registry)

    def force_flush(self, timeout_s: float = 10.0) -> bool:
        """Export pending spans and shipped log records now; False when that did not finish in
        time."""
        done = True
        if self.tracer_provider is not None:
            done = bool(self.tracer_provider.force_flush(int(timeout_s * 1000)))
        if self.log_shipper is not None:
            done = self.log_shipper.force_flush(timeout_s) and done
        return done

    def shutdown(self) -> None:
        """Flush and stop span export and log shipping (call on application shutdown)."""
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.log_shipper is not None:
            logging.getLogger().removeHandler(self.log_shipper)
            self.log_shipper.shutdown()


def _log_shipper(
    service: str, endpoint: str | None, registry: CollectorRegistry
) -> LogShipper | None:
    """The shipper, or None (with a log line) when its endpoint is no URL: telemetry must not
    stop the application from starting."""
    try:
        return LogShipper(service, endpoint=endpoint, registry=registry)
    except ValueError as exc:
        _log.warning("spyglass.sdk: logs are not shipped: %s", exc)
        return None


def _quiet_native_fastapi_tracing(app: Any) -> None:
    """Switch off FastAPI's own request spans (FastAPI >= 0.16x traces natively through the
    global provider) so each request has one server span, ours, named by route template."""
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict) and "tracing" in config:
        config["tracing"] = False


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _respond_json(send: Send, status: int, doc: dict[str, Any]) -> None:
    body = json.dumps(doc, default=repr).encode("utf-8")
    await _respond(send, status, body, "application/json")


def instrument(app: Any, service: str, **options: Any) -> Instrumentation:
    """Instrument an ASGI ``app`` as ``service``; see ``Options`` for every keyword.

    Starlette/FastAPI apps are changed in place (keep serving ``app``); any other ASGI app must
    be served as the returned ``Instrumentation.app``.
    """
    unknown = set(options) - set(OPTION_NAMES)
    if unknown:
        raise TypeError(f"instrument() got unknown options: {', '.join(sorted(unknown))}")
    return Instrumentation(app, service, Options(**options))


__all__ = ["OPTION_NAMES", "Instrumentation", "Options", "instrument"]
