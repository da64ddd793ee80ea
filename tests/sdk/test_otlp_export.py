"""The SDK's OTLP/HTTP span exporter against a real collector on loopback: what it sends, the
OTEL_EXPORTER_OTLP_* variables it honours, and OTLP's retry rules (429/502/503/504 and
connection errors retried within the timeout, Retry-After honoured, anything else not)."""

from __future__ import annotations

import base64
import logging
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext, SpanKind
from tests.sdk.conftest import get_root_once
from tests.support.otlp import OtlpReceiver
from tests.support.servers import free_port

from spyglass.sdk._otlp_export import (
    OtlpSpanExporter,
    _direct_target,
    checked_endpoint,
    parse_headers,
)
from spyglass.sdk._tracing import setup_tracing

_LOGGER = "spyglass.sdk.tracing"


@pytest.fixture
def collector() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


def _export_to(
    script: list[tuple[int, dict[str, str]]], timeout: float, name: str = "span"
) -> tuple[SpanExportResult, list[float], OtlpReceiver]:
    """Export one span to a collector answering ``script``: the result, the waits before each
    retry (recorded, and waited), and the collector (closed)."""
    collector = OtlpReceiver(script=script)
    exporter = OtlpSpanExporter(collector.traces_url, timeout=timeout)
    waits = _waits(exporter)
    try:
        result = exporter.export([_span(name)])
    finally:
        collector.close()
    return result, waits, collector


def _waits(exporter: OtlpSpanExporter) -> list[float]:
    """Record how long ``exporter`` waits before each retry (and wait that long)."""
    waits: list[float] = []
    wait = exporter._stop.wait

    def recorded(timeout: float | None = None) -> bool:
        waits.append(timeout or 0.0)
        return wait(timeout)

    exporter._stop.wait = recorded  # type: ignore[method-assign]
    return waits


def _span(name: str = "GET /items/{id}") -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=SpanContext(0x1234, 0x5678, is_remote=False),
        kind=SpanKind.SERVER,
        resource=Resource.create({"service.name": "checkout"}),
        attributes={"http.route": "/items/{id}"},
        start_time=1,
        end_time=2,
    )


def _names(request: ExportTraceServiceRequest) -> list[str]:
    return [s.name for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]


@pytest.fixture(autouse=True)
def _no_otlp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    suffixes = (
        "HEADERS",
        "TIMEOUT",
        "COMPRESSION",
        "CERTIFICATE",
        "CLIENT_KEY",
        "CLIENT_CERTIFICATE",
    )
    for suffix in suffixes:
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP_{suffix}", raising=False)
        monkeypatch.delenv(f"OTEL_EXPORTER_OTLP_TRACES_{suffix}", raising=False)


def test_spans_of_an_instrumented_provider_reach_the_collector(collector: OtlpReceiver) -> None:
    """setup_tracing's default exporter posts OTLP protobuf that a collector decodes."""
    provider = setup_tracing(
        "checkout", endpoint=collector.traces_url, sample_ratio=1.0, instrument_libraries=False,
        set_global=False,
    )  # fmt: skip
    try:
        with provider.get_tracer("t").start_as_current_span("parent"):
            provider.get_tracer("t").start_span("child").end()
        assert provider.force_flush(timeout_millis=10_000)
    finally:
        provider.shutdown()
    headers, request = collector.headers[0], collector.requests[0]
    assert headers["content-type"] == "application/x-protobuf"
    assert sorted(_names(request)) == ["child", "parent"]
    resource = request.resource_spans[0].resource
    assert {a.key: a.value.string_value for a in resource.attributes}["service.name"] == "checkout"


def test_headers_come_from_the_variables_percent_decoded_and_code_wins(
    collector: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-general=1,x-both=general")
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS", f"Authorization={quote('Bearer a=b,c')},x-t=2"
    )
    exporter = OtlpSpanExporter(collector.traces_url, headers={"X-T": "code"})
    assert exporter.export([_span()]) is SpanExportResult.SUCCESS
    headers = collector.headers[0]
    assert headers["authorization"] == "Bearer a=b,c"
    assert headers["x-t"] == "code"
    # The traces variable replaces the general one whole, as OpenTelemetry reads them.
    assert "x-general" not in headers
    assert "x-both" not in headers


@pytest.mark.parametrize("compression", ["gzip", "deflate"])
def test_compression_from_the_variable_is_declared_and_applied(
    collector: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", compression.upper())
    exporter = OtlpSpanExporter(collector.traces_url)
    assert exporter.export([_span("compressed")]) is SpanExportResult.SUCCESS
    headers, request = collector.headers[0], collector.requests[0]
    assert headers["content-encoding"] == compression
    assert _names(request) == ["compressed"]


def test_an_unknown_compression_or_timeout_falls_back_with_a_warning(
    collector: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "brotli")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        exporter = OtlpSpanExporter(collector.traces_url)
    assert exporter.compression == "none"
    assert exporter.timeout == 5.0
    assert "brotli" in caplog.text
    assert "soon" in caplog.text
    assert exporter.export([_span()]) is SpanExportResult.SUCCESS
    assert "content-encoding" not in collector.headers[0]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_retryable_answer_is_retried_after_retry_after(status: int) -> None:
    after = "1" if status == 429 else "0"  # one real wait of a second is enough
    script = [(status, {"Retry-After": "0"}), (status, {"Retry-After": after})]
    result, waits, collector = _export_to(script, timeout=10, name="kept")
    assert result is SpanExportResult.SUCCESS
    assert [_names(r) for r in collector.requests] == [["kept"]] * 3
    assert waits == [0.0, float(after)]


def test_without_retry_after_retries_back_off_exponentially_with_jitter() -> None:
    collector = OtlpReceiver(script=[(503, {}), (503, {}), (503, {})])
    exporter = OtlpSpanExporter(collector.traces_url, timeout=30)
    exporter._stop.wait = lambda timeout=None: False  # type: ignore[method-assign]
    waits = _waits(exporter)
    try:
        assert exporter.export([_span()]) is SpanExportResult.SUCCESS
    finally:
        collector.close()
    assert len(waits) == 3
    for retry, wait in enumerate(waits):
        assert 0.8 * 2**retry <= wait <= 1.2 * 2**retry


def test_retry_after_as_an_http_date_is_honoured() -> None:
    script = [(503, {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"})]
    result, waits, collector = _export_to(script, timeout=10)
    assert result is SpanExportResult.SUCCESS
    assert waits == [0.0]  # a date in the past: retried at once
    assert collector.posts == 2


@pytest.mark.parametrize("status", [400, 401, 404, 413, 500])
def test_other_answers_are_not_retried_and_are_logged(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        result, waits, collector = _export_to([(status, {})], timeout=10)
    assert result is SpanExportResult.FAILURE
    assert collector.posts == 1
    assert waits == []
    assert f"HTTP {status}" in caplog.text


def test_a_retry_that_would_pass_the_deadline_is_not_waited_for() -> None:
    result, waits, collector = _export_to([(503, {"Retry-After": "30"})], timeout=10)
    assert result is SpanExportResult.FAILURE
    assert collector.posts == 1
    assert waits == []  # gave up at once rather than sleeping into the deadline


def test_shutdown_stops_a_retry_that_is_waiting() -> None:
    collector = OtlpReceiver(script=[(503, {"Retry-After": "20"})])
    exporter = OtlpSpanExporter(collector.traces_url, timeout=60)
    results: list[SpanExportResult] = []
    worker = threading.Thread(target=lambda: results.append(exporter.export([_span()])))
    try:
        worker.start()
        deadline = time.monotonic() + 10
        while not collector.posts and time.monotonic() < deadline:
            time.sleep(0.01)
        exporter.shutdown()
        worker.join(timeout=10)
    finally:
        collector.close()
    assert not worker.is_alive(), "export kept waiting to retry after shutdown"
    assert results == [SpanExportResult.FAILURE]
    assert exporter.export([_span()]) is SpanExportResult.FAILURE  # refused once shut down
    assert collector.posts == 1


def test_a_collector_that_is_down_is_logged_once_until_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    exporter = OtlpSpanExporter(f"http://127.0.0.1:{port}/v1/traces", timeout=1.5)
    with caplog.at_level(logging.INFO, logger=_LOGGER):
        assert exporter.export([_span()]) is SpanExportResult.FAILURE
        assert exporter.export([_span()]) is SpanExportResult.FAILURE
        failures = [r for r in caplog.records if "cannot export" in r.getMessage()]
        assert len(failures) == 1
        assert "cannot connect" in failures[0].getMessage()
        collector = OtlpReceiver(port=port)  # the collector comes up
        try:
            assert exporter.export([_span()]) is SpanExportResult.SUCCESS
        finally:
            collector.close()
    assert "exported to" in caplog.records[-1].getMessage()


@given(
    st.dictionaries(
        st.text(st.characters(codec="utf-8"), min_size=1).filter(lambda s: s.strip() == s),
        st.text(st.characters(codec="utf-8")).filter(lambda s: s.strip() == s),
    )
)
def test_headers_round_trip_through_the_variables_format(headers: dict[str, str]) -> None:
    text = ",".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in headers.items())
    expected: dict[str, str] = {}
    for k, v in headers.items():
        expected[k.lower()] = v
    assert parse_headers(text) == expected


def test_malformed_header_pairs_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        assert parse_headers("novalue,=empty, a = 1 ,,b=2=3") == {"a": "1", "b": "2=3"}
    assert "novalue" in caplog.text


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_the_certificate_variable_trusts_a_collectors_tls_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over HTTPS, a self-signed collector is refused until OTEL_EXPORTER_OTLP_CERTIFICATE
    names its certificate."""
    cert, key = _self_signed(tmp_path)
    collector = OtlpReceiver()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server: Any = collector._http.server
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    url = collector.traces_url.replace("http://", "https://")
    try:
        assert OtlpSpanExporter(url, timeout=2).export([_span()]) is SpanExportResult.FAILURE
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", str(cert))
        assert OtlpSpanExporter(url, timeout=5).export([_span("tls")]) is SpanExportResult.SUCCESS
    finally:
        collector.close()
    assert [_names(r) for r in collector.requests] == [["tls"]]


def test_without_requests_installed_tracing_runs_and_says_spans_are_not_exported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "requests", None)  # import requests now fails
    with caplog.at_level(logging.WARNING, logger=_LOGGER):
        provider = setup_tracing(
            "no-requests", sample_ratio=1.0, instrument_libraries=False, set_global=False
        )
    try:
        with provider.get_tracer("t").start_as_current_span("still traced") as span:
            assert span.get_span_context().is_valid
    finally:
        provider.shutdown()
    assert "requests is not installed" in caplog.text


@pytest.mark.parametrize(
    "endpoint", ["http://[::1/v1/traces", "localhost:4318", "http://collector:99999/v1/traces"]
)
def test_a_bad_endpoint_stops_the_spans_not_the_application(
    endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An endpoint that is no http(s) URL is logged once at set-up, naming it and where it is
    set; the application starts, and requests are served and traced."""
    from starlette.responses import PlainTextResponse  # noqa: PLC0415

    from spyglass.sdk import current_request_id  # noqa: PLC0415

    seen: list[str | None] = []

    async def home(request: Any) -> PlainTextResponse:
        seen.append(current_request_id())
        return PlainTextResponse("ok")

    with caplog.at_level(logging.ERROR, logger=_LOGGER):
        response = get_root_once(home, otlp_endpoint=endpoint, sample_ratio=1.0)
    assert response.status_code == 200
    assert seen == [response.headers["x-request-id"]]
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert endpoint in record.getMessage()
    assert "otlp_endpoint" in record.getMessage()
    assert "spans are not exported" in record.getMessage()


@given(st.one_of(st.text(), st.from_regex(r"https?://[^/]{0,12}(/.{0,8})?", fullmatch=True)))
def test_any_endpoint_text_is_accepted_as_a_url_or_refused_with_a_value_error(url: str) -> None:
    """Whatever the text, checking it either accepts it unchanged as an http(s) URL with a host
    or raises ValueError quoting it: never another exception."""
    error: ValueError | None = None
    try:
        checked = checked_endpoint(url)
    except ValueError as exc:
        error = exc
    if error is not None:
        assert repr(url) in str(error)
    else:
        assert checked == url
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https")
        assert parts.hostname


def _batch_sizes(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], spans: int) -> list[int]:
    """Sizes of the batches a provider set up under ``env`` exports ``spans`` spans in (the
    schedule delay is an hour: only a full batch or the final flush sends)."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "3600000")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sizes: list[int] = []

    class Sizes(SpanExporter):
        def export(self, batch: Any) -> SpanExportResult:
            sizes.append(len(batch))
            return SpanExportResult.SUCCESS

    provider = setup_tracing("b", exporter=Sizes(), set_global=False, instrument_libraries=False)
    tracer = provider.get_tracer("t")
    try:
        for n in range(spans):
            tracer.start_span(f"s{n}").end()
        provider.force_flush()
    finally:
        provider.shutdown()
    return sizes


@pytest.mark.parametrize(
    ("env", "largest"), [({}, 64), ({"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100"}, 100)]
)
def test_spans_are_sent_in_batches_of_64_unless_the_variable_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], largest: int
) -> None:
    """Spans wait in the batch processor's queue until a batch is full: 64 by default rather
    than OpenTelemetry's 512 (waiting spans cost the application more than sending them),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE when set."""
    monkeypatch.delenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", raising=False)
    monkeypatch.delenv("OTEL_BSP_MAX_QUEUE_SIZE", raising=False)
    sizes = _batch_sizes(monkeypatch, env, 130)
    assert max(sizes) == largest
    assert sum(sizes) == 130


def test_a_queue_smaller_than_64_makes_the_batches_smaller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OTEL_BSP_MAX_QUEUE_SIZE below the default batch size bounds the batch (OpenTelemetry
    refuses a batch larger than its queue) instead of failing the set-up."""
    monkeypatch.delenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", raising=False)
    sizes = _batch_sizes(monkeypatch, {"OTEL_BSP_MAX_QUEUE_SIZE": "16"}, 10)
    assert sizes == [10]


def test_proxy_variables_are_read_once_when_the_exporter_is_made(
    monkeypatch: pytest.MonkeyPatch, collector: OtlpReceiver
) -> None:
    """The exporter honours HTTP_PROXY and NO_PROXY as requests does, read when it is made
    rather than on every POST: a proxy that is down fails the export even after the
    variable is gone, and NO_PROXY for the collector's host sends direct."""
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    monkeypatch.setenv("http_proxy", dead_proxy)
    through_proxy = OtlpSpanExporter(collector.traces_url, timeout=0.5)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    direct = OtlpSpanExporter(collector.traces_url, timeout=0.5)
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.delenv("http_proxy")
    _waits(through_proxy)
    assert through_proxy.export([_span("proxied")]) is SpanExportResult.FAILURE
    assert direct.export([_span("direct")]) is SpanExportResult.SUCCESS
    assert [_names(r) for r in collector.requests] == [["direct"]]


class _RawCollector:
    """An HTTP/1.1 collector written on a bare socket, so a test decides what happens to its
    connections: it answers each POST 200 with a chunked empty body and keeps the connection
    for ``per_connection`` requests, then closes it."""

    def __init__(self, per_connection: int) -> None:
        self.per_connection = per_connection
        self.connections = 0
        self.posts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1/traces"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection, connection.makefile("rb") as stream:
                for _ in range(self.per_connection):
                    if not stream.readline():
                        break
                    length = 0
                    while (line := stream.readline()) not in (b"\r\n", b""):
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    stream.read(length)
                    self.posts += 1
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()


def _three_exports(per_connection: int) -> tuple[list[SpanExportResult], int, int, list[float]]:
    """Export three batches to a ``_RawCollector``: the results, the POSTs and connections it
    saw, and the exporter's backoff waits."""
    collector = _RawCollector(per_connection)
    exporter = OtlpSpanExporter(collector.url, timeout=5)
    waits = _waits(exporter)
    try:
        results = [exporter.export([_span(f"batch {n}")]) for n in range(3)]
    finally:
        exporter.shutdown()
        collector.close()
    return results, collector.posts, collector.connections, waits


def test_successive_exports_share_one_kept_alive_connection() -> None:
    """To a plain-HTTP collector the exporter keeps its connection open between batches, as
    a pooled requests session does, rather than connecting for every batch."""
    assert _three_exports(per_connection=100) == ([SpanExportResult.SUCCESS] * 3, 3, 1, [])


def test_a_kept_alive_connection_the_collector_closed_is_replaced_at_once() -> None:
    """A collector that closes idle connections costs no batch and no backoff wait: the
    exporter notices the closed connection and sends on a new one straight away."""
    assert _three_exports(per_connection=1) == ([SpanExportResult.SUCCESS] * 3, 3, 3, [])


def test_credentials_in_the_endpoint_are_sent_as_basic_auth(collector: OtlpReceiver) -> None:
    """``http://user:password@host/...`` authenticates, as it does with requests (and with
    OpenTelemetry's exporter, which sends through requests)."""
    url = collector.traces_url.replace("http://", "http://otel:s%3Acret@")
    assert OtlpSpanExporter(url, timeout=5).export([_span()]) is SpanExportResult.SUCCESS
    expected = "Basic " + base64.b64encode(b"otel:s:cret").decode()
    assert collector.headers[0]["authorization"] == expected


@given(st.text())
def test_any_endpoint_text_is_either_sent_direct_or_left_to_requests(url: str) -> None:
    """Reading an endpoint for the direct connection never fails: what it cannot use (another
    scheme, a bad port, a broken host) is left to requests, which reports it when sending."""
    target = _direct_target(url, None, None)
    if target is not None:
        host, port, path = target
        assert host
        assert 0 <= port <= 65535
        assert path.startswith("/")


@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True),
    port=st.integers(1, 65535),
    path=st.from_regex(r"(/[A-Za-z0-9._~-]{1,10}){0,4}", fullmatch=True),
    query=st.from_regex(r"([a-z]{1,5}=[a-z0-9]{0,5})?", fullmatch=True),
)
def test_a_plain_http_endpoint_is_sent_to_its_host_port_and_path(
    host: str, port: int, path: str, query: str
) -> None:
    url = f"http://{host}:{port}{path}" + (f"?{query}" if query else "")
    assert _direct_target(url, None, None) == (
        host,
        port,
        (path or "/") + (f"?{query}" if query else ""),
    )
    assert _direct_target(url, {"http": "http://proxy:3128"}, None) is None
    assert _direct_target(url.replace("http://", "https://"), None, None) is None
    assert _direct_target(url.replace("http://", "http://user:pw@"), None, None) is None
