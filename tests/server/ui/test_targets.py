"""The Targets page: each target's health, last scrape, duration, error and labels, by job.

In process over a fake targets source (escaping of labels and errors), and in Debian's chromium
against a real ``spyglass serve`` scraping itself and a port where nothing listens.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from tests.support.browser import ConsoleLog, screenshot
from tests.support.servers import free_port, spyglass

from spyglass.server.app import create_app
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.server.ui import EXPLORE, WebUI, targets_page


def _fake(state: str) -> Mapping[str, object]:
    assert state == "active"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3))
    return {
        "activeTargets": [
            {
                "scrapePool": "api",
                "scrapeUrl": "http://10.0.0.1:8000/metrics",
                "labels": {"instance": "10.0.0.1:8000", "job": "api", "team": "<b>core</b>"},
                "health": "down",
                "lastError": 'Get "http://10.0.0.1:8000/metrics": <script>x</script>',
                "lastScrape": now,
                "lastScrapeDuration": 0.0123,
            },
            {
                "scrapePool": "api",
                "scrapeUrl": "http://10.0.0.2:8000/metrics",
                "labels": {"instance": "10.0.0.2:8000", "job": "api"},
                "health": "up",
                "lastError": "",
                "lastScrape": now,
                "lastScrapeDuration": 0.004,
            },
        ]
    }


def test_targets_show_health_timing_errors_and_escaped_labels() -> None:
    app = create_app([WebUI([EXPLORE, targets_page(_fake)])], SelfMetrics())
    with TestClient(app) as client:
        r = client.get("/targets")
    text = r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert 'api <span class="pool-count">(1/2 up)</span>' in text
    assert '<span class="health health-down">DOWN</span>' in text
    assert '<span class="health health-up">UP</span>' in text
    assert "12.3ms" in text
    assert "4.0ms" in text
    # The fake scraped 3 s (whole seconds) before the page was asked for: however long the
    # request took on a loaded machine, the page says a few seconds ago.
    ago = re.search(r"<td>(\d+)\.\ds ago</td>", text)
    assert ago is not None
    assert 3 <= int(ago.group(1)) < 30
    assert "&lt;script&gt;x&lt;/script&gt;" in text
    assert "<script>x" not in text
    assert 'team="&lt;b&gt;core&lt;/b&gt;"' in text
    # The navigation now has both sections, in their order.
    assert re.findall(r'<li><a href="(/[a-z]+)"', text) == ["/explore", "/targets"]


def test_targets_page_in_a_browser(
    tmp_path: Path, browser: Any, console: ConsoleLog, page: Any
) -> None:
    dead = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        textwrap.dedent(
            f"""
            global: {{scrape_interval: 1s, scrape_timeout: 1s}}
            scrape_configs:
              - job_name: broken
                static_configs: [{{targets: ["127.0.0.1:{dead}"], labels: {{env: test}}}}]
            """
        )
    )
    with spyglass(tmp_path / "data", "--config-file", str(config), "--scrape-self") as server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page.goto(server.url + "/targets")
            if page.locator(".health-up").count() and page.locator(".health-down").count():
                break
            time.sleep(0.5)
        rows = page.eval_on_selector_all(
            "tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
        )
        by_url = {row[0]: row for row in rows}
        broken = by_url[f"http://127.0.0.1:{dead}/metrics"]
        assert broken[1] == "DOWN"
        assert 'env="test"' in broken[2]
        assert "connect" in broken[5].lower() or "refused" in broken[5].lower(), broken
        own = next(row for url, row in by_url.items() if url.endswith(server.url[-5:] + "/metrics"))
        assert own[1] == "UP"
        assert own[5] == ""
        assert own[3].endswith("ago")
        assert own[4].endswith(("ms", "s"))
        assert page.get_by_role("link", name="Targets").get_attribute("aria-current") == "page"
        page.get_by_role("link", name="Explore").click()
        page.locator(".cm-content").wait_for()
        page.go_back()
        screenshot(page, tmp_path, "targets")
