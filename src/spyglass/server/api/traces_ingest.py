"""Push endpoints for spans: OTLP/HTTP traces and Zipkin's v2 API, and the intake they share.

Each answers in its protocol's own shape, and the status tells the sender whether to retry:

- ``POST /v1/traces``, ``/otlp/v1/traces`` and a Sentry DSN's
  ``/api/<project>/integration/otlp/v1/traces/`` (OTLP/HTTP protobuf or JSON, optionally gzip): an
  ``ExportTraceServiceResponse``; spans without a valid trace or span id are left out and
  reported in ``partial_success.rejected_spans`` with a message, and when a span limit cut
  something the message says so with ``rejected_spans`` 0 (OTLP's warning); errors as a
  ``google.rpc.Status`` with 400, 413, 415 or 503;
- ``POST /api/v2/spans`` (Zipkin v2 JSON, optionally gzip): 202 with no body, as Zipkin answers;
  400 with a plain-text message for a body it cannot read (nothing of it stored), 413, 415 for
  the Thrift and protobuf encodings, 503 when storage could not take it.

A push is acknowledged only once the ``SpanSink`` has put its spans in the fsynced write-ahead
log; then each listener (``Callable[[SpanBatch], None]``) sees the batch, in the order given (span
metrics plug in there). Decoding, limits and the listeners run in worker threads so the event
loop keeps serving. ``SpanIntake`` is the part the OTLP/gRPC ``TraceService`` shares.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, SpyglassError
from spyglass.core.limits import IngestLimits, SpanLimitReport, SpanLimits, limit_spans
from spyglass.core.spans import SpanBatch
from spyglass.core.stats import StatField, StatsCollector
from spyglass.ingest.loki import inflate
from spyglass.ingest.otlp import SpanConversion, decode_otlp_traces
from spyglass.ingest.zipkin import decode_zipkin_spans
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
from spyglass.storage.ports import SpanSink

log = logging.getLogger(__name__)

SpanListener = Callable[[SpanBatch], None]
SENTRY_OTLP_TRACES = "/api/{project:int}/integration/otlp/v1/traces"


@dataclass(slots=True)
class TraceIngestCounters:
    """What trace ingest left out or cut, over every protocol."""

    rejected_spans: int = 0
    truncated_values: int = 0
    dropped_attributes: int = 0
    dropped_events: int = 0
    dropped_links: int = 0
    listener_failures: int = 0


_COUNTER_FIELDS = (
    StatField(
        "rejected_spans",
        "spyglass_traces_rejected_spans",
        "counter",
        "Spans left out of accepted exports (no valid trace or span id), reported to the sender "
        "as OTLP partial success.",
    ),
    StatField(
        "truncated_values",
        "spyglass_traces_truncated_attribute_values",
        "counter",
        "Attribute values cut to --traces-max-attribute-value-length.",
    ),
    StatField(
        "dropped_attributes",
        "spyglass_traces_dropped_attributes",
        "counter",
        "Attributes dropped past --traces-max-attributes-per-span.",
    ),
    StatField(
        "dropped_events",
        "spyglass_traces_dropped_events",
        "counter",
        "Span events dropped past --traces-max-events-per-span.",
    ),
    StatField(
        "dropped_links",
        "spyglass_traces_dropped_links",
        "counter",
        "Span links dropped past --traces-max-links-per-span.",
    ),
    StatField(
        "listener_failures",
        "spyglass_traces_listener_failures",
        "counter",
        "Accepted span batches a listener (span metrics) failed on; the spans are stored.",
    ),
)


class SpanIntake:
    """Limits, stores and announces accepted spans; counts what it cut. Thread-safe counters:
    limits run in worker threads."""

    def __init__(
        self,
        sink: SpanSink,
        limits: SpanLimits,
        listeners: Sequence[SpanListener] = (),
    ) -> None:
        self.sink = sink
        self.limits = limits
        self.listeners = list(listeners)
        self.counters = TraceIngestCounters()
        self._lock = threading.Lock()

    def limit(self, conversion: SpanConversion) -> tuple[SpanBatch, SpanLimitReport]:
        """The conversion's spans within the span limits (CPU work: run it off the loop)."""
        batch, report = limit_spans(conversion.batch, self.limits)
        with self._lock:
            c = self.counters
            c.rejected_spans += conversion.rejected
            c.truncated_values += report.truncated_values
            c.dropped_attributes += report.dropped_attributes
            c.dropped_events += report.dropped_events
            c.dropped_links += report.dropped_links
        return batch, report

    async def store(self, batch: SpanBatch) -> None:
        """Append durably, then hand the batch to each listener (a failing one is logged and
        counted: the spans are stored and acknowledged either way)."""
        if not len(batch):
            return
        await self.sink.append(batch)
        if self.listeners:
            # Span metrics and the service graph are CPU work per span: a worker thread.
            await run_in_threadpool(self._announce, batch)

    def _announce(self, batch: SpanBatch) -> None:
        for listener in self.listeners:
            try:
                listener(batch)
            except Exception:
                log.exception("a span listener failed on a batch of %d spans", len(batch))
                with self._lock:
                    self.counters.listener_failures += 1

    def collectors(self) -> list[Collector]:
        """What trace ingest cut and left out, for ``/metrics``."""
        return [StatsCollector(lambda: self.counters, _COUNTER_FIELDS)]


def warning_text(conversion: SpanConversion, report: SpanLimitReport) -> str:
    """OTLP's partial-success message: why spans were left out, and what the limits cut."""
    parts = [conversion.error_message] if conversion.error_message else []
    cuts = [
        (report.truncated_values, "attribute values truncated"),
        (report.dropped_attributes, "attributes dropped"),
        (report.dropped_events, "events dropped"),
        (report.dropped_links, "links dropped"),
    ]
    said = [f"{n} {what}" for n, what in cuts if n]
    if said:
        parts.append("span limits: " + ", ".join(said))
    return "; ".join(parts)


def _ignore(protocol: str, outcome: str, items: int) -> None:
    del protocol, outcome, items


@dataclass
class TracesIngestAPI(ReportsRefusals):
    """The span push routes into a ``SpanIntake``.

    ``observe(protocol, outcome, items)`` is told about every request (self-metrics; items are
    reported as 0, spans are counted by storage).
    """

    intake: SpanIntake
    ingest_limits: IngestLimits = field(default_factory=IngestLimits)
    observe: Callable[[str, str, int], None] = _ignore
    rejections: RejectionLog = field(default_factory=lambda: RejectionLog(log))

    def routes(self) -> list[BaseRoute]:
        """OTLP/HTTP traces (also under Loki's and the Collector's ``/otlp`` prefix, and at a
        Sentry DSN's OTLP endpoint) and Zipkin's span API."""
        return [
            Route("/v1/traces", self.otlp_traces, methods=ALL_METHODS),
            Route("/otlp/v1/traces", self.otlp_traces, methods=ALL_METHODS),
            # sentry_sdk's OTLPIntegration sends the app's OpenTelemetry spans to its DSN's
            # host at this path: with the DSN pointed at Spyglass, they arrive here unchanged.
            Route(f"{SENTRY_OTLP_TRACES}/", self.otlp_traces, methods=ALL_METHODS),
            Route(SENTRY_OTLP_TRACES, self.otlp_traces, methods=ALL_METHODS),
            Route("/api/v2/spans", self.zipkin_spans, methods=["POST"]),
        ]

    def collectors(self) -> list[Collector]:
        """The intake's counters."""
        return self.intake.collectors()

    # -- OTLP -------------------------------------------------------------------------------
    async def otlp_traces(self, request: Request) -> Response:
        """OTLP/HTTP traces, protobuf or JSON, optionally gzip-compressed."""
        content_type, refusal, message = otlp_refusal(request)
        if refusal is not None:
            if refusal.status_code == 415:
                self._refused(request, "otlp_http_traces", 415, message)
            return refusal
        limit = self.ingest_limits.max_body_bytes
        try:
            body = await read_body(request, limit)
            body = inflate(body, request.headers.get("content-encoding", ""), limit)
            conversion, batch, report = await run_in_threadpool(
                self._decode_otlp, body, content_type, limit
            )
            await self.intake.store(batch)
        except BadInput as exc:
            status = 413 if too_large(exc) else 400
            self._refused(request, "otlp_http_traces", status, str(exc))
            return otlp_status(status, INVALID_ARGUMENT, str(exc), content_type)
        except (SpyglassError, OSError) as exc:
            message = f"could not store: {exc}"
            self._failed(request, "otlp_http_traces", 503, message)
            return otlp_status(503, UNAVAILABLE, message, content_type)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, "otlp_http_traces", 500, f"internal error: {exc!r}", exc)
            message = "internal error; the server log has the details"
            return otlp_status(500, INTERNAL, message, content_type)
        self.observe("otlp_http_traces", "accepted", 0)
        response = ExportTraceServiceResponse()
        warning = warning_text(conversion, report)
        if conversion.rejected or warning:
            response.partial_success.rejected_spans = conversion.rejected
            response.partial_success.error_message = warning
        if content_type == OTLP_JSON:
            return Response(json_format.MessageToJson(response), media_type=OTLP_JSON)
        return Response(response.SerializeToString(), media_type=OTLP_PROTOBUF)

    def _decode_otlp(
        self, body: bytes, content_type: str, limit: int
    ) -> tuple[SpanConversion, SpanBatch, SpanLimitReport]:
        conversion = decode_otlp_traces(body, content_type, limit)
        batch, report = self.intake.limit(conversion)
        return conversion, batch, report

    # -- Zipkin -----------------------------------------------------------------------------
    async def zipkin_spans(self, request: Request) -> Response:
        """Zipkin's ``POST /api/v2/spans``: a JSON list of v2 spans; 202 once stored."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in ("", "application/json", "text/plain"):
            message = (
                f"unsupported content type {media!r}: Spyglass reads Zipkin's JSON encoding "
                "(application/json), not Thrift or protobuf"
            )
            self._refused(request, "zipkin", 415, message)
            return text_response(415, message)
        limit = self.ingest_limits.max_body_bytes
        try:
            body = await read_body(request, limit)
            body = inflate(body, request.headers.get("content-encoding", ""), limit)
            batch, _ = await run_in_threadpool(self._decode_zipkin, body)
            await self.intake.store(batch)
        except BadInput as exc:
            status = 413 if too_large(exc) else 400
            self._refused(request, "zipkin", status, str(exc))
            return text_response(status, str(exc))
        except (SpyglassError, OSError) as exc:
            message = f"could not store the spans, retry: {exc}"
            self._failed(request, "zipkin", 503, message)
            return text_response(503, message)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, "zipkin", 500, f"internal error: {exc!r}", exc)
            return text_response(500, "internal error; the server log has the details")
        self.observe("zipkin", "accepted", 0)
        return Response(status_code=202)

    def _decode_zipkin(self, body: bytes) -> tuple[SpanBatch, SpanLimitReport]:
        return self.intake.limit(SpanConversion(decode_zipkin_spans(body)))

    # -- helpers ----------------------------------------------------------------------------


__all__ = ["SpanIntake", "SpanListener", "TraceIngestCounters", "TracesIngestAPI", "warning_text"]
