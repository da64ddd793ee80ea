"""Spans read back in Jaeger's JSON shape, and the service graph derived from parent and child
spans, as Jaeger UI and Grafana's Jaeger data source expect them."""

from __future__ import annotations

import spyglass.traces as traces
from spyglass.core.spans import Span, SpanEvent, SpanLink
from spyglass.traces import dependencies, jaeger_response, jaeger_trace

T = "5b8efff798038103d269b633813fc60c"


def span(sid: str, service: str, *, parent: str = "", start: int = 0, **kw: object) -> Span:
    return Span(
        trace_id=T,
        span_id=sid * 16,
        parent_span_id=parent * 16 if parent else "",
        name=f"op-{sid}",
        start_ns=start,
        duration_ns=2_500_000,
        service_name=service,
        resource={"service.name": service, "host.name": f"{service}-1"},
        **kw,  # type: ignore[arg-type]
    )


def test_a_trace_as_jaeger_writes_it() -> None:
    root = span(
        "a",
        "frontend",
        start=1_000_000_000,
        kind="Server",
        status_code="Error",
        status_message="boom",
        attributes={"http.route": "/checkout"},
        scope_name="otel.fastapi",
        events=(SpanEvent(1_000_500_000, "exception", {"exception.type": "ValueError"}),),
    )
    child = span(
        "b",
        "orders",
        parent="a",
        start=1_001_000_000,
        kind="Client",
        links=(SpanLink("1" * 32, "2" * 16),),
    )
    trace = jaeger_trace([child, root])
    assert trace["traceID"] == T
    first, second = trace["spans"]
    assert first["spanID"] == "a" * 16
    assert (first["startTime"], first["duration"]) == (1_000_000, 2500)
    assert first["references"] == []
    tags = {t["key"]: t["value"] for t in first["tags"]}
    assert tags == {
        "http.route": "/checkout",
        "span.kind": "server",
        "otel.status_code": "ERROR",
        "otel.status_description": "boom",
        "otel.scope.name": "otel.fastapi",
        "error": True,
    }
    assert first["logs"] == [
        {
            "timestamp": 1_000_500,
            "fields": [
                {"key": "event", "type": "string", "value": "exception"},
                {"key": "exception.type", "type": "string", "value": "ValueError"},
            ],
        }
    ]
    assert second["references"] == [
        {"refType": "CHILD_OF", "traceID": T, "spanID": "a" * 16},
        {"refType": "FOLLOWS_FROM", "traceID": "1" * 32, "spanID": "2" * 16},
    ]
    assert trace["processes"][first["processID"]] == {
        "serviceName": "frontend",
        "tags": [{"key": "host.name", "type": "string", "value": "frontend-1"}],
    }
    assert trace["processes"][second["processID"]]["serviceName"] == "orders"
    assert trace["warnings"] is None
    assert jaeger_response([trace])["total"] == 1


def test_a_missing_parent_is_a_warning() -> None:
    trace = jaeger_trace([span("b", "orders", parent="f")])
    assert trace["warnings"] == [f"span {'b' * 16}: parent {'f' * 16} not found"]


def test_dependencies_cross_service_calls_and_uninstrumented_peers() -> None:
    spans = [
        span("a", "frontend", kind="Server"),
        span("b", "frontend", parent="a", kind="Client", attributes={"peer.service": "orders"}),
        span("c", "orders", parent="b", kind="Server"),
        span("d", "orders", parent="c", kind="Client", attributes={"peer.service": "postgres"}),
        span("e", "orders", parent="c", kind="Internal"),
    ]
    edges = [(d.parent, d.child, d.call_count) for d in dependencies(spans)]
    assert edges == [("frontend", "orders", 1), ("orders", "postgres", 1)]
    assert dependencies(spans)[0].as_jaeger() == {
        "parent": "frontend",
        "child": "orders",
        "callCount": 1,
    }


def test_public_names() -> None:
    assert sorted(traces.__all__) == [
        "Dependency",
        "SERVICE_GRAPH_BUCKETS",
        "SPAN_METRICS_BUCKETS",
        "SpanMetrics",
        "SpanMetricsStats",
        "dependencies",
        "jaeger_error",
        "jaeger_response",
        "jaeger_span",
        "jaeger_trace",
        "parse_go_duration",
        "parse_logfmt",
        "parse_tags",
        "parse_trace_id",
    ]
