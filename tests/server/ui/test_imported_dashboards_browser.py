"""Dashboards others wrote, imported as people import them and drawn in a real browser
(Debian's chromium) against a real ``spyglass serve`` holding node_exporter and service data.

The three dashboards (testdata/) have the shapes found in the wild: a Grafana 4 export with
``__inputs``, ``rows``/``span``, old graph panels (legend tables, 100 % stacking, a
``negative-Y`` series override, bars) and singlestats; a Grafana 10 node dashboard with a row
repeated per ``$instance``, Prometheus annotations, dashboard links, legend tables with calcs,
bars, points, overrides and data links; and a service overview of instant table queries joined
by transformations. Each is checked as a person would: every panel drew (pixels, numbers,
rows), legend tables hold the right values in the right order, annotation markers are there
and go away when switched off, links lead where they should. A hostile dashboard (script in
links, annotation texts, transformation names, legend values) draws as text. Screenshots are
saved under the test's tmp dir.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from tests.server.ui.test_dashboards_browser import DRAWN_PIXELS, drawn, until
from tests.support.browser import ConsoleLog, screenshot
from tests.support.servers import spyglass

from spyglass.ingest.remote_write import encode_write_request

TESTDATA = Path(__file__).resolve().parent / "testdata"
RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
HOSTS = {"host-a:9100": 1.0, "host-b:9100": 2.0}
# CPU seconds per second by mode; they add up to half a CPU, so a normal stack reaches 0.5
# and only a 100 % stack fills the plot.
MODES = {"user": 0.1, "system": 0.05, "iowait": 0.02, "idle": 0.33}
SERVICES = {"checkout": 1.0, "search": 3.0}
STEPS = range(240, -1, -1)  # an hour of 15-second samples, the newest last


def _labels(**kv: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kv.items()))


def node_series(now_ms: int) -> list[tuple[Any, list[tuple[int, float]]]]:
    out: list[tuple[Any, list[tuple[int, float]]]] = []

    def add(value: Any, **labels: str) -> None:
        out.append((_labels(**labels), [(now_ms - k * 15_000, value(k)) for k in STEPS]))

    for host, scale in HOSTS.items():
        add(lambda k: 1.0, __name__="node_uname_info", instance=host, job="node", nodename=host)
        add(lambda k: 1.0, __name__="up", instance=host, job="node")
        for mode, rate in MODES.items():
            add(
                lambda k, r=rate * scale: (240 - k) * 15 * r,
                __name__="node_cpu_seconds_total",
                instance=host,
                cpu="0",
                mode=mode,
            )
        for name, rate in (("receive", 5000.0), ("transmit", 2000.0)):
            for device in ("eth0", "lo"):
                add(
                    lambda k, r=rate * scale: (240 - k) * 15 * r,
                    __name__=f"node_network_{name}_bytes_total",
                    instance=host,
                    device=device,
                )
        add(lambda k: now_ms / 1000 - 86_400, __name__="node_boot_time_seconds", instance=host)
        add(lambda k, s=scale: s + 0.3 * math.sin(k / 8), __name__="node_load1", instance=host)
        add(lambda k, s=scale: s + 0.1 * math.sin(k / 8), __name__="node_load5", instance=host)
        add(lambda k: 8e9, __name__="node_memory_MemTotal_bytes", instance=host)
        add(
            lambda k, s=scale: 8e9 - s * 2e9 - 1e8 * math.sin(k / 9),
            __name__="node_memory_MemAvailable_bytes",
            instance=host,
        )
        # Maintenance: host-a 20 to 30 minutes ago, host-b 44 to 46 minutes ago.
        window = (80, 120) if host == "host-a:9100" else (176, 184)
        add(
            lambda k, w=window: 1.0 if w[0] <= k <= w[1] else 0.0,
            __name__="node_maintenance_active",
            instance=host,
            reason="kernel upgrade",
        )
    for service, scale in SERVICES.items():
        for route in ("/api/cart", "/api/items"):
            for code, per_step in (("200", 150.0 * scale), ("500", 3.0 * scale)):
                add(
                    lambda k, p=per_step: (240 - k) * p,
                    __name__="http_requests_total",
                    service=service,
                    route=route,
                    status_code=code,
                )
        for le, share in zip(
            ("0.05", "0.1", "0.5", "1", "+Inf"), (0.4, 0.7, 0.9, 0.97, 1.0), strict=True
        ):
            add(
                lambda k, s=share * scale: (240 - k) * 300.0 * s,
                __name__="http_request_duration_seconds_bucket",
                service=service,
                le=le,
            )
    return out


@dataclass
class Site:
    url: str
    end_ms: int
    legacy_url: str

    def page(self, path: str, **params: str) -> str:
        query = {"from": str(self.end_ms - 3_600_000), "to": str(self.end_ms), **params}
        sep = "&" if "?" in path else "?"
        return self.url + path + sep + urlencode(query)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A real ``spyglass serve`` with the node and service data and the two modern dashboards
    imported over ``POST /api/dashboards/import`` (the Grafana 4 one too, for the links; the
    first test imports it again through the import page)."""
    with spyglass(tmp_path_factory.mktemp("imported") / "data") as s:
        end_ms = (int(time.time()) - 5) * 1000
        series = node_series(end_ms)
        with httpx.Client(timeout=60) as client:
            for start in range(0, len(series), 20):
                body = encode_write_request(series[start : start + 20], {})
                r = client.post(s.url + "/api/v1/write", content=body, headers=RW_HEADERS)
                assert r.status_code == 204, r.text
            urls = {}
            for name in ("node-overview", "service-overview", "node-exporter-grafana4"):
                dashboard = json.loads((TESTDATA / f"{name}.json").read_text())
                r = client.post(
                    s.url + "/api/dashboards/import",
                    json={"dashboard": dashboard, "overwrite": True, "inputs": [], "folderUid": ""},
                )
                assert r.status_code == 200, r.text
                assert r.json()["imported"] is True
                urls[name] = r.json()["importedUrl"]
        assert urls["node-overview"] == "/d/node-overview/node-overview"
        yield Site(s.url, end_ms, urls["node-exporter-grafana4"])


def panels_by_title(page: Any) -> dict[str, dict[str, Any]]:
    return {p["title"]: p for p in drawn(page)}


def legend_rows(page: Any, key: str) -> list[list[str]]:
    return page.evaluate(
        """(key) => [...document.querySelectorAll(
            `.dash-panel[data-key="${key}"] .legend-table tr`)].map(
            (tr) => [...tr.children].map((c) => c.textContent))""",
        key,
    )


def table_rows(page: Any, title: str) -> list[list[str]]:
    return page.evaluate(
        """(title) => {
          const p = [...document.querySelectorAll('.dash-panel')].find(
            (x) => x.querySelector('.panel-title').textContent === title);
          return [...p.querySelectorAll('table tr')].map(
            (tr) => [...tr.children].map((c) => c.textContent));
        }""",
        title,
    )


def y_range(page: Any, key: str) -> tuple[float, float]:
    """The y scale a panel's chart drew with."""
    got = page.locator(f'.dash-panel[data-key="{key}"] .panel-plot').evaluate(
        "(el) => [Number(el.dataset.yMin), Number(el.dataset.yMax)]"
    )
    return got[0], got[1]


# Share of opaque pixels along a row of a panel's plot canvas, `at` of the way down.
ROW_COVERAGE = """([key, at]) => {
  const c = document.querySelector(`.dash-panel[data-key="${key}"] .panel-plot canvas`);
  const y = Math.round(c.height * at);
  const data = c.getContext('2d').getImageData(0, y, c.width, 1).data;
  let n = 0;
  const from = Math.round(c.width * 0.2), to = Math.round(c.width * 0.95);
  for (let x = from; x < to; x++) if (data[x * 4 + 3] > 0) n++;
  return n / (to - from);
}"""


def test_grafana_4_export_imports_through_the_page_and_draws_every_panel(
    site: Site, page: Any, tmp_path: Path
) -> None:
    exported = (TESTDATA / "node-exporter-grafana4.json").read_text()
    page.goto(site.url + "/dashboards")
    page.fill("#import-json", exported)
    page.check("#import-overwrite")
    page.click("#import-form button[type=submit]")
    page.wait_for_url("**/d/**/node-exporter-grafana-4")
    page.goto(site.page(urlsplit(page.url).path))
    panels = panels_by_title(page)
    screenshot(page, tmp_path, "grafana4")
    assert set(panels) == {
        "Uptime",
        "Load (1m)",
        "Memory used",
        "CPU cores",
        "CPU usage by mode",
        "Network traffic",
    }
    for title, p in panels.items():
        assert p["drawn"] == "true", (title, p["messages"])
        assert p["messages"] == [], (title, p["messages"])
    # Singlestats drawn as stats and a gauge, with their units and thresholds' colours.
    stats = dict(
        zip(
            page.locator(".dash-panel .panel-title").all_inner_texts(),
            [page.locator(f'.dash-panel[data-key="{p["key"]}"]').inner_text() for p in drawn(page)],
            strict=True,
        )
    )
    assert "1.0 day" in stats["Uptime"]
    assert stats["CPU cores"].strip().endswith("1")
    assert "25%" in stats["Memory used"]  # host-a: 2 of 8 GB used
    assert page.locator('.dash-panel[data-type="gauge"] canvas').count() == 1
    # Rows become row panels as Grafana migrates them (one shows its title, so all do, the
    # untitled one as Grafana names it); the collapsed Memory row holds its bar graph.
    assert page.locator("details.dash-row summary").all_inner_texts() == [
        "Dashboard Row",
        "CPU and network",
        "Memory",
    ]
    # 100 % stacking fills the plot to its top; the legend table lists the calcs sorted by mean.
    cpu = panels["CPU usage by mode"]["key"]
    assert page.evaluate(ROW_COVERAGE, [cpu, 0.3]) > 0.9
    rows = legend_rows(page, cpu)
    assert rows[0] == ["Name", "Max", "Mean", "Last *"]
    assert [r[0] for r in rows[1:]] == ["idle", "user", "system", "iowait"]
    assert (rows[1][1], rows[1][3]) == ("33%", "33%"), rows  # the mean has the first rate's ramp
    # Transmit drawn below the axis (the legend keeps its values), legend to the right.
    net = panels["Network traffic"]["key"]
    rows = legend_rows(page, net)
    assert rows[0] == ["Name", "Max", "Last *"]
    by_name = {r[0]: r[1:] for r in rows[1:]}
    assert by_name["receive eth0"] == ["5 kB/s", "5 kB/s"]
    assert by_name["transmit eth0"] == ["2 kB/s", "2 kB/s"]
    assert page.locator(f'.dash-panel[data-key="{net}"] .panel-body.legend-right').count() == 1
    assert page.evaluate(DRAWN_PIXELS, net) > 500
    assert y_range(page, net)[0] < -1500
    assert y_range(page, cpu) == (0, 1)
    page.locator("details.dash-row summary", has_text="Memory").click()
    until(page, "() => document.querySelectorAll('.dash-panel').length === 7")
    memory = panels_by_title(page)["Memory available"]
    assert memory["drawn"] == "true"
    assert page.evaluate(DRAWN_PIXELS, memory["key"]) > 500
    # A list legend with values writes each calc after the name, as Grafana's does.
    item = page.locator(f'.dash-panel[data-key="{memory["key"]}"] .legend-item')
    text = " ".join(item.inner_text().split())
    assert text == "host-a:9100 Max: 5.68 GiB Last *: 5.59 GiB"  # 8 GB less 2 GB ± 0.1 GB
    screenshot(page, tmp_path, "grafana4-memory")


def test_modern_node_dashboard_repeats_rows_and_draws_annotations_links_and_legends(
    site: Site, page: Any, tmp_path: Path
) -> None:
    page.goto(site.page("/d/node-overview/node-overview"))
    panels = panels_by_title(page)
    screenshot(page, tmp_path, "node-overview")
    assert page.locator("details.dash-row summary").all_inner_texts() == [
        "Host host-a:9100",
        "Host host-b:9100",
    ]
    for host in HOSTS:
        for kind in ("CPU", "Network", "Load average"):
            assert f"{kind} {host}" in panels
    assert len(panels) == 4 + 6
    for title, p in panels.items():
        assert p["drawn"] == "true", (title, p["messages"])
        assert p["messages"] == [], (title, p["messages"])
        if p["type"] == "timeseries":
            assert page.evaluate(DRAWN_PIXELS, p["key"]) > 300, title
    # Bars stacked, legend table to the right sorted by Max, as the dashboard asks.
    cpu = panels["CPU host-b:9100"]["key"]
    rows = legend_rows(page, cpu)
    assert rows[0] == ["Name", "Mean", "Max", "Last *"]
    assert [r[0] for r in rows[1:]] == ["user", "system", "iowait"]
    assert (rows[1][2], rows[1][3]) == ("20%", "20%"), rows
    assert page.locator(f'.dash-panel[data-key="{cpu}"] .panel-body.legend-right').count() == 1
    # Clicking a legend row shows only that series; Ctrl+click shows another one again.
    item = page.locator(f'.dash-panel[data-key="{cpu}"] tr.legend-item')
    item.nth(1).click()
    assert page.locator(f'.dash-panel[data-key="{cpu}"] tr.legend-hidden').count() == 2
    item.nth(2).click(modifiers=["Control"])
    assert page.locator(f'.dash-panel[data-key="{cpu}"] tr.legend-hidden').count() == 1
    # Overrides: a display name and transmit below the axis.
    net = panels["Network host-a:9100"]["key"]
    rows = {r[0]: r[1:] for r in legend_rows(page, net)[1:]}
    assert rows["Inbound (eth0)"][1] == "5 kB/s"  # Mean, Max: the mean has the first ramp
    assert rows["eth0 transmit"][1] == "2 kB/s"
    low, high = y_range(page, net)
    assert low < -1500
    assert high >= 5000
    load = panels["Load average host-a:9100"]["key"]
    assert page.locator(f'.dash-panel[data-key="{load}"] .panel-legend').is_hidden()
    # Annotations: Maintenance on, Reboots off; a region per host where the series is 1.
    toggles = page.locator(".annotation-toggle")
    assert toggles.all_inner_texts() == ["Maintenance", "Reboots"]
    assert [toggles.nth(i).locator("input").is_checked() for i in range(2)] == [True, False]
    until(page, "() => document.querySelectorAll('.annotation-marker').length > 0")
    texts = page.locator(f'.dash-panel[data-key="{cpu}"] .annotation-marker').evaluate_all(
        "(ms) => ms.map((m) => m.title)"
    )
    assert sorted(texts) == [
        f"Maintenance\nMaintenance on {h}\nReason: kernel upgrade\nTags: {h}, kernel upgrade"
        for h in HOSTS
    ]
    widths = page.locator(f'.dash-panel[data-key="{cpu}"] .annotation-marker').evaluate_all(
        "(ms) => ms.map((m) => m.getBoundingClientRect().width)"
    )
    assert all(w > 9 for w in widths), widths  # regions, not points (8 px wide)
    screenshot(page, tmp_path, "node-overview-annotations")
    toggles.nth(0).locator("input").uncheck()
    until(page, "() => document.querySelectorAll('.dash-panel').length === 10")
    drawn(page)
    assert page.locator(".annotation-marker").count() == 0
    # Links: external in a new tab, internal keeping the time range and variables, and the
    # dashboards tagged "node" in a dropdown.
    docs = page.locator("#dash-links a", has_text="Node exporter docs")
    assert docs.get_attribute("href") == "https://github.com/prometheus/node_exporter"
    assert docs.get_attribute("target") == "_blank"
    assert "noopener" in (docs.get_attribute("rel") or "")
    assert docs.get_attribute("title") == "What each metric means"
    service = page.locator("#dash-links a", has_text="Service overview").get_attribute("href")
    assert service is not None
    query = parse_qs(urlsplit(service).query)
    assert query["from"] == [str(site.end_ms - 3_600_000)]
    assert query["to"] == [str(site.end_ms)]
    assert query["var-instance"] == ["$__all"]
    assert len(query["var-datasource"]) == 1
    page.locator(".dash-link-dropdown summary").click()
    tagged = page.locator(".dash-link-menu a")
    assert tagged.all_inner_texts() == ["Node Exporter (Grafana 4)"]
    assert (tagged.first.get_attribute("href") or "").startswith(site.legacy_url + "?from=")
    # A panel link with the variable put in, and data links on the memory stat's values.
    runbook = page.locator(".panel-links a", has_text="CPU runbook")
    assert runbook.get_attribute("href") == (
        "https://example.com/runbooks/cpu?host=host-a:9100,host-b:9100"
    )
    memory = page.locator(f'.dash-panel[data-key="{panels["Memory used"]["key"]}"] .stat-value a')
    hrefs = memory.evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    assert len(hrefs) == 2
    assert all(h.startswith("/explore?q0=node_memory_MemAvailable_bytes") for h in hrefs)
    assert any("instance%3D%22host-a%3A9100%22" in h for h in hrefs), hrefs


def test_service_overview_tables_join_instant_queries_with_transformations(
    site: Site, page: Any, tmp_path: Path
) -> None:
    page.goto(site.page("/d/service-overview/service-overview"))
    panels = panels_by_title(page)
    screenshot(page, tmp_path, "service-overview")
    for title, p in panels.items():
        assert p["drawn"] == "true", (title, p["messages"])
    assert table_rows(page, "Services") == [
        ["Service", "Requests/s", "Error ratio", "p99 latency"],
        ["search", "61.2 req/s", "1.96%", table_rows(page, "Services")[1][3]],
        ["checkout", "20.4 req/s", "1.96%", table_rows(page, "Services")[2][3]],
    ]
    link = page.locator(".dash-panel", has_text="Services").locator("td a").first
    href = link.get_attribute("href") or ""
    assert href.startswith("/explore?q0=histogram_quantile")
    assert "service%3D%22search%22" in href
    assert "&service=search&v=" in href
    assert panels["Services"]["messages"] == []
    rate = table_rows(page, "Request rate over the range")
    assert rate[0] == ["Field", "Mean", "Max", "Last *"]
    assert len(rate) == 4  # limit 3
    assert rate[1][0].startswith("search")
    assert table_rows(page, "Errors per service") == [
        ["service", "Error %"],
        ["checkout", "2.0%"],
        ["search", "2.0%"],
    ]
    assert panels["Errors per service"]["messages"] == [
        "Transformation groupingToMatrix is not supported by Spyglass; it was skipped"
    ]
    busiest = page.locator(".dash-panel", has_text="Busiest service")
    assert busiest.locator(".stat-name").all_inner_texts() == ["search"]
    assert busiest.locator(".stat-value").inner_text() == "61.2 req/s"
    codes = table_rows(page, "Status codes by label")
    assert codes[0] == ["service", "status_code", "Value"]
    assert len(codes) == 5


def _status(job: str, value: int) -> dict[str, Any]:
    return {
        "expr": f'label_replace(vector({value}), "job", "{job}", "", "")',
        "legendFormat": "{{job}}",
        "refId": job,
        "instant": True,
    }


MAPPED = {
    "title": "Mapped values",
    "uid": "mapped-values",
    "schemaVersion": 39,
    "panels": [
        {
            "type": "stat",
            "title": "Status",
            "gridPos": {"x": 0, "y": 0, "w": 12, "h": 6},
            "targets": [_status("api", 1), _status("db", 0)],
            "fieldConfig": {
                "defaults": {
                    "mappings": [
                        {
                            "type": "value",
                            "options": {
                                "0": {"text": "DOWN", "color": "red", "index": 1},
                                "1": {"text": "UP", "color": "green", "index": 0},
                            },
                        }
                    ],
                    "thresholds": {"mode": "absolute", "steps": [{"value": None, "color": "blue"}]},
                },
                "overrides": [],
            },
        },
        {
            "type": "table",
            "title": "Codes",
            "gridPos": {"x": 12, "y": 0, "w": 12, "h": 6},
            "targets": [
                {
                    "expr": 'label_replace(vector(503), "job", "db", "", "")',
                    "format": "table",
                    "instant": True,
                    "refId": "A",
                }
            ],
            "fieldConfig": {
                "defaults": {
                    "mappings": [
                        {
                            "type": "range",
                            "options": {"from": 500, "to": 599, "result": {"text": "server error"}},
                        }
                    ]
                },
                "overrides": [],
            },
        },
    ],
}


def test_value_mappings_replace_text_and_colour(
    site: Site, page: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    """Grafana's value mappings: 1 shows as a green UP, 0 as a red DOWN (not the threshold's
    blue), a 5xx code in a table as "server error"; a Grafana 4 singlestat's valueMaps too."""
    legacy = {
        "title": "Legacy mapped",
        "uid": "legacy-mapped",
        "schemaVersion": 14,
        "rows": [
            {
                "title": "",
                "panels": [
                    {
                        "type": "singlestat",
                        "title": "Legacy status",
                        "span": 6,
                        "valueName": "current",
                        "targets": [{"expr": "vector(1)", "refId": "A"}],
                        "valueMaps": [{"value": "1", "op": "=", "text": "ONE"}],
                        "mappingType": 1,
                    }
                ],
            }
        ],
    }
    for dashboard in (MAPPED, legacy):
        r = httpx.post(
            site.url + "/api/dashboards/db", json={"dashboard": dashboard, "overwrite": True}
        )
        assert r.status_code == 200, r.text
    page.goto(site.page("/d/mapped-values"))
    panels = panels_by_title(page)
    assert {t: p["drawn"] for t, p in panels.items()} == {"Status": "true", "Codes": "true"}
    values = page.locator(f'.dash-panel[data-key="{panels["Status"]["key"]}"] .stat-value')
    assert values.all_inner_texts() == ["UP", "DOWN"]
    colours = values.evaluate_all("(els) => els.map((e) => getComputedStyle(e).color)")
    assert colours == ["rgb(115, 191, 105)", "rgb(242, 73, 92)"]
    assert ["db", "server error"] in [row[-2:] for row in table_rows(page, "Codes")]
    screenshot(page, tmp_path, "value-mappings")
    page.goto(site.page("/d/legacy-mapped"))
    legacy_panels = panels_by_title(page)
    key = legacy_panels["Legacy status"]["key"]
    assert page.locator(f'.dash-panel[data-key="{key}"] .stat-value').inner_text() == "ONE"
    assert console.errors == []


HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def test_hostile_links_annotations_transformations_and_legends_stay_text(
    site: Site, page: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    dashboard = {
        "title": "Hostile links",
        "uid": "hostile-links",
        "links": [
            {"type": "link", "title": HOSTILE, "url": "javascript:window.__pwned=3"},
            {"type": "link", "title": "tab", "url": "java\tscript:window.__pwned=4"},
            {"type": "link", "title": "ok", "url": "/dashboards", "tooltip": HOSTILE},
            {"type": "dashboards", "tags": [HOSTILE]},
        ],
        "annotations": {
            "list": [
                {
                    "name": HOSTILE,
                    "datasource": {"type": "prometheus"},
                    "expr": 'label_replace(node_maintenance_active > 0, "x", "'
                    + HOSTILE.replace('"', '\\"')
                    + '", "", "")',
                    "titleFormat": "{{x}}",
                    "enable": True,
                    "iconColor": HOSTILE,
                }
            ]
        },
        "panels": [
            {
                "type": "timeseries",
                "title": "legend",
                "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
                "links": [{"title": HOSTILE, "url": "javascript:window.__pwned=5"}],
                "options": {"legend": {"displayMode": "table", "calcs": ["max"]}},
                "targets": [{"expr": "node_load1", "legendFormat": HOSTILE + "{{instance}}"}],
            },
            {
                "type": "table",
                "title": "table",
                "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8},
                "transformations": [{"id": HOSTILE}, {"id": "organize", "options": HOSTILE}],
                "fieldConfig": {
                    "defaults": {
                        "links": [{"title": HOSTILE, "url": "javascript:window.__pwned=6"}]
                    }
                },
                "targets": [{"expr": "node_load1", "format": "table", "instant": True}],
            },
        ],
    }
    r = httpx.post(site.url + "/api/dashboards/import", json={"dashboard": dashboard})
    assert r.status_code == 200, r.text
    page.goto(site.page("/d/hostile-links"))
    panels = panels_by_title(page)
    until(page, "() => document.querySelectorAll('.annotation-marker').length > 0")
    screenshot(page, tmp_path, "hostile-links")
    for link in page.locator("a").all():
        href = link.get_attribute("href") or ""
        assert not href.lower().replace("\t", "").startswith("javascript"), href
    assert page.locator("#dash-links .dash-link-unsafe").all_inner_texts() == [HOSTILE, "tab"]
    assert page.locator(".panel-links a").count() == 0
    assert page.locator('.dash-panel[data-type="table"] td a').count() == 0
    assert HOSTILE in page.locator(".annotation-toggle").inner_text()
    titles = page.locator(".annotation-marker").evaluate_all("(ms) => ms.map((m) => m.title)")
    assert all(HOSTILE in t for t in titles)
    legend = page.locator(".legend-table tbody tr").all_inner_texts()
    assert legend
    assert all(x.startswith(HOSTILE) for x in legend)
    assert panels["table"]["messages"] == [
        f"Transformation {HOSTILE} is not supported by Spyglass; it was skipped"
    ]
    assert panels["table"]["drawn"] == "true"
    # Clicking every link left on the page runs nothing.
    for link in page.locator("#dash-links a").all():
        link.click(modifiers=["Control"])
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("main img").count() == 0
    assert page.locator("script").count() == 1
