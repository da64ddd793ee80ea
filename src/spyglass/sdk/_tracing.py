"""OpenTelemetry set-up: a TracerProvider exporting OTLP/HTTP protobuf, W3C propagation.

Everything here is optional: without ``opentelemetry-sdk`` installed ``setup_tracing`` returns
None and the middleware makes no spans. Library instrumentations (httpx, requests, SQLAlchemy,
Redis) are switched on only when both the library and its ``opentelemetry-instrumentation-*``
package are importable. Export runs in the BatchSpanProcessor's thread; a collector that is down
costs dropped spans and a log line, never an exception in a request.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from spyglass.sdk._ids import random_bits

_log = logging.getLogger("spyglass.sdk.tracing")

# Spyglass listens for OTLP/HTTP on 4318 like the OpenTelemetry Collector.
DEFAULT_OTLP_ENDPOINT = "http://127.0.0.1:4318"
TRACES_PATH = "/v1/traces"

# (library module, instrumentation module, instrumentor class)
_LIBRARY_INSTRUMENTORS = (
    ("httpx", "opentelemetry.instrumentation.httpx", "HTTPXClientInstrumentor"),
    ("requests", "opentelemetry.instrumentation.requests", "RequestsInstrumentor"),
    ("sqlalchemy", "opentelemetry.instrumentation.sqlalchemy", "SQLAlchemyInstrumentor"),
    ("redis", "opentelemetry.instrumentation.redis", "RedisInstrumentor"),
)


def tracing_available() -> bool:
    """Whether the OpenTelemetry SDK is installed."""
    try:
        importlib.import_module("opentelemetry.sdk.trace")
    except ImportError:
        return False
    return True


def traces_endpoint(endpoint: str | None) -> str:
    """The OTLP/HTTP traces URL: the argument, else the OTEL_* variables, else local Spyglass.

    A base URL gets ``/v1/traces`` appended (as the OTLP exporter spec says for
    OTEL_EXPORTER_OTLP_ENDPOINT); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given.
    """
    if endpoint:
        return endpoint if endpoint.rstrip("/").endswith(TRACES_PATH) else _join(endpoint)
    signal = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if signal:
        return signal
    return _join(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_OTLP_ENDPOINT)


def _join(base: str) -> str:
    return base.rstrip("/") + TRACES_PATH


# OpenTelemetry's variables, read as its SDK reads them.
EXPORT_TIMEOUT_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
SDK_DISABLED_ENV = "OTEL_SDK_DISABLED"
SAMPLER_ENV = "OTEL_TRACES_SAMPLER"
SAMPLER_ARG_ENV = "OTEL_TRACES_SAMPLER_ARG"
# For a new root span (no parent to follow) each known sampler is a ratio of trace IDs.
_ROOT_RATIO = {
    "always_on": 1.0,
    "parentbased_always_on": 1.0,
    "always_off": 0.0,
    "parentbased_always_off": 0.0,
}
_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")


def root_ratio_from_env() -> float:
    """The share of new root spans the OTEL_TRACES_SAMPLER variables sample.

    The same reading as OpenTelemetry's SDK: unset or unknown is ``parentbased_always_on``, a
    ratio sampler whose argument is missing, not a number or outside [0, 1] samples all.
    """
    name = os.environ.get(SAMPLER_ENV, "parentbased_always_on").lower()
    if name in _RATIO_SAMPLERS:
        try:
            ratio = float(os.environ.get(SAMPLER_ARG_ENV, ""))
        except ValueError:
            return 1.0
        return ratio if 0.0 <= ratio <= 1.0 else 1.0
    return _ROOT_RATIO.get(name, 1.0)


def setup_tracing(
    service: str,
    *,
    endpoint: str | None = None,
    sample_ratio: float | None = None,
    exporter: Any = None,
    instrument_libraries: bool = True,
    set_global: bool = True,
    resource_attributes: dict[str, str] | None = None,
) -> Any:
    """A configured ``TracerProvider``, or None when the OpenTelemetry SDK is not installed.

    ``sample_ratio`` makes the sampler ``ParentBased(TraceIdRatioBased(sample_ratio))``; without
    it the OTEL_TRACES_SAMPLER variables choose, as they do for any OpenTelemetry SDK set-up
    (``always_on``, ``traceidratio``, ``parentbased_always_off``...; the default samples all).
    ``exporter`` replaces the OTLP exporter (any SpanExporter). The provider becomes the global
    one when ``set_global`` and no SDK provider is global yet, so ``trace.get_tracer`` in the
    application makes children of the request spans.
    """
    try:
        from opentelemetry import trace  # noqa: PLC0415 - optional dependency
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415
        from opentelemetry.sdk.trace.sampling import (  # noqa: PLC0415
            ParentBased,
            TraceIdRatioBased,
        )
    except ImportError:
        _log.info("opentelemetry-sdk is not installed: tracing is off")
        return None
    if os.environ.get(SDK_DISABLED_ENV, "").strip().lower() == "true":
        # OpenTelemetry's switch for the whole SDK: no spans, and no trace context either.
        _log.info("%s=true: tracing is off", SDK_DISABLED_ENV)
        return None
    if sample_ratio is None:
        # The provider reads the variables itself; the middleware's shortcut for new roots
        # reads them the same way, so both decide alike.
        ratio = root_ratio_from_env()
        sampler = None
    else:
        ratio = min(1.0, max(0.0, float(sample_ratio)))
        sampler = ParentBased(TraceIdRatioBased(ratio))
    attributes: dict[str, str] = {"service.name": service, **(resource_attributes or {})}
    fast_root = FastRoot(ratio)
    provider = TracerProvider(
        resource=_hash_once(Resource.create(attributes)),
        sampler=sampler,
        id_generator=fast_root.ids,  # type: ignore[arg-type]  # duck-typed IdGenerator
    )
    provider.spyglass_fast_root = fast_root  # type: ignore[attr-defined]
    if exporter is None:
        exporter = _otlp_exporter(traces_endpoint(endpoint))
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    if set_global and not _sdk_provider_is_global():
        trace.set_tracer_provider(provider)
    if instrument_libraries:
        instrument_installed_libraries(provider)
    return provider


def _hash_once(resource: Any) -> Any:
    """``resource`` as an equal Resource that computes its hash once.

    The OTLP encoder groups every exported span by its resource, and ``Resource.__hash__``
    serialises all attributes to JSON on each call: about a fifth of the export's cost per
    span. A resource's attributes cannot change, so its hash cannot either.
    """
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 - optional dependency

    class HashedResource(Resource):
        def __init__(self, attributes: Any, schema_url: str | None = None) -> None:
            super().__init__(attributes, schema_url)
            self._hash = super().__hash__()

        def __hash__(self) -> int:
            return self._hash

    return HashedResource(resource.attributes, resource.schema_url)


class _PresetIds:
    """An IdGenerator that hands out a trace ID chosen beforehand, once.

    Other IDs come from the SDK's private generator, not from OpenTelemetry's
    RandomIdGenerator: that one draws from the global ``random`` module, so an application's
    ``random.seed()`` would make span IDs repeat.
    """

    def __init__(self) -> None:
        self._preset = threading.local()

    def preset(self, trace_id: int) -> None:
        self._preset.trace_id = trace_id

    def generate_trace_id(self) -> int:
        trace_id: int | None = getattr(self._preset, "trace_id", None)
        if trace_id is not None:
            self._preset.trace_id = None
            return trace_id
        return _nonzero_bits(128)

    def generate_span_id(self) -> int:
        return _nonzero_bits(64)

    def is_trace_id_random(self) -> bool:
        # Preset IDs are drawn at random as well: the W3C "random" flag holds.
        return True


def _nonzero_bits(n: int) -> int:
    """A random non-zero integer of ``n`` bits (zero is the invalid trace or span ID)."""
    value = random_bits(n)
    while value == 0:
        value = random_bits(n)
    return value


class FastRoot:
    """The sampling decision for a new root span, made before asking the SDK for a span.

    ``ParentBased(TraceIdRatioBased(r))`` decides a root span from its trace ID alone. Most
    requests are not sampled at typical ratios, and the SDK's ``start_span`` costs as much as
    the rest of the middleware; so the middleware draws the trace ID itself, and only for a
    sampled one calls ``start_span`` (with that ID preset, so the SDK reaches the same
    decision). Unsampled requests get a non-recording span with that trace ID, which still
    puts trace_id/span_id in logs and propagates the not-sampled flag downstream; its span ID
    and span context are only made if something asks for them.
    """

    _LIMIT = (1 << 64) - 1

    def __init__(self, ratio: float) -> None:
        self.ids = _PresetIds()
        self.bound = round(ratio * (self._LIMIT + 1))
        # unsampled_span(trace_id, new_span_id): a non-recording root span of trace_id whose
        # span ID is drawn by new_span_id() when first needed (a NonRecordingSpan subclass).
        self.unsampled_span = _unsampled_span_class()

    def new_trace_id(self) -> tuple[int, bool]:
        """A random non-zero trace ID and whether the ratio sampler samples it."""
        trace_id = _nonzero_bits(128)
        return trace_id, (trace_id & self._LIMIT) < self.bound

    def new_span_id(self) -> int:
        """A random non-zero span ID."""
        return _nonzero_bits(64)


def _unsampled_span_class() -> Any:
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency

    not_sampled = trace.TraceFlags(trace.TraceFlags.DEFAULT)

    class UnsampledRootSpan(trace.NonRecordingSpan):
        """A NonRecordingSpan whose span context is built on first use.

        Most unsampled requests never log or call out, so nothing ever reads it; building
        a SpanContext (validated IDs, flags, trace state) per request was wasted work.
        """

        def __init__(self, trace_id: int, new_span_id: Any) -> None:
            self._trace_id = trace_id
            self._new_span_id = new_span_id
            self._context: trace.SpanContext | None = None  # type: ignore[assignment]

        def get_span_context(self) -> trace.SpanContext:
            ctx = self._context
            if ctx is None:
                ctx = self._context = trace.SpanContext(
                    self._trace_id, self._new_span_id(), is_remote=False, trace_flags=not_sampled
                )
            return ctx

        def __repr__(self) -> str:
            return f"NonRecordingSpan({self.get_span_context()!r})"

    return UnsampledRootSpan


def _otlp_exporter(url: str) -> Any:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
    except ImportError:
        _log.warning(
            "opentelemetry-exporter-otlp-proto-http is not installed: spans are not exported"
        )
        return None
    # Without either variable, 5 s rather than OpenTelemetry's 10 s: a collector that is down
    # then holds up an application's shutdown flush for less. A timeout passed in code would
    # override the variables, so none is passed when one is set.
    timeout = None if any(os.environ.get(v) for v in EXPORT_TIMEOUT_ENVS) else 5.0
    return OTLPSpanExporter(endpoint=url, timeout=timeout)


def _sdk_provider_is_global() -> bool:
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415

    return isinstance(trace.get_tracer_provider(), TracerProvider)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken __spec__
        return False


def instrument_installed_libraries(
    provider: Any, libraries: Iterable[tuple[str, str, str]] = _LIBRARY_INSTRUMENTORS
) -> list[str]:
    """Switch on the instrumentations whose library and package are installed; their names."""
    enabled = []
    for library, module, cls_name in libraries:
        # find_spec first: importing sqlalchemy, redis, requests and httpx just to learn they
        # are there would cost start-up time and memory in apps that use none of them.
        if not (_installed(library) and _installed(module)):
            continue
        try:
            instrumentor = getattr(importlib.import_module(module), cls_name)()
        except ImportError:
            continue
        except Exception:  # noqa: BLE001 - a broken instrumentation must not stop the app
            _log.warning("cannot load %s instrumentation", library, exc_info=True)
            continue
        try:
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument(tracer_provider=provider)
            enabled.append(library)
        except Exception:  # noqa: BLE001 - same
            _log.warning("cannot switch on %s instrumentation", library, exc_info=True)
    return enabled


__all__ = [
    "DEFAULT_OTLP_ENDPOINT",
    "EXPORT_TIMEOUT_ENVS",
    "SAMPLER_ARG_ENV",
    "SAMPLER_ENV",
    "SDK_DISABLED_ENV",
    "FastRoot",
    "instrument_installed_libraries",
    "root_ratio_from_env",
    "setup_tracing",
    "traces_endpoint",
    "tracing_available",
]
