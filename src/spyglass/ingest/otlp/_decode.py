"""OTLP/HTTP metrics bodies (binary protobuf or OTLP/JSON) -> ``ExportMetricsServiceRequest``."""

from __future__ import annotations

import json
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


def parse_metrics_request(body: bytes, content_type: str, limits: IngestLimits) -> Any:
    """Parse an OTLP/HTTP metrics body; ``BadInput`` when it is malformed or of another type."""
    if limits.max_body_bytes and len(body) > limits.max_body_bytes:
        raise LimitExceeded(
            "max_body_bytes", limits.max_body_bytes, f"request body is {len(body)} bytes"
        )
    media = content_type.split(";", 1)[0].strip().lower()
    req = ExportMetricsServiceRequest()
    if media in PROTOBUF_TYPES:
        try:
            req.ParseFromString(body)
        except DecodeError as e:
            raise BadInput(f"otlp: malformed protobuf ExportMetricsServiceRequest: {e}") from None
        return req
    if media in JSON_TYPES:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
            raise BadInput(f"otlp: body is not JSON: {e}") from None
        if not isinstance(doc, dict):
            raise BadInput("otlp: JSON body must be an object")
        _drop_exemplars(doc)
        try:
            json_format.ParseDict(doc, req, ignore_unknown_fields=True)
        except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as e:
            raise BadInput(f"otlp: invalid OTLP/JSON metrics request: {e}") from None
        return req
    raise BadInput(
        f"otlp: unsupported content type {content_type!r} "
        "(want application/x-protobuf or application/json)"
    )


def _drop_exemplars(doc: dict[str, Any]) -> None:
    # OTLP/JSON writes exemplar trace/span ids in hex where protobuf's JSON mapping expects base64.
    # Exemplars are not stored, so they are removed before parsing instead of being translated.
    for rm in _dicts(doc.get("resourceMetrics")):
        for sm in _dicts(rm.get("scopeMetrics")):
            for metric in _dicts(sm.get("metrics")):
                for kind in _POINT_KINDS:
                    data = metric.get(kind)
                    if isinstance(data, dict):
                        for point in _dicts(data.get("dataPoints")):
                            point.pop("exemplars", None)


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
    """Like ``decode_otlp_metrics``, also reporting the points left out (OTLP partial success)."""
    req = parse_metrics_request(body, content_type, limits)
    if converter is None:
        converter = MetricsConverter()
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
]
