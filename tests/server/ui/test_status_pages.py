"""The Status pages: runtime and build information, flags, configuration, TSDB status and
service discovery, plus the Targets page's labels before relabelling.

In process over fake sources (content, escaping, the sub-navigation), and in Debian's chromium
against a real ``spyglass serve`` scraping itself: every page renders without console errors,
at full width and in a narrow window, with screenshots saved for a person to look at.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.support.browser import ConsoleLog, screenshot
from tests.support.servers import free_port, spyglass

from spyglass.core.errors import Unavailable
from spyglass.server.app import create_app
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.server.ui import EXPLORE, StatusSources, WebUI, status_pages, targets_page


def _targets(state: str) -> Mapping[str, object]:
    active = [
        {
            "scrapePool": "api",
            "scrapeUrl": "http://10.0.0.1:8000/metrics",
            "discoveredLabels": {"__address__": "10.0.0.1:8000", "job": "api", "__meta_x": "<i>"},
            "labels": {"instance": "10.0.0.1:8000", "job": "api"},
            "health": "up",
            "lastError": "",
            "lastScrape": "2026-01-01T00:00:00Z",
            "lastScrapeDuration": 0.01,
        }
    ]
    dropped = [
        {"scrapePool": "api", "discoveredLabels": {"__address__": "10.0.0.9:1", "job": "api"}}
    ]
    return {
        "activeTargets": active if state != "dropped" else [],
        "droppedTargets": dropped if state != "active" else [],
    }


def _tsdb(limit: int) -> Mapping[str, Any]:
    assert limit == 10
    return {
        "headStats": {
            "numSeries": 1234,
            "numLabelPairs": 56,
            "chunkCount": 0,
            "minTime": 1_767_225_600_000,
            "maxTime": 1_767_229_200_000,
        },
        "seriesCountByMetricName": [{"name": "http_requests_total", "value": 900}],
        "labelValueCountByLabelName": [{"name": "path", "value": 300}],
        "memoryInBytesByLabelName": [{"name": "path", "value": 4096}],
        "seriesCountByLabelValuePair": [{"name": 'job=<script>"', "value": 1234}],
    }


def _sources(tsdb: Any = _tsdb) -> StatusSources:
    return StatusSources(
        runtime_info=lambda: {
            "startTime": "2026-01-01T00:00:00Z",
            "CWD": "/srv/<spyglass>",
            "reloadConfigSuccess": False,
            "lastConfigTime": "2026-01-01T00:00:00Z",
            "GOMAXPROCS": 2,
            "storageRetention": "15d",
            "spyglass": {
                "asyncioTasks": 7,
                "threads": 5,
                "residentMemoryBytes": 300 * 1024 * 1024,
                "gcCollections": 12,
                "storage": {
                    "description": "embedded ClickHouse",
                    "walSegments": 3,
                    "walBytes": 2048,
                    "walReplay": {"min": 0, "max": 2, "current": 2},
                    "replayedSamples": 99,
                    "lastFlushError": "",
                },
            },
        },
        build_info=lambda: {
            "version": "3.0.0",
            "spyglassVersion": "0.1.0",
            "pythonVersion": "3.11.2",
        },
        flags={"listen-address": "127.0.0.1:9090", "config-file": "/etc/<p>.yml"},
        config_text=lambda: (
            "scrape_configs:\n- job_name: api\n  basic_auth: {password: <secret>}\n"
        ),
        tsdb_status=tsdb,
        targets=_targets,
    )


def _client(sources: StatusSources) -> TestClient:
    pages = [EXPLORE, targets_page(_targets), *status_pages(sources)]
    return TestClient(create_app([WebUI(pages)], SelfMetrics()))


def _main(html: str) -> str:
    return html.split('<main id="main">', 1)[1]


def test_status_section_in_the_navigation_and_its_own_sub_navigation() -> None:
    with _client(_sources()) as client:
        text = client.get("/flags").text
    assert re.findall(r'<li><a href="(/[a-z-]+)"', text) == ["/explore", "/targets", "/status"]
    assert '<a href="/status" aria-current="page">Status</a>' in text
    assert '<a href="/flags" aria-current="page">Command-line flags</a>' in text


def test_runtime_and_build_information() -> None:
    with _client(_sources()) as client:
        r = client.get("/status")
    main = _main(r.text)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    for row in (
        ("Working directory", "/srv/&lt;spyglass&gt;"),
        ("Configuration reload", "Failed"),
        ("Asyncio tasks", "7"),
        ("Resident memory", "300.0 MiB"),
        ("WAL", "3 segments, 2.0 KiB"),
        ("WAL replay at start", "segments 0 to 2, 99 samples replayed"),
        ("Spyglass version", "0.1.0"),
        ("Prometheus API version", "3.0.0"),
    ):
        assert f'<th scope="row">{row[0]}</th><td>{row[1]}</td>' in main, row


def test_flags_config_tsdb_and_service_discovery_escape_what_they_show() -> None:
    with _client(_sources()) as client:
        flags = _main(client.get("/flags").text)
        config = _main(client.get("/config").text)
        tsdb = _main(client.get("/tsdb-status").text)
        sd = _main(client.get("/service-discovery").text)
    assert (
        '<th scope="row" class="mono">--config-file</th><td class="mono">/etc/&lt;p&gt;.yml</td>'
        in flags
    )
    assert "basic_auth: {password: &lt;secret&gt;}" in config
    assert '<th scope="row">Number of series</th><td>1234</td>' in tsdb
    assert '<th scope="row">Newest sample</th><td>2026-01-01 01:00:00 UTC</td>' in tsdb
    assert '<td class="mono">job=&lt;script&gt;&#34;</td><td class="num">1234</td>' in tsdb
    assert "(1 / 2 active targets)" in sd
    assert '__meta_x="&lt;i&gt;"' in sd
    assert "DROPPED" in sd
    assert "<script>" not in flags + config + tsdb + sd


def test_tsdb_status_page_shows_why_it_has_no_numbers() -> None:
    def broken(limit: int) -> Mapping[str, Any]:
        raise Unavailable("no series index to read statistics from")

    with _client(_sources(broken)) as client:
        r = client.get("/tsdb-status")
    assert r.status_code == 200
    assert '<div class="error" role="alert">no series index to read statistics from</div>' in r.text


def test_targets_page_offers_the_labels_before_relabelling() -> None:
    with _client(_sources()) as client:
        text = client.get("/targets").text
    assert '<details class="discovered"><summary>Before relabelling</summary>' in text
    assert '__meta_x="&lt;i&gt;"' in text


def _cell(page: Any, row: str) -> str:
    """The value cell of the key/value row headed exactly ``row``."""
    header = page.get_by_role("rowheader", name=row, exact=True)
    return str(page.locator("tr", has=header).locator("td").inner_text())


@pytest.mark.parametrize("width", [1280, 400], ids=["wide", "narrow"])
def test_status_pages_in_a_browser(
    tmp_path: Path, browser: Any, console: ConsoleLog, width: int
) -> None:
    dead = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        textwrap.dedent(
            f"""
            global: {{scrape_interval: 1s, scrape_timeout: 1s}}
            scrape_configs:
              - job_name: guarded
                basic_auth: {{username: ops, password: hunter2}}
                static_configs: [{{targets: ["127.0.0.1:{dead}", "127.0.0.1:1"]}}]
                relabel_configs: [{{source_labels: [__address__], regex: ".*:1", action: drop}}]
            """
        )
    )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = console.watch(context.new_page())
    page.set_default_timeout(20_000)
    try:
        with spyglass(tmp_path / "data", "--config-file", str(config), "--scrape-self") as server:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # until the self-scrape has stored series
                page.goto(server.url + "/tsdb-status")
                if "up" in page.locator("table").nth(1).inner_text():
                    break
                time.sleep(0.5)
            assert page.locator("h1").inner_text() == "TSDB status"
            assert int(_cell(page, "Number of series")) > 0
            screenshot(page, tmp_path, f"tsdb-status-{width}")

            page.goto(server.url + "/status")
            assert _cell(page, "Configuration reload") == "Successful"
            assert "chDB" in _cell(page, "Storage")
            screenshot(page, tmp_path, f"status-{width}")

            page.get_by_role("link", name="Command-line flags").click()
            assert _cell(page, "--config-file") == str(config)
            screenshot(page, tmp_path, f"flags-{width}")

            page.get_by_role("link", name="Configuration", exact=True).click()
            yaml_text = page.locator("pre.config-yaml").inner_text()
            assert "password: <secret>" in yaml_text
            assert "hunter2" not in page.content()
            screenshot(page, tmp_path, f"config-{width}")

            page.get_by_role("link", name="Service discovery").click()
            guarded = page.locator("section", has_text="guarded")
            assert "(1 / 2 active targets)" in guarded.locator("h2").inner_text()
            assert guarded.locator("tr.dropped").count() == 1
            screenshot(page, tmp_path, f"service-discovery-{width}")

            page.goto(server.url + "/targets")
            row = page.locator("tr", has_text=f"127.0.0.1:{dead}")
            details = row.locator("details.discovered")
            assert not details.locator("span.label").first.is_visible()
            details.locator("summary").click()
            assert details.locator("span.label", has_text="__address__").is_visible()
            screenshot(page, tmp_path, f"targets-discovered-{width}")
            if width < 720:  # nothing wider than the window: the page itself never scrolls sideways
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0
    finally:
        context.close()
    assert console.errors == [], console.errors
