"""Explore in a real browser (Debian's chromium) against a real ``spyglass serve``.

What a person checks: the graph draws each series in its colour (read from the canvas's
pixels), the table shows the values the API returns, typing offers metric names, the URL brings
back the same query, range and mode after a reload, a legend click hides series, dragging
zooms, a bad query shows Prometheus' own error text, and no page logs an error to the console
(CSP violations included). Each test saves a screenshot under its tmp dir.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

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
    # Hovering shows both values and a dot on each line.
    box = page.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator(".chart-tooltip-row").first.wait_for()
    assert page.locator(".chart-tooltip-row").count() == 2
    assert page.locator(".u-cursor-pt").count() == 2
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
    # Hovering names the six series nearest the pointer (every series has a value mid-range);
    # with this many, no dot per series and no dimming of the others (each cost a redraw of all
    # 200 on every mouse move).
    box = page.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator(".chart-tooltip-row").first.wait_for()
    assert page.locator(".chart-tooltip-row").count() == 6
    assert page.locator(".u-cursor-pt").count() == 0
    screenshot(page, tmp_path, "explore-200-series")


@pytest.mark.parametrize("width", [390, 400])
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


def test_hidden_series_survive_a_reload_and_a_shared_link(
    server: Server, browser: Any, page: Any, tmp_path: Path
) -> None:
    url = explore_url(
        server,
        q0="ui_temperature",
        legend0="{{room}}",
        q1="ui_temperature * 2",
        legend1="double {{room}}",
    )
    page.goto(url)
    wait_loaded(page)
    colours = {name: item["rgb"] for name, item in legend(page).items()}
    page.get_by_role("button", name="kitchen", exact=True).click(modifiers=["Control"])  # hide
    until(page, "() => new URLSearchParams(location.search).has('hide')")
    state = parse_qs(urlsplit(page.url).query)
    assert state["hide"] == ['A:ui_temperature{room="kitchen"}']

    page.reload()
    wait_loaded(page)
    shown = {n: i["shown"] for n, i in legend(page).items()}
    assert shown == {"hall": True, "kitchen": False, "double hall": True, "double kitchen": True}
    assert wait_pixels(page, colours["kitchen"], lambda n: n < 50) < 50
    assert pixels(page, colours["hall"]) > 300
    screenshot(page, tmp_path, "explore-hidden-after-reload")

    # Isolating one of several series writes the one shown, not every hidden one.
    page.get_by_role("button", name="double hall").click()
    until(page, "() => new URLSearchParams(location.search).has('show')")
    shared = page.url
    assert parse_qs(urlsplit(shared).query)["show"] == ['B:{room="hall"}']
    assert "hide" not in parse_qs(urlsplit(shared).query)

    # Someone else opens the link: the same series are hidden.
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        friend = other.new_page()
        friend.goto(shared)
        wait_loaded(friend)
        shown = {n: i["shown"] for n, i in legend(friend).items()}
        assert shown == {
            "hall": False,
            "kitchen": False,
            "double hall": True,
            "double kitchen": False,
        }
        assert wait_pixels(friend, colours["hall"], lambda n: n < 50) < 50
        assert pixels(friend, colours["double hall"]) > 300
        screenshot(friend, tmp_path, "explore-shared-isolated")
        # A click on the only one shown shows them all, and the URL forgets both lists.
        friend.get_by_role("button", name="double hall").click()
        until(friend, "() => !/[?&](show|hide)=/.test(location.search)")
        assert all(i["shown"] for i in legend(friend).values())
    finally:
        other.close()


def table_rows(page: Any) -> dict[str, str]:
    rows = page.eval_on_selector_all(
        "#table tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    return dict(rows)


def test_evaluation_time_changes_the_tables_values(
    server: Server, page: Any, tmp_path: Path
) -> None:
    [latest] = api(server, "/api/v1/query", query='timestamp(ui_requests_total{code="200"})')[
        "data"
    ]["result"]
    newest_ms = int(float(latest["value"][1]) * 1000)
    at_ms = newest_ms - 30 * 60_000 + 1_000  # just after the sample 30 minutes before the newest
    query = 'ui_requests_total{code="200"}'
    page.goto(explore_url(server, q0=query, mode="table"))
    wait_loaded(page)
    series = 'ui_requests_total{code="200", job="shop"}'
    assert table_rows(page) == {series: "72000"}  # at the range's end: now
    assert page.is_visible("input[name=time]")

    page.fill("input[name=time]", str(at_ms))
    page.press("input[name=time]", "Enter")
    until(page, f"() => new URLSearchParams(location.search).get('time') === '{at_ms}'")
    wait_loaded(page)
    expected = api(server, "/api/v1/query", query=query, time=at_ms / 1000)["data"]["result"]
    assert expected[0]["value"][1] == "54000"
    assert table_rows(page) == {series: "54000"}
    # The field shows the time as a date, and the status line says when the table is from.
    shown = page.input_value("input[name=time]")
    zone = ZoneInfo(page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone"))
    assert shown == datetime.fromtimestamp(at_ms / 1000, zone).strftime("%Y-%m-%d %H:%M:%S")
    assert f"Evaluation time: {shown}" in page.inner_text("#status")
    screenshot(page, tmp_path, "explore-eval-time")

    page.reload()
    wait_loaded(page)
    assert table_rows(page) == {series: "54000"}

    # As Prometheus' buttons: back by half the range (30 minutes of the last hour), and on.
    page.get_by_role("button", name="Decrease time").click()
    until(page, f"() => new URLSearchParams(location.search).get('time') === '{at_ms - 1_800_000}'")
    wait_loaded(page)
    assert table_rows(page) == {series: "36000"}
    page.get_by_role("button", name="Increase time").click()
    until(page, f"() => new URLSearchParams(location.search).get('time') === '{at_ms}'")
    wait_loaded(page)
    assert table_rows(page) == {series: "54000"}
    page.get_by_text("Graph").click()  # the graph has no evaluation time
    wait_loaded(page)
    assert page.is_hidden("input[name=time]")


X_AXIS = """() => {
  const canvas = document.querySelector('#plot canvas');
  const h = canvas.height;
  const data = canvas.getContext('2d').getImageData(0, h - 40, canvas.width, 40).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 4) hash = (hash * 31 + data[i] + data[i + 3]) | 0;
  return hash;
}"""


def hover_time(page: Any) -> str:
    box = page.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.locator(".chart-tooltip-time").wait_for()
    return str(page.inner_text(".chart-tooltip-time"))


def test_use_local_time_switches_axis_tooltip_and_fields_to_utc_and_is_remembered(
    server: Server, browser: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    # A zone 5:30 from UTC, so no label reads the same in both.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, timezone_id="Asia/Kolkata"
    )
    page = console.watch(context.new_page())
    try:
        to_ms = (int(time.time()) // 60) * 60_000
        page.goto(
            explore_url(
                server,
                q0="ui_temperature",
                **{"from": str(to_ms - 3_600_000), "to": str(to_ms)},
            )
        )
        wait_loaded(page)
        assert page.is_checked("#local-time")
        local_axis = page.evaluate(X_AXIS)
        local_tip = hover_time(page)
        local_from = page.input_value("input[name=from]")
        india = datetime.fromtimestamp((to_ms - 3_600_000) / 1000, ZoneInfo("Asia/Kolkata"))
        assert local_from == india.strftime("%Y-%m-%d %H:%M:%S")
        screenshot(page, tmp_path, "explore-local-time")

        page.uncheck("#local-time")
        wait_loaded(page)
        utc_from = datetime.fromtimestamp((to_ms - 3_600_000) / 1000, UTC)
        assert page.input_value("input[name=from]") == utc_from.strftime("%Y-%m-%d %H:%M:%S")
        assert page.evaluate(X_AXIS) != local_axis, "the time axis did not change"
        utc_tip = hover_time(page)
        assert utc_tip.endswith(" UTC")
        assert utc_tip != local_tip
        # Same instant, 5:30 apart on the clock.
        as_utc = datetime.strptime(utc_tip.removesuffix(" UTC"), "%Y-%m-%d %H:%M:%S")
        as_local = datetime.strptime(local_tip, "%Y-%m-%d %H:%M:%S")
        assert as_local - as_utc == timedelta(hours=5, minutes=30)
        screenshot(page, tmp_path, "explore-utc")

        page.reload()  # remembered by this browser, not the URL
        wait_loaded(page)
        assert not page.is_checked("#local-time")
        assert hover_time(page).endswith(" UTC")
        assert "local" not in page.url
        page.check("#local-time")
        wait_loaded(page)
        assert page.evaluate(X_AXIS) == local_axis
    finally:
        context.close()
    assert console.errors == []


def count_queries(page: Any) -> list[str]:
    """URLs of the Prometheus API queries ``page`` sends from now on (Playwright hears them
    while the test waits in ``page.wait_for_timeout``, not in ``time.sleep``)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/api/v1/query" in r.url else None)
    return seen


HIDE_TAB = """(hidden) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_auto_refresh_runs_the_queries_again_and_pauses_in_a_hidden_tab(
    server: Server, page: Any, tmp_path: Path
) -> None:
    seen = count_queries(page)
    page.goto(explore_url(server, q0="ui_temperature", refresh="1s"))
    wait_loaded(page)
    assert page.input_value("select[name=refresh]") == "1s"  # the URL's own interval
    page.wait_for_timeout(3500)
    assert len(seen) >= 3, seen  # the first run and at least two refreshes

    page.evaluate(HIDE_TAB, True)
    page.wait_for_timeout(500)  # one already in flight may still land
    paused = len(seen)
    page.wait_for_timeout(2500)
    assert len(seen) == paused, "queries kept running in a hidden tab"

    page.evaluate(HIDE_TAB, False)  # back in view: overdue, so at once
    deadline = time.monotonic() + 5
    while len(seen) == paused and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(seen) > paused

    page.select_option("select[name=refresh]", "")
    until(page, "() => !new URLSearchParams(location.search).has('refresh')")
    page.wait_for_timeout(500)
    stopped = len(seen)
    page.wait_for_timeout(2000)
    assert len(seen) == stopped, "Off did not stop the refresh"
    # A query typed but not run stays out of the URL when the interval changes.
    page.click(".cm-content")
    page.keyboard.press("End")
    page.keyboard.type(" + 1")
    page.keyboard.press("Escape")
    page.select_option("select[name=refresh]", "5s")
    until(page, "() => new URLSearchParams(location.search).get('refresh') === '5s'")
    assert parse_qs(urlsplit(page.url).query)["q0"] == ["ui_temperature"]
    screenshot(page, tmp_path, "explore-refresh")


FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el.closest('.cm-editor') ?? el);
  const label = el.getAttribute('aria-label') || el.closest('summary')?.title || el.name || el.id
    || el.textContent.trim().slice(0, 20);
  return { label, ringed: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 };
}"""


def test_keyboard_runs_queries_and_tab_walks_the_controls_with_focus_shown(
    server: Server, page: Any, tmp_path: Path
) -> None:
    # From the page's heading on, Tab reaches every control in reading order, each outlined.
    page.goto(explore_url(server, q0="ui_temperature", legend0="{{room}}"))
    wait_loaded(page)
    page.click("h1")  # the window has the keyboard, and Tab goes on from the heading
    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        page.wait_for_timeout(50)  # CodeMirror marks itself focused on the next frame
        focused = page.evaluate(FOCUSED)
        order.append(focused["label"])
        assert focused["ringed"], f"no visible focus on {focused['label']}"
        if focused["label"] == "hall":
            break
    wanted = [
        "Time range",
        "Zoom out",
        "Auto-refresh",
        "Run query",
        "PromQL query A",
        "Legend format of query A",
        "+ Add query",
        "mode",
        "Step (empty: auto)",
        "stacked",
        "local-time",
    ]
    positions = [next(i for i, label in enumerate(order) if want in label) for want in wanted]
    assert positions == sorted(positions), order
    screenshot(page, tmp_path, "explore-keyboard")

    # Ctrl+Enter runs the query too; Shift+Enter is a new line, as in Prometheus.
    page.goto(server.url + "/explore")
    page.click(".cm-content")
    page.keyboard.type("ui_temperature * 2")
    page.keyboard.press("Control+Enter")
    wait_loaded(page)
    assert parse_qs(urlsplit(page.url).query)["q0"] == ["ui_temperature * 2"]
    assert len(legend(page)) == 2

    page.keyboard.press("Shift+Enter")  # a new line, no run
    page.keyboard.type("+ 1")
    assert page.locator(".cm-line").count() == 2
    page.keyboard.press("Control+Enter")
    until(
        page, "() => new URLSearchParams(location.search).get('q0') === 'ui_temperature * 2\\n+ 1'"
    )


def test_quick_ranges_today_and_yesterday_query_whole_days(
    server: Server, page: Any, tmp_path: Path
) -> None:
    sent: list[dict[str, list[str]]] = []
    page.on(
        "request",
        lambda r: sent.append(parse_qs(r.post_data or "")) if "query_range" in r.url else None,
    )
    page.goto(explore_url(server, q0="ui_temperature"))
    wait_loaded(page)
    zone = ZoneInfo(page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone"))
    page.click(".timepicker summary")
    page.get_by_role("button", name="Yesterday").click()
    until(page, "() => new URLSearchParams(location.search).get('from') === 'now-1d/d'")
    wait_loaded(page)
    assert parse_qs(urlsplit(page.url).query)["to"] == ["now-1d/d"]
    assert page.inner_text(".timepicker summary") == "Yesterday"
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = (today - timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=zone)
    start, end = float(sent[-1]["start"][0]), float(sent[-1]["end"][0])
    assert start == yesterday.timestamp()
    assert end == today.timestamp() - 0.001  # the day's last millisecond
    screenshot(page, tmp_path, "explore-yesterday")

    page.reload()  # the URL keeps the rounding, not the times it stood for
    wait_loaded(page)
    assert page.inner_text(".timepicker summary") == "Yesterday"
    page.click(".timepicker summary")
    assert page.input_value("input[name=from]") == "now-1d/d"
    page.get_by_role("button", name="Today so far").click()
    until(page, "() => new URLSearchParams(location.search).get('to') === 'now'")
    wait_loaded(page)
    assert float(sent[-1]["start"][0]) == today.timestamp()


def test_the_url_forgets_hidden_series_no_longer_drawn(server: Server, page: Any) -> None:
    page.goto(
        explore_url(server, q0="ui_temperature", legend0="{{room}}", hide='A:ui_gone{room="x"}')
        + "&hide="
        + quote('A:ui_temperature{room="hall"}')
    )
    wait_loaded(page)
    until(page, "() => new URLSearchParams(location.search).getAll('hide').length === 1")
    assert parse_qs(urlsplit(page.url).query)["hide"] == ['A:ui_temperature{room="hall"}']
    assert {n: i["shown"] for n, i in legend(page).items()} == {"hall": False, "kitchen": True}


def test_a_range_vectors_sample_times_follow_the_local_time_switch(
    server: Server, browser: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, timezone_id="Asia/Kolkata"
    )
    page = console.watch(context.new_page())
    try:
        query = 'ui_temperature{room="hall"}[3m]'
        page.goto(explore_url(server, q0=query, mode="table"))
        wait_loaded(page)
        reply = api(server, "/api/v1/query", query=query)["data"]["result"][0]["values"]
        t, v = reply[-1]
        when = datetime.fromtimestamp(t, ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%d %H:%M:%S")
        # Prometheus' `value @epoch`, then the date in the browser's zone.
        assert f"{v} @{t} ({when})" in page.inner_text("#table")
        page.uncheck("#local-time")
        wait_loaded(page)
        when = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")
        assert f"{v} @{t} ({when} UTC)" in page.inner_text("#table")
        screenshot(page, tmp_path, "explore-range-vector-utc")
    finally:
        context.close()
    assert console.errors == []
