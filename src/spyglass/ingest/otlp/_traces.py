"""OTLP traces (``ExportTraceServiceRequest``, protobuf or OTLP/JSON) -> ``SpanBatch``.

Each span becomes one ``core.spans.Span`` as the OpenTelemetry Collector's ClickHouse exporter
writes its row: ``service.name`` of the resource as the service, attribute values stringified
(pdata's ``AsString``), ids in hex. A span without a valid trace or span id cannot be stored or
found again; it is left out and counted, and the caller answers with OTLP's partial success
(``rejected_spans`` and a message) rather than refusing the whole request.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spyglass.core.errors import BadInput
from spyglass.core.spans import SPAN_KINDS, STATUS_CODES, Span, SpanBatch, SpanEvent, SpanLink
from spyglass.ingest.otlp._convert import any_value_text
from spyglass.ingest.otlp._decode import parse_otlp_request

_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class SpanConversion:
    """The spans of one request and how many were left out (with the first reason)."""

    batch: SpanBatch
    rejected: int = 0
    error_message: str = ""


def parse_traces_request(body: bytes, content_type: str, max_body_bytes: int = 0) -> Any:
    """Parse an OTLP/HTTP traces body; ``BadInput`` when it is malformed or of another type."""
    return parse_otlp_request(
        body, content_type, ExportTraceServiceRequest(), max_body_bytes, fix_json=_hex_ids_to_base64
    )


def spans_from_request(req: Any) -> SpanConversion:
    """The spans of a parsed ``ExportTraceServiceRequest``."""
    spans: list[Span] = []
    rejected = 0
    message = ""
    for resource_spans in req.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = resource.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                trace_id = span.trace_id.hex()
                span_id = span.span_id.hex()
                if len(trace_id) != 32 or trace_id == _ZERO_TRACE:
                    rejected += 1
                    message = message or f"span {span.name!r} has an invalid trace id"
                    continue
                if len(span_id) != 16 or span_id == _ZERO_SPAN:
                    rejected += 1
                    message = message or f"span {span.name!r} has an invalid span id"
                    continue
                start = span.start_time_unix_nano
                end = span.end_time_unix_nano
                spans.append(
                    Span(
                        trace_id=trace_id,
                        span_id=span_id,
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        start_ns=start,
                        duration_ns=max(0, end - start),
                        service_name=service,
                        kind=_name(SPAN_KINDS, span.kind),
                        status_code=_name(STATUS_CODES, span.status.code),
                        status_message=span.status.message,
                        trace_state=span.trace_state,
                        attributes=_attributes(span.attributes),
                        resource=resource,
                        scope_name=scope.name,
                        scope_version=scope.version,
                        events=tuple(
                            SpanEvent(e.time_unix_nano, e.name, _attributes(e.attributes))
                            for e in span.events
                        ),
                        links=tuple(
                            SpanLink(
                                link.trace_id.hex(),
                                link.span_id.hex(),
                                link.trace_state,
                                _attributes(link.attributes),
                            )
                            for link in span.links
                        ),
                    )
                )
    return SpanConversion(SpanBatch(tuple(spans)), rejected, message)


def decode_otlp_traces(body: bytes, content_type: str, max_body_bytes: int = 0) -> SpanConversion:
    """Decode an OTLP/HTTP traces export body; ``BadInput`` when it is malformed."""
    return spans_from_request(parse_traces_request(body, content_type, max_body_bytes))


def _name(names: tuple[str, ...], number: int) -> str:
    return names[number] if 0 <= number < len(names) else names[0]


def _attributes(attributes: Iterable[Any]) -> dict[str, str]:
    return {kv.key: any_value_text(kv.value) for kv in attributes}


def _hex_ids_to_base64(doc: dict[str, Any]) -> None:
    # OTLP/JSON writes trace and span ids in hex where protobuf's JSON mapping expects base64.
    for resource_spans in _dicts(doc.get("resourceSpans")):
        for scope_spans in _dicts(resource_spans.get("scopeSpans")):
            for span in _dicts(scope_spans.get("spans")):
                _convert_ids(span, ("traceId", "spanId", "parentSpanId"))
                for link in _dicts(span.get("links")):
                    _convert_ids(link, ("traceId", "spanId"))


def _convert_ids(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value:
            try:
                obj[key] = base64.b64encode(binascii.unhexlify(value)).decode()
            except (binascii.Error, ValueError):
                raise BadInput(f"otlp: {key} {value!r} is not hex") from None


def _dicts(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


__all__ = ["SpanConversion", "decode_otlp_traces", "parse_traces_request", "spans_from_request"]
