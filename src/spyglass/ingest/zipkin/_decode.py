"""Zipkin v2 JSON spans, mapped onto OpenTelemetry's span model.

A Zipkin v2 span (zipkin-api's ``zipkin2-api.yaml``)::

    {"traceId": "5af7183fb1d4cf5f", "id": "352bff9a74ca9ad2", "parentId": "6b221d5bc9e6496c",
     "name": "get /api", "kind": "SERVER", "timestamp": 1556604172355737, "duration": 1431,
     "localEndpoint": {"serviceName": "backend", "ipv4": "192.168.99.1", "port": 3306},
     "remoteEndpoint": {"serviceName": "frontend", "ipv4": "172.19.0.2", "port": 58648},
     "tags": {"http.method": "GET", "error": "timeout"},
     "annotations": [{"timestamp": 1556604172355800, "value": "ws"}]}

Times are microseconds. A 64-bit trace id is widened to 128 bits with leading zeros, as
OpenTelemetry does. The local endpoint's service is the span's service; the remote endpoint
becomes ``peer.service``, ``net.peer.ip`` and ``net.peer.port``; an ``error`` tag sets the
status to ``Error`` with the tag's text as its message; annotations become span events. A span
without a valid id or trace id is refused with the whole request, as Zipkin itself refuses it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.spans import MAX_TIME_NS, Span, SpanBatch, SpanEvent

_HEX = re.compile(r"[0-9a-f]{1,32}")
_KINDS = {"CLIENT": "Client", "SERVER": "Server", "PRODUCER": "Producer", "CONSUMER": "Consumer"}
MAX_SPANS = 100_000


def decode_zipkin_spans(body: bytes, *, max_spans: int = MAX_SPANS) -> SpanBatch:
    """The spans of a ``POST /api/v2/spans`` JSON body; ``BadInput`` naming the bad span."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"Malformed reading List<Span> from json: {exc}") from None
    if not isinstance(doc, list):
        raise BadInput("Malformed reading List<Span> from json: expected a JSON array")
    if len(doc) > max_spans:
        raise LimitExceeded("max_spans", max_spans, f"request holds {len(doc)} spans")
    return SpanBatch(tuple(_span(item, i) for i, item in enumerate(doc)))


def _span(item: object, index: int) -> Span:
    if not isinstance(item, dict):
        raise BadInput(f"Malformed reading List<Span> from json: span {index} is not an object")
    trace_id = _id(item.get("traceId"), 32, index, "traceId")
    span_id = _id(item.get("id"), 16, index, "id")
    parent = item.get("parentId")
    parent_id = _id(parent, 16, index, "parentId") if parent not in (None, "") else ""
    local = _mapping(item.get("localEndpoint"))
    remote = _mapping(item.get("remoteEndpoint"))
    tags = {str(k): _text(v) for k, v in _mapping(item.get("tags")).items()}
    attributes = dict(tags)
    status, message = "Unset", ""
    if "error" in tags:
        status, message = "Error", tags.pop("error")
        attributes.pop("error")
    for key, value in (
        ("net.host.ip", local.get("ipv4") or local.get("ipv6")),
        ("net.host.port", local.get("port")),
        ("peer.service", remote.get("serviceName")),
        ("net.peer.ip", remote.get("ipv4") or remote.get("ipv6")),
        ("net.peer.port", remote.get("port")),
    ):
        if value not in (None, ""):
            attributes.setdefault(key, _text(value))
    service = _text(local.get("serviceName"))
    events = tuple(
        SpanEvent(_micros(a.get("timestamp")) * 1000, _text(a.get("value")))
        for a in item.get("annotations") or []
        if isinstance(a, dict)
    )
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_id,
        name=_text(item.get("name")),
        start_ns=_micros(item.get("timestamp")) * 1000,
        duration_ns=_micros(item.get("duration")) * 1000,
        service_name=service,
        kind=_KINDS.get(_text(item.get("kind")).upper(), "Internal"),
        status_code=status,
        status_message=message,
        attributes=attributes,
        resource={"service.name": service} if service else {},
        events=events,
    )


def _id(value: object, width: int, index: int, field: str) -> str:
    text = value.lower() if isinstance(value, str) else ""
    if not _HEX.fullmatch(text) or len(text) > width or set(text) == {"0"}:
        raise BadInput(
            f"Malformed reading List<Span> from json: span {index}: {field} {value!r} "
            f"is not 1-{width} lower-hex characters"
        )
    return text.rjust(width, "0")


def _micros(value: object) -> int:
    """Microseconds as given, 0 when not a number, cut to what nanoseconds in int64 hold."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return min(max(0, int(value)), MAX_TIME_NS // 1000)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


__all__ = ["MAX_SPANS", "decode_zipkin_spans"]
