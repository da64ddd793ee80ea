"""Interop with the real Prometheus (Debian 2.42): it reads what we encode, we decode its sends."""

from __future__ import annotations

import http.server
import math
import threading
import time
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from tests.support.required import need_prometheus
from tests.support.servers import free_port, prometheus

from spyglass.core.labels import Labels, labels_of, metric_name
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import SampleBatch
from spyglass.ingest.remote_write import decode_write_request, encode_write_request

pytestmark = pytest.mark.prometheus


@pytest.fixture(autouse=True)
def _real_prometheus() -> None:
    need_prometheus()


def test_prometheus_reads_what_we_encode(tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000) - 60_000
    series: list[tuple[Labels, list[tuple[int, float]]]] = [
        (
            labels_of({"__name__": "spyglass_rw_test", "job": "interop", "idx": str(i)}),
            [(now_ms + 1_000 * k + 137 * i, i * 10.5 + k) for k in range(3)],
        )
        for i in range(20)
    ]
    special = [-3.25e-7, math.inf, -math.inf, math.nan, 5e-324, 1.7976931348623157e308, -0.0]
    for i, value in enumerate(special):
        labels = labels_of({"__name__": "spyglass_rw_special", "job": "interop", "v": str(i)})
        series.append((labels, [(now_ms + i, value)]))
    body = encode_write_request(series)
    config = "global:\n  scrape_interval: 1h\n"
    with prometheus(tmp_path, config, "--web.enable-remote-write-receiver") as server:
        resp = httpx.post(
            f"{server.url}/api/v1/write",
            content=body,
            headers={
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "snappy",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            },
            timeout=30,
        )
        assert resp.status_code == 204, resp.text
        for labels, samples in series:
            selector = (
                metric_name(labels)
                + "{"
                + ",".join(f'{n}="{v}"' for n, v in labels if n != "__name__")
                + "}"
            )
            for t, v in samples:
                r = httpx.get(
                    f"{server.url}/api/v1/query",
                    params={"query": f"{selector}[1ms]", "time": f"{t / 1000:.3f}"},
                    timeout=30,
                ).json()
                assert r["status"] == "success", r
                [result] = r["data"]["result"]
                assert result["metric"] == dict(labels)
                [[got_t, got_v]] = result["values"]
                assert round(got_t * 1000) == t
                if math.isnan(v):
                    assert got_v == "NaN"
                else:
                    assert float(got_v) == v


class _Capture(http.server.BaseHTTPRequestHandler):
    bodies: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with self.lock:
            self.bodies.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep the test output clean


def test_we_decode_what_prometheus_sends(tmp_path: Path) -> None:
    handler = type("Capture", (_Capture,), {"bodies": []})
    capture = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=capture.serve_forever, daemon=True)
    thread.start()
    port = free_port()
    config = f"""
global:
  scrape_interval: 1s
  external_labels:
    replica: r1
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:{port}']
remote_write:
  - url: http://127.0.0.1:{capture.server_address[1]}/receive
    queue_config:
      batch_send_deadline: 1s
    metadata_config:
      send_interval: 1s
"""
    try:
        with prometheus(tmp_path, config, port=port):
            batches: list[SampleBatch] = []
            names: set[str] = set()
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with handler.lock:
                    got, handler.bodies[:] = list(handler.bodies), []
                for headers, body in got:
                    assert headers.get("Content-Encoding") == "snappy"
                    assert headers.get("X-Prometheus-Remote-Write-Version", "").startswith("0.1")
                    batch = decode_write_request(body, IngestLimits())
                    batches.append(batch)
                    names.update(metric_name(ls) for ls in batch.series.values())
                metadata = {k: v for b in batches for k, v in b.metadata.items()}
                if {"up", "prometheus_build_info"} <= names and "prometheus_build_info" in metadata:
                    break
                time.sleep(0.2)
            assert {"up", "prometheus_build_info"} <= names
            all_series = [ls for b in batches for ls in b.series.values()]
            up = [dict(ls) for ls in all_series if metric_name(ls) == "up"]
            assert {
                "__name__": "up",
                "job": "prometheus",
                "instance": f"127.0.0.1:{port}",
                "replica": "r1",
            } in up
            up_values = [
                float(v)
                for b in batches
                for fp, v in zip(b.fingerprints, b.values, strict=True)
                if metric_name(b.series[int(fp)]) == "up"
            ]
            assert up_values
            assert all(v == 1.0 for v in up_values)
            metadata = {k: v for b in batches for k, v in b.metadata.items()}
            assert metadata["prometheus_build_info"].type == "gauge"
            assert metadata["prometheus_build_info"].help
            # Prometheus' own counters arrive with the counter type.
            assert metadata["prometheus_http_requests_total"].type == "counter"
    finally:
        capture.shutdown()
        capture.server_close()
        thread.join(timeout=10)
