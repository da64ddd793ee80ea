"""The OTLP/HTTP listener (``--otlp-http-address``, 127.0.0.1:4318 by default) on a real
``spyglass serve``: the OpenTelemetry SDK's metric, log and span exporters, configured the way
users configure them (``OTEL_EXPORTER_OTLP_ENDPOINT``, default paths), reach storage through
it, the SDK's exemplars with the samples; it serves nothing but the OTLP routes; a taken port is
skipped when it was the default and stops start-up when the user chose it."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.support.servers import free_port, spyglass, spyglass_cmd

from spyglass.core.errors import Unavailable
from spyglass.core.settings import Settings
from spyglass.server.runtime import bind_otlp_http

# A user's app: the OpenTelemetry SDK with its OTLP/HTTP exporters left at their defaults but
# for the endpoint, which the environment gives (OTEL_EXPORTER_OTLP_ENDPOINT).
APP = """
import logging
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

resource = Resource.create({"service.name": "otlp-e2e"})
reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=60_000)
meters = MeterProvider(resource=resource, metric_readers=[reader])
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

spans = TracerProvider(resource=resource)
spans.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
tracer = spans.get_tracer("shop")
with tracer.start_as_current_span("place order") as span:
    # recorded inside a sampled span: the SDK keeps the span as the point's exemplar
    meters.get_meter("shop").create_counter("orders_placed").add(7, {"region": "eu"})
    print(format(span.get_span_context().trace_id, "032x"))
logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
logger = logging.getLogger("shop")
logger.addHandler(LoggingHandler(logger_provider=logs))
logger.warning("order 42 placed through port 4318's stand-in")
meters.shutdown()  # exports what was recorded
logs.shutdown()
spans.shutdown()
"""


def test_the_otel_sdks_default_exporters_reach_storage_through_the_listener(
    tmp_path: Path,
) -> None:
    otlp_port = free_port()
    with spyglass(
        tmp_path / "data", "--otlp-http-address", f"127.0.0.1:{otlp_port}", "--flush-interval", "1h"
    ) as sg:
        assert f"OTLP/HTTP receiver on 127.0.0.1:{otlp_port}" in sg.log_text()
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
            "OTEL_METRIC_EXPORT_TIMEOUT": "10000",
        }
        app = subprocess.run(
            [sys.executable, "-c", APP],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert app.returncode == 0, app.stderr
        assert "Failed to export" not in app.stderr, app.stderr
        r = httpx.get(sg.url + "/api/v1/query", params={"query": "orders_placed_total"})
        [series] = r.json()["data"]["result"]
        assert series["metric"]["region"] == "eu"
        assert series["metric"]["job"] == "otlp-e2e"
        assert series["value"][1] == "7"
        # the SDK's exemplar came along: the counter's point links to the span's trace
        r = httpx.get(sg.url + "/api/v1/query_exemplars", params={"query": "orders_placed_total"})
        [found] = r.json()["data"]
        assert found["seriesLabels"]["region"] == "eu"
        assert [e["labels"]["trace_id"] for e in found["exemplars"]] == [app.stdout.strip()]
        now = time.time_ns()
        r = httpx.get(
            sg.url + "/loki/api/v1/query_range",
            params={"query": '{service_name="otlp-e2e"}', "start": now - 600 * 10**9, "end": now},
        )
        lines = [v[1] for s in r.json()["data"]["result"] for v in s["values"]]
        assert lines == ["order 42 placed through port 4318's stand-in"]
        # and the span, through /v1/traces on the same port
        r = httpx.get(sg.url + "/api/traces/" + app.stdout.strip())
        [trace] = r.json()["data"]
        [span] = trace["spans"]
        assert span["operationName"] == "place order"
        assert trace["processes"][span["processID"]]["serviceName"] == "otlp-e2e"
        # The OTLP port serves the OTLP routes only: no query API, no UI, no /metrics.
        otlp = f"http://127.0.0.1:{otlp_port}"
        for path in ("/api/v1/query?query=up", "/", "/metrics", "/-/ready"):
            assert httpx.get(otlp + path).status_code == 404, path
        # and each OTLP route answers in OTLP's own shape there, as on the main listener
        r = httpx.get(otlp + "/v1/metrics")
        assert r.status_code == 405
        assert r.headers["content-type"] == "application/x-protobuf"


def test_a_chosen_port_that_is_taken_stops_start_up_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cmd = [*spyglass_cmd(tmp_path / "data", free_port()), "--otlp-http-address",
               f"127.0.0.1:{port}"]  # fmt: skip
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} (--otlp-http-address)" in p.stdout + p.stderr
    assert not (tmp_path / "data" / "clickhouse").exists()  # nothing was opened


def test_the_default_port_taken_is_a_warning_and_no_listener(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another collector on 4318 must not keep Spyglass from starting when nobody asked for
    the port; whoever asked for it gets an error instead."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        left_default = Settings(otlp_http_address=address)  # as if from the table's default
        with caplog.at_level(logging.WARNING, logger="spyglass"):
            assert bind_otlp_http(left_default) is None
        assert f"cannot listen on {address} (--otlp-http-address)" in caplog.text
        assert "OTLP/HTTP is still served on --listen-address" in caplog.text
        chosen = Settings.load({"otlp_http_address": address})
        with pytest.raises(Unavailable, match=r"--otlp-http-address"):
            bind_otlp_http(chosen)
    assert bind_otlp_http(Settings(otlp_http_address="")) is None
    free = Settings.load({"otlp_http_address": f"127.0.0.1:{free_port()}"})
    sock = bind_otlp_http(free)
    assert sock is not None
    sock.close()
