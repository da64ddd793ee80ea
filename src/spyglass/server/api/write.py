"""Push endpoints for metrics: Prometheus remote_write and OTLP/HTTP.

Each answers in its protocol's own shape, and the status code tells the client whether to retry:
bad data is a 4xx (Prometheus drops the batch, OTLP exporters do not retry), a failure of ours is a
5xx (the client retries, so nothing acknowledged-as-failed is lost). A write is acknowledged only
after the ``SampleSink`` has put it in the fsynced write-ahead log.

Decoding is CPU work, so it runs in a worker thread; the event loop keeps serving other requests.
Decoding small remote_write bodies on the event loop instead was measured and is slower
(docs/decisions.md, "remote_write's short shape"). The workers are the API's own few threads,
handed work with ``run_in_executor``: Starlette's ``run_in_threadpool`` (anyio) adds a
cancel scope, a capacity limiter and a pass through the loop to every request.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, SpyglassError
from spyglass.core.exemplars import Exemplar
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import SampleBatch
from spyglass.ingest.compression import decode_body
from spyglass.ingest.otlp import Conversion, MetricsConverter, decode_otlp_metrics_report
from spyglass.ingest.remote_write import RemoteWriteDecoder
from spyglass.server.api._ingest_http import (
    ALL_METHODS,
    INTERNAL,
    INVALID_ARGUMENT,
    OTLP_JSON,
    OTLP_PROTOBUF,
    UNAVAILABLE,
    ReportsRefusals,
    otlp_refusal,
    otlp_status,
    read_body,
    text_response,
    too_large,
)
from spyglass.server.rejections import RejectionLog
from spyglass.server.selfmetrics import StatField, StatsCollector
from spyglass.storage.ports import ExemplarSink, SampleSink

log = logging.getLogger(__name__)

RW_MEDIA_TYPE = "application/x-protobuf"
RW1_PROTO = "prometheus.WriteRequest"
# Remote-write 2.0 senders announce their message type; a 1.0 receiver must refuse it with 415
# so the sender can fall back to 1.0.
RW2_PROTO = "io.prometheus.write.v2.Request"
# google.rpc.Code values used in OTLP error bodies.

# What the decoders count, as Spyglass's own metrics (read when /metrics is scraped).
_REMOTE_WRITE_FIELDS = (
    StatField(
        "histograms_skipped",
        "spyglass_remote_write_histograms_skipped",
        "counter",
        "Native histogram samples received over remote_write and not stored (not supported yet).",
    ),
    StatField(
        "exemplars_skipped",
        "spyglass_remote_write_exemplars_skipped",
        "counter",
        "Exemplars received over remote_write and not stored (over 128 characters of labels, "
        "or no exemplar store).",
    ),
    StatField(
        "cached_series",
        "spyglass_remote_write_cached_series",
        "gauge",
        "Label sets the remote_write decoder keeps checked and fingerprinted.",
    ),
    StatField(
        "cached_series_bytes",
        "spyglass_remote_write_cached_series_bytes",
        "gauge",
        "About how many bytes those label sets take (bounded by --label-cache-bytes).",
    ),
)
_OTLP_HTTP_FIELDS = (
    StatField(
        "points_rejected",
        "spyglass_otlp_http_points_rejected",
        "counter",
        "OTLP/HTTP data points not stored and reported as partial success (delta temporality, "
        "exponential histograms).",
    ),
    StatField(
        "cached_series",
        "spyglass_otlp_http_cached_series",
        "gauge",
        "Label sets the OTLP/HTTP receiver keeps checked and fingerprinted.",
    ),
    StatField(
        "cached_series_bytes",
        "spyglass_otlp_http_cached_series_bytes",
        "gauge",
        "About how many bytes those label sets take (bounded by --label-cache-bytes).",
    ),
)


def _ignore(protocol: str, outcome: str, samples: int) -> None:
    del protocol, outcome, samples


def _decoders() -> Executor:
    # Decoding holds the GIL most of the time: more threads than cores only take turns.
    return ThreadPoolExecutor(min(4, os.cpu_count() or 1), thread_name_prefix="spyglass-decode")


@dataclass(frozen=True)
class WriteAPI(ReportsRefusals):
    """``POST /api/v1/write`` and ``POST /v1/metrics`` into a ``SampleSink``.

    ``observe(protocol, outcome, samples)`` is told about every request (self-metrics);
    ``rejections`` logs the refused and failed ones, rate-limited. The decoders keep label-set
    caches and counters across requests; ``collectors()`` exposes them.
    """

    sink: SampleSink
    limits: IngestLimits = field(default_factory=IngestLimits)
    observe: Callable[[str, str, int], None] = _ignore
    remote_write_decoder: RemoteWriteDecoder = field(default_factory=RemoteWriteDecoder)
    otlp_converter: MetricsConverter = field(default_factory=MetricsConverter)
    rejections: RejectionLog = field(default_factory=lambda: RejectionLog(log))
    # Where exemplars of remote_write and OTLP go; ``None``: remote_write's are skipped and
    # counted, OTLP's dropped.
    exemplars: ExemplarSink | None = None
    # The threads request bodies are decoded on.
    decoders: Executor = field(default_factory=_decoders)

    def routes(self) -> list[BaseRoute]:
        """The two push routes."""
        return [
            Route("/api/v1/write", self.remote_write, methods=["POST"]),
            # Every method reaches the handler, so a GET gets its 405 as a google.rpc.Status
            # like every other OTLP error, not Starlette's plain-text one.
            Route("/v1/metrics", self.otlp_metrics, methods=ALL_METHODS),
        ]

    def collectors(self) -> list[Collector]:
        """Collectors for ``/metrics``: what the remote_write decoder skipped and caches, what
        the OTLP/HTTP converter rejected and caches."""
        return [
            StatsCollector(lambda: self.remote_write_decoder, _REMOTE_WRITE_FIELDS),
            StatsCollector(lambda: self.otlp_converter, _OTLP_HTTP_FIELDS),
        ]

    async def remote_write(self, request: Request) -> Response:
        """Remote-write 1.0: a snappy-compressed protobuf ``WriteRequest``; 204 on success."""
        unsupported = _not_remote_write_1(
            request.headers.get("content-type"), request.headers.get("content-encoding")
        )
        if unsupported:
            self._refused(request, "remote_write", 415, outcome="unsupported", reason=unsupported)
            return text_response(415, unsupported)
        try:
            body = await read_body(request, self.limits.max_body_bytes)
            batch, exemplars = await asyncio.get_running_loop().run_in_executor(
                self.decoders, self._decode_remote_write, body
            )
            if exemplars and self.exemplars is not None:
                # Both logs fsync at once, so exemplars add no second wait; the reply waits
                # for both, so nothing of an acknowledged request is lost.
                await asyncio.gather(
                    self.sink.append(batch), self.exemplars.append_exemplars(exemplars)
                )
            else:
                await self.sink.append(batch)
        except BadInput as exc:
            status = 413 if too_large(exc) else 400
            self._refused(request, "remote_write", status, outcome="rejected", reason=str(exc))
            return text_response(status, str(exc))
        except (SpyglassError, OSError) as exc:
            message = f"could not store the samples, retry: {exc}"
            self._failed(request, "remote_write", 503, message)
            return text_response(503, message)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, "remote_write", 500, f"internal error: {exc!r}", exc)
            return text_response(500, "internal error; the server log has the details")
        self.observe("remote_write", "accepted", len(batch))
        return Response(status_code=204)

    def _decode_remote_write(self, body: bytes) -> tuple[SampleBatch, list[Exemplar]]:
        """The samples of a remote_write body, and its exemplars when there is a store for them
        (else they are skipped and counted)."""
        if self.exemplars is None:
            return self.remote_write_decoder.decode(body, self.limits), []
        return self.remote_write_decoder.decode_with_exemplars(body, self.limits)

    async def otlp_metrics(self, request: Request) -> Response:
        """OTLP/HTTP metrics, protobuf or JSON, optionally gzip-compressed.

        Every error is a ``google.rpc.Status`` in the request's encoding (protobuf when the
        request's is not one of OTLP's), as the OTLP/HTTP specification asks.
        """
        content_type, refusal, message = otlp_refusal(request)
        if refusal is not None:
            if refusal.status_code == 415:
                self._refused(request, "otlp_http", 415, outcome="unsupported", reason=message)
            return refusal
        try:
            body = await read_body(request, self.limits.max_body_bytes)
            encoding = request.headers.get("content-encoding", "")
            body = decode_body(body, encoding, self.limits.max_body_bytes)
            report: Conversion = await asyncio.get_running_loop().run_in_executor(
                self.decoders,
                partial(decode_otlp_metrics_report, converter=self.otlp_converter),
                body,
                content_type,
                self.limits,
            )
            if report.exemplars and self.exemplars is not None:
                await asyncio.gather(
                    self.sink.append(report.batch),
                    self.exemplars.append_exemplars(report.exemplars),
                )
            else:
                await self.sink.append(report.batch)
        except BadInput as exc:
            status = 413 if too_large(exc) else 400
            self._refused(request, "otlp_http", status, outcome="rejected", reason=str(exc))
            return otlp_status(status, INVALID_ARGUMENT, str(exc), content_type)
        except (SpyglassError, OSError) as exc:
            message = f"could not store: {exc}"
            self._failed(request, "otlp_http", 503, message)
            return otlp_status(503, UNAVAILABLE, message, content_type)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, "otlp_http", 500, f"internal error: {exc!r}", exc)
            message = "internal error; the server log has the details"
            return otlp_status(500, INTERNAL, message, content_type)
        self.observe("otlp_http", "accepted", len(report.batch))
        # partial_success only when points were left out (e.g. exponential histograms).
        response = ExportMetricsServiceResponse()
        if report.rejected_points:
            response.partial_success.rejected_data_points = report.rejected_points
            response.partial_success.error_message = report.error_message
        if content_type == OTLP_JSON:
            return Response(json_format.MessageToJson(response), media_type=OTLP_JSON)
        return Response(response.SerializeToString(), media_type=OTLP_PROTOBUF)


def _not_remote_write_1(content_type: str | None, encoding: str | None) -> str:
    """Why these headers do not announce a remote-write 1.0 body; empty when they do.

    As Prometheus' receiver does: ``application/x-protobuf``, optionally with
    ``proto=prometheus.WriteRequest``, compressed with ``snappy``; a missing Content-Type or
    Content-Encoding is taken as 1.0 and snappy (the 1.0 spec makes senders send both, and
    Prometheus accepts older senders that do not). Media type and parameter names are compared
    without regard to case, as HTTP defines them.
    """
    if content_type and content_type.strip():
        media, *params = content_type.split(";")
        if media.strip().lower() != RW_MEDIA_TYPE:
            return (
                f"unsupported content type {content_type!r}: remote write 1.0 takes "
                f"{RW_MEDIA_TYPE} (a snappy-compressed protobuf {RW1_PROTO})"
            )
        for param in params:
            if not param.strip():
                continue
            name, eq, value = param.partition("=")
            if not eq:
                return f"malformed parameter {param.strip()!r} in content type {content_type!r}"
            if name.strip().lower() != "proto":
                continue
            proto = value.strip().strip('"')
            if proto == RW2_PROTO:
                return "remote write 2.0 is not supported; send remote write 1.0"
            if proto != RW1_PROTO:
                return (
                    f"unsupported protobuf message {proto!r}; send remote write 1.0 ({RW1_PROTO})"
                )
    if encoding and encoding.strip() and encoding.strip().lower() != "snappy":
        return (
            f"unsupported content encoding {encoding!r}: remote write bodies are "
            "snappy-compressed (block format)"
        )
    return ""


__all__ = ["WriteAPI"]
