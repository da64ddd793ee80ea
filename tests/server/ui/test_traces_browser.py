"""The Traces pages in Debian's chromium against a real ``spyglass serve`` fed spans over
OTLP/HTTP JSON and a log line over Loki's push API (tests/support/trace_data.py): the search
by service, operation, tag and minimum duration finds the right traces and not the others,
with the scatter drawn; a trace's waterfall shows the tree in order and nesting, folds
subtrees, and opens a span's details with its attributes and stack trace; a log line's trace
link lands on the trace; the pages work at 400 px wide and by keyboard, hostile span data
shows as text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.browser import screenshot
from tests.support.servers import Server, spyglass
from tests.support.trace_data import CHECKOUT, HEALTH, HOSTILE, REFUND, send


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``spyglass serve`` holding the three traces and the log line."""
    with spyglass(tmp_path_factory.mktemp("traces") / "data") as s:
        send(s.url)
        yield s


# Where the scatter drew pixels of a colour: their centre in page coordinates, or None.
FIND_COLOUR = """([r, g, b]) => {
  const canvas = document.querySelector('#scatter canvas');
  const ctx = canvas.getContext('2d');
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let sx = 0, sy = 0, n = 0;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 4;
    if (data[i + 3] > 200 && Math.abs(data[i] - r) < 20 && Math.abs(data[i + 1] - g) < 20
        && Math.abs(data[i + 2] - b) < 20) { sx += x; sy += y; n++; }
  }
  if (!n) return null;
  const box = canvas.getBoundingClientRect();
  return [box.left + (sx / n) * box.width / width, box.top + (sy / n) * box.height / height];
}"""
RED = [0xF2, 0x49, 0x5C]


def _found(page: Any) -> list[str]:
    page.locator("#status", has_text="trace").wait_for()
    return sorted(
        page.locator("li.trace-result").evaluate_all("els => els.map(e => e.dataset.trace)")
    )


def test_search_by_service_operation_tag_and_duration(
    traced: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(traced.url + "/traces")
    # The services come from Jaeger's API; choosing one and submitting puts it in the URL.
    page.locator("#service option[value=payments]").wait_for(state="attached")
    page.get_by_label("Service").select_option("shop-api")
    page.locator("#operation option[value='GET /health']").wait_for(state="attached")
    page.get_by_role("button", name="Find traces").click()
    page.wait_for_url("**/traces?service=shop-api**")
    assert _found(page) == sorted([CHECKOUT, HEALTH])
    checkout = page.locator(f"li.trace-result[data-trace='{CHECKOUT}']")
    assert checkout.locator(".trace-title").inner_text() == "shop-api: POST /checkout"
    assert checkout.locator(".trace-spans").inner_text() == "5 spans"
    assert checkout.locator(".trace-errors").inner_text() == "2 errors"
    assert checkout.locator(".service-chip").all_inner_texts() == ["shop-api (3)", "payments (2)"]
    assert checkout.locator(".trace-duration").inner_text() == "300ms"
    assert "has-errors" not in (
        page.locator(f"li.trace-result[data-trace='{HEALTH}']").get_attribute("class") or ""
    )
    # Most recent first: the health check came a minute after the checkout.
    order = page.locator("li.trace-result").evaluate_all("els => els.map(e => e.dataset.trace)")
    assert order == [HEALTH, CHECKOUT]
    screenshot(page, tmp_path, "traces-search")
    # The checkout is the scatter's red point (it has errors); clicking it opens the trace.
    point = page.evaluate(FIND_COLOUR, RED)
    assert point is not None
    page.mouse.move(point[0], point[1])
    page.mouse.click(point[0], point[1])
    page.wait_for_url(f"**/traces/{CHECKOUT}")

    # An incident's Traces link: Jaeger's start/end in microseconds.
    now_us = time.time_ns() // 1000
    page.goto(f"{traced.url}/traces?service=shop-api&start={now_us - 3600 * 10**6}&end={now_us}")
    assert _found(page) == sorted([CHECKOUT, HEALTH])
    page.goto(f"{traced.url}/traces?service=shop-api&start={now_us - 3600 * 10**6}"
              f"&end={now_us - 1800 * 10**6}")  # fmt: skip
    page.locator("#no-data").wait_for()

    page.goto(traced.url + "/traces?service=shop-api&sort=longest")
    assert _found(page) == sorted([CHECKOUT, HEALTH])
    order = page.locator("li.trace-result").evaluate_all("els => els.map(e => e.dataset.trace)")
    assert order == [CHECKOUT, HEALTH]

    page.goto(traced.url + "/traces?service=shop-api&operation=GET+%2Fhealth")
    assert _found(page) == [HEALTH]
    assert page.get_by_label("Operation").input_value() == "GET /health"
    page.goto(traced.url + "/traces?service=shop-api&tags=http.status_code%3D500")
    assert _found(page) == [CHECKOUT]
    assert page.get_by_label("Tags").input_value() == "http.status_code=500"
    page.goto(traced.url + "/traces?service=shop-api&minDuration=100ms")
    assert _found(page) == [CHECKOUT]
    page.goto(traced.url + "/traces?service=payments")
    assert _found(page) == sorted([CHECKOUT, REFUND])
    page.goto(traced.url + "/traces?service=shop-api&tags=http.status_code%3D404")
    page.locator("#no-data").wait_for()
    assert page.locator("li.trace-result").count() == 0
    assert page.evaluate("window.pwned") is None


def test_a_bad_duration_shows_jaegers_message(traced: Server, page: Any, console: Any) -> None:
    console.allow("400 (Bad Request)")
    page.goto(traced.url + "/traces?service=shop-api&minDuration=fast")
    page.locator("#errors").wait_for()
    assert "unable to parse param 'minDuration'" in page.locator("#errors").inner_text()


def test_the_waterfall_shows_the_tree_and_a_spans_details(
    traced: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(traced.url + "/traces?service=shop-api&tags=http.status_code%3D500")
    page.locator(f"li.trace-result[data-trace='{CHECKOUT}'] a.trace-title").click()
    page.wait_for_url(f"**/traces/{CHECKOUT}")
    rows = page.locator(".wf-row")
    names = rows.locator(".wf-op").all_inner_texts()
    depths = rows.evaluate_all("els => els.map(e => Number(e.dataset.depth))")
    assert names == [
        "POST /checkout",
        "charge card",
        "POST /pay",
        "SELECT <b>cards</b>",
        "render " + HOSTILE,
    ]
    assert depths == [0, 1, 2, 3, 1]
    assert rows.locator(".wf-service").all_inner_texts() == [
        "shop-api", "shop-api", "payments", "payments", "shop-api"
    ]  # fmt: skip
    # The two error spans are marked; a bar starts where its span does on the 300 ms axis.
    assert page.locator(".wf-row.wf-error").count() == 2
    pay = rows.nth(2).locator("rect")
    assert (pay.get_attribute("x"), pay.get_attribute("width")) == ("66.67", "433.33")
    assert page.locator("main script, main img").count() == 0
    # The error issue whose event carries this trace id, and not the other trace's.
    issues = page.locator(".trace-issues li")
    assert issues.count() == 1
    assert f"ZeroDivisionError: division by zero {HOSTILE}" in issues.inner_text()
    screenshot(page, tmp_path, "trace-waterfall")
    issues.locator("a").click()
    page.wait_for_url("**/errors/*")
    assert page.locator(f"a[href='/traces/{CHECKOUT}']").count() >= 1
    page.go_back()
    page.wait_for_url(f"**/traces/{CHECKOUT}")

    # Folding charge card hides its two descendants; unfolding shows them again.
    toggle = rows.nth(1).locator(".wf-toggle")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert [rows.nth(i).is_visible() for i in range(5)] == [True, True, False, False, True]
    toggle.click()
    assert all(rows.nth(i).is_visible() for i in range(5))
    page.get_by_role("button", name="Collapse all").click()
    assert [rows.nth(i).is_visible() for i in range(5)] == [True, False, False, False, False]
    page.get_by_role("button", name="Expand all").click()

    # The details of charge card, fetched on the click: its status, and the exception event's
    # stack trace as text.
    detail = page.locator("#detail-1000000000000002")
    assert detail.count() == 0
    rows.nth(1).locator(".wf-span").click()
    detail.locator(".wf-facts").wait_for()
    assert detail.is_visible()
    assert page.url.endswith(f"/traces/{CHECKOUT}")  # the click did not follow the link
    text = detail.inner_text()
    assert "Error: division by zero" in text
    assert "exception.type\tZeroDivisionError" in text
    assert f"division by zero {HOSTILE}" in text
    stack = detail.locator("pre.wf-stacktrace").inner_text()
    assert stack.splitlines()[0] == "Traceback (most recent call last):"
    assert stack.splitlines()[-1] == "ZeroDivisionError: division by zero"
    # The root's details: its attributes and resource, hostile value as text.
    rows.nth(0).locator(".wf-span").click()
    root = page.locator("#detail-1000000000000001")
    root.locator(".wf-attributes").wait_for()
    assert f"customer\t{HOSTILE}" in root.locator(".wf-attributes").inner_text()
    assert "http.status_code\t500" in root.locator(".wf-attributes").inner_text()
    assert "host.name\tweb-1" in root.locator(".wf-resource").inner_text()
    assert "Server" in root.locator(".wf-facts").inner_text()
    screenshot(page, tmp_path, "trace-details")
    assert page.evaluate("window.pwned") is None

    json_link = page.locator("#trace-json")
    with page.expect_download() as download:
        json_link.click()
    body = Path(download.value.path()).read_text()
    assert f'"traceID": "{CHECKOUT}"' in body or f'"traceID":"{CHECKOUT}"' in body


def test_by_keyboard_and_at_400_pixels(traced: Server, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    try:
        page.goto(traced.url + f"/traces/{CHECKOUT}")
        # Nothing sticks out sideways at 400 px.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, width
        first = page.locator(".wf-row .wf-span").first
        first.focus()
        page.keyboard.press("Enter")
        page.locator("#detail-1000000000000001 .wf-facts").wait_for()
        # Enter again closes them.
        page.keyboard.press("Enter")
        page.locator("#detail-1000000000000001").wait_for(state="hidden")
        toggle = page.locator(".wf-row").nth(1).locator(".wf-toggle")
        toggle.focus()
        page.keyboard.press(" ")
        assert toggle.get_attribute("aria-expanded") == "false"
        screenshot(page, tmp_path, "trace-narrow")
        page.goto(traced.url + "/traces?service=shop-api")
        page.locator("li.trace-result").first.wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, width
        screenshot(page, tmp_path, "traces-narrow")
        # Tab reaches the first trace's link, Enter opens it.
        page.locator("li.trace-result a.trace-title").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/traces/*")
        assert page.locator(".wf-row").count() >= 1
    finally:
        context.close()


def test_a_log_lines_trace_link_lands_on_the_trace(traced: Server, page: Any) -> None:
    page.goto(traced.url + '/logs?query={service_name="shop-api"}&from=now-1h&to=now')
    link = page.locator("a.log-trace").first
    link.click()
    page.wait_for_url(f"**/traces/{CHECKOUT}")
    assert page.locator(".wf-row").count() == 5
    # And back: the trace's logs link finds the line.
    page.locator("#trace-logs").click()
    page.wait_for_url("**/logs?**")
    page.locator(".log-row", has_text="payment failed").first.wait_for()


def test_a_span_link_opens_its_details_inside_folded_parents(traced: Server, page: Any) -> None:
    page.goto(f"{traced.url}/traces/{CHECKOUT}")
    page.get_by_role("button", name="Collapse all").click()
    assert page.locator("#span-1000000000000004").is_hidden()
    page.goto(f"{traced.url}/traces/{CHECKOUT}#span-1000000000000004")
    page.locator("#detail-1000000000000004 .wf-attributes").wait_for()
    assert "db.system\tpostgresql" in page.locator("#detail-1000000000000004").inner_text()
    # A detail's parent link goes to the parent's row and opens it.
    page.locator("#detail-1000000000000004 a[href='#span-1000000000000003']").click()
    page.locator("#detail-1000000000000003 .wf-facts").wait_for()
    assert page.locator("#detail-1000000000000003").is_visible()


def test_missing_and_malformed_traces(
    traced: Server, page: Any, console: Any, tmp_path: Path
) -> None:
    console.allow("404 (Not Found)")
    console.allow("400 (Bad Request)")
    response = page.goto(traced.url + "/traces/" + "ab" * 16)
    assert response.status == 404
    assert "Trace not found" in page.locator("#trace-problem").inner_text()
    screenshot(page, tmp_path, "trace-not-found")
    response = page.goto(traced.url + "/traces/not-a-trace")
    assert response.status == 400
    assert "Not a trace id" in page.locator("#trace-problem").inner_text()
    # The search page before a service is chosen says what to do.
    page.goto(traced.url + "/traces")
    page.locator("#service option[value=payments]").wait_for(state="attached")
    assert "Choose a service" in page.locator("#status").inner_text()
    assert page.locator("li.trace-result").count() == 0
    screenshot(page, tmp_path, "traces-empty")


def test_the_search_follows_explores_use_local_time(traced: Server, browser: Any) -> None:
    """Start times in the browser's zone (Asia/Kolkata, UTC+5:30 here), or in UTC, marked so,
    once Explore's "Use local time" is unticked."""
    context = browser.new_context(timezone_id="Asia/Kolkata")
    page = context.new_page()
    try:
        page.goto(traced.url + "/traces?service=payments")
        first = page.locator("li.trace-result .trace-start").first
        first.wait_for()
        local = first.inner_text()
        iso = first.get_attribute("datetime")
        assert iso is not None
        assert not local.endswith("UTC")
        # Untick it on Explore; the search page reads the same choice.
        page.goto(traced.url + "/explore")
        page.get_by_label("Use local time").uncheck()
        page.goto(traced.url + "/traces?service=payments")
        first.wait_for()
        utc = first.inner_text()
        assert first.get_attribute("datetime") == iso
        # The same instant, written in UTC: 5 h 30 min before the Kolkata wall clock.
        expected = iso.replace("T", " ")[:19] + " UTC"
        assert utc == expected
        assert local != utc.removesuffix(" UTC")
    finally:
        context.close()
