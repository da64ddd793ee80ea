"""The service map and Explore's exemplars in Debian's chromium, against a real ``spyglass serve``
(span metrics and the service graph on, as by default) fed through the real ingest APIs.

The data, chosen so every figure can be checked by hand:

- spans over OTLP/HTTP JSON (``/v1/traces``), one request per trace as an SDK's batch sends it:
  ``TRACES`` traces ``web -> api -> db`` (``db`` only as a client span's ``peer.service``);
  every other one also ``api -> auth`` (one of those failing in ``auth``); the first two also
  ``web -> HOSTILE`` (a service named with markup and quotes). So the map's calls are exactly
  web->api 6, api->db 6, api->auth 3, web->HOSTILE 2.
- three hours ago, a bigger graph of ``BIG_SERVICES`` services with internal spans only (so no
  span metrics and no service graph: it stays out of the last hour's map): a gateway, six
  frontends, twelve middle services and eight backends, each calling a few of the next layer,
  plus backend-0 calling middle service 0 back (a cycle).
- a latency histogram over remote_write with exemplars: bucket ``le="0.5"`` of
  ``checkout_seconds`` carries ``trace_id`` exemplars, ``le="+Inf"`` one whose trace id is
  labelled ``traceID`` and whose other label is hostile markup, and one with no trace id.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from tests.support.browser import ConsoleLog, screenshot
from tests.support.servers import Server, spyglass

from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import labels_of
from spyglass.ingest.remote_write import encode_write_request

HOSTILE = "<script>window.pwned=1</script>\"q'"
TRACES = 6
EXPECTED_CALLS = {
    ("api", "auth"): 3,
    ("api", "db"): 6,
    ("web", HOSTILE): 2,
    ("web", "api"): 6,
}
RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
EXEMPLAR_TRACE = "0af7651916cd43dd8448eb211c80319c"
HOSTILE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _span(
    trace: str,
    span_id: str,
    parent: str,
    name: str,
    kind: int,
    *,
    error: bool = False,
    peer: str = "",
    ago_s: float = 2,
) -> dict[str, Any]:
    now = time.time_ns() - int(ago_s * 1e9)
    span: dict[str, Any] = {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(now - 40_000_000),
        "endTimeUnixNano": str(now),
        "status": {"code": 2 if error else 1},
    }
    if peer:
        span["attributes"] = [{"key": "peer.service", "value": {"stringValue": peer}}]
    return span


def _service(name: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": name}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
    }


def trace_request(i: int) -> dict[str, Any]:
    """Trace ``i``: web serves it and calls api (and the hostile service for i < 2); api
    queries db and, for even i, asks auth (failing for i == 0)."""
    trace = f"{i + 1:032x}"
    sid = lambda n: f"{i * 16 + n + 1:016x}"  # noqa: E731
    web = [_span(trace, sid(0), "", "GET /", 2), _span(trace, sid(1), sid(0), "GET /api", 3)]
    api = [
        _span(trace, sid(2), sid(1), "GET /api", 2),
        _span(trace, sid(3), sid(2), "SELECT", 3, peer="db"),
    ]
    services = []
    if i % 2 == 0:
        api.append(_span(trace, sid(4), sid(2), "check", 3))
        services.append(_service("auth", [_span(trace, sid(5), sid(4), "check", 2, error=i == 0)]))
    if i < 2:
        web.append(_span(trace, sid(6), sid(0), "render", 3))
        services.append(_service(HOSTILE, [_span(trace, sid(7), sid(6), "render", 2)]))
    return {"resourceSpans": [_service("web", web), _service("api", api), *services]}


BIG_LAYERS = (
    ["gateway"],
    [f"frontend-{i}" for i in range(6)],
    [f"middle-service-with-a-long-name-{i}" for i in range(12)],
    [f"backend-{i}" for i in range(8)],
)
BIG_SERVICES = sum(len(layer) for layer in BIG_LAYERS)


def big_calls() -> list[tuple[str, str]]:
    """Each service of a layer calls two or three of the next; backend-0 calls back the middle
    service that calls it."""
    calls = []
    for upper, lower in itertools.pairwise(BIG_LAYERS):
        for i, caller in enumerate(upper):
            for k in range(3 if len(lower) > len(upper) else 2):
                calls.append((caller, lower[(2 * i + k) % len(lower)]))
    calls.append(("backend-0", BIG_LAYERS[2][0]))
    return sorted(set(calls))


def big_request() -> dict[str, Any]:
    """One trace per call, three hours ago: an internal span of the caller and its child."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    for n, (caller, callee) in enumerate(big_calls()):
        trace = f"{0xB16 << 64 | n:032x}"
        parent, child = f"{2 * n + 1:016x}", f"{2 * n + 2:016x}"
        by_service.setdefault(caller, []).append(
            _span(trace, parent, "", "work", 1, ago_s=3 * 3600)
        )
        by_service.setdefault(callee, []).append(
            _span(trace, child, parent, "work", 1, ago_s=3 * 3600)
        )
    return {"resourceSpans": [_service(name, spans) for name, spans in by_service.items()]}


def write_histogram(url: str) -> None:
    """Ten minutes of a latency histogram with exemplars on two buckets."""
    now_ms = (int(time.time()) - 5) * 1000

    def bucket(le: str) -> Any:
        return labels_of({"__name__": "checkout_seconds_bucket", "job": "shop", "le": le})

    series = []
    for le, per_step in (("0.1", 1.0), ("0.5", 3.0), ("+Inf", 4.0)):
        points = [(now_ms - k * 15_000, (40 - k) * per_step) for k in range(40, -1, -1)]
        series.append((bucket(le), points))
    exemplars = [
        Exemplar(bucket("0.5"), (("trace_id", EXEMPLAR_TRACE),), 0.31, now_ms - 120_000),
        Exemplar(
            bucket("+Inf"),
            (("note", "<img src=x onerror=window.pwned=1>"), ("traceID", HOSTILE_TRACE)),
            0.42,
            now_ms - 60_000,
        ),
        Exemplar(bucket("0.1"), (("span_id", "00f067aa0ba902b7"),), 0.08, now_ms - 240_000),
    ]
    body = encode_write_request(series, exemplars=exemplars)
    r = httpx.post(url + "/api/v1/write", content=body, headers=RW_HEADERS, timeout=30)
    assert r.status_code == 204, r.text


def _dependencies(server: Server) -> Any:
    """Jaeger's dependencies of the last hour."""
    params = {"endTs": str(int(time.time() * 1000)), "lookback": "3600000"}
    r = httpx.get(server.url + "/api/dependencies", params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _wait(what: str, check: Any, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {seconds} s")
        time.sleep(1)


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A ``spyglass serve`` holding the spans and the histogram, once span metrics and the
    dependency graph answer for them."""
    with spyglass(tmp_path_factory.mktemp("servicemap") / "data") as s:
        for i in range(TRACES):
            r = httpx.post(s.url + "/v1/traces", json=trace_request(i), timeout=30)
            assert r.status_code == 200, r.text
        r = httpx.post(s.url + "/v1/traces", json=big_request(), timeout=30)
        assert r.status_code == 200, r.text
        write_histogram(s.url)

        def calls() -> bool:
            body = _dependencies(s)
            return len(body["data"] or []) == len(EXPECTED_CALLS)

        def metrics() -> bool:
            q = "sum(traces_service_graph_request_total)"
            body = httpx.get(s.url + "/api/v1/query", params={"query": q}, timeout=30).json()
            return bool(body["data"]["result"])

        _wait("dependencies", calls)
        _wait("span metrics (written every 15 s)", metrics)
        yield s


def _query(server: Server, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(server.url + "/api/v1/query", params={"query": expr}, timeout=30).json()
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _x(node: Any) -> float:
    """A box's left edge, from its ``translate(x,y)``."""
    transform = node.get_attribute("transform") or ""
    return float(transform.removeprefix("translate(").split(",")[0])


def test_the_map_shows_exactly_the_calls_with_their_counts(
    traced: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(traced.url + "/traces/map")
    page.locator("g.edge").first.wait_for()
    edges = page.locator("g.edge")
    drawn = {
        (edges.nth(i).get_attribute("data-source"), edges.nth(i).get_attribute("data-target")): int(
            edges.nth(i).get_attribute("data-calls") or "0"
        )
        for i in range(edges.count())
    }
    assert drawn == EXPECTED_CALLS
    # The same calls in the table under the map, with the counts Jaeger's API gives.
    rows = page.locator("#calls tr.call")
    table = {
        (
            rows.nth(i).locator(".caller").inner_text(),
            rows.nth(i).locator(".callee").inner_text(),
        ): int(rows.nth(i).locator(".calls").inner_text())
        for i in range(rows.count())
    }
    assert table == EXPECTED_CALLS
    jaeger = _dependencies(traced)["data"]
    assert {(d["parent"], d["child"]): d["callCount"] for d in jaeger} == EXPECTED_CALLS
    nodes = page.locator("g.node")
    names = sorted(nodes.nth(i).get_attribute("data-service") or "" for i in range(nodes.count()))
    assert names == sorted(["api", "auth", "db", "web", HOSTILE])
    # Callers left of callees: web, then api and the hostile service, then auth and db.
    x = {n: _x(page.locator(f'g.node[data-service="{n}"]')) for n in ("web", "api", "auth", "db")}
    assert x["web"] < x["api"] < x["auth"] == x["db"]
    # The call into auth failed once in three: its arrow says so, from the service graph.
    auth_edge = page.locator('g.edge[data-target="auth"]')
    assert "33.3% errors" in (auth_edge.text_content() or "")
    assert "edge-failing" in (auth_edge.get_attribute("class") or "")
    # The hostile name is text: in its box (cut short), whole in the box's title.
    hostile = page.locator("g.node").filter(has_text="<script>")
    assert hostile.locator("title").text_content() == HOSTILE
    assert page.locator("main script, main img").count() == 0
    assert page.evaluate("window.pwned") is None
    screenshot(page, tmp_path, "servicemap")


def test_a_service_opens_its_figures_and_links(traced: Server, page: Any, tmp_path: Path) -> None:
    page.goto(traced.url + "/traces/map?from=now-30m&to=now")
    node = page.locator('g.node[data-service="auth"]')
    node.wait_for()
    node.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#service-panel")
    panel.wait_for()
    page.wait_for_url("**service=auth**")
    assert panel.locator("h2").inner_text() == "auth"
    figures = dict(
        zip(
            panel.locator("dt").all_inner_texts(),
            panel.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    # What the span-metric queries answer: one of auth's three requests failed.
    assert figures["Errors"] == "33.3%"
    requests = _query(
        traced,
        'sum(rate(traces_spanmetrics_calls_total{service="auth", '
        'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER"}[30m]))',
    )
    # The page's figure is that query's answer (at its own evaluation time: within 10 %).
    per_second = float(requests[0]["value"][1])
    shown, unit = figures["Requests"].split("/")
    assert unit in ("s", "min")
    assert float(shown) / (60 if unit == "min" else 1) == pytest.approx(per_second, rel=0.1)
    assert figures["p95"].endswith(" ms")
    assert "Called by api (3)" in panel.inner_text()
    search = panel.locator("a.traces-link").get_attribute("href") or ""
    assert urlsplit(search).path == "/traces"
    assert parse_qs(urlsplit(search).query) == {
        "service": ["auth"],
        "from": ["now-30m"],
        "to": ["now"],
    }
    screenshot(page, tmp_path, "servicemap-panel")

    # The hostile service's Explore link is a query that runs, for that service only.
    page.goto(traced.url + "/traces/map?" + urlencode({"service": HOSTILE}))
    panel.wait_for()
    assert panel.locator("h2").inner_text() == HOSTILE
    explore = panel.locator("a.explore-link").get_attribute("href") or ""
    q0 = parse_qs(urlsplit(explore).query)["q0"][0]
    result = _query(traced, q0.replace("[5m]", "[30m]"))
    assert [r["metric"] for r in result] == [{"span_name": "render"}]
    page.locator("a.explore-link").click()
    page.wait_for_url("**/explore?**")
    page.locator("#legend .legend-item").first.wait_for()
    assert "render" in page.locator("#legend").inner_text()
    # Exemplars are on: span metrics keep the latest trace of each bucket, one of that
    # service's two traces, and its diamond links there.
    page.locator("a.exemplar").first.wait_for()
    hrefs = {a.get_attribute("href") for a in page.locator("a.exemplar").all()}
    assert hrefs <= {f"/traces/{1:032x}", f"/traces/{2:032x}"}
    assert page.evaluate("window.pwned") is None


def _found(page: Any) -> list[str]:
    """The trace ids the trace search page lists, once its search has answered."""
    page.locator("#results li.trace-result, #no-data:not([hidden])").first.wait_for()
    rows = page.locator("#results li.trace-result").all()
    return sorted(r.get_attribute("data-trace") or "" for r in rows)


def test_an_arrow_opens_the_traces_that_cross_its_call(
    traced: Server, page: Any, tmp_path: Path
) -> None:
    """A click on an arrow (or Enter on it, reached with Tab) opens the trace search for the
    traces of that call: a callee with spans of its own by its service, a callee known only
    from ``peer.service`` (db) by the caller's spans carrying that tag. The Calls table's
    rows link to the same searches."""
    page.goto(traced.url + "/traces/map?from=now-30m&to=now")
    auth = page.locator("a.edge-link", has=page.locator('g.edge[data-target="auth"]'))
    auth.wait_for()
    screenshot(page, tmp_path, "servicemap-edges")
    href = auth.get_attribute("href") or ""
    rows = page.locator("#calls tr.call")
    table = {
        (r.locator(".caller").inner_text(), r.locator(".callee").inner_text()): r.locator(
            "a.call-traces"
        ).get_attribute("href")
        for r in rows.all()
    }
    assert table[("api", "auth")] == href
    auth.locator(".edge-label").first.click()
    page.wait_for_url("**/traces?**")
    assert parse_qs(urlsplit(page.url).query) == {
        "service": ["auth"],
        "from": ["now-30m"],
        "to": ["now"],
    }
    # auth served the even traces' calls from api, and nothing else.
    assert _found(page) == [f"{i + 1:032x}" for i in range(0, TRACES, 2)]

    page.goto(traced.url + "/traces/map?from=now-30m&to=now")
    db = page.locator("a.edge-link", has=page.locator('g.edge[data-target="db"]'))
    db.wait_for()
    assert db.evaluate("el => el.tabIndex") == 0  # in the Tab order
    db.focus()
    # Focused, the arrow has a band in the focus colour under it (a focused box its border).
    stroke = "el => getComputedStyle(el).stroke"
    assert db.locator(".edge-hit").evaluate(stroke) != "rgba(0, 0, 0, 0)"
    auth = page.locator("a.edge-link", has=page.locator('g.edge[data-target="auth"]'))
    assert auth.locator(".edge-hit").evaluate(stroke) == "rgba(0, 0, 0, 0)"  # not focused
    screenshot(page, tmp_path, "servicemap-edge-focused")
    page.keyboard.press("Enter")
    page.wait_for_url("**/traces?**")
    assert parse_qs(urlsplit(page.url).query) == {
        "service": ["api"],
        "tags": ["peer.service=db"],
        "from": ["now-30m"],
        "to": ["now"],
    }
    assert _found(page) == [f"{i + 1:032x}" for i in range(TRACES)]
    assert page.locator("#tags").input_value() == "peer.service=db"

    # The hostile callee: its name reaches the search as a value, not as markup.
    page.goto(traced.url + "/traces/map?from=now-30m&to=now")
    page.locator("a.edge-link").first.wait_for()
    (hostile,) = [
        a
        for a in page.locator("a.edge-link").all()
        if a.locator("g.edge").get_attribute("data-target") == HOSTILE
    ]
    assert "Search these traces" in (hostile.get_attribute("aria-label") or "")
    hostile.locator(".edge-label").first.click()
    page.wait_for_url("**/traces?**")
    assert parse_qs(urlsplit(page.url).query)["service"] == [HOSTILE]
    assert _found(page) == [f"{i + 1:032x}" for i in range(2)]
    assert page.evaluate("window.pwned") is None
    screenshot(page, tmp_path, "servicemap-edge-traces")


def test_an_empty_range_and_a_bad_one_say_so(traced: Server, page: Any) -> None:
    page.goto(traced.url + "/traces/map?from=now-30d&to=now-29d")
    page.locator("#no-data").wait_for()
    assert page.locator("g.node").count() == 0
    assert page.locator(".calls-panel").is_hidden()
    page.goto(traced.url + "/traces/map?from=yesterday&to=now")
    assert page.locator("#errors").inner_text() == "Invalid time range"


def test_a_narrow_window_scrolls_the_map(traced: Server, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    try:
        page = context.new_page()
        page.goto(traced.url + "/traces/map")
        page.locator("g.edge").first.wait_for()
        scroll = page.locator("#map")
        assert scroll.evaluate("el => el.scrollWidth > el.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        screenshot(page, tmp_path, "servicemap-narrow")
    finally:
        context.close()


def test_explore_draws_exemplars_that_link_to_their_traces(
    traced: Server, page: Any, console: ConsoleLog, tmp_path: Path
) -> None:
    console.allow("404")  # /traces/<id> is another page's: only its link is checked here
    query = "sum by (le) (rate(checkout_seconds_bucket[1m]))"
    page.goto(traced.url + "/explore?" + urlencode({"q0": query}))
    page.locator("#legend .legend-item").first.wait_for()
    assert page.locator(".exemplar").count() == 0
    page.get_by_label("Show exemplars").check()
    page.wait_for_url("**exemplars=1**")
    markers = page.locator(".exemplar")
    markers.first.wait_for()
    assert markers.count() == 3
    hrefs = sorted(a.get_attribute("href") or "" for a in page.locator("a.exemplar").all())
    assert hrefs == sorted([f"/traces/{EXEMPLAR_TRACE}", f"/traces/{HOSTILE_TRACE}"])
    # The one without a trace id is no link, but shows its labels all the same.
    assert page.locator("span.exemplar").count() == 1
    assert "Exemplars: 3" in page.locator("#status").inner_text()

    hostile = page.locator(f'a.exemplar[data-trace-id="{HOSTILE_TRACE}"]')
    hostile.hover()
    tip = page.locator(".exemplar-tooltip")
    tip.wait_for()
    text = tip.inner_text()
    for shown in ("Value", "0.42", "le", "+Inf", "traceID", HOSTILE_TRACE, "<img src=x"):
        assert shown in text, shown
    assert page.locator("main img").count() == 0
    screenshot(page, tmp_path, "explore-exemplars")

    # The URL keeps the toggle: a reload draws them again; a click opens the trace.
    page.reload()
    page.locator("a.exemplar").first.wait_for()
    page.locator(f'a.exemplar[data-trace-id="{EXEMPLAR_TRACE}"]').click()
    page.wait_for_url(f"**/traces/{EXEMPLAR_TRACE}")
    assert page.evaluate("window.pwned") is None


def test_a_dashboard_target_with_exemplar_true_draws_them(
    traced: Server, page: Any, tmp_path: Path
) -> None:
    """Grafana's ``"exemplar": true`` on a Prometheus target: its panel shows the exemplars;
    the same query without it in the next panel shows none."""
    expr = "sum by (le) (rate(checkout_seconds_bucket[1m]))"
    panels = [
        {
            "id": n,
            "type": "timeseries",
            "title": title,
            "gridPos": {"x": 0, "y": 8 * n, "w": 24, "h": 8},
            "targets": [{"refId": "A", "expr": expr, "exemplar": n == 1}],
        }
        for n, title in ((1, "with exemplars"), (2, "without"))
    ]
    dashboard = {"uid": "exemplars", "title": "Exemplars", "panels": panels}
    r = httpx.post(traced.url + "/api/dashboards/db", json={"dashboard": dashboard}, timeout=30)
    assert r.status_code == 200, r.text
    page.goto(traced.url + "/d/exemplars?from=now-1h&to=now")
    shown = page.locator(".dash-panel", has_text="with exemplars")
    shown.locator(".exemplar").first.wait_for()
    assert shown.locator(".exemplar").count() == 3
    hrefs = sorted(a.get_attribute("href") or "" for a in shown.locator("a.exemplar").all())
    assert hrefs == sorted([f"/traces/{EXEMPLAR_TRACE}", f"/traces/{HOSTILE_TRACE}"])
    plain = page.locator(".dash-panel", has_text="without")
    plain.locator("canvas").first.wait_for()
    assert plain.locator(".exemplar").count() == 0
    shown.locator(f'a.exemplar[data-trace-id="{EXEMPLAR_TRACE}"]').hover()
    assert EXEMPLAR_TRACE in shown.locator(".exemplar-tooltip").inner_text()
    screenshot(page, tmp_path, "dashboard-exemplars")


def test_thirty_services_are_laid_out_without_overlaps(
    traced: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(traced.url + "/traces/map?from=now-4h&to=now-2h")
    page.locator("g.edge").first.wait_for()
    assert page.locator("g.node").count() == BIG_SERVICES
    edges = page.locator("g.edge")
    drawn = sorted(
        (e.get_attribute("data-source") or "", e.get_attribute("data-target") or "")
        for e in edges.all()
    )
    assert drawn == big_calls()
    boxes = [n.bounding_box() for n in page.locator("g.node rect").all()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart_x = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            apart_y = a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
            assert apart_x or apart_y, (a, b)
    # Four columns, callers left: the cycle's call back is drawn, not laid out as a layer.
    screenshot(page, tmp_path, "servicemap-thirty")
    columns = {
        name: _x(page.locator(f'g.node[data-service="{name}"]'))
        for name in ("gateway", "frontend-0", BIG_LAYERS[2][0], "backend-0")
    }
    assert sorted(columns.values()) == list(columns.values())
    # Without span metrics for them, a box shows the rate of the calls into it.
    assert "No span metrics" in _open(page, "backend-3")
    screenshot(page, tmp_path, "servicemap-thirty-panel")


def _open(page: Any, service: str) -> str:
    page.locator(f'g.node[data-service="{service}"]').click()
    panel = page.locator("#service-panel")
    panel.wait_for()
    return str(panel.inner_text())
