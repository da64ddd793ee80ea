"""Differential: real Prometheus (Debian's 2.42) and Spyglass scrape the same page with the same
honor_labels and metric_relabel_configs, and end up with the same series and synthetic values."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from tests.support.required import need_prometheus
from tests.support.servers import prometheus as real_prometheus

from spyglass.core.config import load_config
from spyglass.core.labels import Labels
from spyglass.core.samples import SampleBatch
from spyglass.ingest.exposition import parse
from spyglass.ingest.scrape import ScrapeLoop, build_targets
from spyglass.ingest.scrape._http import make_client
from spyglass.storage.memory import MemoryStore

pytestmark = pytest.mark.prometheus

PAGE = b"""\
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="get",job="exp",instance="x"} 5
http_requests_total{method="post",exported_job="y",job="z"} 2
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.1
go_gc_duration_seconds_sum 1
go_gc_duration_seconds_count 3
# TYPE temp gauge
temp{room="A B"} 21
temp{room=""} 19
"""

JOBS = """
scrape_configs:
  - job_name: plain
    scrape_interval: 1s
    static_configs:
      - targets: ['{address}']
        labels:
          site: lab
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_gc_.*
        action: drop
      - regex: room
        replacement: location
        action: labelmap
      - source_labels: [method, site]
        separator: '/'
        target_label: route
  - job_name: honored
    honor_labels: true
    scrape_interval: 1s
    static_configs:
      - targets: ['{address}']
    metric_relabel_configs:
      - source_labels: [__name__, quantile]
        regex: 'go_gc_duration_seconds;0\\.5'
        action: drop
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:  # type: ignore[override]
        pass


@pytest.fixture(scope="module")
def page_address() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def prom_query(port: int, path: str, params: dict[str, str]) -> list[dict[str, object]]:
    resp = httpx.get(f"http://127.0.0.1:{port}{path}", params=params, timeout=5)
    data = resp.json()["data"]
    return data["result"] if isinstance(data, dict) else data  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def prometheus(page_address: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    need_prometheus()
    tmp = tmp_path_factory.mktemp("prom-samples")
    with real_prometheus(tmp, JOBS.replace("{address}", page_address)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while True:
            try:
                if len(prom_query(port, "/api/v1/query", {"query": "up == 1"})) == 2:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("Prometheus did not scrape both jobs in time")
            time.sleep(0.2)
        yield port


def our_batches(address: str) -> list[SampleBatch]:
    cfg = load_config(JOBS.replace("{address}", address))

    async def run() -> list[SampleBatch]:
        out = []
        for sc in cfg.scrape_configs:
            (target,), _, _ = build_targets(sc, sc.static_configs)
            client = make_client(sc)
            try:
                result = await ScrapeLoop(target, sc, client, MemoryStore(), parse).scrape_once()
            finally:
                await client.aclose()
            assert result.error == ""
            out.append(result.batch)
        return out

    return asyncio.run(run())


def series_of(batches: list[SampleBatch]) -> set[Labels]:
    return {labels for b in batches for labels in b.series.values()}


def test_same_series_as_prometheus(prometheus: int, page_address: str) -> None:
    theirs = prom_query(prometheus, "/api/v1/series", {"match[]": '{__name__=~".+"}'})
    their_series = {tuple(sorted(s.items())) for s in theirs}  # type: ignore[union-attr]
    assert series_of(our_batches(page_address)) == their_series


@pytest.mark.parametrize(
    "metric", ["scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "up"]
)
def test_same_synthetic_values_as_prometheus(
    prometheus: int, page_address: str, metric: str
) -> None:
    theirs = {
        tuple(sorted(r["metric"].items())): float(r["value"][1])  # type: ignore[index, union-attr]
        for r in prom_query(prometheus, "/api/v1/query", {"query": metric})
    }
    mine = {}
    for batch in our_batches(page_address):
        for fp, value in zip(batch.fingerprints, batch.values, strict=True):
            labels = batch.series[int(fp)]
            if dict(labels)["__name__"] == metric:
                mine[labels] = float(value)
    assert mine == theirs
    assert not any(math.isnan(v) for v in mine.values())
