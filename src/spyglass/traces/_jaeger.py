"""Spans in the JSON shape of Jaeger's HTTP query API (what Jaeger UI and Grafana read).

A trace is ``{"traceID", "spans", "processes", "warnings"}``: each span names its process by id
(``p1``, ``p2``...), one process per distinct service and resource, with the resource's
attributes as the process's tags. OpenTelemetry fields map as Jaeger's own OTLP translator maps
them: the parent becomes a ``CHILD_OF`` reference and links ``FOLLOWS_FROM`` ones; kind,
status and instrumentation scope become the ``span.kind``, ``error``, ``otel.status_code``,
``otel.status_description``, ``otel.scope.name`` and ``otel.scope.version`` tags; span events
become logs with an ``event`` field. Times are microseconds. Attribute values are stored as
text, so tags are of type ``string`` (``error`` is the one ``bool``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from spyglass.core.spans import Span

_KIND_TAGS = {
    "Server": "server",
    "Client": "client",
    "Producer": "producer",
    "Consumer": "consumer",
    "Internal": "internal",
}


def jaeger_trace(spans: Sequence[Span]) -> dict[str, Any]:
    """One trace in Jaeger's JSON shape (all ``spans`` share a trace id), spans by start time."""
    processes: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    out_spans = []
    warnings: list[str] = []
    ids = {s.span_id for s in spans}
    for span in sorted(spans, key=lambda s: (s.start_ns, s.span_id)):
        key = (span.service_name, tuple(sorted(span.resource.items())))
        pid = processes.setdefault(key, f"p{len(processes) + 1}")
        out_spans.append(jaeger_span(span, pid))
        if span.parent_span_id and span.parent_span_id not in ids:
            warnings.append(f"span {span.span_id}: parent {span.parent_span_id} not found")
    trace_id = spans[0].trace_id if spans else ""
    return {
        "traceID": trace_id,
        "spans": out_spans,
        "processes": {
            pid: {
                "serviceName": service,
                "tags": _tags((k, v) for k, v in resource if k != "service.name"),
            }
            for (service, resource), pid in processes.items()
        },
        "warnings": warnings or None,
    }


def jaeger_span(span: Span, process_id: str) -> dict[str, Any]:
    """One span in Jaeger's JSON shape."""
    references = []
    if span.parent_span_id:
        references.append(
            {"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": span.parent_span_id}
        )
    references += [
        {"refType": "FOLLOWS_FROM", "traceID": link.trace_id, "spanID": link.span_id}
        for link in span.links
    ]
    extra: list[tuple[str, str]] = []
    if span.kind in _KIND_TAGS:
        extra.append(("span.kind", _KIND_TAGS[span.kind]))
    if span.status_code != "Unset":
        extra.append(("otel.status_code", span.status_code.upper()))
    if span.status_message:
        extra.append(("otel.status_description", span.status_message))
    if span.scope_name:
        extra.append(("otel.scope.name", span.scope_name))
    if span.scope_version:
        extra.append(("otel.scope.version", span.scope_version))
    tags = _tags([*span.attributes.items(), *extra])
    if span.status_code == "Error":
        tags.append({"key": "error", "type": "bool", "value": True})
    return {
        "traceID": span.trace_id,
        "spanID": span.span_id,
        "operationName": span.name,
        "references": references,
        "startTime": span.start_ns // 1000,
        "duration": span.duration_ns // 1000,
        "tags": tags,
        "logs": [
            {
                "timestamp": event.timestamp_ns // 1000,
                "fields": _tags([("event", event.name), *event.attributes.items()]),
            }
            for event in span.events
        ],
        "processID": process_id,
        "warnings": None,
    }


def jaeger_response(data: Any, *, total: int | None = None) -> dict[str, Any]:
    """The envelope every Jaeger query API answer has."""
    count = total if total is not None else (len(data) if isinstance(data, list) else 0)
    return {"data": data, "total": count, "limit": 0, "offset": 0, "errors": None}


def jaeger_error(status: int, message: str) -> dict[str, Any]:
    """A Jaeger query API error body."""
    return {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": status, "msg": message}],
    }


def _tags(pairs: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[dict[str, Any]]:
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return [{"key": k, "type": "string", "value": v} for k, v in items]


__all__ = ["jaeger_error", "jaeger_response", "jaeger_span", "jaeger_trace"]
