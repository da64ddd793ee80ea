"""Host metrics: node_exporter's names and labels, values that agree with the OS."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from tests.support.servers import free_port, started

from spyglass.ingest.exposition import parse
from spyglass.sdk.system import SystemCollector, register_system_metrics


def scrape() -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry()
    register_system_metrics(registry)
    page = parse(generate_latest(registry))
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for s in page.samples:
        labels = dict(s.labels)
        out.setdefault(labels.pop("__name__"), []).append((labels, s.value))
    return out


def test_node_exporter_names_and_labels() -> None:
    metrics = scrape()
    for name in (
        "node_cpu_seconds_total",
        "node_memory_MemTotal_bytes",
        "node_memory_MemAvailable_bytes",
        "node_memory_SwapTotal_bytes",
        "node_memory_SwapFree_bytes",
        "node_filesystem_size_bytes",
        "node_filesystem_avail_bytes",
        "node_disk_read_bytes_total",
        "node_disk_written_bytes_total",
        "node_network_receive_bytes_total",
        "node_network_transmit_bytes_total",
        "node_load1",
        "node_load5",
        "node_load15",
    ):
        assert name in metrics, name
    cpus = {labels["cpu"] for labels, _ in metrics["node_cpu_seconds_total"]}
    assert len(cpus) == os.cpu_count()
    modes = {labels["mode"] for labels, _ in metrics["node_cpu_seconds_total"]}
    assert {"user", "system", "idle"} <= modes
    fs = metrics["node_filesystem_size_bytes"]
    assert all(set(labels) == {"device", "fstype", "mountpoint"} for labels, _ in fs)
    root = next(v for labels, v in fs if labels["mountpoint"] == "/")
    st = os.statvfs("/")
    assert root == st.f_blocks * st.f_frsize
    assert "lo" in {labels["device"] for labels, _ in metrics["node_network_receive_bytes_total"]}
    total = metrics["node_memory_MemTotal_bytes"][0][1]
    available = metrics["node_memory_MemAvailable_bytes"][0][1]
    assert 0 < available <= total
    assert metrics["node_load1"][0][1] >= 0


def test_a_failing_source_is_left_out_not_fatal() -> None:
    collector = SystemCollector()

    def broken() -> None:
        raise OSError("no /proc here")

    collector._psutil = type("FakePsutil", (), {"__getattr__": lambda self, n: broken})()
    names = {m.name for m in collector.collect()}
    # Only the sources not going through psutil remain.
    assert names == {"node_load1", "node_load5", "node_load15"}


def test_standalone_exporter(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "spyglass.sdk.system", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with started(cmd, url, "/metrics", tmp_path / "system.log"):
        page = parse(httpx.get(url + "/metrics").text)
    names = {dict(s.labels)["__name__"] for s in page.samples}
    assert {"node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_load1"} <= names
