"""The Errors pages in Debian's chromium against a real ``spyglass serve`` fed Sentry envelopes
(tests/support/ops_data.py): the issue list with its counts, sparkline and filters, an issue's
page with its stack trace (in-app frames marked, source lines), breadcrumbs, request, user, tags
and contexts, and the state buttons changing the issue through the API. The hostile markup in
an exception's message shows as text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from tests.support.browser import ConsoleLog, screenshot
from tests.support.ops_data import HOSTILE, OpsServer


def _issue_id(ops: OpsServer, text: str) -> str:
    issues = httpx.get(ops.url + "/api/errors/issues", params={"query": text}, timeout=30).json()
    assert len(issues["issues"]) == 1, issues
    return str(issues["issues"][0]["id"])


def test_the_list_shows_each_issue_with_counts_and_filters(
    ops: OpsServer, page: Any, tmp_path: Path
) -> None:
    page.goto(ops.url + "/errors")
    rows = page.locator("tr.issue")
    assert rows.count() == 2
    charge = rows.filter(has_text="ZeroDivisionError")
    # The message's markup is text in the title, never elements.
    assert HOSTILE in charge.locator(".issue-title").inner_text()
    assert charge.locator("script, img").count() == 0
    assert charge.locator(".issue-count").inner_text() == "3"
    assert charge.locator("td[data-label=Users]").inner_text() == "2"
    assert charge.locator(".level").inner_text() == "error"
    # Three events in the last day: the sparkline is drawn (a polyline with one point per hour).
    points = charge.locator("svg.spark polyline").get_attribute("points") or ""
    assert len(points.split()) == 24
    assert "shop.billing in charge" in charge.locator(".culprit").inner_text()
    screenshot(page, tmp_path, "errors-list")

    # Filters are a plain form: the URL keeps them and the list follows.
    page.get_by_label("Release").fill("shop@2.0")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**release=shop%402.0**")
    assert page.locator("tr.issue").count() == 1
    assert "KeyError" in page.locator("tr.issue").inner_text()
    page.goto(ops.url + "/errors?environment=production&query=division")
    assert page.locator("tr.issue").count() == 1
    page.goto(ops.url + "/errors?query=no+such+thing")
    assert page.locator("tr.issue").count() == 0
    assert "No issues match" in page.locator("main").inner_text()
    assert page.evaluate("window.pwned") is None


def test_an_issue_page_shows_the_event_and_its_buttons_change_the_state(
    ops: OpsServer, page: Any, tmp_path: Path
) -> None:
    issue = _issue_id(ops, "division")
    page.goto(ops.url + "/errors")
    page.locator("a.issue-title", has_text="ZeroDivisionError").click()
    page.wait_for_url(f"**/errors/{issue}")
    assert HOSTILE in page.locator("h1.issue-title").inner_text()
    assert page.locator("#issue-state").inner_text() == "unresolved"
    counts = page.locator(".issue-counts").inner_text()
    assert "shop@1.0\t3" in counts
    assert "production\t3" in counts

    event = page.locator("details.error-event").first
    assert event.get_attribute("open") is not None
    # Innermost call first, as Sentry lists frames; the in-app one stands out with its source.
    frames = event.locator("li.frame")
    assert frames.count() == 2
    assert "in-app" in (frames.nth(0).get_attribute("class") or "")
    assert "in-app" not in (frames.nth(1).get_attribute("class") or "")
    assert frames.nth(0).locator(".frame-function").inner_text() == "charge"
    source = frames.nth(0).locator("ol.source li")
    assert source.count() == 5
    assert frames.nth(0).locator("li.current").inner_text().strip() == (
        "return total / (order.items - order.items)"
    )
    assert frames.nth(0).locator("ol.source").get_attribute("start") == "10"
    body = event.inner_text()
    shown = ("Breadcrumbs", "checkout " + HOSTILE, "Request", "http://shop.test/orders/42")
    shown += (
        "route=/orders/{id}",
        f"customer={HOSTILE}",
        "User",
        "ada@example.com",
        "Context: runtime",
        "CPython",
    )
    for text in shown:
        assert text in body, text
    assert page.locator("main script, main img").count() == 0
    screenshot(page, tmp_path, "errors-issue")

    page.get_by_role("button", name="Resolve", exact=True).click()
    page.locator("#issue-state", has_text="resolved").wait_for()
    api = httpx.get(f"{ops.url}/api/errors/issues/{issue}", timeout=30).json()
    assert api["status"] == "resolved"
    page.get_by_role("button", name="Unresolve").click()
    page.locator("#issue-state", has_text="unresolved").wait_for()
    page.get_by_role("button", name="Ignore").click()
    page.locator("#issue-state", has_text="ignored").wait_for()
    page.get_by_role("button", name="Unresolve").click()
    page.locator("#issue-state", has_text="unresolved").wait_for()
    page.get_by_role("button", name="Resolve in next release").click()
    page.locator("#issue-state", has_text="resolved in the next release").wait_for()
    api = httpx.get(f"{ops.url}/api/errors/issues/{issue}", timeout=30).json()
    assert api["statusDetails"] == {"inNextRelease": True, "inRelease": "shop@1.0"}

    # Resolved issues leave the default (unresolved) list and show under Resolved.
    page.goto(ops.url + "/errors")
    assert page.locator("tr.issue").count() == 1
    page.goto(ops.url + "/errors?status=resolved")
    assert page.locator("tr.issue .issue-state").inner_text() == "resolved"
    httpx.put(f"{ops.url}/api/errors/issues/{issue}", json={"status": "unresolved"}, timeout=30)
    assert page.evaluate("window.pwned") is None


def test_an_unknown_issue_is_a_404_page(ops: OpsServer, page: Any, console: ConsoleLog) -> None:
    console.allow("status of 404")
    response = page.goto(ops.url + "/errors/99999")
    assert response.status == 404
    assert "No issue 99999" in page.locator("main").inner_text()


def test_the_issue_page_reads_at_400_px(ops: OpsServer, browser: Any, tmp_path: Path) -> None:
    issue = _issue_id(ops, "division")
    context = browser.new_context(viewport={"width": 400, "height": 800})
    try:
        p = context.new_page()
        for path in ("/errors", f"/errors/{issue}"):
            p.goto(ops.url + path)
            width = p.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, (path, width)
            screenshot(p, tmp_path, "errors-400" + path.replace("/", "-"))
    finally:
        context.close()


def test_the_state_buttons_work_from_the_keyboard(ops: OpsServer, page: Any) -> None:
    issue = _issue_id(ops, "KeyError")
    page.goto(f"{ops.url}/errors/{issue}")
    # Tab from the top of the page (skip link, navigation, breadcrumbs) to the Ignore button.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Ignore":
            break
    else:
        raise AssertionError("Tab never reached the Ignore button")
    page.keyboard.press("Enter")
    page.locator("#issue-state", has_text="ignored").wait_for()
    httpx.put(f"{ops.url}/api/errors/issues/{issue}", json={"status": "unresolved"}, timeout=30)


def test_a_time_window_keeps_the_issues_seen_in_it(ops: OpsServer, page: Any) -> None:
    """``start``/``end`` (Unix seconds), as an incident's Errors link sets them."""
    issues = httpx.get(ops.url + "/api/errors/issues", timeout=30).json()["issues"]
    ship = next(i for i in issues if i["title"].startswith("KeyError"))

    def seconds(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    # Around the one ``ship`` event, a minute before ``charge`` was first seen.
    start, end = seconds(ship["firstSeen"]) - 1, seconds(ship["lastSeen"]) + 1
    page.goto(f"{ops.url}/errors?start={start:.0f}&end={end:.0f}")
    assert page.locator("tr.issue").count() == 1
    assert "KeyError" in page.locator("tr.issue").inner_text()
    assert "Seen between" in page.locator(".issue-window").inner_text()
    # The window stays as the other filters change.
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(f"**start={start:.0f}**")
    assert page.locator("tr.issue").count() == 1
    page.goto(f"{ops.url}/errors?start={start - 7200:.0f}&end={start - 3600:.0f}")
    assert page.locator("tr.issue").count() == 0
