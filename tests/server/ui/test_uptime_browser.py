"""The Uptime page in Debian's chromium against a real ``spyglass serve`` probing, from a
probes file, a loopback HTTP server (up) and a closed loopback port (down): up and down now,
uptime over 24h/7d/30d from ``probe_success``, the response-time sparkline, the certificate's
days left with the warning under 14 days (``probe_ssl_earliest_cert_expiry`` sent over
remote_write), and the down target's last error as the status API gives it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.browser import screenshot
from tests.support.ops_data import CERT_DAYS, OpsServer


def _probed(ops: OpsServer) -> dict[str, Any]:
    """The probes status once both targets ran a few times."""
    deadline = time.monotonic() + 30
    while True:
        data = httpx.get(ops.url + "/api/spyglass/v1/probes", timeout=30).json()["data"]
        by = {d["target"]: d for d in data}
        if all(by.get(t, {}).get("runs", 0) >= 3 for t in (ops.up_target, ops.down_target)):
            return by
        assert time.monotonic() < deadline, data
        time.sleep(0.3)


def _uptimes(ops: OpsServer) -> dict[str, float]:
    """The up target's uptime per range, from the Prometheus API."""
    out = {}
    for r in ("24h", "7d", "30d"):
        query = f'avg_over_time(probe_success{{instance="{ops.up_target}"}}[{r}])'
        body = httpx.get(ops.url + "/api/v1/query", params={"query": query}, timeout=30).json()
        out[r] = float(body["data"]["result"][0]["value"][1])
    return out


def test_each_target_shows_up_or_down_uptime_response_time_and_certificate(
    ops: OpsServer, page: Any, tmp_path: Path
) -> None:
    status = _probed(ops)
    assert status[ops.down_target]["lastError"].startswith('msg="Error for HTTP request"')
    before = _uptimes(ops)
    page.goto(ops.url + "/uptime")
    after = _uptimes(ops)
    up = page.locator(f"tr.probe-target[data-target='{ops.up_target}']")
    down = page.locator(f"tr.probe-target[data-target='{ops.down_target}']")
    assert up.locator(".health").inner_text() == "UP"
    assert down.locator(".health").inner_text() == "DOWN"
    assert page.locator(".down-count").inner_text() == "1 down"
    # Uptime is what Prometheus' API answers for avg_over_time(probe_success[...]) as the page
    # was drawn (between the answers just before and just after: a probe runs every 2 seconds,
    # and a loaded machine may fail one of the up target's). The closed port never answered.
    for r in ("24h", "7d", "30d"):
        shown = float(up.locator(f".uptime-{r}").inner_text().rstrip("%"))
        low, high = sorted((before[r], after[r]))
        assert round(low * 100, 2) <= shown <= round(high * 100, 2), (r, before, after, shown)
        assert before[r] > 0.9, before
        assert down.locator(f".uptime-{r}").inner_text() == "0.00%"
    # The last error, as the status API says it.
    assert down.locator(".probe-error").inner_text() == status[ops.down_target]["lastError"]
    assert up.locator(".probe-error").count() == 0
    points = up.locator("svg.spark polyline").get_attribute("points") or ""
    assert len(points.split()) >= 2
    cert = up.locator(".cert")
    assert cert.inner_text() == f"expires in {CERT_DAYS} days"
    assert cert.locator(".cert-warning").count() == 1
    assert down.locator(".cert").inner_text() == "—"
    screenshot(page, tmp_path, "uptime")


def test_the_uptime_page_reads_at_400_px(ops: OpsServer, browser: Any, tmp_path: Path) -> None:
    _probed(ops)
    context = browser.new_context(viewport={"width": 400, "height": 800})
    try:
        p = context.new_page()
        p.goto(ops.url + "/uptime")
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, width
        screenshot(p, tmp_path, "uptime-400")
    finally:
        context.close()
