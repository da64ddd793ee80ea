"""Status and federation against a real Prometheus (Debian's 2.42), with Spyglass a real
``spyglass serve`` process:

- Spyglass and a Prometheus scrape the same exporter; ``/api/v1/status/tsdb`` of both report
  the same series, label pairs and top-10 tables.
- A second Prometheus scrapes Spyglass's ``/federate`` with ``honor_labels: true`` and stores
  the exporter's series with their own labels plus Spyglass's external labels.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.required import need_prometheus
from tests.support.servers import LoopbackHTTP, QuietHandler, Server, prometheus, spyglass

pytestmark = pytest.mark.prometheus


def _page() -> bytes:
    """Distinct series counts per metric and per label value, so top-N orders are fixed."""
    lines = []
    for i in range(7):
        lines.append(f'demo_requests_total{{path="/p{i % 3}",code="{200 + i}"}} {i * 10}')
    for i in range(3):
        lines.append(f'demo_memory_bytes{{kind="k{i}"}} {1e6 + i}')
    lines.append("demo_build_info 1")
    return ("\n".join(lines) + "\n").encode()


class Page(QuietHandler):
    def do_GET(self) -> None:
        body = _page()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _data(url: str, path: str, **params: Any) -> Any:
    body = httpx.get(url + path, params=params, timeout=30).json()
    assert body["status"] == "success", body
    return body["data"]


def _wait(check: Any, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def exporter() -> Iterator[str]:
    server = LoopbackHTTP(Page)
    try:
        yield server.base_url.removeprefix("http://")
    finally:
        server.close()


@pytest.fixture(scope="module")
def sg(tmp_path_factory: pytest.TempPathFactory, exporter: str) -> Iterator[Server]:
    need_prometheus()
    tmp = tmp_path_factory.mktemp("sg")
    cfg = tmp / "prometheus.yml"
    cfg.write_text(
        "global: {scrape_interval: 1s, external_labels: {site: lab, job: ignored}}\n"
        f"scrape_configs: [{{job_name: demo, static_configs: [{{targets: ['{exporter}']}}]}}]\n"
    )
    with spyglass(tmp / "data", "--config-file", str(cfg)) as server:
        yield server


def _comparable(table: list[dict[str, Any]]) -> tuple[list[int], dict[int, set[str]]]:
    """Counts in order, and the names of each count above the last one: entries tied at the
    cut-off may differ, since which of them make the top 10 is arbitrary in Prometheus."""
    counts = [e["value"] for e in table]
    names: dict[int, set[str]] = {}
    for e in table:
        if e["value"] > counts[-1]:
            names.setdefault(e["value"], set()).add(e["name"])
    return counts, names


def test_tsdb_status_agrees_with_prometheus(tmp_path: Path, exporter: str, sg: Server) -> None:
    config = (
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs: [{{job_name: demo, static_configs: [{{targets: ['{exporter}']}}]}}]\n"
    )
    with prometheus(tmp_path / "prom", config) as prom:
        # 11 exporter series plus up and the four scrape_* series. Prometheus 2.42 computes
        # the label tables once and caches them for five minutes, so it is asked only once
        # every series is in.
        _wait(lambda: _data(prom.url, "/api/v1/query", query="count({job='demo'})")["result"])
        _wait(lambda: _data(sg.url, "/api/v1/status/tsdb")["headStats"]["numSeries"] == 16)
        theirs = _data(prom.url, "/api/v1/status/tsdb")
        assert theirs["headStats"]["numSeries"] == 16
        ours = _data(sg.url, "/api/v1/status/tsdb")
    for key in ("numSeries", "numLabelPairs"):
        assert ours["headStats"][key] == theirs["headStats"][key], key
    assert ours["headStats"]["minTime"] <= ours["headStats"]["maxTime"]
    for table in (
        "seriesCountByMetricName",
        "labelValueCountByLabelName",
        "memoryInBytesByLabelName",
        "seriesCountByLabelValuePair",
    ):
        assert _comparable(ours[table]) == _comparable(theirs[table]), table


def test_prometheus_federates_from_spyglass(tmp_path: Path, exporter: str, sg: Server) -> None:
    """With honor_labels the series keep job and instance; the external label ``site`` is
    added, ``job`` from the external labels is not (the series has its own)."""
    target = sg.url.removeprefix("http://")
    config = (
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: federate\n"
        "    honor_labels: true\n"
        "    metrics_path: /federate\n"
        "    params: {'match[]': ['{job=\"demo\",__name__=~\"demo_.*\"}']}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    with prometheus(tmp_path / "prom", config) as prom:

        def federated() -> list[dict[str, Any]] | None:
            got = _data(prom.url, "/api/v1/query", query='{__name__=~"demo_.*"}')["result"]
            return list(got) if len(got) == 11 else None

        result = _wait(federated)
        up = _data(prom.url, "/api/v1/query", query='up{job="federate"}')["result"]
    assert [u["value"][1] for u in up] == ["1"]
    requests = [r for r in result if r["metric"]["__name__"] == "demo_requests_total"]
    by_code = {r["metric"]["code"]: r for r in requests}
    sample = by_code["203"]
    assert sample["metric"] == {
        "__name__": "demo_requests_total",
        "code": "203",
        "path": "/p0",
        "instance": exporter,
        "job": "demo",
        "site": "lab",
    }
    assert sample["value"][1] == "30"
    memory = [r for r in result if r["metric"]["__name__"] == "demo_memory_bytes"]
    assert sorted(r["value"][1] for r in memory) == ["1000000", "1000001", "1000002"]
