"""OTLP/gRPC metrics receiver: ``opentelemetry.proto.collector.metrics.v1.MetricsService/Export``.

gRPC has already parsed the protobuf when ``Export`` runs; conversion is CPU work, so it runs in a
worker thread to keep the event loop free for other requests. Bad input answers
``INVALID_ARGUMENT`` (clients must not retry), an unavailable sink ``UNAVAILABLE`` (they should);
points that Prometheus would not store either (delta temporality, exponential histograms) are
reported through OTLP's partial success, as the spec asks, while the rest is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as pb_grpc

from spyglass.core.errors import BadInput, Unavailable
from spyglass.core.limits import IngestLimits
from spyglass.ingest.otlp import convert_metrics_request_report
from spyglass.storage.ports import SampleSink


class MetricsService(pb_grpc.MetricsServiceServicer):
    """The OTLP ``MetricsService`` servicer: converts each export and appends it to ``sink``."""

    def __init__(self, sink: SampleSink, limits: IngestLimits) -> None:
        self._sink = sink
        self._limits = limits

    async def Export(  # noqa: N802 (the RPC's name in the OTLP service definition)
        self, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        """Store the request's samples; answer with partial success for points left out."""
        try:
            report = await asyncio.to_thread(convert_metrics_request_report, request, self._limits)
            if len(report.batch):
                await self._sink.append(report.batch)
        except BadInput as e:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        except Unavailable as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(e))
        response = pb.ExportMetricsServiceResponse()
        if report.rejected_points:
            response.partial_success.rejected_data_points = report.rejected_points
            response.partial_success.error_message = report.error_message
        return response


async def start_otlp_grpc(
    sink: SampleSink, limits: IngestLimits, host: str, port: int
) -> grpc.aio.Server:
    """Start an OTLP/gRPC metrics server on ``host:port`` (port 0: any free port).

    Messages larger than ``limits.max_body_bytes`` are refused by gRPC itself
    (``RESOURCE_EXHAUSTED``). A port that cannot be bound raises ``Unavailable`` naming it. Stop
    the server with ``await server.stop(grace)``.
    """
    # gRPC sets SO_REUSEPORT by default, so a second server on a taken port binds without error
    # and the kernel splits clients between the two. A taken port must be an error instead.
    options: list[tuple[str, Any]] = [("grpc.so_reuseport", 0)]
    if limits.max_body_bytes:
        options.append(("grpc.max_receive_message_length", limits.max_body_bytes))
    server = grpc.aio.server(options=options)
    register: Callable[[Any, Any], None] = pb_grpc.add_MetricsServiceServicer_to_server
    register(MetricsService(sink, limits), server)
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


__all__ = ["MetricsService", "start_otlp_grpc"]
