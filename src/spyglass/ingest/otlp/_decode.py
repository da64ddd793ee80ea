"""OTLP/HTTP metrics bodies (binary protobuf or OTLP/JSON) -> ``ExportMetricsServiceRequest``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import SampleBatch
from spyglass.ingest.otlp._convert import Conversion, MetricsConverter

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPES = ("application/json",)
_POINT_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")


def parse_otlp_request(
    body: bytes,
    content_type: str,
    message: Any,
    max_body_bytes: int = 0,
    *,
    fix_json: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """Parse an OTLP/HTTP body into ``message`` (an empty ``Export*ServiceRequest``), binary
    protobuf or OTLP/JSON by ``content_type``; ``fix_json`` adjusts the JSON document first
    (OTLP/JSON writes ids in hex where protobuf's JSON mapping expects base64). ``BadInput``
    when the body is malformed or of another type, naming the message."""
    _check_size(body, max_body_bytes)
    media = content_type.split(";", 1)[0].strip().lower()
    name = message.DESCRIPTOR.name
    if media in PROTOBUF_TYPES:
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError) as e:
            raise BadInput(f"otlp: malformed protobuf {name}: {e}") from None
        return message
    if media in JSON_TYPES:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
            raise BadInput(f"otlp: body is not JSON: {e}") from None
        if not isinstance(doc, dict):
            raise BadInput("otlp: JSON body must be an object")
        if fix_json is not None:
            fix_json(doc)
        what = name.removeprefix("Export").removesuffix("ServiceRequest").lower()
        try:
            json_format.ParseDict(doc, message, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as e:
            raise BadInput(f"otlp: invalid OTLP/JSON {what} request: {e}") from None
        return message
    raise BadInput(
        f"otlp: unsupported content type {content_type!r} "
        "(want application/x-protobuf or application/json)"
    )


def _check_size(body: bytes, max_body_bytes: int) -> None:
    if max_body_bytes and len(body) > max_body_bytes:
        raise LimitExceeded("max_body_bytes", max_body_bytes, f"request body is {len(body)} bytes")


def parse_metrics_request(body: bytes, content_type: str, limits: IngestLimits) -> Any:
    """Parse an OTLP/HTTP metrics body; ``BadInput`` when it is malformed or of another type."""
    return parse_otlp_request(
        body,
        content_type,
        ExportMetricsServiceRequest(),
        limits.max_body_bytes,
        fix_json=_exemplar_ids_to_base64,
    )


def _exemplar_ids_to_base64(doc: dict[str, Any]) -> None:
    # OTLP/JSON writes exemplar trace/span ids in hex where protobuf's JSON mapping expects
    # base64. An exemplar whose id is not hex is dropped, not the request: an exemplar is a hint
    # attached to a sample, and Prometheus' translator keeps the sample either way.
    for rm in _dicts(doc.get("resourceMetrics")):
        for sm in _dicts(rm.get("scopeMetrics")):
            for metric in _dicts(sm.get("metrics")):
                for kind in _POINT_KINDS:
                    data = metric.get(kind)
                    if isinstance(data, dict):
                        for point in _dicts(data.get("dataPoints")):
                            exemplars = point.get("exemplars")
                            if isinstance(exemplars, list):
                                point["exemplars"] = [
                                    e for e in _dicts(exemplars) if _hex_to_base64(e)
                                ]


def _hex_to_base64(exemplar: dict[str, Any]) -> bool:
    for key in ("traceId", "spanId"):
        value = exemplar.get(key)
        if isinstance(value, str) and value:
            try:
                exemplar[key] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                return False
    return True


def _dicts(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def decode_otlp_metrics_report(
    body: bytes,
    content_type: str,
    limits: IngestLimits,
    *,
    converter: MetricsConverter | None = None,
) -> Conversion:
    """Like ``decode_otlp_metrics``, also reporting the points left out (OTLP partial success).

    A protobuf body goes to ``MetricsConverter.convert_protobuf`` (read as columns when it is in
    the shape every SDK writes); OTLP/JSON through upb's objects."""
    if converter is None:
        converter = MetricsConverter()
    media = content_type.split(";", 1)[0].strip().lower()
    if media in PROTOBUF_TYPES:
        _check_size(body, limits.max_body_bytes)
        return converter.convert_protobuf(body, limits)
    req = parse_metrics_request(body, content_type, limits)
    return converter.convert(req, limits)


def decode_otlp_metrics(
    body: bytes,
    content_type: str,
    limits: IngestLimits,
    *,
    converter: MetricsConverter | None = None,
) -> SampleBatch:
    """Decode an OTLP/HTTP metrics export body into a ``SampleBatch``.

    ``content_type`` is ``application/x-protobuf`` or ``application/json`` (OTLP/JSON: lowerCamel
    keys, 64-bit integers as strings or numbers, enums as integers or names, unknown fields
    ignored). Raises ``BadInput`` for a malformed body or an unsupported content type and
    ``LimitExceeded`` when ``limits`` are broken. Without a ``converter`` a fresh one is used,
    so nothing is remembered between calls; a server passes the one it keeps.
    """
    return decode_otlp_metrics_report(body, content_type, limits, converter=converter).batch


__all__ = [
    "JSON_TYPES",
    "PROTOBUF_TYPES",
    "decode_otlp_metrics",
    "decode_otlp_metrics_report",
    "parse_metrics_request",
    "parse_otlp_request",
]
