"""A running ``spyglass serve`` reloads its config, binds its ports honestly and says what it did.

Real processes on loopback, as a user runs them:

- ``POST /-/reload`` and SIGHUP apply a changed prometheus.yml; a bad file keeps the old config
  and says so in the reply, ``/api/v1/status/runtimeinfo`` and
  ``spyglass_config_last_reload_successful``.
- A taken HTTP or OTLP/gRPC port is an error naming it, and "ready" is never said.
- The start-up log says what was loaded and what to do next; a kept-alive connection outlives
  remote_write's send interval.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.postgres import running_postgres
from tests.support.required import need_prometheus
from tests.support.servers import (
    LoopbackHTTP,
    QuietHandler,
    Server,
    free_port,
    prometheus,
    spyglass,
    spyglass_cmd,
    stop,
)

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


class Page(QuietHandler):
    def do_GET(self) -> None:
        body = b"# TYPE things gauge\nthings 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def exporter() -> Iterator[str]:
    server = LoopbackHTTP(Page)
    try:
        yield server.base_url.removeprefix("http://")
    finally:
        server.close()


def config(*jobs: str, target: str) -> str:
    lines = ["global: {scrape_interval: 1s}", "scrape_configs:"]
    for job in jobs:
        lines.append(f"  - job_name: {job}\n    static_configs: [{{targets: ['{target}']}}]")
    return "\n".join(lines) + "\n"


def data(server: Server, path: str) -> Any:
    body = httpx.get(server.url + path, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]


def metric(server: Server, name: str) -> float:
    for line in httpx.get(server.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def wait_for(check: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.1)


def test_reload_applies_a_new_config_and_keeps_the_old_one_when_bad(
    tmp_path: Path, exporter: str
) -> None:
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(config("one", target=exporter))
    with spyglass(tmp_path / "data", "--config-file", str(cfg)) as sg:
        assert data(sg, "/api/v1/scrape_pools")["scrapePools"] == ["one"]
        first_load = data(sg, "/api/v1/status/runtimeinfo")["lastConfigTime"]
        time.sleep(1.1)  # lastConfigTime has whole seconds, as in Prometheus

        cfg.write_text(config("one", "two", target=exporter))
        r = httpx.post(sg.url + "/-/reload", timeout=30)
        assert r.status_code == 200, r.text
        assert data(sg, "/api/v1/scrape_pools")["scrapePools"] == ["one", "two"]
        assert "job_name: two" in data(sg, "/api/v1/status/config")["yaml"]
        wait_for(lambda: {t["scrapePool"] for t in data(sg, "/api/v1/targets")["activeTargets"]}
                 == {"one", "two"})  # fmt: skip
        info = data(sg, "/api/v1/status/runtimeinfo")
        assert info["reloadConfigSuccess"] is True
        assert info["lastConfigTime"] > first_load

        cfg.write_text("scrape_configs:\n  - job_name: [broken\n")
        r = httpx.post(sg.url + "/-/reload", timeout=30)
        assert r.status_code == 500
        assert r.text.startswith("failed to reload config: ")
        assert str(cfg) in r.text  # the error names the file, like promtool
        assert data(sg, "/api/v1/scrape_pools")["scrapePools"] == [
            "one",
            "two",
        ]  # the old config runs on
        assert data(sg, "/api/v1/status/runtimeinfo")["reloadConfigSuccess"] is False
        assert metric(sg, "spyglass_config_last_reload_successful") == 0

        cfg.write_text(config("two", target=exporter))
        sg.process.send_signal(signal.SIGHUP)
        wait_for(lambda: metric(sg, "spyglass_config_last_reload_successful") == 1)
        assert data(sg, "/api/v1/scrape_pools")["scrapePools"] == ["two"]
        assert data(sg, "/api/v1/status/runtimeinfo")["reloadConfigSuccess"] is True
        assert sg.process.poll() is None  # SIGHUP reloads, it does not stop the server
    log = sg.log_text()
    assert "failed, keeping the old one" in log
    assert "SIGHUP: reloading the configuration" in log


def run_to_exit(cmd: list[str], timeout_s: float = 60) -> tuple[int, str]:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    return p.returncode, p.stdout + p.stderr


def test_a_taken_http_port_fails_at_once_and_never_says_ready(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out = run_to_exit(spyglass_cmd(tmp_path / "data", port))
    assert code != 0
    assert f"cannot listen on 127.0.0.1:{port} (--listen-address)" in out
    assert " ready on " not in out
    assert not (tmp_path / "data" / "clickhouse").exists()  # nothing was opened


def test_a_taken_otlp_grpc_port_is_an_error_naming_it(tmp_path: Path) -> None:
    """gRPC reuses ports by default: a second server would bind beside the first, silently."""
    grpc_port = free_port()
    grpc_args = ("--otlp-grpc-address", f"127.0.0.1:{grpc_port}")
    with spyglass(tmp_path / "first", *grpc_args) as first:
        cmd = [*spyglass_cmd(tmp_path / "second", free_port()), *grpc_args]
        code, out = run_to_exit(cmd)
        assert code != 0
        assert f"cannot listen on 127.0.0.1:{grpc_port} (--otlp-grpc-address)" in out
        assert " ready on " not in out
        assert first.process.poll() is None
    assert f"OTLP/gRPC receiver on 127.0.0.1:{grpc_port}" in first.log_text()


def test_start_up_says_what_it_loaded_and_what_to_do_next(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    ts = (int(time.time()) - 60) * 1000
    with spyglass(data_dir, "--flush-interval", "10m", port=port) as sg:
        log = sg.log_text()
        assert f"ready on http://127.0.0.1:{port}" in log
        assert "storage: embedded ClickHouse (chDB)" in log
        assert f"state: {data_dir / 'state.db'} (schema version " in log
        assert (data_dir / "state.db").is_file()
        assert "scraping nothing: no --config-file with scrape_configs" in log
        body = encode_write_request([((("__name__", "boot"), ("k", "v")), [(ts, 1.0)])])
        assert httpx.post(sg.url + "/api/v1/write", content=body, headers=RW_HEADERS).is_success
        stop(sg, signal.SIGKILL)
    with spyglass(data_dir, port=port) as sg:
        assert "metrics WAL: replayed 1 samples" in sg.log_text()


def test_a_kept_alive_connection_outlives_the_remote_write_send_interval(tmp_path: Path) -> None:
    """Prometheus sends remote_write every 5 s on one kept-alive connection; a server that closed
    idle connections after 5 s raced it, and Prometheus logged failed sends."""
    with spyglass(tmp_path / "data") as sg:
        conn = http.client.HTTPConnection("127.0.0.1", int(sg.url.rsplit(":", 1)[1]), timeout=10)
        conn.request("GET", "/-/healthy")
        assert conn.getresponse().read() == b"Spyglass is Healthy.\n"
        time.sleep(6.5)
        conn.request("GET", "/-/healthy")  # the same connection, idle for 6.5 s
        assert conn.getresponse().status == 200
        conn.close()


@pytest.mark.slow
@pytest.mark.prometheus
def test_real_prometheus_remote_writes_for_90s_without_a_failed_send(tmp_path: Path) -> None:
    """With the server's keep-alive at uvicorn's 5 s, this logged "Failed to send batch,
    retrying" (broken pipe, use of closed connection) three times in 90 s."""
    need_prometheus()
    with spyglass(tmp_path / "data") as sg:
        config = (
            "global: {scrape_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: spyglass\n    static_configs: [{{targets: ['{sg.url[7:]}']}}]\n"
            f"remote_write:\n  - url: {sg.url}/api/v1/write\n"
        )
        with prometheus(tmp_path / "prom", config) as prom:
            time.sleep(90)
            log = prom.log_text()
        sent = metric(sg, "spyglass_storage_samples_appended_total")
    failures = [line for line in log.splitlines() if "Failed to send batch" in line]
    assert failures == []
    assert sent > 1000


def test_state_can_live_in_postgresql(tmp_path: Path) -> None:
    """``--state-url``: control-plane state in a real PostgreSQL instead of the data dir."""
    with running_postgres() as server:
        url = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        with spyglass(tmp_path / "data", "--state-url", url) as sg:
            assert f"state: {url} (schema version " in sg.log_text()
            assert not (tmp_path / "data" / "state.db").exists()


def test_the_alertmanagers_of_prometheus_yml_are_listed_and_follow_reload(tmp_path: Path) -> None:
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text("alerting:\n  alertmanagers: [{static_configs: [{targets: ['am1:9093']}]}]\n")
    with spyglass(tmp_path / "data", "--config-file", str(cfg)) as sg:
        assert data(sg, "/api/v1/alertmanagers") == {
            "activeAlertmanagers": [{"url": "http://am1:9093/api/v2/alerts"}],
            "droppedAlertmanagers": [],
        }
        cfg.write_text(
            "alerting:\n  alertmanagers:\n"
            "    - {static_configs: [{targets: ['am2:9093']}], path_prefix: /am}\n"
        )
        assert httpx.post(sg.url + "/-/reload", timeout=30).status_code == 200
        active = data(sg, "/api/v1/alertmanagers")["activeAlertmanagers"]
        assert active == [{"url": "http://am2:9093/am/api/v2/alerts"}]
        assert "alerting: 1 Alertmanagers named: http://am1:9093/api/v2/alerts" in sg.log_text()
