"""Grafana dashboards in a real browser (Debian's chromium) against a real ``spyglass serve``.

The dashboard (testdata/shop-red.json) is written as the monitoring guides write RED
dashboards: a ``$service`` variable from ``label_values``, a stat with thresholds, a gauge, a bar
gauge, a Markdown text panel, stacked request rates by route, latency quantiles with a threshold
line, a table, a heatmap of the latency buckets, a panel repeated per service and a collapsed
row. It is imported over ``POST /api/dashboards/db`` as an upload script would, and a person's
checks are made on the page: every panel drew (pixels on its canvas, a number in the stat, rows
in the table), changing the variable changes the queries, the collapsed row draws when opened,
nothing reaches the console as an error. A hostile dashboard (script in every field, unknown
panel types, missing fields, 10 MiB) is drawn as text or refused. Screenshots are saved under
the test's tmp dir, also of a narrow window.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from tests.support.browser import ConsoleLog, screenshot
from tests.support.servers import Server, spyglass

from spyglass.ingest.remote_write import encode_write_request

TESTDATA = Path(__file__).resolve().parent / "testdata"
RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
SERVICES = {"checkout": 1.0, "search": 3.0}
ROUTES = ("/api/cart", "/api/items")
BUCKETS = ("0.05", "0.1", "0.5", "1", "+Inf")

# Pixels of a panel's canvases that are not transparent: what it drew.
DRAWN_PIXELS = """(key) => {
  const panel = document.querySelector(`.dash-panel[data-key="${key}"]`);
  let n = 0;
  for (const canvas of panel.querySelectorAll('canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
  }
  return n;
}"""
PANELS = """() => [...document.querySelectorAll('.dash-panel')].map((p) => ({
  key: p.dataset.key, type: p.dataset.type, drawn: p.dataset.drawn,
  title: p.querySelector('.panel-title').textContent,
  messages: [...p.querySelectorAll('.panel-message')].map((m) => m.textContent),
}))"""


def _labels(**kv: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kv.items()))


def shop_series(now_ms: int) -> list[tuple[Any, list[tuple[int, float]]]]:
    """An hour of 15-second samples of a shop's RED metrics for two services."""
    steps = range(240, -1, -1)
    out: list[tuple[Any, list[tuple[int, float]]]] = []
    for service, scale in SERVICES.items():
        for route in ROUTES:
            for code, per_step in (("200", 150.0 * scale), ("500", 3.0 * scale)):
                points = [(now_ms - k * 15_000, (240 - k) * per_step) for k in steps]
                labels = _labels(
                    __name__="http_requests_total", service=service, route=route, status_code=code
                )
                out.append((labels, points))
        for i, le in enumerate(BUCKETS):
            share = (0.4, 0.7, 0.9, 0.97, 1.0)[i]
            points = [
                (now_ms - k * 15_000, (240 - k) * 300.0 * scale * share * (1 + 0.1 * math.sin(k)))
                for k in steps
            ]
            labels = _labels(
                __name__="http_request_duration_seconds_bucket", service=service, le=le
            )
            out.append((labels, points))
        rss = [(now_ms - k * 15_000, 80e6 * scale + 1e6 * math.sin(k / 9)) for k in steps]
        out.append((_labels(__name__="process_resident_memory_bytes", service=service), rss))
    return out


@dataclass
class Shop:
    """The server and the time of the newest samples (pages open a fixed range ending there,
    so rates at the range's end never run past the data however long the tests take)."""

    server: Server
    end_ms: int

    @property
    def url(self) -> str:
        return self.server.url

    def page(self, path: str, **params: str) -> str:
        query = {"from": str(self.end_ms - 3_600_000), "to": str(self.end_ms), **params}
        return self.url + path + "?" + urlencode(query)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """A real ``spyglass serve`` holding the shop's metrics, with the dashboard imported."""
    with spyglass(tmp_path_factory.mktemp("dash") / "data") as s:
        end_ms = (int(time.time()) - 5) * 1000
        series = shop_series(end_ms)
        with httpx.Client(timeout=60) as client:
            for start in range(0, len(series), 10):
                body = encode_write_request(series[start : start + 10], {})
                r = client.post(s.url + "/api/v1/write", content=body, headers=RW_HEADERS)
                assert r.status_code == 204, r.text
            dashboard = json.loads((TESTDATA / "shop-red.json").read_text())
            r = client.post(
                s.url + "/api/dashboards/db",
                json={"dashboard": dashboard, "overwrite": True, "message": "from CI"},
            )
            assert r.status_code == 200, r.text
            assert r.json()["url"] == "/d/shop-red/shop-services-red"
        yield Shop(s, end_ms)


def until(page: Any, js: str, arg: Any = None, timeout_s: float = 30) -> Any:
    """Poll ``js`` until it returns something true (CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(js, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {js}")
        time.sleep(0.1)


def drawn(page: Any) -> list[dict[str, Any]]:
    """Every panel once none is still waiting for its queries."""
    until(
        page,
        "() => { const ps = [...document.querySelectorAll('.dash-panel')];"
        " return ps.length > 0 && ps.every((p) => p.dataset.drawn); }",
    )
    time.sleep(0.3)  # canvases paint on the next animation frame
    panels: list[dict[str, Any]] = page.evaluate(PANELS)
    return panels


def test_every_panel_draws_with_data(shop: Shop, page: Any, tmp_path: Path) -> None:
    page.goto(shop.page("/d/shop-red/shop-services-red"))
    panels = {p["title"]: p for p in drawn(page)}
    screenshot(page, tmp_path, "shop-red")
    assert set(panels) == {
        "Request rate",
        "Error ratio",
        "Requests by status",
        "About",
        "Requests by route",
        "Latency p50 / p95 / p99",
        "Requests by route (now)",
        "Latency distribution",
        "Requests: checkout",
    }
    for title, p in panels.items():
        assert p["drawn"] == "true", (title, p["messages"])
        assert p["messages"] == [], (title, p["messages"])
    for title in (
        "Requests by route",
        "Latency p50 / p95 / p99",
        "Latency distribution",
        "Error ratio",
    ):
        assert page.evaluate(DRAWN_PIXELS, panels[title]["key"]) > 500, title
    # The stat: checkout's rate is 2 routes x 153 per 15 s = 20.4 req/s, with its unit.
    stat = page.locator('.dash-panel[data-type="stat"] .stat-value').inner_text()
    assert stat == "20.4 req/s"
    # Green below 1000 (Grafana's "green").
    color = page.locator('.dash-panel[data-type="stat"] .stat-value').evaluate(
        "(el) => getComputedStyle(el).color"
    )
    assert color == "rgb(115, 191, 105)"
    rows = page.locator('.dash-panel[data-type="table"] tbody tr')
    assert rows.count() == 4  # 2 routes x 2 status codes of checkout
    assert page.locator('.dash-panel[data-type="table"] thead th').all_inner_texts() == [
        "Time",
        "route",
        "service",
        "status_code",
        "Value",
    ]
    legend = page.locator(".dash-panel[data-key=p4] .legend-item").all_inner_texts()
    assert legend == ["checkout /api/cart", "checkout /api/items"]
    about = page.locator('.dash-panel[data-type="text"]')
    assert about.locator("h2").inner_text() == "Shop"
    assert about.locator("strong").inner_text() == "checkout"
    assert about.locator("a").get_attribute("href") == "https://example.com/runbook"
    bars = page.locator(".bargauge-name").all_inner_texts()
    assert sorted(bars) == ["200", "500"]


def test_changing_the_variable_changes_the_queries(shop: Shop, page: Any, tmp_path: Path) -> None:
    queries: list[str] = []

    def sent(request: Any) -> None:
        if "/api/v1/query" in request.url:
            queries.append(parse_qs(request.post_data or "").get("query", [""])[0])

    page.on("request", sent)
    page.goto(shop.page("/d/shop-red"))
    drawn(page)
    assert any("checkout" in q for q in queries)
    assert not any("search" in q for q in queries)
    queries.clear()
    page.select_option("#var-service", ["checkout", "search"])
    until(page, "() => document.querySelectorAll('.dash-panel').length === 10")
    panels = drawn(page)
    assert "var-service=checkout&var-service=search" in page.url
    # Both services in one regex, as Grafana writes a multi-value variable.
    assert any('service=~"(checkout|search)"' in q for q in queries), queries[:3]
    titles = [p["title"] for p in panels]
    assert "Requests: checkout" in titles
    assert "Requests: search" in titles
    stat = page.locator('.dash-panel[data-type="stat"] .stat-value').inner_text()
    assert stat == "81.6 req/s"  # checkout 20.4 + search 61.2
    screenshot(page, tmp_path, "two-services")
    # Back returns to one service.
    page.go_back()
    until(page, "() => document.querySelectorAll('.dash-panel').length === 9")


def test_collapsed_row_draws_when_opened(shop: Shop, page: Any, tmp_path: Path) -> None:
    page.goto(shop.url + "/d/shop-red")
    drawn(page)
    row = page.locator("details.dash-row")
    assert row.evaluate("(el) => el.open") is False
    assert row.locator(".dash-panel").count() == 0
    row.locator("summary").click()
    until(page, "() => document.querySelectorAll('details.dash-row .dash-panel').length === 2")
    panels = {p["title"]: p for p in drawn(page)}
    assert panels["Resident memory"]["drawn"] == "true"
    assert page.evaluate(DRAWN_PIXELS, panels["Resident memory"]["key"]) > 200
    assert panels["Not drawn here"]["messages"] == [
        "Panel type piechart is not supported by Spyglass"
    ]
    screenshot(page, tmp_path, "row-open")


def test_narrow_window_stacks_panels(
    shop: Shop, browser: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 420, "height": 900})
    page = console.watch(context.new_page())
    try:
        page.goto(shop.url + "/d/shop-red")
        drawn(page)
        widths = page.evaluate(
            "() => [...document.querySelectorAll('.dash-panel')].map((p) => p.clientWidth)"
        )
        grid = page.evaluate("() => document.querySelector('.dash-section-grid').clientWidth")
        assert all(w >= grid - 4 for w in widths), (widths, grid)
        screenshot(page, tmp_path, "narrow")
    finally:
        context.close()
    assert console.errors == []


def test_time_range_and_refresh_come_from_the_url(shop: Shop, page: Any) -> None:
    page.goto(shop.url + "/d/shop-red?from=now-15m&to=now&refresh=5s")
    drawn(page)
    assert page.locator(".timepicker .range-text").inner_text() == "Last 15 minutes"
    assert page.locator("select[name=refresh]").input_value() == "5s"


def test_an_unknown_uid_is_a_404_page_saying_so(shop: Shop, page: Any, console: ConsoleLog) -> None:
    console.allow("404 (Not Found)")
    r = httpx.get(shop.url + "/d/no-such-uid/some-slug")
    assert r.status_code == 404
    assert "Dashboard not found" in r.text
    response = page.goto(shop.url + "/d/no-such-uid")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Dashboard not found"


def test_list_page_search_and_import_by_paste(shop: Shop, page: Any) -> None:
    page.goto(shop.url + "/dashboards?query=shop")
    assert page.locator(".dash-list tbody tr").count() == 1
    page.goto(shop.url + "/dashboards")
    titles = page.locator(".dash-list tbody td:first-child").all_inner_texts()
    assert "Shop services (RED)" in titles
    assert "Spyglass" in titles  # built in
    pasted = {"title": "Pasted", "uid": "pasted", "panels": [{"type": "text", "title": "Hi"}]}
    page.fill("#import-json", json.dumps(pasted))
    page.click("#import-form button[type=submit]")
    page.wait_for_url("**/d/pasted/pasted")
    drawn(page)
    page.goto(shop.url + "/dashboards")
    page.once("dialog", lambda d: d.accept())
    page.click('.dash-list button.delete[data-uid="pasted"]')
    until(page, "() => !document.querySelector('tr[data-uid=pasted]')")
    assert httpx.get(shop.url + "/api/dashboards/uid/pasted").status_code == 404


HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def hostile_dashboard() -> dict[str, Any]:
    return {
        "title": f"Hostile {HOSTILE}",
        "uid": "hostile",
        "tags": [HOSTILE],
        "templating": {
            "list": [
                {"name": "evil", "type": "custom", "query": f"{HOSTILE},b", "label": HOSTILE},
                {"name": "broken", "type": "query", "query": "not_a_function()"},
            ]
        },
        "panels": [
            {
                "type": "text",
                "title": HOSTILE,
                "gridPos": {"x": 0, "y": 0, "w": 12, "h": 6},
                "options": {
                    "mode": "markdown",
                    "content": f"# {HOSTILE}\n\n[x](javascript:alert(1)) $evil",
                },
            },
            {
                "type": "text",
                "title": "html",
                "gridPos": {"x": 12, "y": 0, "w": 12, "h": 6},
                "options": {"mode": "html", "content": HOSTILE + "<b>bold</b>"},
            },
            {
                "type": "timeseries",
                "title": "legend",
                "gridPos": {"x": 0, "y": 6, "w": 12, "h": 6},
                "description": HOSTILE,
                "targets": [
                    {
                        "refId": "A",
                        "expr": "sum by (route) (http_requests_total)",
                        "legendFormat": HOSTILE + "{{route}}",
                    }
                ],
            },
            {
                "type": "worldmap-panel",
                "title": "Unknown type",
                "gridPos": {"x": 12, "y": 6, "w": 12, "h": 6},
            },
            {"title": "no type, no grid, no targets"},
            {
                "type": "stat",
                "title": "bad unit",
                "gridPos": {"x": 0, "y": 20, "w": 6, "h": 4},
                "fieldConfig": {
                    "defaults": {"unit": HOSTILE, "thresholds": {"steps": [{"color": HOSTILE}]}}
                },
                "targets": [{"refId": "A", "expr": "sum(http_requests_total)"}],
            },
            {
                "type": "graph",
                "title": "bad query",
                "gridPos": {"x": 6, "y": 20, "w": 6, "h": 4},
                "targets": [{"refId": "A", "expr": "sum(("}],
            },
        ],
    }


def test_hostile_dashboard_draws_as_text(
    shop: Shop, page: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    console.allow("400 (Bad Request)")  # the "bad query" panel's query_range answers 400
    r = httpx.post(shop.url + "/api/dashboards/db", json={"dashboard": hostile_dashboard()})
    assert r.status_code == 200, r.text
    page.goto(shop.url + "/d/hostile")
    panels = {p["title"]: p for p in drawn(page)}
    screenshot(page, tmp_path, "hostile")
    assert page.evaluate("() => window.__pwned") is None
    # Nothing from the dashboard became an element: one script (the page's own), no images.
    assert page.locator("script").count() == 1
    assert page.locator("main img").count() == 0
    assert HOSTILE in page.locator("#dash-title").inner_text()
    assert HOSTILE in panels
    md = page.locator('.dash-panel[data-type="text"]').first
    assert md.locator("h1").inner_text() == HOSTILE
    assert md.locator("a").count() == 0  # javascript: links are not links
    html = page.locator('.dash-panel[data-type="text"]').nth(1).inner_text()
    assert "bold" in html
    assert "pwned" not in html
    legend = page.locator(".legend-item").all_inner_texts()
    assert legend
    assert all(x.startswith(HOSTILE) for x in legend)
    assert page.locator("#var-evil option").first.inner_text() == HOSTILE
    assert "unsupported variable query" in page.locator(".variable-error").inner_text()
    assert panels["Unknown type"]["messages"] == [
        "Panel type worldmap-panel is not supported by Spyglass"
    ]
    assert panels["no type, no grid, no targets"]["messages"] == [
        "Panel type (none) is not supported by Spyglass"
    ]
    assert panels["bad unit"]["drawn"] == "true"
    assert panels["legend"]["messages"] == []
    assert any("parse error" in m for m in panels["bad query"]["messages"]), panels["bad query"]
    page.goto(shop.url + "/dashboards")
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("main img").count() == 0


def test_oversized_and_malformed_dashboards_are_refused(shop: Shop) -> None:
    big = {"dashboard": {"title": "big", "panels": [], "pad": "x" * (10 * 1024 * 1024)}}
    r = httpx.post(shop.url + "/api/dashboards/db", content=json.dumps(big), timeout=60)
    assert r.status_code == 413
    assert "limit" in r.json()["message"]
    r = httpx.post(shop.url + "/api/dashboards/db", json={"dashboard": {"panels": 5}})
    assert r.status_code == 400
    assert r.json() == {"message": "Dashboard title cannot be empty"}


def test_editor_changes_title_query_and_unit_and_refuses_a_stale_save(
    shop: Shop, page: Any, console: ConsoleLog
) -> None:
    console.allow("412 (Precondition Failed)")  # the stale save, on purpose
    editable = {
        "uid": "editme",
        "title": "Edit me",
        "templating": {"list": [{"name": "s", "type": "query", "query": "label_values(service)"}]},
        "panels": [
            {
                "type": "timeseries",
                "title": "Rate",
                "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8},
                "targets": [{"refId": "A", "expr": "sum(rate(http_requests_total[5m]))"}],
            }
        ],
    }
    r = httpx.post(shop.url + "/api/dashboards/db", json={"dashboard": editable, "overwrite": True})
    assert r.status_code == 200
    page.goto(shop.page("/d/editme"))
    drawn(page)
    page.click("button.edit-dashboard")
    page.fill(".edit-title", "Edited")
    page.fill(".edit-panel-title", "Errors")
    page.fill(".edit-panel-unit", "reqps")
    page.fill(".edit-expr", 'sum(rate(http_requests_total{status_code="500"}[5m]))')
    page.fill(".edit-legend", "errors")
    page.fill(".edit-var-query", "label_values(http_requests_total, service)")
    page.click(".edit-save")
    until(page, "() => document.getElementById('dash-title').textContent === 'Edited'")
    panels = drawn(page)
    assert [p["title"] for p in panels] == ["Errors"]
    assert page.locator(".legend-item").all_inner_texts() == ["errors"]
    saved = httpx.get(shop.url + "/api/dashboards/uid/editme").json()
    assert saved["meta"]["version"] == 2
    panel = saved["dashboard"]["panels"][0]
    assert panel["fieldConfig"]["defaults"]["unit"] == "reqps"
    assert panel["targets"][0]["expr"] == 'sum(rate(http_requests_total{status_code="500"}[5m]))'
    assert saved["dashboard"]["templating"]["list"][0]["query"] == (
        "label_values(http_requests_total, service)"
    )
    # Someone else saves meanwhile: this page's next save is refused, not lost.
    page.click("button.edit-dashboard")
    page.fill(".edit-title", "Mine")
    other = {**saved["dashboard"], "title": "Theirs"}
    httpx.post(shop.url + "/api/dashboards/db", json={"dashboard": other, "overwrite": True})
    page.click(".edit-save")
    until(page, "() => document.querySelector('.edit-status').textContent.includes('changed')")
    assert (
        httpx.get(shop.url + "/api/dashboards/uid/editme").json()["dashboard"]["title"] == "Theirs"
    )
