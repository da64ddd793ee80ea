"""The "Why?" panels in Debian's chromium against a real ``spyglass serve``: an alerting rule
over error counters where one route of one instance went up four minutes ago fires; its panel on
the Alerts page, loaded only when opened, ranks that route and instance first with its share
bar, and lists what else changed then: the trace operation that got 5x slower (linking to the
traces page), the new error issue (linking to it), the log pattern that appeared (linking to the
logs page). The incident the alert opened shows the same on its page; an incident whose alert
came from elsewhere without a generatorURL says why it has nothing to explain. Everything went in
through the real ingest APIs (remote_write, OTLP/HTTP, Sentry envelopes, Loki push, Alertmanager
v2); hostile label values show as text."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from tests.support.browser import ConsoleLog, screenshot
from tests.support.ops_data import HOSTILE, send_event, sentry_event
from tests.support.servers import Server, spyglass

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
STEP = 15_000
ROUTES = ("/", "/cart", "/checkout", HOSTILE)
INSTANCES = ("a", "b", "c")
JUMP_MS = 4 * 60_000  # the change began this long before the data was written
TIMES = "\N{MULTIPLICATION SIGN}"  # how the panel writes a growth (after the number)
EXPR = 'sum(rate(errors_total{job="shop"}[1m])) > 20'
RULES = textwrap.dedent(
    f"""
    groups:
      - name: shop
        interval: 1s
        rules:
          - alert: ShopErrors
            expr: '{EXPR}'
            labels:
              severity: critical
            annotations:
              summary: too many errors
    """
)


def _metrics(now_ms: int) -> list[Any]:
    """70 minutes of error counters: 1/s on every route and instance, 20/s on /checkout of b
    for the last four minutes (12/s in all before, 31/s after: the alert's 20 is crossed)."""
    out = []
    start, jump = now_ms - 70 * 60_000, now_ms - JUMP_MS
    for route in ROUTES:
        for instance in INSTANCES:
            hot = route == "/checkout" and instance == "b"
            value, points = 0.0, []
            for t in range(start, now_ms + 1, STEP):
                value += (20.0 if hot and t > jump else 1.0) * STEP / 1000
                points.append((t, value))
            labels = {"__name__": "errors_total", "job": "shop", "route": route,
                      "instance": instance}  # fmt: skip
            out.append((tuple(sorted(labels.items())), points))
    return out


def _spans(now_ms: int) -> dict[str, Any]:
    """A span of each operation every 30 s: ``POST /checkout`` 40 ms, 200 ms in the last four
    minutes; ``GET /cart`` 30 ms throughout."""
    spans = []
    for i, t in enumerate(range(now_ms - 70 * 60_000, now_ms - 5_000, 30_000)):
        slow = t > now_ms - JUMP_MS
        for j, (name, ms) in enumerate(
            (("POST /checkout", 200 if slow else 40), ("GET /cart", 30))
        ):
            start = t * 1_000_000
            spans.append({
                "traceId": f"{2 * i + j + 1:032x}", "spanId": f"{2 * i + j + 1:016x}",
                "name": name, "kind": 2, "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + ms * 1_000_000),
            })  # fmt: skip
    service = {"key": "service.name", "value": {"stringValue": "shop"}}
    return {"resourceSpans": [{"resource": {"attributes": [service]},
                               "scopeSpans": [{"spans": spans}]}]}  # fmt: skip


def _logs(now_ms: int) -> dict[str, Any]:
    """``cart served in N ms`` every minute; ``payment gateway timeout after N ms`` every 20 s
    in the last four minutes only."""
    values = [
        [str(t * 1_000_000), f"cart served in {10 + t % 7} ms"]
        for t in range(now_ms - 70 * 60_000, now_ms - 5_000, 60_000)
    ]
    values += [
        [str(t * 1_000_000), f"payment gateway timeout after {3000 + t % 11} ms"]
        for t in range(now_ms - JUMP_MS + 10_000, now_ms - 5_000, 20_000)
    ]
    values.sort()
    return {"streams": [{"stream": {"service_name": "shop"}, "values": values}]}


def _wait(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} never happened")


@pytest.fixture(scope="module")
def why_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Spyglass with the data above, the alert firing and its incident open."""
    folder = tmp_path_factory.mktemp("why")
    (folder / "rules.yml").write_text(RULES)
    (folder / "prometheus.yml").write_text(
        f"global: {{evaluation_interval: 1s}}\nrule_files: ['{folder / 'rules.yml'}']\n"
    )
    (folder / "alertmanager.yml").write_text(
        "route:\n  receiver: none\n  group_wait: 0s\nreceivers:\n  - name: none\n"
        "spyglass:\n  incidents:\n    rules:\n"
        "      - matchers: ['severity=\"critical\"']\n        severity: SEV2\n"
        "        group_by: [alertname]\n"
    )
    args = (
        "--config-file", str(folder / "prometheus.yml"),
        "--alertmanager-config-file", str(folder / "alertmanager.yml"),
    )  # fmt: skip
    with spyglass(folder / "data", *args) as s:
        now = int(time.time() * 1000)
        with httpx.Client(timeout=60) as client:
            body = encode_write_request(_metrics(now))
            r = client.post(s.url + "/api/v1/write", content=body, headers=RW_HEADERS)
            assert r.status_code == 204, r.text
            r = client.post(s.url + "/v1/traces", json=_spans(now))
            assert r.status_code == 200, r.text
            r = client.post(s.url + "/loki/api/v1/push", json=_logs(now))
            assert r.status_code == 204, r.text
        send_event(s.url, sentry_event("charge", 1))
        _wait(
            "an incident opened by the alert",
            lambda: httpx.get(s.url + "/api/spyglass/v1/incidents", timeout=30).json()["data"],
        )
        yield s


def _open_panel(panel: Any) -> Any:
    panel.get_by_role("button", name="Why?").click()
    body = panel.locator(".why-body")
    body.locator(".why-summary, .why-error").first.wait_for(timeout=60_000)
    return body


def _check_findings(body: Any) -> None:
    """The other signals' findings of the window, each linking where to look."""
    op = body.locator(".why-trace_operation li").first
    assert op.inner_text() == f"shop POST /checkout: p95 40 ms → 200 ms (5.0{TIMES})"
    href = op.get_by_role("link").get_attribute("href") or ""
    assert href.startswith("/traces?")
    assert parse_qs(urlsplit(href).query) == {"service": ["shop"], "operation": ["POST /checkout"]}
    issue = body.locator(".why-error_issue li a").first
    assert "new error issue" in issue.inner_text()
    assert HOSTILE in issue.inner_text()  # the exception's message, as text
    assert (issue.get_attribute("href") or "").startswith("/errors/")
    pattern = body.locator(".why-log_pattern li a").first
    assert "payment gateway timeout after" in pattern.inner_text()
    logs = parse_qs(urlsplit(pattern.get_attribute("href") or "").query)
    assert logs["query"] == ['{service_name="shop"} |= "payment gateway timeout after"']


def test_the_alert_page_ranks_the_raised_label_first(
    why_server: Server, page: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    page.goto(why_server.url + "/alerts?search=ShopErrors")
    rule = page.locator("details.alert-rule", has_text="ShopErrors")
    rule.locator("summary").click()
    panel = rule.locator("div.why")
    assert panel.get_attribute("data-query") == EXPR
    # Nothing asked before the panel is opened.
    assert panel.locator(".why-summary").count() == 0
    body = _open_panel(panel)
    assert body.locator(".why-summary .mono").inner_text() == 'rate(errors_total{job="shop"}[1m])'
    first = body.locator("tr.why-contributor").first
    labels = first.locator(".label").all_inner_texts()
    assert labels == ['instance="b"', 'route="/checkout"']
    share = int(first.locator(".why-share-value").inner_text().rstrip("%"))
    assert share >= 90
    width = float(first.locator(".bar-fill").get_attribute("width") or "0")
    assert width >= 90
    _check_findings(body)
    assert page.locator("main script, main img").count() == 0
    screenshot(page, tmp_path, "why-alert")


def test_the_incident_page_explains_its_alerts(
    why_server: Server, page: Any, tmp_path: Path
) -> None:
    found = httpx.get(why_server.url + "/api/spyglass/v1/incidents", timeout=30).json()["data"]
    (incident,) = [i for i in found if "ShopErrors" in i["title"]]
    page.goto(why_server.url + "/incidents/" + incident["id"])
    panel = page.locator(".why-panels div.why")
    assert panel.count() == 1
    assert panel.get_attribute("data-query") == EXPR
    body = _open_panel(panel)
    first = body.locator("tr.why-contributor").first
    assert first.locator(".label").all_inner_texts() == ['instance="b"', 'route="/checkout"']
    _check_findings(body)
    # Label values that carry none of the change are left out.
    shares = body.locator(".why-share-value").all_inner_texts()
    assert shares == ["100%", "100%", "100%"]
    screenshot(page, tmp_path, "why-incident")
    page.set_viewport_size({"width": 400, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    screenshot(page, tmp_path, "why-incident-400px")


def _external_incident(url: str, name: str, **alert: Any) -> dict[str, Any]:
    """The incident an alert posted to ``/api/v2/alerts`` (as another Prometheus does) opens."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body = {"labels": {"alertname": name, "severity": "critical"}, "startsAt": now, **alert}
    r = httpx.post(url + "/api/v2/alerts", json=[body], timeout=30)
    assert r.status_code == 200, r.text

    def opened() -> list[dict[str, Any]]:
        found = httpx.get(url + "/api/spyglass/v1/incidents", timeout=30).json()
        return [i for i in found["data"] if name in i["title"]]

    (incident,) = _wait(f"an incident for {name}", opened)
    return incident


def test_an_external_alert_is_explained_by_its_generator_urls_expression(
    why_server: Server, page: Any
) -> None:
    expr = 'sum by (route) (rate(errors_total{job="shop"}[1m])) > 5'
    generator = "http://prometheus:9090/graph?" + urlencode({"g0.expr": expr, "g0.tab": "1"})
    incident = _external_incident(why_server.url, "FromPrometheus", generatorURL=generator)
    page.goto(why_server.url + "/incidents/" + incident["id"])
    panel = page.locator(".why-panels div.why")
    assert panel.get_attribute("data-query") == expr
    body = _open_panel(panel)
    first = body.locator("tr.why-contributor").first
    assert first.locator(".label").all_inner_texts() == ['instance="b"', 'route="/checkout"']


def test_an_alert_without_an_expression_says_so(why_server: Server, page: Any) -> None:
    """An alert posted by another Prometheus without a generatorURL has no expression."""
    incident = _external_incident(why_server.url, "Elsewhere")
    page.goto(why_server.url + "/incidents/" + incident["id"])
    assert page.locator(".why-panels div.why").count() == 0
    assert "Elsewhere" in page.locator(".why-none").inner_text()
    assert "generatorURL" in page.locator(".why-none").inner_text()


def test_a_failing_why_call_shows_its_error(
    why_server: Server, page: Any, console: ConsoleLog
) -> None:
    """The API's refusal shows in the panel, with a way to try again."""
    console.allow("status of 400")
    page.goto(why_server.url + "/alerts?search=ShopErrors")
    rule = page.locator("details.alert-rule", has_text="ShopErrors")
    rule.locator("summary").click()
    panel = rule.locator("div.why")
    panel.evaluate("(el) => { el.dataset.window = 'forever'; }")
    body = _open_panel(panel)
    assert body.locator(".why-error").inner_text().startswith("Could not explain:")
    assert body.get_by_role("button", name="Try again").is_visible()


def test_the_alerts_page_explains_an_external_alert_by_its_generator_url(
    why_server: Server, page: Any, tmp_path: Path
) -> None:
    """Alerts another Prometheus posts to ``/api/v2/alerts`` are listed under Other alerts on
    the Alerts page (the rules' own alerts are not repeated there); one whose generatorURL
    carries ``g0.expr`` has a "Why?" panel asking about that expression, one without has none."""
    expr = 'sum by (route) (rate(errors_total{job="shop"}[1m])) > 5'
    generator = "http://prometheus:9090/graph?" + urlencode({"g0.expr": expr, "g0.tab": "1"})
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    alerts = [
        {
            "labels": {"alertname": "OtherPromErrors", "severity": "warning", "note": HOSTILE},
            "annotations": {"summary": HOSTILE},
            "startsAt": now,
            "generatorURL": generator,
        },
        {"labels": {"alertname": "OtherPromBare", "severity": "warning"}, "startsAt": now},
    ]
    r = httpx.post(why_server.url + "/api/v2/alerts", json=alerts, timeout=30)
    assert r.status_code == 200, r.text
    page.goto(why_server.url + "/alerts")
    others = page.locator("section.other-alerts")
    rows = others.locator("tr.alert")
    texts = rows.all_inner_texts()
    assert any("OtherPromErrors" in t for t in texts)
    assert any("OtherPromBare" in t for t in texts)
    # The rule's own alert is shown under its rule, not again (Spyglass's error-issue and
    # incident-update alerts, which no rule fires, are listed).
    assert not any('alertname="ShopErrors"' in t for t in texts)
    assert any('alertname="IncidentUpdate"' in t for t in texts)
    # A panel under the alert that names an expression, none under the one that does not.
    assert others.locator('tr.alert:has-text("OtherPromErrors") + tr.why-row div.why').count() == 1
    assert others.locator('tr.alert:has-text("OtherPromBare") + tr.why-row').count() == 0
    mine = others.locator("tr.alert", has_text="OtherPromErrors")
    assert mine.locator(".source-link").get_attribute("href") == generator
    page.goto(why_server.url + "/alerts?search=OtherPromErrors")
    panel = page.locator("section.other-alerts div.why")
    assert panel.get_attribute("data-query") == expr
    assert HOSTILE in page.locator("section.other-alerts").inner_text()  # as text
    assert page.locator("main script, main img").count() == 0
    body = _open_panel(panel)
    first = body.locator("tr.why-contributor").first
    assert first.locator(".label").all_inner_texts() == ['instance="b"', 'route="/checkout"']
    assert page.evaluate("window.pwned") is None
    screenshot(page, tmp_path, "why-alerts-external")
    page.set_viewport_size({"width": 400, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    screenshot(page, tmp_path, "why-alerts-external-400px")
