"""Span metrics and the service graph counted from ``SpanColumns`` (the OTLP protobuf path) give
the same series, values, exemplars and drop counts as counting the same spans one by one."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spyglass.core.spans import SpanBatch
from spyglass.ingest.otlp._traces_wire import scan
from spyglass.storage.memory import MemoryStore
from spyglass.traces import SpanMetrics

T0 = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _body(seed: int, n: int) -> bytes:
    """An export of ``n`` spans over a few services, names, kinds and statuses, half of the
    server spans children of an earlier client span (service-graph pairs)."""
    rng = random.Random(seed)
    req = ExportTraceServiceRequest()
    scopes = []
    for service in ("api", "orders", "db"):
        rs = req.resource_spans.add()
        rs.resource.attributes.add(key="service.name").value.string_value = service
        scopes.append(rs.scope_spans.add())
    clients: list[tuple[bytes, bytes]] = []
    for i in range(n):
        kind = rng.randrange(0, 6)
        trace = rng.randbytes(2) * 8 if rng.random() < 0.5 else b"\x01" * 16
        span_id = (i + 1).to_bytes(8, "big")
        parent = b""
        if kind in (2, 5) and clients and rng.random() < 0.7:
            trace, parent = clients.pop(rng.randrange(len(clients)))
        start = 1_700_000_000 * 10**9 + rng.randrange(10**9)
        duration = rng.choice([0, 1_000_000, 2_000_000, 3_500_000, 10**9, 20 * 10**9, -5])
        span = rng.choice(scopes).spans.add(
            trace_id=trace,
            span_id=span_id,
            parent_span_id=parent,
            name=rng.choice(["GET /", "POST /orders", "SELECT", ""]),
            kind=kind,
            start_time_unix_nano=start,
            end_time_unix_nano=max(0, start + duration),
        )
        span.status.code = rng.choice([0, 0, 1, 2])
        if kind in (3, 4):
            clients.append((trace, span_id))
    return req.SerializeToString()


def _collect(metrics: SpanMetrics) -> tuple[object, ...]:
    batch, exemplars = metrics.registry.collect(int(T0 * 1000) + 15_000)
    samples = sorted(
        (batch.series[int(fp)], int(ts), float(v))
        for fp, ts, v in zip(batch.fingerprints, batch.timestamps, batch.values, strict=True)
    )
    stats = metrics.stats()
    return samples, sorted(map(repr, exemplars)), stats


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 80)), min_size=1, max_size=4),
    st.integers(1, 30),
)
def test_columns_count_as_spans_do(exports: list[tuple[int, int]], max_series: int) -> None:
    """Several exports counted from columns and from ``Span``s: equal series (with the same
    refusals once ``max_series`` is reached), sums, buckets, exemplars and graph edges."""
    by_columns = SpanMetrics(MemoryStore(), clock=Clock(), max_series=max_series)
    by_spans = SpanMetrics(MemoryStore(), clock=Clock(), max_series=max_series)
    for seed, n in exports:
        scanned = scan(_body(seed, n))
        assert scanned is not None
        by_columns(SpanBatch(columns=scanned.columns))
        by_spans(SpanBatch(scanned.columns.spans()))
    assert _collect(by_columns) == _collect(by_spans)
    assert by_columns.graph is not None
    assert by_spans.graph is not None
    assert by_columns.graph.pending == by_spans.graph.pending
