"""Push endpoints for logs: Loki's push API, OTLP/HTTP logs and Elasticsearch's ``_bulk``.

Each answers in its protocol's own shape, and the status tells the shipper whether to retry:

- ``POST /loki/api/v1/push`` (JSON or snappy protobuf): 204 when everything was stored; 400
  with Loki's plain-text messages when some entries broke a limit (the others are stored, as Loki
  stores them, and Promtail does not resend a 4xx); 503 when storage could not take the batch
  (down, or too much waiting for it: Promtail retries a 5xx);
- ``POST /v1/logs`` (OTLP/HTTP protobuf or JSON): an ``ExportLogsServiceResponse``, with
  ``partial_success.rejected_log_records`` for records a limit refused; errors as
  ``google.rpc.Status``;
- ``POST /_bulk``, ``POST /<index>/_bulk`` and the same under ``/es`` (Elasticsearch): 200 with
  ``{"took", "errors", "items"}``, one item per action (Fluent Bit, Filebeat and Logstash read
  ``errors`` and each item's ``status``); a body that is not NDJSON actions is a 400 in
  Elasticsearch's error shape. When too much waits for storage (``Overloaded``) each item is a
  429 ``es_rejected_execution_exception``, as a full write queue answers, and is retried.
  Under ``/es`` also the few calls a Beat makes before shipping (``GET /es`` for the version,
  ``/_license``, template and ILM set-up), because ``GET /`` is the web UI's: point
  Elasticsearch clients at ``http://<spyglass>/es``.

A push is acknowledged only once the ``LogSink`` has put its records in the fsynced write-ahead
log. Decoding runs in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, Overloaded, SpyglassError
from spyglass.core.limits import IngestLimits, LogLimits
from spyglass.core.version import __version__
from spyglass.ingest.active_streams import ActiveStreams
from spyglass.ingest.es_bulk import BulkRequestError, BulkResult, decode_bulk
from spyglass.ingest.loki import decode_push, inflate
from spyglass.ingest.otlp import LogsConversion, decode_otlp_logs
from spyglass.server.api._ingest_http import (
    ALL_METHODS,
    INTERNAL,
    INVALID_ARGUMENT,
    OTLP_JSON,
    OTLP_PROTOBUF,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE,
    ReportsRefusals,
    otlp_refusal,
    otlp_status,
    read_body,
    text_response,
    too_large,
)
from spyglass.server.rejections import RejectionLog
from spyglass.storage.ports import LogSink

log = logging.getLogger(__name__)

# The Elasticsearch version announced to clients that check it (Beats refuse an unknown major).
ES_VERSION = "8.11.0"


def _ignore(protocol: str, outcome: str, items: int) -> None:
    del protocol, outcome, items


def _always_room(size: int) -> None:
    """A sink that never refuses for want of room."""
    del size


@dataclass(frozen=True)
class LogsIngestAPI(ReportsRefusals):
    """The log push routes into a ``LogSink``.

    ``observe(protocol, outcome, items)`` is told about every request (self-metrics; items are
    reported as 0, records are counted by storage); ``clock`` gives the time limits are checked
    against (nanoseconds); ``room(size)`` raises ``Overloaded`` when the sink would refuse a
    batch of ``size`` bytes now, so a Loki or OTLP push whose body does not fit is refused
    before it is decoded (a Loki push's lines take about its JSON body's bytes, or more than
    its compressed protobuf's).
    """

    sink: LogSink
    limits: LogLimits = field(default_factory=LogLimits)
    ingest_limits: IngestLimits = field(default_factory=IngestLimits)
    observe: Callable[[str, str, int], None] = _ignore
    clock: Callable[[], int] = time.time_ns
    room: Callable[[int], None] = _always_room
    rejections: RejectionLog = field(default_factory=lambda: RejectionLog(log))
    streams: ActiveStreams = field(default_factory=lambda: ActiveStreams(0))

    def routes(self) -> list[BaseRoute]:
        """Loki push, OTLP/HTTP logs, and Elasticsearch's bulk API (also under ``/es``)."""
        es = [
            Route("/_bulk", self.es_bulk, methods=["POST", "PUT"]),
            Route("/{index}/_bulk", self.es_bulk, methods=["POST", "PUT"]),
        ]
        return [
            Route("/loki/api/v1/push", self.loki_push, methods=["POST"]),
            Route("/v1/logs", self.otlp_logs, methods=ALL_METHODS),
            # Loki's own OTLP path: collectors exporting to http://loki:3100/otlp work unchanged.
            Route("/otlp/v1/logs", self.otlp_logs, methods=ALL_METHODS),
            *es,
            Route("/es", self.es_info, methods=["GET", "HEAD"]),
            Route("/es/", self.es_info, methods=["GET", "HEAD"]),
            Route("/es/_bulk", self.es_bulk, methods=["POST", "PUT"]),
            Route("/es/_license", self.es_license, methods=["GET"]),
            Route("/es/{index}/_bulk", self.es_bulk, methods=["POST", "PUT"]),
            Route("/es/{api:path}", self.es_setup, methods=["GET", "HEAD", "PUT", "POST"]),
        ]

    # -- Loki -------------------------------------------------------------------------------
    async def loki_push(self, request: Request) -> Response:
        """Loki's push API: JSON (``application/json``) or snappy protobuf; 204 on success."""
        try:
            body = await read_body(request, self.ingest_limits.max_body_bytes)
            self.room(len(body))
            result = await run_in_threadpool(
                partial(decode_push, max_body_bytes=self.ingest_limits.max_body_bytes),
                body,
                request.headers.get("content-type", ""),
                request.headers.get("content-encoding", ""),
                self.limits,
                self.clock(),
            )
            split = self.streams.split(result.batch)
            if len(split.batch):
                await self.sink.append(split.batch)
        except BadInput as exc:
            status = 413 if too_large(exc) else 400
            self._refused(request, "loki_push", status, str(exc))
            return text_response(status, str(exc))
        except (SpyglassError, OSError) as exc:
            message = f"could not store the log entries, retry: {exc}"
            self._failed(request, "loki_push", 503, message)
            return text_response(503, message)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, "loki_push", 500, f"internal error: {exc!r}", exc)
            return text_response(500, "internal error; the server log has the details")
        if split.refused_streams:
            # Loki's ingester stores the other streams and answers the push with the stream
            # limit's 429 (before any 400 of the distributor's checks).
            self._refused(request, "loki_push", 429, split.message())
            return text_response(429, split.message())
        if result.refused:
            text = result.error_text()
            self._refused(request, "loki_push", 400, text.splitlines()[0])
            return text_response(400, text)
        self.observe("loki_push", "accepted", 0)
        return Response(status_code=204)

    # -- OTLP -------------------------------------------------------------------------------
    async def otlp_logs(self, request: Request) -> Response:
        """OTLP/HTTP logs, protobuf or JSON, optionally gzip-compressed."""
        content_type, refusal, message = otlp_refusal(request)
        if refusal is not None:
            if refusal.status_code == 415:
                self._refused(request, "otlp_http_logs", 415, message)
            return refusal
        limit = self.ingest_limits.max_body_bytes
        try:
            body = await read_body(request, limit)
            self.room(len(body))
            body = inflate(body, request.headers.get("content-encoding", ""), limit)
            report: LogsConversion = await run_in_threadpool(
                partial(decode_otlp_logs, max_body_bytes=limit),
                body,
                content_type,
                self.limits,
                self.clock(),
            )
            split = self.streams.split(report.batch)
            if len(split.batch):
                await self.sink.append(split.batch)
        except BadInput as exc:
            status = 413 if too_large(exc) else 400
            self._refused(request, "otlp_http_logs", status, str(exc))
            return otlp_status(status, INVALID_ARGUMENT, str(exc), content_type)
        except (SpyglassError, OSError) as exc:
            message = f"could not store: {exc}"
            self._failed(request, "otlp_http_logs", 503, message)
            return otlp_status(503, UNAVAILABLE, message, content_type)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, "otlp_http_logs", 500, f"internal error: {exc!r}", exc)
            message = "internal error; the server log has the details"
            return otlp_status(500, INTERNAL, message, content_type)
        if split.refused_streams and not len(split.batch):
            # Nothing was taken: OTLP's throttling answer (429 / RESOURCE_EXHAUSTED), which an
            # exporter retries later; with part taken the spec asks for a partial success.
            self._refused(request, "otlp_http_logs", 429, split.message())
            return otlp_status(429, RESOURCE_EXHAUSTED, split.message(), content_type)
        self.observe("otlp_http_logs", "accepted", 0)
        response = ExportLogsServiceResponse()
        rejected, message = split.partial_success(report.rejected, report.error_message)
        if rejected:
            response.partial_success.rejected_log_records = rejected
            response.partial_success.error_message = message
        if content_type == OTLP_JSON:
            return Response(json_format.MessageToJson(response), media_type=OTLP_JSON)
        return Response(response.SerializeToString(), media_type=OTLP_PROTOBUF)

    # -- Elasticsearch ----------------------------------------------------------------------
    async def es_bulk(self, request: Request) -> Response:
        """Elasticsearch's bulk API: NDJSON ``index``/``create`` actions, one item each."""
        began = time.monotonic()
        index = request.path_params.get("index", "")
        limit = self.ingest_limits.max_body_bytes
        try:
            body = await read_body(request, limit)
            body = inflate(body, request.headers.get("content-encoding", ""), limit)
            result: BulkResult = await run_in_threadpool(
                decode_bulk, body, index, self.limits, self.clock()
            )
            split = self.streams.split(result.batch)
            if split.kept is not None:
                result = result.limited(split.kept, split.message())
            if len(result.batch):
                try:
                    await self.sink.append(result.batch)
                except Overloaded as exc:
                    # Elasticsearch's answer to a full write queue: 429 per item, retried.
                    message = f"rejected execution: storage is behind, retry: {exc}"
                    self._failed(request, "es_bulk", 429, message)
                    refused = result.refused(429, "es_rejected_execution_exception", message)
                    took = int((time.monotonic() - began) * 1000)
                    return Response(
                        refused.response_body(took),
                        media_type="application/json",
                        headers=_ES_HEADERS,
                    )
        except BulkRequestError as exc:
            self._refused(request, "es_bulk", 400, str(exc))
            return _es_error(400, "illegal_argument_exception", str(exc))
        except BadInput as exc:
            status = 413 if too_large(exc) else 400
            self._refused(request, "es_bulk", status, str(exc))
            return _es_error(status, "parse_exception", str(exc))
        except (SpyglassError, OSError) as exc:
            message = f"could not store the documents, retry: {exc}"
            self._failed(request, "es_bulk", 503, message)
            return _es_error(503, "unavailable_shards_exception", message)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, "es_bulk", 500, f"internal error: {exc!r}", exc)
            return _es_error(500, "exception", "internal error; the server log has the details")
        self.observe("es_bulk", "rejected" if result.errors else "accepted", 0)
        took = int((time.monotonic() - began) * 1000)
        return Response(
            result.response_body(took), media_type="application/json", headers=_ES_HEADERS
        )

    async def es_info(self, request: Request) -> Response:
        """``GET /`` of an Elasticsearch node: the version clients check before shipping."""
        del request
        return JSONResponse(
            {
                "name": "spyglass",
                "cluster_name": "spyglass",
                "cluster_uuid": "spyglass-logs",
                "version": {
                    "number": ES_VERSION,
                    "build_flavor": "default",
                    "build_type": "spyglass",
                    "build_hash": __version__,
                    "build_snapshot": False,
                    "lucene_version": "9.8.0",
                    "minimum_wire_compatibility_version": "7.17.0",
                    "minimum_index_compatibility_version": "7.0.0",
                },
                "tagline": "You Know, for Search",
            },
            headers=_ES_HEADERS,
        )

    async def es_license(self, request: Request) -> Response:
        """A basic license, which is what Beats look for before their set-up calls."""
        del request
        return JSONResponse(
            {"license": {"status": "active", "uid": "spyglass", "type": "basic", "mode": "basic"}},
            headers=_ES_HEADERS,
        )

    async def es_setup(self, request: Request) -> Response:
        """Index templates, ILM policies and pipelines: acknowledged, and absent when read, so a
        Beat's set-up goes through; Spyglass has no mappings to install."""
        api = request.path_params.get("api", "")
        if request.method in ("GET", "HEAD"):
            return _es_error(404, "resource_not_found_exception", f"[{api}] not found")
        return JSONResponse({"acknowledged": True}, headers=_ES_HEADERS)

    # -- helpers ----------------------------------------------------------------------------


# Elasticsearch 8 clients (the official ones, Logstash's) check this header.
_ES_HEADERS = {"X-Elastic-Product": "Elasticsearch"}


def _es_error(status: int, kind: str, reason: str) -> Response:
    cause = {"type": kind, "reason": reason}
    return JSONResponse(
        {"error": {"root_cause": [cause], **cause}, "status": status},
        status_code=status,
        headers=_ES_HEADERS,
    )


__all__ = ["ES_VERSION", "LogsIngestAPI"]
