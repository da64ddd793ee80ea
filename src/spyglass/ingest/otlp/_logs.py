"""OTLP logs (``ExportLogsServiceRequest``, over HTTP protobuf/JSON or gRPC) -> ``LogBatch``.

The mapping is Loki's OTLP ingestion, so a query written against Loki finds the same streams:

- stream labels: the resource attributes Loki indexes by default (``DEFAULT_INDEX_LABELS``:
  ``service.name``, ``service.namespace``, ``deployment.environment``, ``k8s.*``, ...), names
  with dots turned into underscores; a resource without ``service.name`` gets
  ``service_name="unknown_service"``;
- structured metadata: the other resource attributes, the scope's name, version and
  attributes, the record's attributes (names normalised the same way), and ``severity_text``,
  ``severity_number``, ``trace_id``, ``span_id`` (hex), ``flags``, ``observed_timestamp`` and
  ``event_name`` when set, plus ``detected_level`` from the severity as Loki's level discovery
  sets it;
- the line: the body as text (a string as is, maps and arrays as JSON, as pdata's ``AsString``);
- the time: ``time_unix_nano``, else ``observed_time_unix_nano``, else the time of receipt.

The ``LogRecord`` also keeps the record's own severity, ids and raw resource attributes for the
``otel_logs`` columns. Loki's limits apply per record (``ingest.loki.admit``); refused records are
reported through OTLP's partial success (``rejected_log_records``), the rest is stored.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from spyglass.core.errors import BadInput
from spyglass.core.limits import LogLimits
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.ingest.loki import RawStream, admit, format_stream_labels
from spyglass.ingest.otlp._decode import parse_otlp_request
from spyglass.ingest.otlp._labels import any_value_text
from spyglass.ingest.otlp._names import label_name

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPES = ("application/json",)

# Loki's default `otlp_config` resource attributes stored as index labels.
DEFAULT_INDEX_LABELS = frozenset(
    {
        "service.name",
        "service.namespace",
        "service.instance.id",
        "deployment.environment",
        "deployment.environment.name",
        "cloud.region",
        "cloud.availability_zone",
        "k8s.cluster.name",
        "k8s.namespace.name",
        "k8s.pod.name",
        "k8s.container.name",
        "container.name",
        "k8s.replicaset.name",
        "k8s.deployment.name",
        "k8s.statefulset.name",
        "k8s.daemonset.name",
        "k8s.cronjob.name",
        "k8s.job.name",
    }
)
UNKNOWN_SERVICE = "unknown_service"


@dataclass(frozen=True, slots=True)
class LogsConversion:
    """The records an export carries that pass the limits, and what was refused and why."""

    batch: LogBatch
    rejected: int
    error_message: str


def detected_level(severity_number: int, severity_text: str) -> str:
    """Loki's ``detected_level`` for a record's severity (``""``: none)."""
    if 1 <= severity_number <= 4:
        return "trace"
    if 5 <= severity_number <= 8:
        return "debug"
    if 9 <= severity_number <= 12:
        return "info"
    if 13 <= severity_number <= 16:
        return "warn"
    if 17 <= severity_number <= 20:
        return "error"
    if 21 <= severity_number <= 24:
        return "critical"
    return severity_text.lower()


def _attrs(attributes: Iterable[Any], into: dict[str, str]) -> None:
    for kv in attributes:
        name = label_name(kv.key)
        if name:
            into[name] = any_value_text(kv.value)


def convert_logs_request(req: Any, limits: LogLimits, now_ns: int) -> LogsConversion:
    """The records of an ``ExportLogsServiceRequest``, checked against ``limits`` at ``now_ns``."""
    streams: list[RawStream] = []
    for rl in req.resource_logs:
        labels: dict[str, str] = {}
        resource_meta: dict[str, str] = {}
        resource: dict[str, str] = {}
        for kv in rl.resource.attributes:
            text = any_value_text(kv.value)
            resource[kv.key] = text
            name = label_name(kv.key)
            if not name:
                continue
            if kv.key in DEFAULT_INDEX_LABELS:
                if text:
                    labels[name] = text
            else:
                resource_meta[name] = text
        labels.setdefault("service_name", UNKNOWN_SERVICE)
        stream = tuple(sorted(labels.items()))
        records: list[LogRecord] = []
        for sl in rl.scope_logs:
            scope_meta = dict(resource_meta)
            if sl.scope.name:
                scope_meta["scope_name"] = sl.scope.name
            if sl.scope.version:
                scope_meta["scope_version"] = sl.scope.version
            if sl.scope.dropped_attributes_count:
                scope_meta["scope_dropped_attributes_count"] = str(
                    sl.scope.dropped_attributes_count
                )
            _attrs(sl.scope.attributes, scope_meta)
            for lr in sl.log_records:
                meta = dict(scope_meta)
                _attrs(lr.attributes, meta)
                trace_id = lr.trace_id.hex() if any(lr.trace_id) else ""
                span_id = lr.span_id.hex() if any(lr.span_id) else ""
                if lr.severity_text:
                    meta["severity_text"] = lr.severity_text
                if lr.severity_number:
                    meta["severity_number"] = str(lr.severity_number)
                level = detected_level(lr.severity_number, lr.severity_text)
                if level:
                    meta["detected_level"] = level
                if trace_id:
                    meta["trace_id"] = trace_id
                if span_id:
                    meta["span_id"] = span_id
                if lr.flags:
                    meta["flags"] = str(lr.flags)
                if lr.observed_time_unix_nano:
                    meta["observed_timestamp"] = str(lr.observed_time_unix_nano)
                event = getattr(lr, "event_name", "")
                if event:
                    meta["event_name"] = event
                ts = lr.time_unix_nano or lr.observed_time_unix_nano or now_ns
                if ts >= 2**63:
                    raise BadInput(f"otlp: log record time {ts} is out of range")
                records.append(
                    LogRecord(
                        ts,
                        any_value_text(lr.body),
                        stream,
                        meta,
                        min(lr.observed_time_unix_nano, 2**63 - 1),
                        lr.severity_text,
                        int(lr.severity_number),
                        trace_id,
                        span_id,
                        resource,
                    )
                )
        streams.append(RawStream(stream, format_stream_labels(stream), records))
    result = admit(streams, limits, now_ns)
    message = ""
    if result.refused:
        message = "; ".join(result.messages[:5])
        if len(result.messages) > 5:
            message += f"; and {len(result.messages) - 5} more"
    return LogsConversion(result.batch, result.refused, message)


def parse_logs_request(body: bytes, content_type: str, max_body_bytes: int = 0) -> Any:
    """Parse an OTLP/HTTP logs body; ``BadInput`` when it is malformed or of another type."""
    return parse_otlp_request(
        body, content_type, ExportLogsServiceRequest(), max_body_bytes, fix_json=_hex_ids_to_base64
    )


def _hex_ids_to_base64(doc: dict[str, Any]) -> None:
    # OTLP/JSON writes trace and span ids in hex where protobuf's JSON mapping expects base64.
    for rl in _dicts(doc.get("resourceLogs")):
        for sl in _dicts(rl.get("scopeLogs")):
            for lr in _dicts(sl.get("logRecords")):
                for key in ("traceId", "spanId"):
                    value = lr.get(key)
                    if isinstance(value, str) and value:
                        try:
                            lr[key] = base64.b64encode(bytes.fromhex(value)).decode()
                        except ValueError:
                            raise BadInput(f"otlp: {key} {value[:40]!r} is not hex") from None


def _dicts(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def decode_otlp_logs(
    body: bytes, content_type: str, limits: LogLimits, now_ns: int, *, max_body_bytes: int = 0
) -> LogsConversion:
    """Decode an OTLP/HTTP logs export body (protobuf or OTLP/JSON) into records."""
    return convert_logs_request(
        parse_logs_request(body, content_type, max_body_bytes), limits, now_ns
    )


__all__ = [
    "DEFAULT_INDEX_LABELS",
    "LogsConversion",
    "convert_logs_request",
    "decode_otlp_logs",
    "detected_level",
    "parse_logs_request",
]
