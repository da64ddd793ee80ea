"""The OTLP/gRPC receiver stores the metrics (and spans) real gRPC clients (and the OTel SDK)
export."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as pb_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as trace_pb_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from prometheus_client import CollectorRegistry
from tests.support.servers import free_port

from spyglass.core.errors import Unavailable
from spyglass.core.limits import IngestLimits, LogLimits, SpanLimits
from spyglass.core.matchers import Matcher
from spyglass.core.spans import SpanBatch
from spyglass.server.api.traces_ingest import SpanIntake
from spyglass.server.otlp_grpc import LogsService, MetricsService, TraceService, start_otlp_grpc
from spyglass.storage import MemoryLogStore, MemorySpanStore
from spyglass.storage.memory import MemoryStore

T_NS = 1_700_000_000_000_000_000
ALL_TIME = (0, 2**62)


def _request(value_len: int = 3) -> pb.ExportMetricsServiceRequest:
    req = pb.ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="api")))
    metrics = rm.scope_metrics.add().metrics
    counter = metrics.add(name="jobs.done", unit="{job}")
    counter.sum.is_monotonic = True
    counter.sum.aggregation_temporality = m.AGGREGATION_TEMPORALITY_CUMULATIVE
    counter.sum.data_points.add(
        time_unix_nano=T_NS,
        as_int=17,
        attributes=[KeyValue(key="queue", value=AnyValue(string_value="q" * value_len))],
    )
    delta = metrics.add(name="deltas")
    delta.sum.aggregation_temporality = m.AGGREGATION_TEMPORALITY_DELTA
    delta.sum.data_points.add(time_unix_nano=T_NS, as_int=1)
    return req


def _serve(
    limits: IngestLimits,
    client: Callable[[MemoryStore, int], Awaitable[None]],
    store: MemoryStore | None = None,
    service: MetricsService | None = None,
) -> MemoryStore:
    store = store if store is not None else MemoryStore()
    port = free_port()

    async def main() -> None:
        server = await start_otlp_grpc(store, limits, "127.0.0.1", port, service=service)
        try:
            await client(store, port)
        finally:
            await server.stop(None)

    asyncio.run(main())
    return store


def test_export_is_stored_and_partial_success_reported() -> None:
    responses: list[Any] = []

    async def client(store: MemoryStore, port: int) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.MetricsServiceStub(channel)
            responses.append(await stub.Export(_request(), timeout=30))

    store = _serve(IngestLimits(), client)
    [data] = store.select([Matcher.of("__name__", "=", "jobs_done_total")], *ALL_TIME)
    assert dict(data.labels) == {"__name__": "jobs_done_total", "job": "api", "queue": "qqq"}
    assert data.timestamps.tolist() == [T_NS // 1_000_000]
    assert data.values.tolist() == [17.0]
    assert store.metadata("jobs_done_total")["jobs_done_total"][0].type == "counter"
    [response] = responses
    assert response.partial_success.rejected_data_points == 1
    assert "deltas" in response.partial_success.error_message


def test_collectors_report_rejected_points_and_cached_series() -> None:
    store = MemoryStore()
    service = MetricsService(store, IngestLimits())
    registry = CollectorRegistry(auto_describe=False)
    for collector in service.collectors():
        registry.register(collector)

    async def client(store: MemoryStore, port: int) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.MetricsServiceStub(channel)
            for _ in range(3):
                await stub.Export(_request(), timeout=30)

    _serve(IngestLimits(), client, store, service)
    # Each export carries one delta point (rejected) and the same one counter series.
    assert registry.get_sample_value("spyglass_otlp_grpc_points_rejected_total") == 3
    assert registry.get_sample_value("spyglass_otlp_grpc_cached_series") == 1


def test_bad_input_is_invalid_argument_and_stores_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors: list[grpc.aio.AioRpcError] = []

    async def client(store: MemoryStore, port: int) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.MetricsServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Export(_request(value_len=100), timeout=30)
            errors.append(err.value)

    with caplog.at_level(logging.WARNING, "spyglass.server.otlp_grpc"):
        store = _serve(IngestLimits(max_label_value_length=10), client)
    [error] = errors
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "max_label_value_length" in (error.details() or "")
    assert store.series([], *ALL_TIME) == []
    # The server log says who sent it and why.
    [line] = [r.getMessage() for r in caplog.records if r.name == "spyglass.server.otlp_grpc"]
    assert line.startswith("otlp_grpc write from ipv4:127.0.0.1:")
    assert "refused with INVALID_ARGUMENT: " in line
    assert "max_label_value_length" in line


class BrokenSink:
    async def append(self, batch: object) -> None:
        raise OSError("No space left on device")


def test_storage_failure_is_unavailable_and_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    codes: list[grpc.StatusCode] = []

    async def client(store: MemoryStore, port: int) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.MetricsServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Export(_request(), timeout=30)
            codes.append(err.value.code())

    service = MetricsService(BrokenSink(), IngestLimits())  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, "spyglass.server.otlp_grpc"):
        _serve(IngestLimits(), client, service=service)
    assert codes == [grpc.StatusCode.UNAVAILABLE]  # OTLP exporters retry this one
    [record] = [r for r in caplog.records if r.name == "spyglass.server.otlp_grpc"]
    assert record.levelno == logging.ERROR
    assert (
        "failed with UNAVAILABLE: could not store: No space left on device" in record.getMessage()
    )


def test_opentelemetry_sdk_exporter_end_to_end() -> None:
    sdk_metrics = pytest.importorskip(
        "opentelemetry.sdk.metrics", reason="opentelemetry-sdk is not installed"
    )
    exporter_mod = pytest.importorskip(
        "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
        reason="opentelemetry-exporter-otlp-proto-grpc is not installed",
    )
    readers = pytest.importorskip("opentelemetry.sdk.metrics.export")
    resources = pytest.importorskip("opentelemetry.sdk.resources")

    def export(port: int) -> None:
        exporter = exporter_mod.OTLPMetricExporter(endpoint=f"127.0.0.1:{port}", insecure=True)
        reader = readers.PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        provider = sdk_metrics.MeterProvider(
            resource=resources.Resource.create(
                {
                    "service.name": "shop",
                    "service.namespace": "acme",
                    "service.instance.id": "i-1",
                    "host.name": "box",
                }
            ),
            metric_readers=[reader],
        )
        meter = provider.get_meter("test")
        counter = meter.create_counter("orders.placed", unit="{order}", description="Orders.")
        counter.add(3, {"payment.method": "card"})
        counter.add(2, {"payment.method": "card"})
        hist = meter.create_histogram("checkout.duration", unit="s")
        hist.record(0.3)
        assert provider.force_flush(timeout_millis=30_000)
        provider.shutdown()

    async def client(store: MemoryStore, port: int) -> None:
        await asyncio.to_thread(export, port)

    before_ms = int(time.time() * 1000) - 60_000
    store = _serve(IngestLimits(), client)
    ident = {"job": "acme/shop", "instance": "i-1"}
    [orders] = store.select([Matcher.of("__name__", "=", "orders_placed_total")], *ALL_TIME)
    assert dict(orders.labels) == {
        "__name__": "orders_placed_total",
        "payment_method": "card",
        **ident,
    }
    # force_flush exports once and shutdown once more: the same cumulative total each time.
    assert set(orders.values.tolist()) == {5.0}
    assert orders.timestamps[0] > before_ms
    [count] = store.select(
        [Matcher.of("__name__", "=", "checkout_duration_seconds_count")], *ALL_TIME
    )
    assert set(count.values.tolist()) == {1.0}
    buckets = store.select(
        [
            Matcher.of("__name__", "=", "checkout_duration_seconds_bucket"),
            Matcher.of("le", "=", "+Inf"),
        ],
        *ALL_TIME,
    )
    assert [set(b.values.tolist()) for b in buckets] == [{1.0}]
    [info] = store.select([Matcher.of("__name__", "=", "target_info")], *ALL_TIME)
    assert dict(info.labels)["host_name"] == "box"
    assert dict(info.labels)["job"] == "acme/shop"


def test_oversized_message_is_refused_by_grpc() -> None:
    codes: list[grpc.StatusCode] = []

    async def client(store: MemoryStore, port: int) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.MetricsServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Export(_request(value_len=5000), timeout=30)
            codes.append(err.value.code())

    store = _serve(IngestLimits(max_body_bytes=1000), client)
    assert codes == [grpc.StatusCode.RESOURCE_EXHAUSTED]
    assert store.series([], *ALL_TIME) == []


def test_trace_service_stores_spans_and_reports_bad_ids_and_cuts() -> None:
    """``TraceService/Export`` beside the metrics service: spans go through the span intake
    (limits, listeners); spans without valid ids are ``rejected_spans``, a cut attribute a
    warning; a store that cannot take them answers ``UNAVAILABLE``."""
    spans = MemorySpanStore()
    seen: list[SpanBatch] = []
    intake = SpanIntake(spans, SpanLimits(max_attribute_value_length=5), [seen.append])
    req = trace_pb.ExportTraceServiceRequest()
    out = req.resource_spans.add().scope_spans.add().spans
    good = out.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="ok")
    good.attributes.append(KeyValue(key="k", value=AnyValue(string_value="long value")))
    out.add(trace_id=b"\x01" * 4, span_id=b"\x03" * 8, name="short trace id")
    port, full_port = free_port(), free_port()

    class Full:
        async def append(self, batch: SpanBatch) -> None:
            raise Unavailable("full")

    async def main() -> None:
        server = await start_otlp_grpc(
            MemoryStore(), IngestLimits(), "127.0.0.1", port, traces=TraceService(intake)
        )
        full = await start_otlp_grpc(
            MemoryStore(), IngestLimits(), "127.0.0.1", full_port,
            traces=TraceService(SpanIntake(Full(), SpanLimits())),
        )  # fmt: skip
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                answer = await trace_pb_grpc.TraceServiceStub(channel).Export(req, timeout=10)
            assert answer.partial_success.rejected_spans == 1
            assert "invalid trace id" in answer.partial_success.error_message
            assert "1 attribute values truncated" in answer.partial_success.error_message
            async with grpc.aio.insecure_channel(f"127.0.0.1:{full_port}") as channel:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await trace_pb_grpc.TraceServiceStub(channel).Export(req, timeout=10)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            await server.stop(None)
            await full.stop(None)

    asyncio.run(main())
    (span,) = spans.trace("01" * 16)
    assert dict(span.attributes) == {"k": "long "}
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("service", "request_type"),
    [
        ("opentelemetry.proto.collector.metrics.v1.MetricsService", "ExportMetricsServiceRequest"),
        ("opentelemetry.proto.collector.logs.v1.LogsService", "ExportLogsServiceRequest"),
        ("opentelemetry.proto.collector.trace.v1.TraceService", "ExportTraceServiceRequest"),
    ],
)
def test_a_body_that_is_not_the_request_is_invalid_argument_and_logged(
    service: str, request_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As OTLP asks of malformed requests (and as ``/v1/*`` answers them): ``INVALID_ARGUMENT``
    naming the message, a line in the server log, nothing stored, and the receiver still
    serving."""
    store, spans, logs = MemoryStore(), MemorySpanStore(), MemoryLogStore()
    port = free_port()
    errors: list[grpc.aio.AioRpcError] = []

    async def main() -> None:
        server = await start_otlp_grpc(
            store, IngestLimits(), "127.0.0.1", port,
            logs=LogsService(logs, LogLimits()),
            traces=TraceService(SpanIntake(spans, SpanLimits())),
        )  # fmt: skip
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                raw = channel.unary_unary(f"/{service}/Export")
                for body in (b"\x0a\x05\xff\xff", b"\xff" * 10):
                    with pytest.raises(grpc.aio.AioRpcError) as err:
                        await raw(body, timeout=10)
                    errors.append(err.value)
                assert await raw(b"", timeout=10) == b""  # an empty export is a valid one
        finally:
            await server.stop(None)

    with caplog.at_level(logging.WARNING, "spyglass.server.otlp_grpc"):
        asyncio.run(main())
    assert [e.code() for e in errors] == [grpc.StatusCode.INVALID_ARGUMENT] * 2
    for e in errors:
        assert f"otlp: malformed protobuf {request_type}: " in (e.details() or "")
    lines = [r.getMessage() for r in caplog.records if r.name == "spyglass.server.otlp_grpc"]
    assert lines
    assert all("refused with INVALID_ARGUMENT: otlp: malformed protobuf" in x for x in lines)
    assert store.series([], *ALL_TIME) == []
    assert spans.services() == []
