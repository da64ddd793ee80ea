"""The Traces pages as the server renders them, over an in-memory span store: the search's URL
state in a plain GET form (an incident's ``start``/``end`` microseconds read as the window), a
trace's waterfall with its rows, details and links out, hostile span data escaped, and the
400 and 404 pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.support.trace_data import CHECKOUT, HOSTILE, STACKTRACE, otlp_traces

from spyglass.ingest.otlp import decode_otlp_traces
from spyglass.server.ui import EXPLORE, WebUI, trace_pages
from spyglass.server.ui import _traces as traces_module
from spyglass.storage.memory_traces import MemorySpanStore

NOW_NS = 1_765_000_000_000_000_000


@pytest.fixture
def client() -> Iterator[TestClient]:
    store = MemorySpanStore()
    body = json.dumps(otlp_traces(NOW_NS)).encode()
    store.load(decode_otlp_traces(body, "application/json").batch.spans)
    ui = WebUI([EXPLORE, *trace_pages(store)])
    with TestClient(Starlette(routes=list(ui.routes()))) as c:
        yield c


def test_the_search_form_holds_the_urls_state(client: TestClient) -> None:
    r = client.get(
        "/traces",
        params={
            "service": "shop-api",
            "operation": 'GET "/x"',
            "tags": "http.status_code=500 error=true",
            "minDuration": "100ms",
            "maxDuration": "1.5s",
            "limit": "50",
            "sort": "longest",
            "from": "now-6h",
            "to": "now-1h",
        },
    )
    assert r.status_code == 200
    assert '<option value="shop-api" selected>shop-api</option>' in r.text
    assert '<option value="GET &#34;/x&#34;" selected>GET &#34;/x&#34;</option>' in r.text
    assert 'value="http.status_code=500 error=true"' in r.text
    assert 'name="minDuration" id="min-duration" value="100ms"' in r.text
    assert 'name="maxDuration" id="max-duration" value="1.5s"' in r.text
    assert 'name="limit" id="limit" min="1" max="1500" value="50"' in r.text
    assert '<option value="longest" selected>' in r.text
    assert 'name="from" value="now-6h"' in r.text
    assert 'name="to" value="now-1h"' in r.text
    nav = re.search(r'<a href="/traces" aria-current="page">Traces</a>', r.text)
    assert nav is not None


def test_an_incidents_window_in_microseconds_becomes_the_time_range(client: TestClient) -> None:
    r = client.get(
        "/traces", params={"service": "api", "start": "1765000000000000", "end": "1765000600000000"}
    )
    assert 'name="from" value="1765000000000"' in r.text
    assert 'name="to" value="1765000600000"' in r.text


def test_jaeger_uis_lookback_becomes_the_start_of_the_range(client: TestClient) -> None:
    r = client.get("/traces", params={"service": "api", "lookback": "2d"})
    assert 'name="from" value="now-2d"' in r.text
    r = client.get("/traces", params={"service": "api", "lookback": "custom"})
    assert 'name="from" value="now-1h"' in r.text


def test_a_trace_past_the_row_limit_draws_its_first_rows_and_says_so(
    monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    monkeypatch.setattr(traces_module, "MAX_ROWS", 3)
    r = client.get(f"/traces/{CHECKOUT}")
    assert r.text.count('<div class="wf-row') == 3
    assert "This trace has 5 spans: the first 3 (in tree order) are drawn." in r.text
    assert '<dd id="trace-spans">5</dd>' in r.text


def test_defaults_and_nonsense_fall_back(client: TestClient) -> None:
    r = client.get("/traces", params={"limit": "-3", "sort": "<b>", "start": "x"})
    assert 'value="20"' in r.text
    assert '<option value="recent" selected>' in r.text
    assert 'name="from" value="now-1h"' in r.text
    assert "Choose a service to search its traces." in r.text


def test_a_trace_page_shows_the_waterfall_in_tree_order(client: TestClient) -> None:
    r = client.get(f"/traces/{CHECKOUT}")
    assert r.status_code == 200
    rows = re.findall(
        r'<div class="wf-row[^"]*" id="span-(\w+)" data-span="\w+" data-depth="(\d)"', r.text
    )
    assert rows == [
        ("1000000000000001", "0"),
        ("1000000000000002", "1"),
        ("1000000000000003", "2"),
        ("1000000000000004", "3"),
        ("1000000000000005", "1"),
    ]
    assert r.text.count('class="wf-row wf-error"') == 2
    assert '<dd id="trace-spans">5</dd>' in r.text
    assert '<dd id="trace-duration">300ms</dd>' in r.text
    assert "<title>shop-api: POST /checkout · Spyglass</title>" in r.text


def test_span_data_is_escaped_and_the_stack_trace_kept_whole(client: TestClient) -> None:
    r = client.get(f"/traces/{CHECKOUT}")
    assert HOSTILE not in r.text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in r.text
    assert "SELECT &lt;b&gt;cards&lt;/b&gt;" in r.text
    escaped = STACKTRACE.replace('"', "&#34;")
    stack = f'<pre class="wf-stacktrace" tabindex="0" aria-label="Stack trace">{escaped}</pre>'
    # In the span's details, fetched alone, and in the page that opens them without script.
    fragment = client.get(f"/traces/{CHECKOUT}/spans/1000000000000002")
    page = client.get(f"/traces/{CHECKOUT}", params={"span": "1000000000000002"})
    for text in (fragment.text, page.text):
        assert stack in text
        assert HOSTILE not in text
        assert str(escape(f"division by zero {HOSTILE}")) in text


def test_the_page_leaves_out_the_details_but_its_links_open_them(client: TestClient) -> None:
    r = client.get(f"/traces/{CHECKOUT}")
    # The attributes, resource and events are not in the page until a span is opened.
    assert "wf-detail" not in r.text
    assert "exception.type" not in r.text
    assert "host.name" not in r.text
    # Each span's name links to the page with its details open (what a click does without
    # script); the open span's link closes them.
    assert 'class="wf-span" href="?span=1000000000000002#span-1000000000000002"' in r.text
    r = client.get(f"/traces/{CHECKOUT}", params={"span": "1000000000000002"})
    assert r.text.count('<section class="wf-detail"') == 1
    assert '<section class="wf-detail" id="detail-1000000000000002"' in r.text
    assert 'class="wf-span" href="?#span-1000000000000002" aria-expanded="true"' in r.text
    assert 'class="wf-row wf-error wf-selected" id="span-1000000000000002"' in r.text
    assert "exception.type" in r.text
    # An unknown span id opens nothing.
    r = client.get(f"/traces/{CHECKOUT}", params={"span": "ffffffffffffffff"})
    assert r.status_code == 200
    assert "wf-detail" not in r.text


def test_a_spans_details_come_alone_as_a_fragment(client: TestClient) -> None:
    r = client.get(f"/traces/{CHECKOUT}/spans/1000000000000001")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    # No layout: the fragment goes inside the page that asked for it.
    assert "<html" not in r.text
    assert "<nav" not in r.text
    assert r.text.lstrip().startswith('<div class="wf-detail-head">')
    assert '<table class="data-table compact kv-table wf-kv wf-attributes">' in r.text
    assert '<th scope="row">host.name</th><td>web-1</td>' in r.text
    assert '<th scope="row">Parent ID</th><td class="mono">(root)</td>' in r.text
    # A child's parent is a link to the parent's row; its start is from the trace's start.
    r = client.get(f"/traces/{CHECKOUT}/spans/1000000000000003")
    assert '<a href="#span-1000000000000002">1000000000000002</a>' in r.text
    assert "Duration: 130ms · Start: 20ms" in r.text


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        (f"/traces/{CHECKOUT}/spans/ffffffffffffffff", 404, "span not found"),
        ("/traces/" + "ab" * 16 + "/spans/1000000000000001", 404, "span not found"),
        ("/traces/not-hex/spans/1000000000000001", 400, "Not a trace id"),
    ],
)
def test_an_unknown_span_or_trace_is_an_error_fragment(
    client: TestClient, path: str, status: int, text: str
) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert text in r.text
    assert "<html" not in r.text


def test_a_trace_links_to_its_logs_and_its_jaeger_json(client: TestClient) -> None:
    r = client.get(f"/traces/{CHECKOUT}")
    logs = re.search(r'<a class="button" href="([^"]+)" id="trace-logs">', r.text)
    assert logs is not None
    url = urlsplit(logs.group(1).replace("&amp;", "&"))
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/logs"
    assert params["query"] == f'{{service_name=~".+"}} |= "{CHECKOUT}"'
    start_ms = (NOW_NS - 5 * 60 * 10**9) // 1_000_000
    assert int(params["from"]) == start_ms - 5 * 60_000
    assert int(params["to"]) == start_ms + 300 + 5 * 60_000
    assert f'href="/api/traces/{CHECKOUT}" download="trace-{CHECKOUT}.json"' in r.text


def test_a_short_trace_id_is_widened_as_jaeger_reads_it(client: TestClient) -> None:
    r = client.get("/traces/1")
    assert r.status_code == 404
    assert "0" * 31 + "1" in r.text


def test_an_unknown_trace_is_a_404_page(client: TestClient) -> None:
    r = client.get("/traces/" + "ab" * 16)
    assert r.status_code == 404
    assert "Trace not found" in r.text


@pytest.mark.parametrize("bad", ["not-hex", "f" * 33, "%3Cscript%3E"])
def test_a_malformed_trace_id_is_a_400_page(client: TestClient, bad: str) -> None:
    r = client.get("/traces/" + bad)
    assert r.status_code == 400
    assert "Not a trace id" in r.text
    assert "<script>" not in r.text
