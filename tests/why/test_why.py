"""Why did this change: on generated data where one route of one instance has its errors raised,
that route and that instance come first; deploys show; the expression is taken apart right."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.servers import spyglass

from spyglass.core.errors import BadInput
from spyglass.ingest.remote_write import encode_write_request
from spyglass.why import series_expression

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
STEP = 15_000
ROUTES = ("/", "/cart", "/checkout", "/search")
INSTANCES = ("a", "b", "c")


@pytest.mark.parametrize(
    ("query", "explained"),
    [
        ('sum(rate(errors_total{job="api"}[5m]))', 'rate(errors_total{job="api"}[5m])'),
        ("sum by (route) (rate(x[5m])) / sum by (route) (rate(y[5m]))", "rate(x[5m])"),
        ("(avg(up))", "up"),
        # An alert's condition: what is compared with the threshold.
        ("sum(rate(errors_total[5m])) by (route) > 0.5", "rate(errors_total[5m])"),
        ("sum(rate(x[5m])) / sum(rate(y[5m])) >= bool 0.01", "rate(x[5m])"),
        (
            "histogram_quantile(0.9, rate(h_bucket[5m]))",
            "histogram_quantile(0.9, rate(h_bucket[5m]))",
        ),
    ],
)
def test_the_series_of_an_expression(query: str, explained: str) -> None:
    assert series_expression(query) == explained


def test_bad_promql_is_bad_input() -> None:
    with pytest.raises(BadInput, match="invalid PromQL"):
        series_expression("sum(")


def history(now_ms: int) -> list[tuple[tuple[tuple[str, str], ...], list[tuple[int, float]]]]:
    """75 minutes of error counters: 1/s everywhere, 20/s for /checkout on b in the last 10
    minutes; version 1.4 everywhere, 1.5 on b from then on."""
    start = now_ms - 75 * 60_000
    jump = now_ms - 10 * 60_000
    out = []
    for route in ROUTES:
        for instance in INSTANCES:
            hot = route == "/checkout" and instance == "b"
            old, new = [], []
            value = 0.0
            for t in range(start, now_ms + 1, STEP):
                value += (20.0 if hot and t > jump else 1.0) * STEP / 1000
                (new if instance == "b" and t > jump else old).append((t, value))
            for version, points in (("1.4", old), ("1.5", new)):
                if points:
                    labels = {"__name__": "errors_total", "job": "shop", "route": route,
                              "instance": instance, "version": version}  # fmt: skip
                    out.append((tuple(sorted(labels.items())), points))
    return out


def otlp_spans(now_ms: int) -> dict[str, Any]:
    """Spans of the same 75 minutes, one a minute per operation: shop's ``POST /checkout``
    took 40 ms until 10 minutes ago and 200 ms since (5x); ``GET /cart`` took 30 ms throughout."""
    spans = []
    for i, t in enumerate(range(now_ms - 75 * 60_000, now_ms - 30_000, 60_000)):
        slow = t > now_ms - 10 * 60_000
        for j, (name, ms) in enumerate(
            (("POST /checkout", 200 if slow else 40), ("GET /cart", 30))
        ):
            start = t * 1_000_000
            spans.append({
                "traceId": f"{2 * i + j + 1:032x}",
                "spanId": f"{2 * i + j + 1:016x}",
                "name": name,
                "kind": 2,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + ms * 1_000_000),
            })  # fmt: skip
    service = {"key": "service.name", "value": {"stringValue": "shop"}}
    return {"resourceSpans": [{"resource": {"attributes": [service]},
                               "scopeSpans": [{"spans": spans}]}]}  # fmt: skip


def test_the_route_and_instance_at_fault_come_first(tmp_path: Path) -> None:
    with spyglass(tmp_path / "data") as sg:
        now = int(time.time() * 1000)
        body = encode_write_request(history(now))
        r = httpx.post(sg.url + "/api/v1/write", content=body, headers=RW_HEADERS, timeout=30)
        assert r.status_code == 204, r.text
        r = httpx.post(sg.url + "/v1/traces", json=otlp_spans(now), timeout=30)
        assert r.status_code == 200, r.text
        query = 'sum(rate(errors_total{job="shop"}[1m]))'
        params = {"query": query, "time": str(now / 1000), "window": "10m", "baseline": "30m"}
        data = httpx.get(sg.url + "/api/spyglass/v1/why", params=params, timeout=120).json()["data"]
        top = [c["labels"] for c in data["contributors"][:3]]
        assert top[0] == {"instance": "b", "route": "/checkout"}
        assert {"route": "/checkout"} in top[1:]
        assert {"instance": "b"} in top[1:]
        # 19 more errors per second, all on /checkout on b (a little less over the window, as
        # rate[1m] ramps up during the jump's first minute and b's series change version).
        assert data["contributors"][0]["share"] == pytest.approx(1.0, abs=0.05)
        assert data["totalWindow"] - data["totalBaseline"] == pytest.approx(19, rel=0.1)
        deploys = [f for f in data["findings"] if f["kind"] == "deploy"]
        assert [(f["detail"]["label"], f["detail"]["value"]) for f in deploys] == [
            ("version", "1.5")
        ]
        slower = [f for f in data["findings"] if f["kind"] == "trace_operation"]
        assert [(f["detail"]["service"], f["detail"]["operation"]) for f in slower] == [
            ("shop", "POST /checkout")
        ]
        assert slower[0]["detail"]["p95Ms"] == pytest.approx(200)
        assert slower[0]["detail"]["baselineP95Ms"] == pytest.approx(40)
        assert slower[0]["detail"]["growth"] == pytest.approx(5)

        out = subprocess.run(
            [sys.executable, "-m", "spyglass", "why", query, "--at", str(now / 1000),
             "--window", "10m", "--baseline", "30m", "--url", sg.url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        first_row = next(line for line in out.stdout.splitlines() if "%" in line)
        assert 'instance="b", route="/checkout"' in first_row
        assert 'version="1.5" appeared in the window' in out.stdout
        slower_row = next(line for line in out.stdout.splitlines() if "POST /checkout" in line)
        cells = [c for c in slower_row.split() if c != "│"]
        assert cells == ["shop", "POST", "/checkout", "40", "ms", "200", "ms", "5.0x"]
        bad = httpx.get(sg.url + "/api/spyglass/v1/why", params={"query": "sum("}, timeout=30)
        assert bad.status_code == 400
        assert bad.json()["status"] == "error"
