"""Scraping a real exporter process (prometheus_client) on loopback with ScrapeManager."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from spyglass.core.config import load_config
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.samples import is_stale
from spyglass.ingest.scrape import REPORT_NAMES, ScrapeManager
from spyglass.storage.memory import MemoryStore
from spyglass.storage.ports import SeriesData

EXPORTER = """
import sys
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
r = CollectorRegistry()
Counter('demo_requests', 'Requests handled.', ['method'], registry=r).labels('get').inc(3)
Gauge('demo_temperature_celsius', 'Temperature.', registry=r).set(21.5)
h = Histogram('demo_latency_seconds', 'Latency.', buckets=(0.1, 1.0), registry=r)
h.observe(0.05)
h.observe(0.5)
Gauge('demo_info', 'Exporter info.', ['job'], registry=r).labels('exporter-job').set(1)
server, _ = start_http_server(0, addr='127.0.0.1', registry=r)
print(server.server_port, flush=True)
sys.stdin.read()
"""


class Exporter:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", EXPORTER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.address = f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def exporter() -> Iterator[Exporter]:
    exp = Exporter()
    try:
        yield exp
    finally:
        exp.kill()


def select(store: MemoryStore, name: str, **labels: str) -> list[SeriesData]:
    matchers = [
        Matcher.of("__name__", MatchOp.EQUAL, name),
        *(Matcher.of(k, MatchOp.EQUAL, v) for k, v in labels.items()),
    ]
    return store.select(matchers, 0, 2**62)


async def wait_for(check: Callable[[], bool], what: str, deadline_s: float = 30.0) -> None:
    """Poll until ``check()`` holds; the deadline only turns a hang into a clear failure."""
    end = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def count_up(store: MemoryStore, **labels: str) -> int:
    return sum(len(s.values) for s in select(store, "up", **labels))


def last_value(series: SeriesData) -> float:
    return float(series.values[-1])


def config_for(address: str, extra: str = "") -> str:
    return (
        textwrap.dedent(f"""\
        scrape_configs:
          - job_name: demo
            scrape_interval: 1s
            static_configs:
              - targets: ['{address}']
            metric_relabel_configs:
              - source_labels: [__name__]
                regex: demo_temperature_celsius
                target_label: unit
                replacement: celsius
        """)
        + extra
    )


def test_scrapes_a_real_exporter_then_marks_it_down_and_stale(exporter: Exporter) -> None:
    store = MemoryStore()
    manager = ScrapeManager(
        store, load_config(config_for(exporter.address)), external_host="spyglass-host"
    )

    async def scenario() -> None:
        await manager.start()
        try:
            await wait_for(lambda: count_up(store) >= 2, "two scrapes")
            target = {"job": "demo", "instance": exporter.address}

            (up,) = select(store, "up", **target)
            assert set(up.values.tolist()) == {1.0}
            for name in REPORT_NAMES:
                assert select(store, name, **target), name
            (scraped,) = select(store, "scrape_samples_scraped")
            assert last_value(scraped) > 5

            (req,) = select(store, "demo_requests_total", method="get", **target)
            assert last_value(req) == 3.0
            (temp,) = select(store, "demo_temperature_celsius", unit="celsius")
            assert last_value(temp) == 21.5
            buckets = {
                dict(s.labels)["le"]: last_value(s)
                for s in select(store, "demo_latency_seconds_bucket")
            }
            assert buckets == {"0.1": 1.0, "1.0": 2.0, "+Inf": 2.0}
            (count,) = select(store, "demo_latency_seconds_count")
            assert last_value(count) == 2.0
            # honor_labels: false -> the exporter's own job label is kept as exported_job
            (info,) = select(store, "demo_info")
            assert dict(info.labels)["exported_job"] == "exporter-job"
            assert dict(info.labels)["job"] == "demo"

            md = store.metadata()
            assert md["demo_temperature_celsius"][0].type == "gauge"
            assert md["demo_latency_seconds"][0].type == "histogram"
            assert md["demo_temperature_celsius"][0].help == "Temperature."
            families = {m["metric"]: m["type"] for m in manager.metadata()}
            assert families["demo_requests"] == "counter"

            data = manager.targets()
            (active,) = data["activeTargets"]  # type: ignore[misc]
            assert active["health"] == "up"
            assert active["scrapeUrl"] == f"http://{exporter.address}/metrics"
            assert active["globalUrl"] == f"http://spyglass-host:{exporter.port}/metrics"
            assert active["scrapePool"] == "demo"
            assert active["lastError"] == ""
            assert data["droppedTargets"] == []

            exporter.kill()
            await wait_for(lambda: 0.0 in select(store, "up")[0].values.tolist(), "up == 0")
            (up,) = select(store, "up")
            down_at = int(up.timestamps[np.flatnonzero(up.values == 0.0)[0]])
            (req,) = select(store, "demo_requests_total")
            assert is_stale(last_value(req))
            assert int(req.timestamps[-1]) == down_at
            (active,) = manager.targets()["activeTargets"]  # type: ignore[misc]
            assert active["health"] == "down"
            assert "127.0.0.1" in str(active["lastError"])
        finally:
            await manager.stop()

    asyncio.run(scenario())


def test_file_sd_removal_writes_staleness_markers(exporter: Exporter, tmp_path: Path) -> None:
    targets = tmp_path / "targets.json"
    groups = [{"targets": [exporter.address], "labels": {"group": g}} for g in ("a", "b", "c")]
    targets.write_text(json.dumps(groups))
    cfg = load_config(
        textwrap.dedent("""\
        scrape_configs:
          - job_name: fleet
            scrape_interval: 1s
            file_sd_configs:
              - files: ['targets.json']
                refresh_interval: 5m
            relabel_configs:
              - source_labels: [group]
                regex: a|b
                action: keep
        """),
        directory=tmp_path,
    )
    store = MemoryStore()
    manager = ScrapeManager(store, cfg)

    async def scenario() -> None:
        await manager.start()
        try:
            await wait_for(
                lambda: count_up(store, group="a") >= 1 and count_up(store, group="b") >= 1,
                "both targets scraped",
            )
            data = manager.targets()
            assert len(data["activeTargets"]) == 2  # type: ignore[arg-type]
            (dropped,) = data["droppedTargets"]  # type: ignore[misc]
            assert dropped["discoveredLabels"]["group"] == "c"
            assert dropped["discoveredLabels"]["__meta_filepath"] == str(targets)
            assert data["droppedTargetCounts"] == {"fleet": 1}

            targets.write_text(json.dumps(groups[:1]))
            await wait_for(
                lambda: len(manager.targets()["activeTargets"]) == 1,  # type: ignore[arg-type]
                "target b removed",
            )
            await wait_for(
                lambda: is_stale(last_value(select(store, "up", group="b")[0])),
                "staleness markers for b",
            )
            for name in ("demo_requests_total", "demo_temperature_celsius", *REPORT_NAMES):
                (series,) = select(store, name, group="b")
                assert is_stale(last_value(series)), name
            a_before = count_up(store, group="a")
            await wait_for(lambda: count_up(store, group="a") > a_before, "a still scraped")
            assert not is_stale(last_value(select(store, "up", group="a")[0]))
        finally:
            await manager.stop()

    asyncio.run(scenario())


def test_reload_adds_and_removes_jobs_and_stop_writes_no_markers(exporter: Exporter) -> None:
    store = MemoryStore()
    first = load_config(config_for(exporter.address))
    second = load_config(
        textwrap.dedent(f"""\
        scrape_configs:
          - job_name: other
            scrape_interval: 1s
            static_configs:
              - targets: ['{exporter.address}']
        """)
    )
    manager = ScrapeManager(store, first)

    async def scenario() -> None:
        await manager.start()
        try:
            await wait_for(lambda: count_up(store, job="demo") >= 1, "demo scraped")
            await manager.reload(second)
            assert manager.scrape_pools() == ["other"]
            await wait_for(lambda: count_up(store, job="other") >= 1, "other scraped")
            await wait_for(
                lambda: is_stale(last_value(select(store, "up", job="demo")[0])),
                "removed job marked stale",
            )
        finally:
            await manager.stop()
        (up,) = select(store, "up", job="other")
        assert not is_stale(last_value(up))  # shutdown writes no staleness markers

    asyncio.run(scenario())
