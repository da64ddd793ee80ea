"""OpenTelemetry set-up: a TracerProvider exporting OTLP/HTTP protobuf, W3C propagation.

Everything here is optional: without ``opentelemetry-sdk`` installed ``setup_tracing`` returns
None and the middleware makes no spans. Library instrumentations (httpx, requests, SQLAlchemy,
Redis) are switched on only when both the library and its ``opentelemetry-instrumentation-*``
package are importable. Export runs in the BatchSpanProcessor's thread; a collector that is down
costs dropped spans and a log line, never an exception in a request.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
import traceback
import weakref
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from functools import partial
from time import time_ns
from typing import Any, NamedTuple, cast

from spyglass.sdk._ids import random_bits
from spyglass.sdk._request_id import TRACE_CONTEXT_KEY, read_trace_context

_log = logging.getLogger("spyglass.sdk.tracing")

# The instrumentation scope of the middleware's spans.
TRACER_NAME = "spyglass.sdk"
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


# Where spans go when instrument() is not told (OpenTelemetry's variables, read as it reads them).
TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"


def traces_endpoint(endpoint: str | None) -> str:
    """The OTLP/HTTP traces URL: the argument, else the OTEL_* variables, else local Spyglass.

    A base URL gets ``/v1/traces`` appended (as the OTLP exporter spec says for
    OTEL_EXPORTER_OTLP_ENDPOINT); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given.
    """
    if endpoint:
        return endpoint if endpoint.rstrip("/").endswith(TRACES_PATH) else _join(endpoint)
    signal = os.environ.get(TRACES_ENDPOINT_ENV)
    if signal:
        return signal
    return _join(os.environ.get(ENDPOINT_ENV) or DEFAULT_OTLP_ENDPOINT)


def _join(base: str) -> str:
    return base.rstrip("/") + TRACES_PATH


# OpenTelemetry's variables, read as its SDK reads them.
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


def _sampler_for_a_ratio_out_of_range() -> Any:
    """The sampler OpenTelemetry 1.45 makes of a ratio sampler whose OTEL_TRACES_SAMPLER_ARG is
    a number outside [0, 1] (the ratio 1.0: every trace), or None when the variables ask for
    anything else and the provider reads them itself.

    Releases before 1.45 raise ValueError from ``TracerProvider()`` for such an argument,
    which would stop the application at start-up; made here, the sampler is the same on
    every release.
    """
    from opentelemetry.sdk.trace.sampling import (  # noqa: PLC0415 - optional dependency
        ParentBased,
        TraceIdRatioBased,
    )

    name = os.environ.get(SAMPLER_ENV, "parentbased_always_on").lower()
    if name not in _RATIO_SAMPLERS:
        return None
    arg = os.environ.get(SAMPLER_ARG_ENV, "")
    try:
        ratio = float(arg)
    except ValueError:  # every release reads an argument that is no number as 1.0 itself
        return None
    if 0.0 <= ratio <= 1.0:
        return None
    _log.warning("%s=%s is outside [0, 1]: every trace is sampled", SAMPLER_ARG_ENV, arg)
    every = TraceIdRatioBased(1.0)
    return ParentBased(every) if name == "parentbased_traceidratio" else every


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
        from opentelemetry.sdk.trace import (  # noqa: PLC0415
            SpanLimits,
            SynchronousMultiSpanProcessor,
            TracerProvider,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415
        from opentelemetry.sdk.trace.sampling import (  # noqa: PLC0415
            ParentBased,
            TraceIdRatioBased,
        )
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope  # noqa: PLC0415
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
        sampler = _sampler_for_a_ratio_out_of_range()
    else:
        ratio = min(1.0, max(0.0, float(sample_ratio)))
        sampler = ParentBased(TraceIdRatioBased(ratio))
    attributes: dict[str, str] = {"service.name": service, **(resource_attributes or {})}
    resource = _hash_once(Resource.create(attributes))
    # The processors and limits are made here, not left to the provider, so the middleware's
    # own server spans go to the same processors under the same limits (OTEL_SPAN_* variables).
    processors = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
    limits = SpanLimits()
    # The scope as the provider's get_tracer(TRACER_NAME) makes it (no version is ""), so the
    # middleware's own spans and its Tracer's share one scope in an export batch.
    scope = InstrumentationScope(TRACER_NAME, "")
    provider = TracerProvider(
        resource=resource,
        sampler=sampler,
        id_generator=_id_generator(),
        span_limits=limits,
        active_span_processor=processors,
    )
    provider.spyglass_fast_root = _fast_root(provider, processors, ratio, limits, scope)  # type: ignore[attr-defined]
    if exporter is None:
        exporter = _otlp_exporter(traces_endpoint(endpoint))
    if exporter is not None:
        provider.add_span_processor(
            BatchSpanProcessor(exporter, max_export_batch_size=_export_batch_size())
        )
    if set_global and not _sdk_provider_is_global():
        trace.set_tracer_provider(provider)
    if instrument_libraries:
        instrument_installed_libraries(provider)
    return provider


def _fast_root(
    provider: Any, processors: Any, ratio: float, limits: Any, scope: Any
) -> FastRoot | None:
    """The middleware's fast path for new roots in ``provider``'s pipeline, or None when the
    installed OpenTelemetry's internals are not what it relies on (see ``_otel_probe``): then
    every request span goes through OpenTelemetry's Tracer, and one warning says why."""
    from spyglass.sdk._otel_probe import fast_span_problems, sampler_problems  # noqa: PLC0415

    resource = provider.resource
    problems = fast_span_problems(server_span_class, resource, limits, scope)
    if not problems:
        server_span = server_span_class(processors, resource, limits, scope)
        fast_root = FastRoot(ratio, server_span)
        problems = sampler_problems(provider.sampler, fast_root.bound)
        if not problems:
            _follow_the_resource_into_forks(provider, server_span)
            return fast_root
    _log.warning(
        "opentelemetry-sdk %s is not what the SDK's fast request spans were checked against "
        "(%s): request spans go through OpenTelemetry's own Tracer, correct but slower",
        _installed_version("opentelemetry-sdk"),
        "; ".join(problems),
    )
    return None


def _installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _follow_the_resource_into_forks(provider: Any, server_span: Any) -> None:
    """Keep the middleware's spans on the provider's resource in forked workers.

    OpenTelemetry 1.45 (not 1.27) re-detects the process-dependent part of the resource
    (``service.instance.id``) in a forked child, and the SDK's spans there carry the new one.
    The middleware's span class holds the resource itself; this hook, run after the
    provider's own (fork hooks run in the order they were registered), gives it an equal
    copy of the provider's that hashes once.
    """
    provider_ref, span_ref = weakref.ref(provider), weakref.ref(server_span)

    def after_in_child() -> None:
        provider, span_class = provider_ref(), span_ref()
        if provider is not None and span_class is not None:
            span_class._resource = _hash_once(provider.resource)

    os.register_at_fork(after_in_child=after_in_child)


def _hash_once(resource: Any) -> Any:
    """``resource`` as an equal Resource that computes its hash once.

    The OTLP encoder groups every exported span by its resource, and ``Resource.__hash__``
    serialises all attributes to JSON on each call: about a fifth of the export's cost per
    span. A resource's attributes cannot change, so its hash cannot either. Should a release
    make that subclass differ from the resource it copies, the resource is used as it is.
    """
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 - optional dependency

    class HashedResource(Resource):
        def __init__(self, attributes: Any, schema_url: str | None = None) -> None:
            super().__init__(attributes, schema_url)
            self._spyglass_hash = super().__hash__()

        def __hash__(self) -> int:
            return self._spyglass_hash

    try:
        hashed = HashedResource(resource.attributes, resource.schema_url)
        same = hashed == resource and resource == hashed and hash(hashed) == hash(resource)
    except Exception:  # noqa: BLE001 - the plain resource does the same job, slower
        return resource
    return hashed if same else resource


def _id_generator() -> Any:
    """The provider's IdGenerator: IDs from the SDK's private generator.

    Not OpenTelemetry's RandomIdGenerator: that one draws from the global ``random`` module,
    so an application's ``random.seed()`` would make span IDs repeat. It subclasses
    OpenTelemetry's IdGenerator so that what a release adds to that class comes with it.
    """
    from opentelemetry.sdk.trace.id_generator import IdGenerator  # noqa: PLC0415

    class Ids(IdGenerator):
        def generate_trace_id(self) -> int:
            return _nonzero_bits(128)

        def generate_span_id(self) -> int:
            return _nonzero_bits(64)

        def is_trace_id_random(self) -> bool:
            # The W3C "random" flag: trace IDs are drawn at random.
            return True

    return Ids()


def _nonzero_bits(n: int) -> int:
    """A random non-zero integer of ``n`` bits (zero is the invalid trace or span ID)."""
    value = random_bits(n)
    while value == 0:
        value = random_bits(n)
    return value


class FastRoot:
    """The sampling decision and span for a new root, made without the SDK's Tracer.

    ``ParentBased(TraceIdRatioBased(r))`` decides a root span from its trace ID alone, so the
    middleware draws the trace ID itself and decides as that sampler would. Unsampled
    requests get a non-recording span with that trace ID, which still puts trace_id/span_id in
    logs and propagates the not-sampled flag downstream; its span ID and span context are only
    made if something asks for them. Sampled requests get a ``server_span`` handed to the
    provider's span processors like any SDK span. Spans with a parent (a ``traceparent``
    header, an outer middleware's span) go through the SDK's Tracer and sampler as usual.
    """

    _LIMIT = (1 << 64) - 1

    def __init__(self, ratio: float, server_span: Any = None) -> None:
        self.bound = round(ratio * (self._LIMIT + 1))
        # unsampled_span(trace_id, new_span_id): a non-recording root span of trace_id whose
        # span ID is drawn by new_span_id() when first needed (a NonRecordingSpan subclass).
        self.unsampled_span = _unsampled_span_class()
        # server_span(name, trace_id, span_id, attributes, parent_context): a started,
        # sampled root SERVER span (see server_span_class); None without a provider's pipeline.
        self.server_span = server_span

    def new_trace_id(self) -> tuple[int, bool]:
        """A random non-zero trace ID and whether the ratio sampler samples it."""
        trace_id = _nonzero_bits(128)
        return trace_id, (trace_id & self._LIMIT) < self.bound

    def new_span_id(self) -> int:
        """A random non-zero span ID."""
        return _nonzero_bits(64)


class ContextOps(NamedTuple):
    """How the middleware reads, sets and resets OpenTelemetry's current context.

    Each request reads the context once, sets its span's context and resets it, and does the
    same around the last body message sent (see the middleware): through OpenTelemetry's API
    that is two Python frames a call, and the middleware's tracing is mostly such calls. With
    OpenTelemetry's default runtime context, which keeps the current context in one
    ContextVar, these are that ContextVar's own methods, which do the same in C.
    """

    get: Callable[[], Any]
    """The current context (``opentelemetry.context.get_current``)."""
    attach: Callable[[Any], Any]
    """Make a context current; returns the token to reset it (``attach``)."""
    detach: Callable[[Any], Any]
    """Reset with a token from ``attach``. The ContextVar's own raises on a token of another
    context, where OpenTelemetry's logs: callers catch."""
    request_context: Callable[[Any, Any, str], Any]
    """``request_context(span, parent, request_id)``: ``parent`` with ``span`` as its current
    span (``trace.set_span_in_context``) and the request's ID (``current_request_id()`` reads
    it there)."""


def context_ops() -> ContextOps:
    """The context operations for the middleware: the ContextVar's own methods when
    OpenTelemetry's runtime context is its stock ContextVar one and behaves as such (checked
    here, once), else OpenTelemetry's API (another runtime context chosen by OTEL_PYTHON_CONTEXT,
    or an OpenTelemetry whose internals have changed)."""
    from opentelemetry import context, trace  # noqa: PLC0415 - optional dependency
    from opentelemetry.context import Context  # noqa: PLC0415

    def api_request_context(span: Any, parent: Any, request_id: str) -> Any:
        return context.set_value(
            TRACE_CONTEXT_KEY, request_id, trace.set_span_in_context(span, parent)
        )

    api = ContextOps(context.get_current, context.attach, context.detach, api_request_context)
    read_trace_context(partial(_request_id_in, context.get_current))
    try:
        from opentelemetry.context.contextvars_context import (  # noqa: PLC0415
            ContextVarsRuntimeContext,
        )
        from opentelemetry.trace.propagation import _SPAN_KEY  # noqa: PLC0415
    except ImportError as exc:
        return _through_the_api(api, f"{exc}")
    runtime = getattr(context, "_RUNTIME_CONTEXT", None)
    if type(runtime) is not ContextVarsRuntimeContext:
        return api  # another runtime context, chosen by OTEL_PYTHON_CONTEXT
    var = getattr(runtime, "_current_context", None)
    if not isinstance(var, ContextVar):
        return _through_the_api(api, "the runtime context keeps no _current_context ContextVar")
    key: str = _SPAN_KEY

    def request_context(span: Any, parent: Any, request_id: str) -> Any:
        if parent:
            return Context({**parent, key: span, TRACE_CONTEXT_KEY: request_id})
        return Context({key: span, TRACE_CONTEXT_KEY: request_id})

    fast = ContextOps(var.get, var.set, var.reset, request_context)
    probe = trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)
    before = fast.get()
    try:
        token = fast.attach(fast.request_context(probe, before, "probe"))
        try:
            agrees = (
                trace.get_current_span() is probe
                and context.get_current() is fast.get()
                and context.get_value(TRACE_CONTEXT_KEY) == "probe"
                and trace.get_current_span(api.request_context(probe, before, "probe")) is probe
            )
        finally:
            fast.detach(token)
    except Exception as exc:  # noqa: BLE001 - the API path works whatever failed here
        return _through_the_api(api, f"{type(exc).__name__}: {exc}")
    if not agrees or context.get_current() is not before:
        return _through_the_api(api, "a context set on its ContextVar reads otherwise")
    read_trace_context(partial(_request_id_in, var.get))
    return fast


def _through_the_api(api: ContextOps, reason: str) -> ContextOps:
    _log.warning(
        "opentelemetry-api %s keeps its current context otherwise than the SDK's fast path "
        "expects (%s): the middleware sets it through OpenTelemetry's API, correct but slower",
        _installed_version("opentelemetry-api"),
        reason,
    )
    return api


def _request_id_in(current: Callable[[], Any]) -> Any:
    """The request ID in the context ``current()`` returns, or None."""
    return current().get(TRACE_CONTEXT_KEY)


def _random_trace_id_flag() -> int:
    """W3C Trace Context level 2's "random" trace flag, which OpenTelemetry's SDK sets on a new
    root whose IdGenerator draws trace IDs at random (ours does); 0 for SDKs that predate it."""
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency

    return int(getattr(trace.TraceFlags, "RANDOM_TRACE_ID", 0))


def _unsampled_span_class() -> Any:
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency

    not_sampled = trace.TraceFlags(trace.TraceFlags.DEFAULT | _random_trace_id_flag())

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


# Attribute values stored as given (without a length limit): what OpenTelemetry's validation
# would keep unchanged. bytes are decoded and sequences checked, so those go through it.
_PLAIN_VALUES = frozenset((str, bool, int, float))


def _span_context_is_its_tuple(flags: Any) -> bool:
    """Whether a local SpanContext of valid IDs is, in this OpenTelemetry, the tuple (trace ID,
    span ID, is remote, flags, default trace state, is valid): what its constructor makes after
    checking the IDs. Checked once, so a release that changes its fields gets the constructor."""
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency

    ids = (0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331)
    made = trace.SpanContext(*ids, is_remote=False, trace_flags=flags)
    direct = tuple.__new__(trace.SpanContext, (*ids, False, flags, trace.DEFAULT_TRACE_STATE, True))
    return (
        type(made) is trace.SpanContext
        and tuple(made) == tuple(direct)
        and (made.trace_id, made.span_id, made.is_valid) == (*ids, True)
        and (direct.trace_id, direct.span_id, direct.is_remote) == (*ids, False)
        and direct.trace_flags == flags
        and direct.trace_state is made.trace_state
    )


def server_span_class(processor: Any, resource: Any, limits: Any, scope: Any) -> Any:
    """The class of the middleware's sampled root SERVER spans for one provider's pipeline.

    The SDK's own span costs about a sampled request's whole handling again: a lock, every
    attribute validated into a bounded mapping, bounded lists for events and links made up
    front, a copy of the span for the processors at its end. At 10 % sampling that was about
    a quarter of the SDK's cost per request. This span is what the SDK's would be to
    everything that reads it (an ``opentelemetry.trace.Span`` while it runs, a
    ``ReadableSpan`` to processors and exporters, the same limits, status rules and exception
    events) and pays only for what is used: its own attributes are known to be valid, an
    application's are validated as the SDK validates them, and the bounded containers are
    made when the first event or link arrives. It is handed to the processors itself at its
    end and changes no more afterwards. Not locked: a server span is written by its request.
    """
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency
    from opentelemetry.attributes import BoundedAttributes  # noqa: PLC0415
    from opentelemetry.sdk.trace import Event, ReadableSpan  # noqa: PLC0415
    from opentelemetry.sdk.util import BoundedList  # noqa: PLC0415

    sampled = trace.TraceFlags(trace.TraceFlags.SAMPLED | _random_trace_id_flag())
    direct_context = _span_context_is_its_tuple(sampled)
    span_context, tuple_new, no_state = trace.SpanContext, tuple.__new__, trace.DEFAULT_TRACE_STATE
    server = trace.SpanKind.SERVER
    ok, unset = trace.StatusCode.OK, trace.StatusCode.UNSET
    not_set = trace.Status(unset)
    on_start, on_end = processor.on_start, processor.on_end
    # The limit for comparisons (None, unlimited, as the largest size); BoundedAttributes
    # gets the limit itself.
    max_attributes = (
        sys.maxsize if limits.max_span_attributes is None else limits.max_span_attributes
    )
    max_length = limits.max_span_attribute_length

    def _frozen(max_count: int | None, attributes: Any) -> Any:
        # An event's or a link's attributes, validated and limited as the SDK does.
        return BoundedAttributes(
            max_count, attributes, max_value_len=limits.max_attribute_length, immutable=True
        )

    class ServerSpan(trace.Span, ReadableSpan):
        # ReadableSpan's fields that all these spans start with are the class's: a span gets
        # its own when one changes (a status, the first event or link, the end), so each span
        # is made with fewer stores and waits in the export queue smaller.
        _kind = server
        _parent = None
        _resource = resource
        _instrumentation_info = None
        _instrumentation_scope = scope
        _events: Any = ()
        _links: Any = ()
        _status = not_set
        _end_time: int | None = None

        def __init__(
            self,
            name: str,
            trace_id: int,
            span_id: int,
            attributes: dict[str, Any],
            parent_context: Any,
        ) -> None:
            # The rest of ReadableSpan's fields, set as the SDK's span sets them.
            self._name = name
            # The IDs are valid (drawn non-zero, in range): SpanContext's checks and Python
            # frame are skipped where set-up found the result the same.
            self._context = (
                tuple_new(span_context, (trace_id, span_id, False, sampled, no_state, True))
                if direct_context
                else span_context(trace_id, span_id, is_remote=False, trace_flags=sampled)
            )
            self._attributes: Any = attributes
            self._start_time = time_ns()
            on_start(self, parent_context=parent_context)

        def get_span_context(self) -> trace.SpanContext:
            return cast("trace.SpanContext", self._context)

        def is_recording(self) -> bool:
            return self._end_time is None

        def _ended(self, what: str) -> bool:
            if self._end_time is None:
                return False
            _log.warning("%s on an ended span.", what)
            return True

        def _bounded(self) -> Any:
            attributes = self._attributes
            if not isinstance(attributes, BoundedAttributes):
                attributes = self._attributes = BoundedAttributes(
                    limits.max_span_attributes,
                    attributes,
                    immutable=False,
                    max_value_len=max_length,
                )
            return attributes

        def set_attribute(self, key: str, value: Any) -> None:
            if self._end_time is not None:  # _ended(), inline: the middleware sets one per span
                _log.warning("Setting attribute on an ended span.")
                return
            attributes = self._attributes
            if (
                type(attributes) is dict
                and type(value) in _PLAIN_VALUES
                and max_length is None
                and type(key) is str
                and key
                and (
                    len(attributes) < max_attributes
                    or (key in attributes and len(attributes) == max_attributes)
                )
            ):
                # A key set again moves to the end, as in BoundedAttributes (which drops the
                # oldest key first when full).
                attributes.pop(key, None)
                attributes[key] = value
            else:
                self._bounded()[key] = value

        def set_attributes(self, attributes: Any) -> None:
            for key, value in attributes.items():
                self.set_attribute(key, value)

        def add_event(
            self, name: str, attributes: Any = None, timestamp: int | None = None
        ) -> None:
            if self._ended("Adding an event"):
                return
            events = self._events
            if not isinstance(events, BoundedList):
                events = self._events = BoundedList(limits.max_events)
            events.append(
                Event(
                    name=name,
                    attributes=_frozen(limits.max_event_attributes, attributes),
                    timestamp=timestamp,
                )
            )

        def add_link(self, context: Any, attributes: Any = None) -> None:
            if context is None or not context.is_valid or self._ended("Adding a link"):
                return
            links = self._links
            if not isinstance(links, BoundedList):
                links = self._links = BoundedList(limits.max_links)
            links.append(trace.Link(context, _frozen(limits.max_link_attributes, attributes)))

        def update_name(self, name: str) -> None:
            if not self._ended("Updating the name"):
                self._name = name

        def set_status(self, status: Any, description: str | None = None) -> None:
            # The SDK's rules: OK is final, UNSET is ignored, a Status object carries its own
            # description. After the end nothing changes: processors hold this very object.
            if self._end_time is not None or self._status.status_code is ok:
                return
            if isinstance(status, trace.Status):
                if status.status_code is unset:
                    return
                if description is not None:
                    _log.warning("Description %s ignored: the Status carries its own", description)
                self._status = status
            elif isinstance(status, trace.StatusCode) and status is not unset:
                self._status = trace.Status(status, description)

        def record_exception(
            self,
            exception: BaseException,
            attributes: Any = None,
            timestamp: int | None = None,
            escaped: bool = False,
        ) -> None:
            kind = type(exception)
            module = kind.__module__
            event = {
                "exception.type": f"{module}.{kind.__qualname__}"
                if module and module != "builtins"
                else kind.__qualname__,
                "exception.message": str(exception),
                "exception.stacktrace": "".join(traceback.format_exception(exception)),
                "exception.escaped": str(escaped),
            }
            if attributes:
                event.update(attributes)
            self.add_event("exception", event, timestamp)

        def end(self, end_time: int | None = None) -> None:
            if self._end_time is not None:  # _ended(), inline: every span ends
                _log.warning("Calling end() on an ended span.")
                return
            self._end_time = end_time if end_time is not None else time_ns()
            attributes = self._attributes
            if type(attributes) is dict and (
                len(attributes) > max_attributes or max_length is not None
            ):
                self._bounded()
            on_end(self)

        def __repr__(self) -> str:
            return f'{type(self).__name__}(name="{self._name}", context={self._context})'

    return ServerSpan


def _otlp_exporter(url: str) -> Any:
    from spyglass.sdk._otlp_export import OtlpSpanExporter  # noqa: PLC0415

    try:
        return OtlpSpanExporter(url)
    except ImportError:  # it imports requests when made
        _log.warning("requests is not installed: spans are not exported")
    except ValueError as exc:  # a bad endpoint stops the spans, not the application
        _log.error(
            "%s (set by otlp_endpoint, %s or %s): spans are not exported",
            exc,
            TRACES_ENDPOINT_ENV,
            ENDPOINT_ENV,
        )
    return None


# Spans sent per batch unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise. OpenTelemetry's
# 512 keeps a sampled span waiting in the queue for seconds on a busy service, and waiting
# spans cost the application more than sending them (docs/sdk.md, "Cost"): batches of 64 read
# 15.8, 16.0, 15.8, 15.7 % against 16.7, 16.9, 17.3, 16.0 % side by side.
EXPORT_BATCH_SIZE = 64
EXPORT_BATCH_SIZE_ENV = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
# The batch processor's queue: OpenTelemetry's variable and the default its specification sets.
QUEUE_SIZE_ENV = "OTEL_BSP_MAX_QUEUE_SIZE"
DEFAULT_QUEUE_SIZE = 2048


def _export_batch_size() -> int | None:
    """The batch processor's batch size: None (OpenTelemetry reads its variable) when
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE is set, else ``EXPORT_BATCH_SIZE``, never above the queue's
    size (OTEL_BSP_MAX_QUEUE_SIZE, read as OpenTelemetry reads it)."""
    if os.environ.get(EXPORT_BATCH_SIZE_ENV):
        return None
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    # A queue size below 1 is refused by the processor itself, whatever the batch size.
    try:
        queue = int(BatchSpanProcessor._default_max_queue_size())  # type: ignore[no-untyped-call]
    except Exception:  # noqa: BLE001 - a release without that private helper: read the variable
        queue = _int_from_env(QUEUE_SIZE_ENV, DEFAULT_QUEUE_SIZE)
    return min(EXPORT_BATCH_SIZE, queue)


def _int_from_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


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
    "DEFAULT_QUEUE_SIZE",
    "EXPORT_BATCH_SIZE",
    "EXPORT_BATCH_SIZE_ENV",
    "QUEUE_SIZE_ENV",
    "SAMPLER_ARG_ENV",
    "SAMPLER_ENV",
    "SDK_DISABLED_ENV",
    "TRACER_NAME",
    "ContextOps",
    "FastRoot",
    "context_ops",
    "instrument_installed_libraries",
    "root_ratio_from_env",
    "server_span_class",
    "setup_tracing",
    "traces_endpoint",
    "tracing_available",
]
