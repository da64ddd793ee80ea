"""The SDK ships its JSON log records over OTLP/HTTP: records encode as OpenTelemetry's own
protobuf reads them, the endpoint follows OpenTelemetry's variables, and the shipper batches off
the logging thread, drops (and counts) what it cannot hold or send, never raises, and sends
what is queued when it shuts down."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from prometheus_client import CollectorRegistry
from tests.support.servers import LoopbackHTTP, QuietHandler, free_port

from spyglass.sdk import configure_logging, get_logger
from spyglass.sdk._log_export import (
    LogShipper,
    logs_endpoint,
    severity_number,
    ship_logs_from_env,
    to_otlp,
)
from spyglass.sdk._otlp_export import OtlpHttp
from spyglass.sdk._otlp_wire import OtlpLogRecord, encode_logs


def plain(value: AnyValue) -> Any:
    """An ``AnyValue`` as the Python value it holds."""
    kind = value.WhichOneof("value")
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    if kind == "array_value":
        return [plain(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


# -- the wire -----------------------------------------------------------------------------------

_json_scalars = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=8,
)


@given(
    time_ns=st.integers(min_value=0, max_value=2**64 - 1),
    body=st.text(),
    severity=st.integers(min_value=0, max_value=24),
    text=st.text(max_size=10),
    attributes=st.dictionaries(st.text(max_size=12), _json_values, max_size=6),
    trace_id=st.one_of(st.just(b""), st.binary(min_size=16, max_size=16)),
    span_id=st.one_of(st.just(b""), st.binary(min_size=8, max_size=8)),
)
def test_log_records_decode_as_opentelemetry_wrote_them(
    time_ns: int,
    body: str,
    severity: int,
    text: str,
    attributes: dict[str, Any],
    trace_id: bytes,
    span_id: bytes,
) -> None:
    record = OtlpLogRecord(
        time_ns,
        body,
        severity_number=severity,
        severity_text=text,
        attributes=attributes,
        trace_id=trace_id,
        span_id=span_id,
    )
    data = encode_logs([record], resource={"service.name": "api"}, scope_name="spyglass.sdk")
    request = ExportLogsServiceRequest.FromString(data)
    [resource_logs] = request.resource_logs
    assert {kv.key: plain(kv.value) for kv in resource_logs.resource.attributes} == {
        "service.name": "api"
    }
    [scope_logs] = resource_logs.scope_logs
    assert scope_logs.scope.name == "spyglass.sdk"
    [got] = scope_logs.log_records
    assert got.time_unix_nano == time_ns
    assert plain(got.body) == body
    assert (got.severity_number, got.severity_text) == (severity, text)
    assert {kv.key: plain(kv.value) for kv in got.attributes} == attributes
    assert (got.trace_id, got.span_id) == (trace_id, span_id)


def test_a_json_line_becomes_body_attributes_ids_and_severity() -> None:
    line = json.dumps(
        {
            "message": "payment failed",
            "level": "error",
            "timestamp": "2026-12-07T12:00:00Z",
            "service": "shop",
            "request_id": "req-1",
            "trace_id": "0af7651916cd43dd8448eb211c80319c",
            "span_id": "b7ad6b7169203331",
            "order": {"id": 7, "items": [1, 2]},
        }
    )
    record = to_otlp(1_000, logging.ERROR, "ERROR", line)
    assert record.body == "payment failed"
    assert (record.severity_number, record.severity_text) == (17, "ERROR")
    assert record.attributes == {
        "level": "error",
        "service": "shop",
        "request_id": "req-1",
        "order": {"id": 7, "items": [1, 2]},
    }
    assert record.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
    assert record.span_id.hex() == "b7ad6b7169203331"


@given(
    fields=st.dictionaries(st.text(max_size=12), _json_values, max_size=8),
    message=st.one_of(st.none(), st.text(max_size=30)),
)
def test_any_json_line_keeps_every_field_but_the_body_time_and_ids(
    fields: dict[str, Any], message: str | None
) -> None:
    if message is not None:
        fields["message"] = message
    record = to_otlp(7, logging.INFO, "INFO", json.dumps(fields))
    assert record.body == (message or "")
    assert record.attributes == {
        k: v
        for k, v in fields.items()
        if k not in ("message", "timestamp", "trace_id", "span_id") and v is not None
    }


def test_a_line_that_is_no_json_object_is_the_body() -> None:
    record = to_otlp(1, logging.INFO, "INFO", "plain text")
    assert (record.body, record.attributes, record.trace_id) == ("plain text", {}, b"")


def test_severity_numbers_follow_opentelemetry_s_scale() -> None:
    levels = [5, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]
    assert [severity_number(n) for n in levels] == [1, 5, 9, 13, 17, 21]


# -- configuration ------------------------------------------------------------------------------


def test_the_endpoint_follows_the_argument_then_opentelemetry_s_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert logs_endpoint(None) == "http://127.0.0.1:4318/v1/logs"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert logs_endpoint(None) == "http://collector:4318/v1/logs"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:9/custom")
    assert logs_endpoint(None) == "http://logs:9/custom"  # the signal's own is used as given
    assert logs_endpoint("http://spyglass:9090") == "http://spyglass:9090/v1/logs"
    assert logs_endpoint("http://spyglass:9090/v1/traces") == "http://spyglass:9090/v1/logs"
    assert logs_endpoint("http://spyglass:9090/v1/logs") == "http://spyglass:9090/v1/logs"


def test_otel_logs_exporter_turns_shipping_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_LOGS_EXPORTER", raising=False)
    assert not ship_logs_from_env()
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "console, OTLP")
    assert ship_logs_from_env()
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    assert not ship_logs_from_env()


def test_the_logs_variables_set_headers_timeout_and_compression(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-general=1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-logs=2")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "2.5")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    http = OtlpHttp("http://127.0.0.1:4318/v1/logs", signal="logs")
    try:
        assert http.headers["x-logs"] == "2"
        assert "x-general" not in http.headers  # the signal's own variable wins, whole
        assert (http.timeout, http.compression) == (2.5, "gzip")
    finally:
        http.close()


# -- the shipper --------------------------------------------------------------------------------


class LogsSink:
    """A loopback OTLP/HTTP logs receiver keeping every export request."""

    def __init__(self) -> None:
        self.requests: list[ExportLogsServiceRequest] = []
        sink = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.requests.append(ExportLogsServiceRequest.FromString(raw))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http = LoopbackHTTP(Handler)
        self.url = self.http.base_url

    def records(self) -> list[Any]:
        return [
            r
            for req in self.requests
            for rl in req.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        ]


@pytest.fixture
def sink() -> Iterator[LogsSink]:
    s = LogsSink()
    try:
        yield s
    finally:
        s.http.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_records_are_shipped_with_the_fields_of_their_json_line(sink: LogsSink) -> None:
    registry = CollectorRegistry()
    shipper = LogShipper("shop", endpoint=sink.url, registry=registry)
    out = io.StringIO()
    configure_logging("shop", stream=out, shipper=shipper)
    get_logger("shop").error("payment failed", order_id=7, password="hunter2")
    logging.getLogger("shop.std").warning("stdlib %s", "line")
    assert shipper.force_flush(10)
    shipper.shutdown()
    records = sink.records()
    assert [plain(r.body) for r in records] == ["payment failed", "stdlib line"]
    first = {kv.key: plain(kv.value) for kv in records[0].attributes}
    assert first["order_id"] == 7
    assert first["password"] == "[REDACTED]"  # as on stdout
    assert (first["logger"], first["level"], first["service"]) == ("shop", "error", "shop")
    assert [r.severity_text for r in records] == ["ERROR", "WARNING"]
    [rl] = sink.requests[0].resource_logs
    resource = {kv.key: plain(kv.value) for kv in rl.resource.attributes}
    assert resource["service.name"] == "shop"
    assert registry.get_sample_value("spyglass_sdk_log_records_exported_total") == 2
    # stdout still gets every line.
    assert len(out.getvalue().splitlines()) == 2


class Stuck:
    """An ``OtlpHttp`` stand-in whose sends wait until released."""

    def __init__(self) -> None:
        self.endpoint = "http://stuck"
        self.timeout = 5.0
        self.release = threading.Event()
        self.entered = threading.Event()
        self.batches: list[bytes] = []

    def send(self, data: bytes) -> str | None:
        self.entered.set()
        self.release.wait(10)
        self.batches.append(data)
        return None

    def failed(self, what: str, error: str) -> None:
        pass

    def close(self) -> None:
        self.release.set()


@pytest.mark.usefixtures("restore_logging")
def test_a_full_queue_drops_and_counts_without_blocking_the_logger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "3")
    monkeypatch.setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "1")
    registry = CollectorRegistry()
    stuck = Stuck()
    shipper = LogShipper("shop", registry=registry, http=stuck)  # type: ignore[arg-type]
    configure_logging("shop", stream=io.StringIO(), shipper=shipper)
    log = get_logger("shop")
    log.info("first")
    assert stuck.entered.wait(10)  # the worker holds "first" in a send that does not return
    for i in range(10):
        log.info("more", n=i)  # three wait in the queue, the rest is dropped
    assert shipper.dropped == 7
    assert (
        registry.get_sample_value(
            "spyglass_sdk_log_records_dropped_total", {"reason": "queue_full"}
        )
        == 7
    )
    stuck.release.set()
    assert shipper.force_flush(10)
    assert len(stuck.batches) == 4
    shipper.shutdown()


@pytest.mark.usefixtures("restore_logging")
def test_a_collector_that_is_down_costs_the_batch_not_the_application() -> None:
    registry = CollectorRegistry()
    shipper = LogShipper("shop", endpoint=f"http://127.0.0.1:{free_port()}", registry=registry)
    configure_logging("shop", stream=io.StringIO(), shipper=shipper)
    get_logger("shop").error("nobody hears this")
    assert shipper.force_flush(30)
    assert shipper.dropped == 1
    assert (
        registry.get_sample_value(
            "spyglass_sdk_log_records_dropped_total", {"reason": "export_failed"}
        )
        == 1
    )
    shipper.shutdown()
    get_logger("shop").error("after shutdown")  # ignored, not raised


@pytest.mark.usefixtures("restore_logging")
def test_shutdown_sends_what_is_queued(sink: LogsSink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "60000")  # never on its own in this test
    shipper = LogShipper("shop", endpoint=sink.url, registry=CollectorRegistry())
    configure_logging("shop", stream=io.StringIO(), shipper=shipper)
    for i in range(5):
        get_logger("shop").info("queued", n=i)
    assert sink.records() == []
    shipper.shutdown()
    assert [plain(r.body) for r in sink.records()] == ["queued"] * 5


class Counted:
    """A log field that counts how often a record holding it is rendered."""

    def __init__(self) -> None:
        self.renders = 0

    def __repr__(self) -> str:
        self.renders += 1
        return "counted"


@pytest.mark.usefixtures("restore_logging")
def test_stdout_and_the_shipper_share_one_rendering_of_each_record(sink: LogsSink) -> None:
    shipper = LogShipper("shop", endpoint=sink.url, registry=CollectorRegistry())
    out = io.StringIO()
    configure_logging("shop", stream=out, shipper=shipper)
    field = Counted()
    logging.getLogger("shop").info("once", extra={"thing": field})
    shipper.shutdown()
    assert field.renders == 1
    [record] = sink.records()
    assert {kv.key: plain(kv.value) for kv in record.attributes}["thing"] == "counted"
    assert json.loads(out.getvalue())["thing"] == "counted"


@pytest.mark.usefixtures("restore_logging")
def test_logging_dictconfig_closing_every_handler_does_not_end_shipping(sink: LogsSink) -> None:
    shipper = LogShipper("shop", endpoint=sink.url, registry=CollectorRegistry())
    configure_logging("shop", stream=io.StringIO(), shipper=shipper)
    get_logger("shop").info("before")
    # What uvicorn.run() does after the app was instrumented: logging closes every handler.
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    # close() sent it (its delivery may land a moment later on a loaded machine).
    deadline = time.monotonic() + 15
    while not sink.records() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [plain(r.body) for r in sink.records()] == ["before"]
    get_logger("shop").info("after")
    shipper.shutdown()
    assert [plain(r.body) for r in sink.records()] == ["before", "after"]
