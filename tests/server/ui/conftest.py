"""A real ``spyglass serve`` with metrics pushed over remote_write, and Debian's chromium driven
by Playwright, for the web UI's browser tests.

The data (timestamps relative to now, so the default range shows them):

- ``ui_temperature{room="hall"|"kitchen"}``: two gauges a minute apart over the last 2 hours,
  hall around 18, kitchen around 24, so their lines sit apart on the graph.
- ``ui_requests_total{code="200"|"500"}``: counters for rate().
- ``ui_many{i="0".."199"}``: 200 series of 1,000 points 15 s apart, the graph's load test.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.browser import ConsoleLog, chromium
from tests.support.ops_data import OpsServer, ops_server
from tests.support.servers import Server, spyglass

from spyglass.core.samples import MetricMetadata
from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
MANY_SERIES = 200
MANY_POINTS = 1000


def _labels(**kv: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kv.items()))


def _series(now_ms: int) -> list[tuple[Any, list[tuple[int, float]]]]:
    out: list[tuple[Any, list[tuple[int, float]]]] = []
    minutes = range(120, -1, -1)
    for room, base in (("hall", 18.0), ("kitchen", 24.0)):
        points = [(now_ms - m * 60_000, base + math.sin(m / 10)) for m in minutes]
        out.append((_labels(__name__="ui_temperature", room=room), points))
    for code, per_min in (("200", 600.0), ("500", 12.0)):
        points = [(now_ms - m * 60_000, (120 - m) * per_min) for m in minutes]
        out.append((_labels(__name__="ui_requests_total", code=code, job="shop"), points))
    for i in range(MANY_SERIES):
        points = [(now_ms - k * 15_000, i + 5 * math.sin(k / 40 + i)) for k in range(MANY_POINTS)]
        out.append((_labels(__name__="ui_many", i=str(i)), points))
    return out


def push(server: Server) -> None:
    """Send the test data over remote_write, in requests of a few series each; the newest
    samples a few seconds old, so instant queries at "now" (5 minutes' lookback) find them."""
    series = _series((int(time.time()) - 5) * 1000)
    metadata = {"ui_temperature": MetricMetadata("gauge", "Room temperature.", "")}
    with httpx.Client(timeout=60) as client:
        for start in range(0, len(series), 20):
            body = encode_write_request(series[start : start + 20], metadata)
            r = client.post(server.url + "/api/v1/write", content=body, headers=RW_HEADERS)
            assert r.status_code == 204, r.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``spyglass serve`` holding the test data."""
    with spyglass(tmp_path_factory.mktemp("ui") / "data") as s:
        push(s)
        yield s


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpsServer]:
    """A real ``spyglass serve`` with errors, an SLO, probes (see tests/support/ops_data.py),
    for the Errors, SLOs, Incidents and Uptime pages' tests: one per test module, because the
    data is stamped relative to the start and a page read twenty minutes later (as a random
    order over the whole suite can make it) no longer sees its last five minutes."""
    with ops_server(tmp_path_factory.mktemp("ops")) as s:
        yield s


@pytest.fixture(scope="module")
def many() -> tuple[int, int]:
    """How many series ``ui_many`` has, and how many points each."""
    return MANY_SERIES, MANY_POINTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless."""
    with chromium() as b:
        yield b


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def page(browser: Any, console: ConsoleLog) -> Iterator[Any]:
    """A fresh 1280x800 page; the test fails if anything reached its console as an error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    p = console.watch(context.new_page())
    p.set_default_timeout(20_000)
    try:
        yield p
    finally:
        context.close()
    assert console.errors == [], console.errors
