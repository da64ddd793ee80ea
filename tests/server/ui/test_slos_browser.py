"""The SLO pages in Debian's chromium against a real ``spyglass serve`` given a Sloth spec with
``--slo-files`` and 70 minutes of requests over remote_write, 1.5 % of them failing against a
99.9 % objective (tests/support/ops_data.py): a burn rate of 15 on the short windows, above the
14.4 page threshold; the page alert firing beside the SLO; the budget burn-down drawn by uPlot;
the episode that spent the budget with its Explore link. The spec's hostile description shows
as text."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.browser import screenshot
from tests.support.ops_data import HOSTILE, OpsServer

TIMES = "\N{MULTIPLICATION SIGN}"  # how the page writes a burn rate (after the number)


def _api(ops: OpsServer) -> dict[str, Any]:
    body = httpx.get(ops.url + "/api/spyglass/v1/slos/shop-checkout", timeout=60).json()
    assert body["status"] == "success", body
    data: dict[str, Any] = body["data"]
    return data


def _wait_for_firing(ops: OpsServer) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        alerts = httpx.get(ops.url + "/api/v1/alerts", timeout=30).json()["data"]["alerts"]
        if any(a["state"] == "firing" and a["labels"].get("sloth_id") for a in alerts):
            return
        time.sleep(0.5)
    raise AssertionError("the SLO's page alert never fired")


def test_the_list_shows_budget_burn_rates_and_firing_alerts(
    ops: OpsServer, page: Any, tmp_path: Path
) -> None:
    _wait_for_firing(ops)
    api = _api(ops)
    page.goto(ops.url + "/slos")
    card = page.locator("section.slo-card[data-slo=shop-checkout]")
    assert card.locator(".slo-title").inner_text() == "shop / checkout"
    assert HOSTILE in card.locator(".slo-description").inner_text()
    assert card.locator("script, img").count() == 0
    assert card.locator(".slo-objective").inner_text() == "99.9% over 30d"
    # The budget left is what the API says, as a percentage and as a bar of that width.
    shown = f"{api['budgetRemaining'] * 100:.1f}%"
    assert card.locator(".budget-remaining").inner_text() == shown
    width = float(card.locator(".budget-bar .bar-fill").get_attribute("width") or "nan")
    assert width == round(min(max(api["budgetRemaining"], 0), 1) * 100, 2)
    # Burn rate 15 on the 5m and 1h windows: past the page threshold, marked as such.
    for window in ("5m", "1h"):
        row = card.locator(f"tr.burn[data-window='{window}']")
        assert "burn-page" in (row.get_attribute("class") or "")
        rate = float(row.locator(".burn-value").inner_text().rstrip(TIMES))
        assert abs(rate - 15) < 0.5, (window, rate)
    # The four thresholds are marked on every bar.
    assert card.locator("tr.burn[data-window='5m'] line.threshold").count() == 4
    assert (
        "alerts at {0}, 6{1}, 3{1}, 1{1}".format("14.4" + TIMES, TIMES)
        in card.locator(".burn-table caption").inner_text()
    )
    alerts = card.locator("li.slo-alert")
    assert alerts.filter(has_text="FIRING").filter(has_text="severity=page").count() >= 1
    screenshot(page, tmp_path, "slos")
    assert page.evaluate("window.pwned") is None


def test_one_slo_draws_its_burn_down_and_lists_the_episode(
    ops: OpsServer, page: Any, tmp_path: Path
) -> None:
    api = _api(ops)
    page.goto(ops.url + "/slos")
    page.get_by_role("link", name="shop / checkout").click()
    page.wait_for_url("**/slos/shop-checkout")
    page.locator("#burndown canvas").first.wait_for()
    status = page.locator("#burndown-status").inner_text()
    last = next(v for _, v in reversed(api["burndown"]) if v is not None)
    assert f"Budget left now: {last * 100:.2f}%" in status
    episodes = page.locator("tr.episode")
    assert episodes.count() == len(api["episodes"]) >= 1
    link = episodes.first.get_by_role("link", name="Explore").get_attribute("href") or ""
    assert link.startswith("/explore?q0=")
    assert re.search(r"from=\d+&to=\d+", link)
    screenshot(page, tmp_path, "slo")
    episodes.first.get_by_role("link", name="Explore").click()
    page.wait_for_url("**/explore?**")
    assert "http_requests_total" in page.locator("main").inner_text()


def test_an_unknown_slo_is_a_404_page(ops: OpsServer, page: Any, console: Any) -> None:
    console.allow("status of 404")
    response = page.goto(ops.url + "/slos/nope")
    assert response.status == 404
    assert "No SLO nope" in page.locator("main").inner_text()


def test_the_slo_pages_read_at_400_px(ops: OpsServer, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    try:
        p = context.new_page()
        for path in ("/slos", "/slos/shop-checkout"):
            p.goto(ops.url + path)
            width = p.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, (path, width)
            screenshot(p, tmp_path, "slo-400" + path.replace("/", "-"))
    finally:
        context.close()
