"""Explore in a real browser (Debian's chromium) against a real ``spyglass serve``.

What a person checks: the graph draws each series in its colour (read from the canvas's
pixels), the table shows the values the API returns, typing offers metric names, the URL brings
back the same query, range and mode after a reload, a legend click hides series, dragging
zooms, a bad query shows Prometheus' own error text, and no page logs an error to the console
(CSP violations included). Each test saves a screenshot under its tmp dir.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from tests.support.browser import ConsoleLog, screenshot
from tests.support.servers import Server

COUNT_PIXELS = """([r, g, b]) => {
  const canvas = document.querySelector('#plot canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 160 && Math.abs(data[i] - r) < 28 && Math.abs(data[i + 1] - g) < 28
        && Math.abs(data[i + 2] - b) < 28) n++;
  }
  return n;
}"""

LEGEND = """() => [...document.querySelectorAll('#legend .legend-item')].map((el) => ({
  name: el.textContent,
  rgb: getComputedStyle(el.querySelector('.swatch')).backgroundColor.match(/\\d+/g).map(Number),
  shown: el.getAttribute('aria-pressed') === 'true',
}))"""


def explore_url(server: Server, **params: str) -> str:
    return server.url + "/explore?" + "&".join(f"{k}={quote(v)}" for k, v in params.items())


def until(page: Any, js: str, timeout_s: float = 20) -> None:
    """Poll ``js`` (a function) until it returns true. Playwright's wait_for_function evaluates
    its predicate as a string inside the page, which the page's CSP rightly forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(js):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {js}")
        time.sleep(0.05)


def wait_loaded(page: Any) -> None:
    """Until the queries answered (the status line says how long they took)."""
    until(page, "() => document.getElementById('status').textContent.startsWith('Load time')")


def legend(page: Any) -> dict[str, Any]:
    return {item["name"]: item for item in page.evaluate(LEGEND)}


def pixels(page: Any, rgb: list[int]) -> int:
    return int(page.evaluate(COUNT_PIXELS, rgb))


def wait_pixels(page: Any, rgb: list[int], check: Any, timeout_s: float = 10) -> int:
    """Poll the canvas until ``check(count)`` holds (uPlot redraws on the next frame)."""
    deadline = time.monotonic() + timeout_s
    count = pixels(page, rgb)
    while not check(count) and time.monotonic() < deadline:
        time.sleep(0.1)
        count = pixels(page, rgb)
    return count


def api(server: Server, path: str, **params: Any) -> Any:
    return httpx.get(server.url + path, params=params, timeout=30).json()


def test_graph_draws_each_series_in_its_legend_colour(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(explore_url(server, q0="ui_temperature", legend0="{{room}}", **{"from": "now-2h"}))
    wait_loaded(page)
    items = legend(page)
    assert sorted(items) == ["hall", "kitchen"]
    hall, kitchen = items["hall"]["rgb"], items["kitchen"]["rgb"]
    assert hall != kitchen
    assert pixels(page, hall) > 300, "hall's line is not drawn"
    assert pixels(page, kitchen) > 300, "kitchen's line is not drawn"
    assert "Result series: 2" in page.inner_text("#status")
    screenshot(page, tmp_path, "explore-graph")


def test_legend_click_isolates_a_series_and_ctrl_click_hides_one(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(explore_url(server, q0="ui_temperature", legend0="{{room}}"))
    wait_loaded(page)
    colours = {name: item["rgb"] for name, item in legend(page).items()}
    before = pixels(page, colours["hall"])
    assert before > 300

    page.get_by_role("button", name="kitchen").click()  # Grafana: show only this one
    assert wait_pixels(page, colours["hall"], lambda n: n < before / 20) < before / 20
    assert pixels(page, colours["kitchen"]) > 300
    assert {n: i["shown"] for n, i in legend(page).items()} == {"hall": False, "kitchen": True}
    screenshot(page, tmp_path, "explore-legend-isolated")

    page.get_by_role("button", name="kitchen").click()  # again: every series
    assert wait_pixels(page, colours["hall"], lambda n: n > before / 2) > before / 2

    page.get_by_role("button", name="hall").click(modifiers=["Control"])  # hide just hall
    assert wait_pixels(page, colours["hall"], lambda n: n < before / 20) < before / 20
    assert pixels(page, colours["kitchen"]) > 300


def test_table_shows_the_values_the_api_returns(server: Server, page: Any, tmp_path: Path) -> None:
    page.goto(explore_url(server, q0="ui_temperature", mode="table"))
    wait_loaded(page)
    rows = page.eval_on_selector_all(
        "#table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    at = parse_qs(urlsplit(page.url).query)  # the page asked at `to` = now
    assert at["mode"] == ["table"]
    expected = api(server, "/api/v1/query", query="ui_temperature")["data"]["result"]
    assert sorted(rows) == sorted(
        [f'ui_temperature{{room="{s["metric"]["room"]}"}}', s["value"][1]] for s in expected
    )
    assert sorted(v for _, v in rows) == ["18", "24"]
    assert page.is_hidden("#graph")
    screenshot(page, tmp_path, "explore-table")


def test_typing_offers_metric_names_and_enter_runs_the_query(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(server.url + "/")
    page.click(".cm-content")
    page.keyboard.type("ui_temp")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="ui_temperature")
    option.first.wait_for()
    screenshot(page, tmp_path, "explore-autocomplete")
    page.keyboard.press("Enter")  # picks the completion
    until(page, "() => document.querySelector('.cm-content').textContent === 'ui_temperature'")
    page.keyboard.press("Enter")  # runs the query
    wait_loaded(page)
    assert parse_qs(urlsplit(page.url).query)["q0"] == ["ui_temperature"]
    assert len(legend(page)) == 2


def test_the_url_round_trips_query_range_step_and_mode(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(server.url + "/explore")
    page.click(".cm-content")
    # An instant value that stays put while the clock moves on: the table must come back equal.
    page.keyboard.type("sum by (code) (ui_requests_total)")
    page.keyboard.press("Escape")  # closes the completion list, then leaves the editor
    page.fill("input[name=legend0]", "{{code}}")
    page.fill("input[name=step]", "30s")
    page.click(".timepicker summary")
    page.get_by_role("button", name="Last 3 hours").click()
    wait_loaded(page)
    page.get_by_text("Table").click()
    wait_loaded(page)
    state = parse_qs(urlsplit(page.url).query)
    assert state == {
        "from": ["now-3h"],
        "to": ["now"],
        "step": ["30s"],
        "mode": ["table"],
        "q0": ["sum by (code) (ui_requests_total)"],
        "legend0": ["{{code}}"],
    }
    table_before = page.inner_text("#table")

    page.reload()
    wait_loaded(page)
    assert page.inner_text(".cm-content") == "sum by (code) (ui_requests_total)"
    assert page.input_value("input[name=legend0]") == "{{code}}"
    assert page.input_value("input[name=step]") == "30s"
    assert page.inner_text(".timepicker summary") == "Last 3 hours"
    assert page.is_checked("input[name=mode][value=table]")
    assert page.inner_text("#table") == table_before
    assert '{code="200"}\t72000' in table_before

    page.go_back()  # the graph before switching to the table
    wait_loaded(page)
    assert page.is_checked("input[name=mode][value=graph]")
    assert sorted(legend(page)) == ["200", "500"]
    screenshot(page, tmp_path, "explore-after-back")


def test_a_bad_query_shows_prometheus_error_text(
    server: Server, page: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    # Chromium reports every 4xx reply on the console; this one is the point of the test.
    console.allow("the server responded with a status of 400 (Bad Request)")
    page.goto(explore_url(server, q0="sum(rate(ui_requests_total[5m])", mode="table"))
    page.locator("#errors .error").wait_for()
    shown = page.inner_text("#errors .error")
    reply = api(server, "/api/v1/query", query="sum(rate(ui_requests_total[5m])")
    assert reply["status"] == "error"
    assert shown == reply["error"]
    screenshot(page, tmp_path, "explore-error")


def test_dragging_across_the_graph_zooms_into_that_time(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(explore_url(server, q0="ui_temperature", **{"from": "now-2h"}))
    wait_loaded(page)
    box = page.locator(".u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
    page.mouse.up()
    until(page, "() => new URLSearchParams(location.search).get('to') !== 'now'")
    wait_loaded(page)
    state = parse_qs(urlsplit(page.url).query)
    start, end = int(state["from"][0]), int(state["to"][0])
    # A quarter of the 2 hours, a quarter of the way in (the plot's edges are the range's).
    assert 25 * 60_000 < end - start < 35 * 60_000
    assert abs(start - (time.time() * 1000 - 90 * 60_000)) < 10 * 60_000
    assert len(legend(page)) == 2
    screenshot(page, tmp_path, "explore-zoomed")


def test_several_queries_share_one_graph(server: Server, page: Any, tmp_path: Path) -> None:
    page.goto(
        explore_url(
            server,
            q0="ui_temperature",
            legend0="{{room}}",
            q1="ui_temperature * 2",
            legend1="double {{room}}",
        )
    )
    wait_loaded(page)
    items = legend(page)
    assert sorted(items) == ["double hall", "double kitchen", "hall", "kitchen"]
    for item in items.values():
        assert pixels(page, item["rgb"]) > 200, item["name"]
    page.click(".add-query")
    assert page.locator(".query-row").count() == 3
    screenshot(page, tmp_path, "explore-two-queries")


def test_200_series_of_1000_points_draw(
    server: Server, page: Any, tmp_path: Path, many: tuple[int, int]
) -> None:
    series, points = many
    span_ms = (points - 1) * 15_000
    [last] = api(server, "/api/v1/query", query="max(timestamp(ui_many))")["data"]["result"]
    end_ms = int(float(last["value"][1]) * 1000)
    page.goto(
        explore_url(
            server,
            q0="ui_many",
            legend0="{{i}}",
            step="15s",
            **{"from": str(end_ms - span_ms), "to": str(end_ms)},
        )
    )
    wait_loaded(page)
    assert f"Result series: {series}" in page.inner_text("#status")
    items = legend(page)
    assert len(items) == series
    assert pixels(page, items["0"]["rgb"]) > 100
    screenshot(page, tmp_path, "explore-200-series")


@pytest.mark.parametrize("width", [390])
def test_a_narrow_window_keeps_everything_reachable(
    server: Server, browser: Any, console: ConsoleLog, tmp_path: Path, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = console.watch(context.new_page())
    try:
        page.goto(explore_url(server, q0="ui_temperature", legend0="{{room}}"))
        wait_loaded(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the window"
        assert page.get_by_role("link", name="Explore").is_visible()
        assert page.get_by_role("button", name="Run query").is_visible()
        assert pixels(page, legend(page)["hall"]["rgb"]) > 100
        screenshot(page, tmp_path, "explore-narrow")
    finally:
        context.close()
    assert console.errors == []


FILLED = """() => {
  const canvas = document.querySelector('#plot canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 40 && data[i] < 140) n++;
  return n;
}"""


def test_stacked_fills_the_areas_and_lines_do_not(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(explore_url(server, q0="ui_temperature", legend0="{{room}}"))
    wait_loaded(page)
    lines = page.evaluate(FILLED)
    page.check("input[name=stacked]")
    until(page, "() => new URLSearchParams(location.search).get('stacked') === '1'")
    wait_loaded(page)
    stacked = page.evaluate(FILLED)
    # Half-transparent areas down to the axis cover far more of the plot than two lines.
    assert stacked > 20 * max(lines, 1000), (lines, stacked)
    screenshot(page, tmp_path, "explore-stacked")
    page.reload()
    wait_loaded(page)
    assert page.is_checked("input[name=stacked]")
