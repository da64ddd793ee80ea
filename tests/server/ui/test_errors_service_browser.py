"""The Errors page's service filter in Debian's chromium against a real ``spyglass serve``: Sentry
envelopes name their service in the three ways Spyglass reads (a ``service`` tag, a
``service.name`` tag, the OpenTelemetry ``otel`` context's resource), one of them hostile
markup; spans over OTLP put the same services on the service map, whose panel links to the
service's errors. The filter is a URL parameter of a plain GET form, so it round-trips."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from tests.support.browser import ConsoleLog, screenshot
from tests.support.ops_data import send_event
from tests.support.servers import Server, spyglass
from typer.testing import CliRunner

from spyglass.cli._app import app

HOSTILE = "<script>window.pwned=1</script>\"q'"
# A breadcrumb's time as sentry_sdk writes it (microseconds, UTC).
CRUMB_TIME = "2026-12-07T10:15:30.123456Z"


def _event(n: int, kind: str, **extra: Any) -> dict[str, Any]:
    """Event ``n`` of the issue of exception type ``kind``."""
    return {
        "event_id": f"{n:032x}",
        "timestamp": time.time() - 60 * n,
        "platform": "python",
        "level": "error",
        "server_name": "host-1",
        "exception": {"values": [{"type": kind, "value": f"{kind} happened"}]},
        **extra,
    }


EVENTS = [
    # api's issue, once from api (a tag) and once from worker (a tag): two services.
    _event(1, "CheckoutFailed", tags={"service": "api"}),
    _event(2, "CheckoutFailed", tags={"service": "worker"}),
    # The hostile service, named by the OpenTelemetry resource only.
    _event(
        3,
        "KeyError",
        contexts={"otel": {"resource": {"service.name": HOSTILE}}},
        breadcrumbs={"values": [{"timestamp": CRUMB_TIME, "message": "cart"}]},
    ),
    # web, by its service.name tag, which wins over the otel context.
    _event(
        4,
        "ValueError",
        tags={"service.name": "web"},
        contexts={"otel": {"resource": {"service.name": "other"}}},
    ),
    # No service at all (server_name is a host, not a service).
    _event(5, "TimeoutError"),
]


def _trace() -> dict[str, Any]:
    """One trace: web calls api, api calls the hostile service."""
    now = time.time_ns() - 2_000_000_000

    def span(span_id: int, parent: int, kind: int) -> dict[str, Any]:
        return {
            "traceId": f"{0xE440:032x}",
            "spanId": f"{span_id:016x}",
            "parentSpanId": f"{parent:016x}" if parent else "",
            "name": "GET /",
            "kind": kind,
            "startTimeUnixNano": str(now - 30_000_000),
            "endTimeUnixNano": str(now),
        }

    def service(name: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": name}}]},
            "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
        }

    return {
        "resourceSpans": [
            service("web", [span(1, 0, 2)]),
            service("api", [span(2, 1, 2)]),
            service(HOSTILE, [span(3, 2, 2)]),
        ]
    }


@pytest.fixture(scope="module")
def errors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with spyglass(tmp_path_factory.mktemp("errors-service") / "data") as s:
        for event in EVENTS:
            send_event(s.url, event)
        r = httpx.post(s.url + "/v1/traces", json=_trace(), timeout=30)
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 60
        params = {"endTs": str(int(time.time() * 1000)), "lookback": "3600000"}
        while not httpx.get(s.url + "/api/dependencies", params=params, timeout=30).json()["data"]:
            assert time.monotonic() < deadline, "no dependencies after 60 s"
            time.sleep(0.5)
        yield s


def _titles(page: Any) -> list[str]:
    return sorted(t.split(":")[0] for t in page.locator("tr.issue a.issue-title").all_inner_texts())


def test_the_errors_api_filters_by_the_service_an_event_names(errors_server: Server) -> None:
    def titles(service: str) -> list[str]:
        r = httpx.get(
            errors_server.url + "/api/errors/issues", params={"service": service}, timeout=30
        )
        assert r.status_code == 200, r.text
        return sorted(i["title"].split(":")[0] for i in r.json()["issues"])

    assert titles("api") == ["CheckoutFailed"]
    assert titles("worker") == ["CheckoutFailed"]
    assert titles(HOSTILE) == ["KeyError"]
    assert titles("web") == ["ValueError"]
    assert titles("other") == []  # the tag wins over the otel context
    assert titles("host-1") == []  # server_name is not a service
    assert len(titles("")) == 4  # no filter
    issues = httpx.get(errors_server.url + "/api/errors/issues", timeout=30).json()["issues"]
    (checkout,) = [i for i in issues if i["title"].startswith("CheckoutFailed")]
    detail = httpx.get(f"{errors_server.url}/api/errors/issues/{checkout['id']}", timeout=30)
    assert detail.json()["services"] == [
        {"name": "api", "count": 1},
        {"name": "worker", "count": 1},
    ]
    events = httpx.get(
        f"{errors_server.url}/api/errors/issues/{checkout['id']}/events", timeout=30
    ).json()["events"]
    assert sorted(e["service"] for e in events) == ["api", "worker"]


def test_the_errors_page_filters_by_service_and_the_url_keeps_it(
    errors_server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(errors_server.url + "/errors")
    assert len(_titles(page)) == 4
    page.get_by_label("Service").fill(HOSTILE)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**service=**")
    assert parse_qs(urlsplit(page.url).query)["service"] == [HOSTILE]
    assert _titles(page) == ["KeyError"]
    # The hostile name is the field's value again, as text.
    assert page.get_by_label("Service").input_value() == HOSTILE
    assert page.locator("main script, main img").count() == 0
    screenshot(page, tmp_path, "errors-service-filter")
    page.reload()
    assert _titles(page) == ["KeyError"]

    page.goto(errors_server.url + "/errors?" + urlencode({"service": "api"}))
    assert _titles(page) == ["CheckoutFailed"]
    # The issue's page counts its services, each a link to that service's issues.
    page.locator("a.issue-title").click()
    services = page.locator("table.issue-services")
    assert services.inner_text().split() == ["Services", "api", "1", "worker", "1"]
    services.get_by_role("link", name="worker").click()
    page.wait_for_url("**service=worker**")
    assert _titles(page) == ["CheckoutFailed"]
    assert page.evaluate("window.pwned") is None


def test_the_service_map_links_a_service_to_its_errors(
    errors_server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(errors_server.url + "/traces/map?" + urlencode({"service": HOSTILE}))
    panel = page.locator("#service-panel")
    panel.wait_for()
    link = panel.locator("a.errors-link")
    href = link.get_attribute("href") or ""
    assert urlsplit(href).path == "/errors"
    assert parse_qs(urlsplit(href).query) == {"service": [HOSTILE]}
    screenshot(page, tmp_path, "servicemap-errors-link")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/errors?**")
    assert _titles(page) == ["KeyError"]
    assert page.evaluate("window.pwned") is None


def test_the_filtered_list_reads_at_400_px(
    errors_server: Server, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    try:
        p = context.new_page()
        p.goto(errors_server.url + "/errors?" + urlencode({"service": HOSTILE}))
        assert p.evaluate("document.documentElement.scrollWidth") <= 400
        screenshot(p, tmp_path, "errors-service-400")
    finally:
        context.close()


def test_spyglass_errors_lists_a_services_issues_and_shows_its_services(
    errors_server: Server,
) -> None:
    """The CLI takes the same filter (``errors list --service``) and ``errors show`` counts an
    issue's events per service, against the real server."""
    runner = CliRunner()
    url = ["--url", errors_server.url]
    listed = runner.invoke(app, ["errors", "list", "--service", "worker", *url])
    assert listed.exit_code == 0, listed.output
    assert "CheckoutFailed" in listed.output
    assert "KeyError" not in listed.output
    assert "ValueError" not in listed.output
    issues = httpx.get(errors_server.url + "/api/errors/issues", timeout=30).json()["issues"]
    (checkout,) = [i for i in issues if i["title"].startswith("CheckoutFailed")]
    shown = runner.invoke(app, ["errors", "show", checkout["id"], *url])
    assert shown.exit_code == 0, shown.output
    assert "services: api 1, worker 1" in shown.output


def test_the_errors_pages_times_follow_explores_use_local_time(
    errors_server: Server, browser: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    """In a browser in Asia/Kolkata (UTC+05:30), an event's time, the breadcrumbs' and the
    list's first/last seen show in that zone; once Explore's "Use local time" is off, in UTC."""
    issues = httpx.get(errors_server.url + "/api/errors/issues", timeout=30).json()["issues"]
    (key,) = [i for i in issues if i["title"].startswith("KeyError")]
    (event,) = httpx.get(
        f"{errors_server.url}/api/errors/issues/{key['id']}/events", timeout=30
    ).json()["events"]

    def at(text: str, zone: dt.tzinfo) -> str:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(zone)
        return when.strftime("%Y-%m-%d %H:%M:%S")

    kolkata = dt.timezone(dt.timedelta(hours=5, minutes=30))
    context = browser.new_context(timezone_id="Asia/Kolkata")
    try:
        page = console.watch(context.new_page())
        page.goto(f"{errors_server.url}/errors/{key['id']}")
        shown = page.locator("time.event-time").first
        assert shown.inner_text() == at(event["dateCreated"], kolkata)
        crumb = page.locator("table.breadcrumbs time").first
        assert crumb.inner_text() == at(CRUMB_TIME, kolkata)
        first_seen = page.locator(".issue-facts time").first
        assert first_seen.get_attribute("title") == at(key["firstSeen"], kolkata)
        assert "ago" in first_seen.inner_text()
        screenshot(page, tmp_path, "errors-local-time")
        page.goto(errors_server.url + "/errors?service=" + quote(HOSTILE))
        row_time = page.locator("tr.issue time").first
        assert row_time.get_attribute("title") == at(key["firstSeen"], kolkata)

        # Explore's switch is this browser's choice for every page.
        page.goto(errors_server.url + "/explore")
        page.get_by_label("Use local time").uncheck()
        page.goto(f"{errors_server.url}/errors/{key['id']}")
        assert shown.inner_text() == at(event["dateCreated"], dt.UTC) + " UTC"
        assert crumb.inner_text() == at(CRUMB_TIME, dt.UTC) + " UTC"
        assert first_seen.get_attribute("title") == at(key["firstSeen"], dt.UTC) + " UTC"
        screenshot(page, tmp_path, "errors-utc")
    finally:
        context.close()
