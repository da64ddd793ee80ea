"""OTLP/gRPC receiver: ``opentelemetry.proto.collector.metrics.v1.MetricsService/Export`` and,
when given a log sink, ``opentelemetry.proto.collector.logs.v1.LogsService/Export``, and when
given a span intake, ``opentelemetry.proto.collector.trace.v1.TraceService/Export``.

Each ``Export`` gets the request's bytes and parses them itself, as ``/v1/*`` does, so a body
that is not the request's protobuf is ``INVALID_ARGUMENT`` with the HTTP route's message and a
line in the rejection log (left to gRPC's generated deserializer, it was ``UNKNOWN`` with a Python
exception's text, logged nowhere). The metrics service hands its bytes on unparsed, to be read
as columns like an OTLP/HTTP body (``MetricsConverter.convert_protobuf``, which words a
malformed body's error as the parser does). Conversion is CPU work, so it runs in a worker
thread to keep the event loop free for other requests. Bad input answers
``INVALID_ARGUMENT`` (clients must not retry), an unavailable sink ``UNAVAILABLE`` (they should);
points that Prometheus would not store either (delta temporality, exponential histograms) are
reported through OTLP's partial success, as the spec asks, while the rest is stored. Log records
follow Loki's OTLP mapping (``ingest.otlp``), and records a log limit refuses are reported the same
way (``rejected_log_records``). Spans go through the same ``SpanIntake`` as ``/v1/traces``
(limits, listeners), with spans lacking valid ids reported as ``rejected_spans``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_pb_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as pb_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as trace_pb_grpc
from prometheus_client.registry import Collector

from spyglass.core.errors import BadInput, SpyglassError, Unavailable
from spyglass.core.limits import IngestLimits, LogLimits
from spyglass.ingest.active_streams import ActiveStreams
from spyglass.ingest.otlp import (
    Conversion,
    MetricsConverter,
    convert_logs_request,
    parse_logs_request,
    parse_traces_request,
    spans_from_request,
)
from spyglass.server.api.traces_ingest import SpanIntake, warning_text
from spyglass.server.rejections import RejectionLog
from spyglass.server.selfmetrics import StatField, StatsCollector
from spyglass.storage.ports import ExemplarSink, LogSink, SampleSink

log = logging.getLogger(__name__)

# What the converter counts, as Spyglass's own metrics (read when /metrics is scraped).
_OTLP_GRPC_FIELDS = (
    StatField(
        "points_rejected",
        "spyglass_otlp_grpc_points_rejected",
        "counter",
        "OTLP/gRPC data points not stored and reported as partial success (delta temporality, "
        "exponential histograms).",
    ),
    StatField(
        "cached_series",
        "spyglass_otlp_grpc_cached_series",
        "gauge",
        "Label sets the OTLP/gRPC receiver keeps checked and fingerprinted.",
    ),
    StatField(
        "cached_series_bytes",
        "spyglass_otlp_grpc_cached_series_bytes",
        "gauge",
        "About how many bytes those label sets take (bounded by --label-cache-bytes).",
    ),
)


class MetricsService(pb_grpc.MetricsServiceServicer):
    """The OTLP ``MetricsService`` servicer: converts each export and appends it to ``sink``.

    ``converter`` keeps label sets and counters across exports (a fresh one when not given);
    ``collectors()`` exposes its counters. ``rejections`` logs refused and failed exports,
    rate-limited.
    """

    def __init__(
        self,
        sink: SampleSink,
        limits: IngestLimits,
        converter: MetricsConverter | None = None,
        rejections: RejectionLog | None = None,
        exemplars: ExemplarSink | None = None,
    ) -> None:
        self._sink = sink
        self._exemplars = exemplars
        self._limits = limits
        self.converter = converter if converter is not None else MetricsConverter()
        self.rejections = rejections if rejections is not None else RejectionLog(log)

    def collectors(self) -> list[Collector]:
        """Collectors for ``/metrics``: the points this receiver rejected and the label sets it
        caches."""
        return [StatsCollector(lambda: self.converter, _OTLP_GRPC_FIELDS)]

    async def Export(  # noqa: N802 (the RPC's name in the OTLP service definition)
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        """Store the request's samples (its protobuf bytes, or a parsed message); answer with
        partial success for points left out."""
        try:
            convert: Callable[[Any, IngestLimits], Conversion] = (
                self.converter.convert_protobuf
                if isinstance(request, bytes)
                else self.converter.convert
            )
            report = await asyncio.to_thread(convert, request, self._limits)
            if len(report.batch):
                await self._sink.append(report.batch)
            if report.exemplars and self._exemplars is not None:
                await self._exemplars.append_exemplars(report.exemplars)
        except BadInput as e:
            self.rejections.refused("otlp_grpc", context.peer(), "INVALID_ARGUMENT", str(e))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except (SpyglassError, OSError) as e:
            # As /v1/metrics answers 503: the write-ahead log could not take it; retry.
            message = f"could not store: {e}"
            self.rejections.failed("otlp_grpc", context.peer(), "UNAVAILABLE", message)
            await context.abort(grpc.StatusCode.UNAVAILABLE, message)
        response = pb.ExportMetricsServiceResponse()
        if report.rejected_points:
            response.partial_success.rejected_data_points = report.rejected_points
            response.partial_success.error_message = report.error_message
        return response


class LogsService(logs_pb_grpc.LogsServiceServicer):
    """The OTLP ``LogsService`` servicer: converts each export and appends it to ``sink``."""

    def __init__(
        self,
        sink: LogSink,
        limits: LogLimits,
        rejections: RejectionLog | None = None,
        clock: Callable[[], int] = time.time_ns,
        streams: ActiveStreams | None = None,
    ) -> None:
        self._sink = sink
        self._limits = limits
        self._clock = clock
        self._streams = streams if streams is not None else ActiveStreams(0)
        self.rejections = rejections if rejections is not None else RejectionLog(log)

    async def Export(  # noqa: N802 (the RPC's name in the OTLP service definition)
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        """Store the request's log records; partial success for records a limit refused."""
        try:
            report = await asyncio.to_thread(
                convert_logs_request, request, self._limits, self._clock()
            )
            split = self._streams.split(report.batch)
            if len(split.batch):
                await self._sink.append(split.batch)
        except BadInput as e:
            self.rejections.refused("otlp_grpc_logs", context.peer(), "INVALID_ARGUMENT", str(e))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except (SpyglassError, OSError) as e:
            message = f"could not store: {e}"
            self.rejections.failed("otlp_grpc_logs", context.peer(), "UNAVAILABLE", message)
            await context.abort(grpc.StatusCode.UNAVAILABLE, message)
        if split.refused_streams and not len(split.batch):
            # Nothing taken: OTLP's throttling status; with part taken, a partial success.
            message = split.message()
            self.rejections.refused("otlp_grpc_logs", context.peer(), "RESOURCE_EXHAUSTED", message)
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message)
        response = logs_pb.ExportLogsServiceResponse()
        rejected, message = split.partial_success(report.rejected, report.error_message)
        if rejected:
            response.partial_success.rejected_log_records = rejected
            response.partial_success.error_message = message
        return response


class TraceService(trace_pb_grpc.TraceServiceServicer):
    """The OTLP ``TraceService`` servicer: converts each export and hands it to ``intake``."""

    def __init__(self, intake: SpanIntake, rejections: RejectionLog | None = None) -> None:
        self._intake = intake
        self.rejections = rejections if rejections is not None else RejectionLog(log)

    async def Export(  # noqa: N802 (the RPC's name in the OTLP service definition)
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        """Store the request's spans; partial success for spans without valid ids, and a
        warning when a span limit cut something."""
        try:
            conversion = await asyncio.to_thread(spans_from_request, request)
            batch, report = await asyncio.to_thread(self._intake.limit, conversion)
            await self._intake.store(batch)
        except BadInput as e:
            self.rejections.refused("otlp_grpc_traces", context.peer(), "INVALID_ARGUMENT", str(e))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except (SpyglassError, OSError) as e:
            message = f"could not store: {e}"
            self.rejections.failed("otlp_grpc_traces", context.peer(), "UNAVAILABLE", message)
            await context.abort(grpc.StatusCode.UNAVAILABLE, message)
        response = trace_pb.ExportTraceServiceResponse()
        warning = warning_text(conversion, report)
        if conversion.rejected or warning:
            response.partial_success.rejected_spans = conversion.rejected
            response.partial_success.error_message = warning
        return response


PROTOBUF = "application/x-protobuf"


class _Servicer(Protocol):
    """What ``_serve_export`` needs of a servicer: its ``Export`` and its rejection log."""

    rejections: RejectionLog

    def Export(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Awaitable[Any]:  # noqa: N802
        """The RPC, on what the mount's ``parse`` made of the request's bytes."""
        ...


def _serve_export(
    server: grpc.aio.Server,
    servicer: _Servicer,
    *,
    service: str,
    protocol: str,
    parse: Callable[[bytes], Any],
) -> None:
    """Mount ``servicer.Export`` as ``<service>/Export``, taking the request's bytes and parsing
    them with ``parse`` (``BadInput`` for a malformed body) before the servicer sees them."""

    async def export(body: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            request = parse(body)
        except BadInput as e:
            servicer.rejections.refused(protocol, context.peer(), "INVALID_ARGUMENT", str(e))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        return await servicer.Export(request, context)

    # No request deserializer: gRPC hands the handler the message's bytes.
    handler = grpc.unary_unary_rpc_method_handler(
        export, response_serializer=lambda response: response.SerializeToString()
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service, {"Export": handler}),)
    )


async def start_otlp_grpc(
    sink: SampleSink,
    limits: IngestLimits,
    host: str,
    port: int,
    *,
    service: MetricsService | None = None,
    logs: LogsService | None = None,
    traces: TraceService | None = None,
) -> grpc.aio.Server:
    """Start an OTLP/gRPC metrics server on ``host:port`` (port 0: any free port).

    Messages larger than ``limits.max_body_bytes`` are refused by gRPC itself
    (``RESOURCE_EXHAUSTED``). ``service`` is the servicer to run (one made from ``sink`` and
    ``limits`` when not given; pass your own to mount its ``collectors()``). A port that cannot
    be bound raises ``Unavailable`` naming it. ``logs`` and ``traces``, when given, serve OTLP
    logs and traces too.
    Stop the server with ``await server.stop(grace)``.
    """
    # gRPC sets SO_REUSEPORT by default, so a second server on a taken port binds without error
    # and the kernel splits clients between the two. A taken port must be an error instead.
    options: list[tuple[str, Any]] = [("grpc.so_reuseport", 0)]
    if limits.max_body_bytes:
        options.append(("grpc.max_receive_message_length", limits.max_body_bytes))
    server = grpc.aio.server(options=options)
    metrics = service if service is not None else MetricsService(sink, limits)
    mounts: list[tuple[_Servicer, Any, str, Callable[[bytes], Any]]] = [
        # Metrics take the bytes themselves (read as columns); gRPC bounds their size.
        (metrics, pb, "otlp_grpc", lambda body: body),
    ]
    if logs is not None:
        mounts.append((logs, logs_pb, "otlp_grpc_logs", lambda b: parse_logs_request(b, PROTOBUF)))
    if traces is not None:
        mounts.append(
            (traces, trace_pb, "otlp_grpc_traces", lambda b: parse_traces_request(b, PROTOBUF))
        )
    for servicer, module, protocol, parse in mounts:
        (descriptor,) = module.DESCRIPTOR.services_by_name.values()
        _serve_export(
            server, servicer, service=descriptor.full_name, protocol=protocol, parse=parse
        )
    address = f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:  # newer grpcio raises instead of returning 0
        bound = 0
        reason = str(exc)
    else:
        reason = "address in use or not available"
    if bound == 0:
        raise Unavailable(
            f"cannot listen on {address} (--otlp-grpc-address) for OTLP/gRPC: {reason}"
        )
    await server.start()
    return server


__all__ = ["LogsService", "MetricsService", "TraceService", "start_otlp_grpc"]
