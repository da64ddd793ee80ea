"""OTLP traces (``ExportTraceServiceRequest``, protobuf or OTLP/JSON) -> ``SpanBatch``.

Protobuf bodies are read into ``SpanColumns`` by ``_traces_wire`` when they are in the shape it
reads; the rest (JSON, gRPC's parsed messages, odd protobuf) through upb's objects here, to the
same values.

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
from spyglass.core.spans import (
    MAX_TIME_NS,
    SPAN_KINDS,
    STATUS_CODES,
    Span,
    SpanBatch,
    SpanEvent,
    SpanLink,
)
from spyglass.ingest.otlp._decode import PROTOBUF_TYPES, parse_otlp_request
from spyglass.ingest.otlp._labels import any_value_text
from spyglass.ingest.otlp._traces_wire import scan

_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_N_KINDS = len(SPAN_KINDS)
_N_CODES = len(STATUS_CODES)


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
            scope_name = scope.name
            scope_version = scope.version
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
                if end > MAX_TIME_NS or start > MAX_TIME_NS:  # unsigned on the wire
                    start, end = min(start, MAX_TIME_NS), min(end, MAX_TIME_NS)
                status = span.status
                kind = span.kind
                code = status.code
                # Most spans have no events and no links: asking the length first skips
                # building an empty generator and tuple for each.
                spans.append(
                    Span(
                        trace_id,
                        span_id,
                        span.name,
                        start,
                        max(0, end - start),
                        service,
                        span.parent_span_id.hex(),
                        SPAN_KINDS[kind] if 0 <= kind < _N_KINDS else SPAN_KINDS[0],
                        STATUS_CODES[code] if 0 <= code < _N_CODES else STATUS_CODES[0],
                        status.message,
                        span.trace_state,
                        _attributes(span.attributes),
                        resource,
                        scope_name,
                        scope_version,
                        _events(span.events) if len(span.events) else (),
                        _links(span.links) if len(span.links) else (),
                    )
                )
    return SpanConversion(SpanBatch(tuple(spans)), rejected, message)


def decode_otlp_traces(body: bytes, content_type: str, max_body_bytes: int = 0) -> SpanConversion:
    """Decode an OTLP/HTTP traces export body; ``BadInput`` when it is malformed.

    A protobuf body is read into columns by ``_traces_wire.scan`` when it is in the shape that
    reader takes (every real exporter's), with upb as the fallback that also reports errors;
    JSON goes through upb's objects."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in PROTOBUF_TYPES and not (max_body_bytes and len(body) > max_body_bytes):
        scanned = scan(body)
        if scanned is not None:
            return SpanConversion(
                SpanBatch(columns=scanned.columns), scanned.rejected, scanned.error_message
            )
    return spans_from_request(parse_traces_request(body, content_type, max_body_bytes))


def _events(events: Iterable[Any]) -> tuple[SpanEvent, ...]:
    return tuple(
        SpanEvent(min(e.time_unix_nano, MAX_TIME_NS), e.name, _attributes(e.attributes))
        for e in events
    )


def _links(links: Iterable[Any]) -> tuple[SpanLink, ...]:
    return tuple(
        SpanLink(lk.trace_id.hex(), lk.span_id.hex(), lk.trace_state, _attributes(lk.attributes))
        for lk in links
    )


def _attributes(attributes: Iterable[Any]) -> dict[str, str]:
    # A non-empty ``string_value`` is the common case and needs no ``WhichOneof``; an empty one
    # may be an unset value or another type, which ``any_value_text`` tells apart.
    return {
        kv.key: value.string_value or any_value_text(value)
        for kv in attributes
        for value in (kv.value,)
    }


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
