"""A trace of 5,000 spans on its page, in Debian's chromium against a real ``spyglass serve``
fed over OTLP/HTTP JSON: the page draws every row but carries no span's details, so it comes
over the wire gzipped in a few hundred KB; a click on a span far down fetches its details
(attributes, resource, the exception event), hostile values shown as text; without scripts,
the span's name is a link to the page with those details open."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.servers import Server, spyglass
from tests.support.trace_data import HOSTILE

BIG = "b16" * 10 + "ab"
SPANS = 5000
LAST = f"{SPANS:016x}"


def big_trace(now_ns: int) -> dict[str, Any]:
    """A root, 50 children under it, the rest spread under those 50; every span with five
    attributes, one in ten with an exception event, the last one's ``customer`` hostile."""
    spans = []
    t0 = now_ns - 120 * 10**9
    for i in range(1, SPANS + 1):
        parent = "" if i == 1 else f"{1 if i <= 51 else (i - 2) % 50 + 2:016x}"
        start = t0 + i * 100_000
        attrs = {"db.system": "postgresql", "db.statement": f"SELECT * FROM orders WHERE id = {i}",
                 "net.peer.name": "db-1", "thread.name": "worker-3",
                 "customer": HOSTILE if i == SPANS else f"c{i}"}  # fmt: skip
        span: dict[str, Any] = {
            "traceId": BIG,
            "spanId": f"{i:016x}",
            "parentSpanId": parent,
            "name": "GET /orders" if i == 1 else f"SELECT orders {i % 37}",
            "kind": 2 if i == 1 else 3,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + (600_000_000 if i == 1 else 2_000_000)),
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()],
        }
        if i % 10 == 0:
            stack = {"key": "exception.stacktrace", "value": {"stringValue": "Traceback\n" * 5}}
            span["events"] = [
                {"name": "exception", "timeUnixNano": str(start + 1_000_000), "attributes": [stack]}
            ]
        spans.append(span)
    pairs = (("service.name", "orders"), ("host.name", "orders-1"))
    resource = {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in pairs]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with spyglass(tmp_path_factory.mktemp("bigtrace") / "data") as s:
        r = httpx.post(s.url + "/v1/traces", json=big_trace(time.time_ns()), timeout=60)
        assert r.status_code == 200, r.text
        yield s


def test_a_5000_span_trace_is_a_light_page_and_a_click_shows_a_spans_details(
    big: Server, page: Any, tmp_path: Path
) -> None:
    response = page.goto(f"{big.url}/traces/{BIG}")
    assert response.status == 200
    assert response.headers["content-encoding"] == "gzip"
    # Every row is drawn; no span's details are in the page.
    assert page.locator(".wf-row").count() == SPANS
    assert page.locator(".wf-detail").count() == 0
    assert page.locator("#trace-spans").inner_text() == "5000"
    over_the_wire = response.request.sizes()["responseBodySize"]
    assert over_the_wire < 400_000, over_the_wire
    last = page.locator(f"#span-{LAST}")
    last.locator(".wf-span").click()
    detail = page.locator(f"#detail-{LAST}")
    detail.locator(".wf-attributes").wait_for()
    attributes = detail.locator(".wf-attributes").inner_text()
    assert f"customer\t{HOSTILE}" in attributes
    assert "db.statement\tSELECT * FROM orders WHERE id = 5000" in attributes
    assert "host.name\torders-1" in detail.locator(".wf-resource").inner_text()
    assert "exception" in detail.locator(".wf-events").inner_text()
    assert page.evaluate("window.pwned") is None
    detail.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "big-trace-detail.png"))
    # A second span's details come below its own row; the first stay open.
    other = page.locator("#span-0000000000000002")
    other.locator(".wf-span").click()
    page.locator("#detail-0000000000000002 .wf-attributes").wait_for()
    assert detail.is_visible()
    assert page.locator(".wf-detail").count() == 2
    # The window, not the whole page: 5,000 rows make an image chromium takes too long over.
    page.screenshot(path=str(tmp_path / "big-trace-top.png"))


def test_without_scripts_a_spans_name_opens_its_details(big: Server, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{big.url}/traces/{BIG}")
        page.locator("#span-0000000000000003 .wf-span").click()
        page.wait_for_url(f"**/traces/{BIG}?span=0000000000000003#span-0000000000000003")
        detail = page.locator("#detail-0000000000000003")
        assert detail.is_visible()
        assert "db.statement\tSELECT * FROM orders WHERE id = 3" in detail.inner_text()
        assert page.locator(".wf-detail").count() == 1
    finally:
        context.close()


def test_a_span_whose_details_cannot_be_read_says_so(big: Server, page: Any, console: Any) -> None:
    console.allow("404 (Not Found)")
    page.goto(f"{big.url}/traces/{BIG}")
    # The row of a span the server does not know (as after its trace expired).
    page.evaluate(
        """() => {
          const row = document.getElementById('span-0000000000000004');
          row.dataset.span = 'ffffffffffffffff';
          row.id = 'span-ffffffffffffffff';
        }"""
    )
    page.locator("#span-ffffffffffffffff .wf-span").click()
    failed = page.locator("#detail-ffffffffffffffff .wf-detail-failed")
    failed.wait_for()
    assert "Could not load the span\u2019s details: 404" in failed.inner_text()
