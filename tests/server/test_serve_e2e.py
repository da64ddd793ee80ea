"""``spyglass serve`` as a user runs it: a real process on loopback, on embedded ClickHouse.

- SIGKILL during a remote_write load: after a restart every acknowledged sample is queryable.
- SIGTERM: exits cleanly, everything accepted is stored and the WAL is emptied.
- A real exporter (prometheus_client's HTTP server in its own process) is scraped per a
  prometheus.yml, and its samples come back through the Prometheus API; scrapes do not log.
- A real Prometheus (Debian's package) remote_writes to Spyglass; query_range over the same window
  gives the same series and values on both.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.required import need_prometheus
from tests.support.servers import (
    Server,
    free_port,
    prometheus,
    spyglass,
    started,
    stop,
)

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def _query(server: Server, path: str, **params: Any) -> Any:
    r = httpx.get(server.url + path, params=params, timeout=30)
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]


def _raw_samples(server: Server, selector: str, at_s: float) -> dict[str, dict[int, float]]:
    """Every raw sample of ``selector`` in the hour before ``at_s``: series -> {ts_ms: value}."""
    data = _query(server, "/api/v1/query", query=f"{selector}[1h]", time=at_s)
    out: dict[str, dict[int, float]] = {}
    for s in data["result"]:
        key = ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items()))
        out[key] = {round(t * 1000): float(v) for t, v in s["values"]}
    return out


def test_sigkill_during_write_load_loses_no_acknowledged_sample(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    base_ms = (int(time.time()) - 1800) * 1000
    acked: list[int] = []
    stop_sending = threading.Event()

    def load(url: str) -> None:
        i = 0
        with httpx.Client(timeout=10) as client:
            while not stop_sending.is_set():
                ts = base_ms + i * 1000
                series = [
                    ((("__name__", "load_total"), ("writer", str(w))), [(ts, float(i))])
                    for w in range(10)
                ]
                try:
                    r = client.post(url, content=encode_write_request(series), headers=RW_HEADERS)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 204:
                    acked.append(ts)
                i += 1

    with spyglass(data_dir, port=port) as server:
        sender = threading.Thread(target=load, args=(server.url + "/api/v1/write",))
        sender.start()
        deadline = time.monotonic() + 60
        while len(acked) < 300 and time.monotonic() < deadline and sender.is_alive():
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)  # mid-load, no chance to flush
        server.process.wait(timeout=10)
        stop_sending.set()
        sender.join(timeout=30)
    assert len(acked) >= 300, "the load never got going"

    with spyglass(data_dir, port=port) as server:
        at_s = (max(acked) + 1000) / 1000
        samples = _raw_samples(server, "load_total", at_s)
        assert len(samples) == 10
        for series, points in samples.items():
            missing = [ts for ts in acked if ts not in points]
            assert not missing, f"{series}: {len(missing)} acknowledged samples lost"
            assert all(points[ts] == (ts - base_ms) // 1000 for ts in acked)


def test_sigterm_flushes_everything_and_empties_the_wal(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    ts = (int(time.time()) - 60) * 1000
    # A long flush interval: only the shutdown path can have inserted these samples.
    args = ("--flush-interval", "10m", "--flush-max-samples", "100000000")
    with spyglass(data_dir, *args, port=port) as server:
        body = encode_write_request([((("__name__", "term_test"), ("k", "v")), [(ts, 42.0)])])
        r = httpx.post(server.url + "/api/v1/write", content=body, headers=RW_HEADERS)
        assert r.status_code == 204
        pending = _metric(server, "spyglass_storage_pending_samples")
        assert pending >= 1
        assert stop(server, signal.SIGTERM) == 0
    wal_bytes = sum(p.stat().st_size for p in (data_dir / "wal").rglob("*") if p.is_file())
    with spyglass(data_dir, port=port) as server:
        assert _metric(server, "spyglass_wal_replayed_samples_total") == 0
        result = _query(server, "/api/v1/query", query="term_test", time=ts / 1000)["result"]
        assert [r["value"][1] for r in result] == ["42"]
    assert wal_bytes < 4096, f"WAL still holds {wal_bytes} bytes after a clean shutdown"


def _metric(server: Server, name: str) -> float:
    for line in httpx.get(server.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


EXPORTER = textwrap.dedent(
    """
    import sys, time
    from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
    r = CollectorRegistry()
    c = Counter("orders", "Orders placed.", ["kind"], registry=r)
    g = Gauge("queue_depth", "Items waiting.", registry=r)
    start_http_server(int(sys.argv[1]), addr="127.0.0.1", registry=r)
    print("ready", flush=True)
    while True:
        c.labels("book").inc(3)
        g.set(7)
        time.sleep(0.2)
    """
)


def test_scrapes_a_real_exporter_from_prometheus_yml(tmp_path: Path) -> None:
    exporter_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        textwrap.dedent(
            f"""
            global:
              scrape_interval: 1s
              evaluation_interval: 15s
            rule_files: []
            scrape_configs:
              - job_name: shop
                static_configs:
                  - targets: ["127.0.0.1:{exporter_port}"]
                    labels: {{team: checkout}}
            """
        )
    )
    exporter = subprocess.Popen([sys.executable, "-c", EXPORTER, str(exporter_port)])
    try:
        with spyglass(tmp_path / "data", "--config-file", str(config)) as server:
            deadline = time.monotonic() + 30
            result: list[Any] = []
            while time.monotonic() < deadline:
                result = _query(server, "/api/v1/query", query='orders_total{kind="book"}')[
                    "result"
                ]
                if result:
                    break
                time.sleep(0.5)
            assert result, "no scraped samples arrived"
            assert result[0]["metric"] == {
                "__name__": "orders_total",
                "instance": f"127.0.0.1:{exporter_port}",
                "job": "shop",
                "kind": "book",
                "team": "checkout",
            }
            [up] = _query(server, "/api/v1/query", query='up{job="shop"}')["result"]
            assert up["value"][1] == "1"
            targets = _query(server, "/api/v1/targets")["activeTargets"]
            assert [t["health"] for t in targets] == ["up"]
            meta = _query(server, "/api/v1/metadata", metric="queue_depth")
            assert meta["queue_depth"][0]["type"] == "gauge"
            # At the default log level a scrape logs nothing, as in Prometheus: no line per
            # request of the HTTP client (several scrapes have run by now).
            log = server.log.read_text()
            assert "ready on" in log
            assert "HTTP Request" not in log, log[-2000:]
    finally:
        exporter.kill()
        exporter.wait(timeout=10)


@pytest.mark.prometheus
def test_real_prometheus_remote_writes_and_query_range_agrees(tmp_path: Path) -> None:
    """Prometheus scrapes Spyglass's /metrics every second and remote_writes what it stored."""
    need_prometheus()
    with spyglass(tmp_path / "data") as sg:
        config = textwrap.dedent(
            f"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: spyglass
                static_configs: [{{targets: ["{sg.url.removeprefix("http://")}"]}}]
            remote_write:
              - url: {sg.url}/api/v1/write
                queue_config: {{batch_send_deadline: 1s, min_backoff: 100ms}}
            """
        )
        with prometheus(tmp_path / "prom", config) as prom:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = _query(sg, "/api/v1/query", query="count_over_time(up[1m])")["result"]
                if (
                    got and float(got[0]["value"][1]) >= 15
                ):  # the window below starts after scrape 5
                    break
                time.sleep(0.5)
            else:
                pytest.fail("Prometheus' samples did not reach Spyglass")
            time.sleep(3)  # the batch in flight lands
            [last] = _query(sg, "/api/v1/query", query="timestamp(up)")["result"]
            # Steps fall between scrapes: Prometheus 2's ranges are closed on the left and
            # Spyglass follows Prometheus 3's left-open ones, which differ only for a sample
            # exactly on a window's start.
            end = float(last["value"][1]) - 2.5
            start = end - 5
            queries = [
                "up",
                "sum by (job) (up)",
                "rate(process_cpu_seconds_total[3s])",
                "max_over_time(scrape_samples_scraped[3s])",
                'spyglass_ingest_requests_total{outcome="accepted"}',
                # Only series that existed well before the window: for a counter born inside a
                # window, Prometheus 2.42 clamps rate's extrapolation differently from 2.51+/3
                # (prometheus#13725), and Spyglass follows 3.
                f"sum by (le) (rate({BUCKETS}[3s]))",
                f"histogram_quantile(0.9, sum by (le) (rate({BUCKETS}[3s])))",
            ]
            for q in queries:
                params = {"query": q, "start": start, "end": end, "step": 1}
                ours = _by_metric(_query(sg, "/api/v1/query_range", **params)["result"])
                theirs = _by_metric(_query(prom, "/api/v1/query_range", **params)["result"])
                assert ours, q
                assert ours.keys() == theirs.keys(), q
                for key, points in theirs.items():
                    assert [t for t, _ in ours[key]] == [t for t, _ in points], (q, key)
                    for (_, a), (_, b) in zip(ours[key], points, strict=True):
                        assert a == pytest.approx(b, rel=1e-9, nan_ok=True), (q, key)


BUCKETS = 'spyglass_http_request_duration_seconds_bucket{handler=~"/metrics|/api/v1/write"}'


def _by_metric(result: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    return {
        ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items())): [
            (t, float(v)) for t, v in s["values"]
        ]
        for s in result
    }


def test_serve_on_a_clickhouse_server(tmp_path: Path) -> None:
    """``--storage-url``: the same ingest and queries through clickhouse-connect over HTTP."""
    port = free_port()
    cmd = [sys.executable, "-m", "tests.support.clickhouse_http", "--port", str(port),
           "--path", str(tmp_path / "ch")]  # fmt: skip
    url = f"http://default:@127.0.0.1:{port}/default?compress=false"
    ts = (int(time.time()) - 120) * 1000
    with (
        started(cmd, f"http://127.0.0.1:{port}", "/ping", tmp_path / "ch.log"),
        spyglass(tmp_path / "data", "--storage-url", url, "--flush-interval", "100ms") as sg,
    ):
        body = encode_write_request(
            [((("__name__", "on_server"), ("k", str(i))), [(ts, float(i))]) for i in range(3)]
        )
        r = httpx.post(sg.url + "/api/v1/write", content=body, headers=RW_HEADERS)
        assert r.status_code == 204
        deadline = time.monotonic() + 30
        while _metric(sg, "spyglass_storage_pending_samples") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _metric(sg, "spyglass_storage_samples_flushed_total") == 3
        result = _query(sg, "/api/v1/query", query="sum(on_server)", time=ts / 1000)["result"]
        assert result[0]["value"][1] == "3"
        assert _query(sg, "/api/v1/label/k/values") == ["0", "1", "2"]
