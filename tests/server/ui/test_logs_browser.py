"""The logs page in a real browser (Debian's chromium) against a real ``spyglass serve`` holding
lines pushed through Loki's push API.

What a person checks: a query shows its lines (newest first, level colours, stream labels) and a
histogram stacked by level; a line opens to its fields, and "filter for value" / "filter out
value" edit the query and change the results; a metric query draws a graph; live tail shows a
line pushed after it opened (and holds lines back while paused); a line with a trace id links to
its trace; hostile lines show as text; the URL brings the same view back; Loki's own error text
shows for a bad query; the editor offers label names and values; the page works at 400 px and
from the keyboard. Each test saves a screenshot under its tmp dir.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from tests.support.browser import ConsoleLog, screenshot
from tests.support.servers import Server, spyglass

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
# Per minute over the last 50 minutes: api info (JSON), api error (JSON), worker warn (logfmt).
MINUTES = 50

COUNT_PIXELS = """([selector, r, g, b]) => {
  const canvas = document.querySelector(selector);
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 160 && Math.abs(data[i] - r) < 28 && Math.abs(data[i + 1] - g) < 28
        && Math.abs(data[i + 2] - b) < 28) n++;
  }
  return n;
}"""
RED = [0xE2, 0x4D, 0x42]  # Grafana's error colour
GREEN = [0x7E, 0xB2, 0x6D]  # info
YELLOW = [0xEA, 0xB8, 0x39]  # warning


def _ns(seconds: float) -> str:
    return str(int(seconds * 1e9))


def push(server: Server, streams: list[dict[str, Any]]) -> None:
    r = httpx.post(server.url + "/loki/api/v1/push", json={"streams": streams}, timeout=30)
    assert r.status_code == 204, r.text


def _data(now: float) -> list[dict[str, Any]]:
    info, error, warn = [], [], []
    for m in range(MINUTES, 0, -1):
        t = now - m * 60
        info.append(
            [_ns(t), json.dumps({"msg": "GET /orders", "status": 200, "user_id": f"u{m % 3}"})]
        )
        if m % 5 == 0:
            error.append(
                [
                    _ns(t + 1),
                    json.dumps({"msg": "db timeout", "status": 500, "route": "/pay"}),
                    {"trace_id": TRACE_ID} if m == 5 else {},
                ]
            )
        warn.append([_ns(t + 2), f'level=warn msg="queue slow" queue=emails depth={m}'])
    info.append([_ns(now - 30), HOSTILE])
    # OpenTelemetry's way: the level in structured metadata, as severity_text.
    otel = [[_ns(now - m * 60 + 3), "cache miss", {"severity_text": "WARN"}] for m in range(1, 6)]
    return [
        {"stream": {"service_name": "otel"}, "values": otel},
        {"stream": {"service_name": "api", "level": "info", "env": "prod"}, "values": info},
        {"stream": {"service_name": "api", "level": "error", "env": "prod"}, "values": error},
        {"stream": {"service_name": "worker", "env": "prod"}, "values": warn},
    ]


API_INFO = MINUTES + 1  # with the hostile line
API_ERROR = MINUTES // 5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``spyglass serve`` holding the lines of ``_data``."""
    with spyglass(tmp_path_factory.mktemp("logsui") / "data") as s:
        push(s, _data(time.time()))
        yield s


def logs_url(server: Server, **params: str) -> str:
    return server.url + "/logs?" + "&".join(f"{k}={quote(v)}" for k, v in params.items())


def until(page: Any, js: str, timeout_s: float = 20) -> None:
    """Poll ``js`` (a function) until it returns true (the page's CSP forbids Playwright's
    string predicates)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(js):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {js}")
        time.sleep(0.05)


def wait_loaded(page: Any) -> None:
    until(page, "() => document.getElementById('status').textContent.startsWith('Load time')")


def rows(page: Any) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('#lines .log-row')].map((r) => ({
              level: r.dataset.level,
              time: r.querySelector('.log-time').textContent,
              labels: r.querySelector('.log-labels').textContent,
              line: r.querySelector('.log-line').textContent,
              colour: getComputedStyle(r).borderLeftColor,
            }))"""
        )
    )


def editor_text(page: Any) -> str:
    return str(page.evaluate("() => document.querySelector('.cm-content').innerText"))


def pixels(page: Any, selector: str, rgb: list[int]) -> int:
    return int(page.evaluate(COUNT_PIXELS, [selector, *rgb]))


def test_a_query_shows_its_lines_newest_first_and_a_histogram_by_level(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(logs_url(server, query='{service_name="api"}'))
    wait_loaded(page)
    shown = rows(page)
    assert len(shown) == API_INFO + API_ERROR
    assert [r["time"] for r in shown] == sorted((r["time"] for r in shown), reverse=True)
    assert {r["level"] for r in shown} == {"info", "error"}
    errors = [r for r in shown if r["level"] == "error"]
    assert len(errors) == API_ERROR
    assert all("db timeout" in r["line"] for r in errors)
    assert errors[0]["colour"] == "rgb(226, 77, 66)"
    # Stream labels on each row.
    assert all("service_name=api" in r["labels"] for r in shown)
    assert f"Lines: {API_INFO + API_ERROR}" in page.inner_text("#status")
    # The histogram: one bar series per level, in the levels' colours.
    legend = page.eval_on_selector_all(
        "#histogram-legend .legend-item", "items => items.map(i => i.textContent)"
    )
    assert legend == ["error", "info"]
    assert pixels(page, "#histogram-plot canvas", RED) > 30
    assert pixels(page, "#histogram-plot canvas", GREEN) > 100
    screenshot(page, tmp_path, "logs-query")


def test_the_histogram_reads_the_level_from_severity_text_or_shows_one_series(
    server: Server, page: Any
) -> None:
    page.goto(logs_url(server, query='{service_name="otel"}'))
    wait_loaded(page)
    legend = "#histogram-legend .legend-item"
    assert page.eval_on_selector_all(legend, "items => items.map(i => i.textContent)") == [
        "warning"
    ]
    assert pixels(page, "#histogram-plot canvas", YELLOW) > 30
    assert {r["level"] for r in rows(page)} == {"warning"}
    page.goto(logs_url(server, query='{service_name="worker"}'))
    wait_loaded(page)
    assert page.eval_on_selector_all(legend, "items => items.map(i => i.textContent)") == ["logs"]
    # Its lines still show their level, from their logfmt text.
    assert {r["level"] for r in rows(page)} == {"warning"}


def test_opening_a_line_shows_its_fields_and_filter_for_value_edits_the_query(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(logs_url(server, query='{service_name="api"}'))
    wait_loaded(page)
    row = page.locator("#lines .log-row", has_text="db timeout").first
    row.locator("summary").click()
    details = row.locator(".log-details")
    details.wait_for()
    fields = dict(
        row.locator(".log-field").evaluate_all(
            "trs => trs.map(t => [t.querySelector('th').textContent,"
            " t.querySelector('.log-field-value').textContent])"
        )
    )
    assert fields["service_name"] == "api"
    assert fields["level"] == "error"
    assert fields["msg"] == "db timeout"
    assert fields["status"] == "500"
    assert fields["route"] == "/pay"
    groups = row.locator(".log-fields-group").all_inner_texts()
    assert groups[0] == "Stream labels"
    assert groups[-1] == "Fields parsed from the line (json)"
    screenshot(page, tmp_path, "logs-expanded")

    # A field of the line: the query gains `| json | status="500"` and shows only those lines.
    row.get_by_role("button", name="Filter for value status=500").click()
    until(page, "() => document.querySelector('.cm-content').innerText.includes('status')")
    assert editor_text(page) == '{service_name="api"} | json | status="500"'
    until(page, f"() => document.querySelectorAll('#lines .log-row').length === {API_ERROR}")
    wait_loaded(page)
    assert {r["level"] for r in rows(page)} == {"error"}
    assert parse_qs(urlsplit(page.url).query)["query"] == [editor_text(page)]

    # A stream label: "filter out" goes into the selector.
    row = page.locator("#lines .log-row").first
    row.locator("summary").click()
    row.get_by_role("button", name="Filter out value level=error").click()
    until(page, "() => document.querySelector('.cm-content').innerText.includes('level!=')")
    assert editor_text(page) == '{service_name="api", level!="error"} | json | status="500"'
    until(page, "() => document.getElementById('no-data').hidden === false")
    assert rows(page) == []


def test_a_metric_query_draws_a_graph_instead_of_lines(
    server: Server, page: Any, tmp_path: Path
) -> None:
    query = 'sum by (level) (count_over_time({env="prod"} | logfmt [5m]))'
    page.goto(logs_url(server, query=query))
    wait_loaded(page)
    assert page.is_visible("#graph")
    assert page.is_hidden("#lines")
    assert page.is_hidden("#histogram")
    legend = page.eval_on_selector_all(
        "#graph-legend .legend-item", "items => items.map(i => i.textContent)"
    )
    assert sorted(legend) == ['{level="error"}', '{level="info"}', '{level="warn"}']
    assert "Result series: 3" in page.inner_text("#status")
    assert page.is_disabled("#live")
    screenshot(page, tmp_path, "logs-metric")


def test_live_tail_shows_a_line_pushed_after_it_opened_and_holds_lines_while_paused(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(logs_url(server, query='{service_name="tailme"}'))
    wait_loaded(page)
    page.click("#live")
    until(page, "() => document.getElementById('live-status').textContent.includes('waiting')")
    push(
        server,
        [{"stream": {"service_name": "tailme"}, "values": [[_ns(time.time()), "first live"]]}],
    )
    until(page, "() => document.getElementById('lines').textContent.includes('first live')")
    assert page.get_attribute("#live", "aria-pressed") == "true"

    page.click("#pause")
    push(
        server,
        [{"stream": {"service_name": "tailme"}, "values": [[_ns(time.time()), "second live"]]}],
    )
    until(page, "() => document.getElementById('live-status').textContent.includes('1 new')")
    assert "second live" not in page.inner_text("#lines")
    page.click("#pause")  # resume
    until(page, "() => document.getElementById('lines').textContent.includes('second live')")
    assert [(r["line"], r["labels"]) for r in rows(page)] == [
        ("second live", "service_name=tailme"),
        ("first live", "service_name=tailme"),
    ]
    screenshot(page, tmp_path, "logs-live")
    page.click("#live")  # stop
    assert page.get_attribute("#live", "aria-pressed") == "false"


def test_live_tail_shows_why_the_server_refused_the_query(
    server: Server, page: Any, console: ConsoleLog
) -> None:
    console.allow("status of 400")  # the query itself is refused first
    page.goto(logs_url(server, query='{service_name="api"} |~ "("'))
    wait_loaded(page)
    page.click("#live")
    until(page, "() => document.getElementById('live-status').textContent === 'Live tail ended.'")
    assert "error parsing regexp" in page.inner_text("#errors")
    assert page.get_attribute("#live", "aria-pressed") == "false"


def test_a_line_with_a_trace_id_links_to_its_trace(server: Server, page: Any) -> None:
    page.goto(logs_url(server, query='{service_name="api", level="error"}'))
    wait_loaded(page)
    links = page.eval_on_selector_all(
        "#lines .log-trace", "links => links.map(a => a.getAttribute('href'))"
    )
    assert links == [f"/traces/{TRACE_ID}"]


def test_hostile_lines_show_as_text(server: Server, page: Any, tmp_path: Path) -> None:
    page.goto(logs_url(server, query='{service_name="api"} |= "<script>"'))
    wait_loaded(page)
    assert [r["line"] for r in rows(page)] == [HOSTILE]
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#lines script, #lines img").count() == 0
    screenshot(page, tmp_path, "logs-hostile")


def test_the_url_brings_back_the_query_range_limit_and_direction(server: Server, page: Any) -> None:
    page.goto(
        logs_url(
            server,
            query='{service_name="worker"}',
            limit="5",
            direction="forward",
            **{"from": "now-2h"},
        )
    )
    wait_loaded(page)
    first = rows(page)
    assert len(first) == 5
    assert [r["time"] for r in first] == sorted(r["time"] for r in first)  # oldest first
    assert "depth=50" in first[0]["line"]
    assert "(the limit of 5)" in page.inner_text("#status")
    page.reload()
    wait_loaded(page)
    assert editor_text(page) == '{service_name="worker"}'
    assert page.input_value("input[name=limit]") == "5"
    assert page.input_value("select[name=direction]") == "forward"
    assert page.inner_text(".timepicker summary") == "Last 2 hours"
    assert rows(page) == first


def test_a_bad_query_shows_lokis_own_error(server: Server, page: Any, console: ConsoleLog) -> None:
    console.allow("status of 400")  # the browser logs the refused requests
    query = '{service_name="api"'
    page.goto(logs_url(server, query=query))
    wait_loaded(page)
    answer = httpx.get(server.url + "/loki/api/v1/query_range", params={"query": query})
    assert answer.status_code == 400
    assert page.inner_text("#errors .error") == answer.text.strip()


def test_the_editor_completes_label_names_and_values(server: Server, page: Any) -> None:
    page.goto(logs_url(server))
    page.click(".cm-content")
    page.keyboard.type("{serv")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="service_name")
    option.wait_for()
    # CodeMirror ignores Enter for 75 ms after the list opens (so a fast typist's Enter is a
    # new line, not a pick): wait that out, as a person does.
    page.wait_for_timeout(200)
    page.keyboard.press("Enter")
    page.keyboard.type('="')
    options = page.locator(".cm-tooltip-autocomplete li")
    options.first.wait_for()
    assert {"api", "otel", "worker"} <= set(options.all_inner_texts())
    page.locator(".cm-tooltip-autocomplete li", has_text="worker").click()
    page.keyboard.press("Shift+Enter")
    wait_loaded(page)
    assert editor_text(page).startswith('{service_name="worker"')
    assert len(rows(page)) == MINUTES


def test_at_400_px_the_page_fits_and_works_from_the_keyboard(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    try:
        page = context.new_page()
        page.goto(logs_url(server, query='{service_name="api", level="error"}'))
        wait_loaded(page)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 400
        screenshot(page, tmp_path, "logs-400px")
        page.focus("#lines .log-row summary")
        page.keyboard.press("Enter")
        page.locator("#lines .log-row .log-details").first.wait_for()
        # Tab moves on through the row's trace links to its fields' buttons; Enter presses one.
        label = ""
        for _ in range(15):
            page.keyboard.press("Tab")
            label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
            if label == "Filter out value env=prod":
                break
        assert label == "Filter out value env=prod"
        page.keyboard.press("Enter")
        until(page, "() => document.querySelector('.cm-content').innerText.includes('env!=')")
        assert editor_text(page) == '{service_name="api", level="error", env!="prod"}'
        wait_loaded(page)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 400
    finally:
        context.close()


def test_dragging_across_the_histogram_zooms_into_that_time(server: Server, page: Any) -> None:
    page.goto(logs_url(server, query='{service_name="api"}'))
    wait_loaded(page)
    box = page.locator("#histogram .u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=5)
    page.mouse.up()
    until(page, "() => /from=\\d+/.test(location.search)")
    params = parse_qs(urlsplit(page.url).query)
    start, end = int(params["from"][0]), int(params["to"][0])
    assert 10 * 60_000 < end - start < 20 * 60_000  # a quarter of the hour
    wait_loaded(page)
    assert 0 < len(rows(page)) < API_INFO + API_ERROR
    # The browser's Back button returns to the hour before the zoom.
    page.go_back()
    until(
        page,
        f"() => document.querySelectorAll('#lines .log-row').length === {API_INFO + API_ERROR}",
    )
    assert page.inner_text(".timepicker summary") == "Last 1 hour"
