"""The logs page as the server renders it: the URL's state in a plain GET form (so the page
round-trips without its script), the query escaped, a limit above Loki's 5,000 brought down to
it, and the page in the navigation under Logs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.server.ui import EXPLORE, LOGS, WebUI


@pytest.fixture
def client() -> Iterator[TestClient]:
    ui = WebUI([EXPLORE, LOGS])
    with TestClient(Starlette(routes=list(ui.routes()))) as c:
        yield c


def test_the_form_holds_the_urls_state(client: TestClient) -> None:
    r = client.get(
        "/logs",
        params={
            "query": '{app="api"} |= "x"',
            "from": "now-6h",
            "to": "now-1h",
            "limit": "250",
            "direction": "FORWARD",
        },
    )
    assert r.status_code == 200
    query = "{app=&#34;api&#34;} |= &#34;x&#34;"
    assert f'<textarea name="query" aria-label="LogQL query" rows="1">{query}</textarea>' in r.text
    assert 'name="from" value="now-6h"' in r.text
    assert 'name="to" value="now-1h"' in r.text
    assert 'value="250"' in r.text
    assert '<option value="forward" selected>' in r.text
    assert "content-security-policy" in r.headers


def test_defaults_and_a_limit_over_lokis_maximum(client: TestClient) -> None:
    r = client.get("/logs")
    assert 'name="from" value="now-1h"' in r.text
    assert 'name="limit" type="number" min="1" max="5000" value="1000"' in r.text
    assert '<option value="backward" selected>' in r.text
    assert 'value="5000"' in client.get("/logs", params={"limit": "99999"}).text
    assert 'value="1000"' in client.get("/logs", params={"limit": "-3"}).text


def test_a_hostile_query_is_escaped(client: TestClient) -> None:
    r = client.get("/logs", params={"query": "</textarea><script>alert(1)</script>"})
    assert "<script>alert(1)" not in r.text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_the_page_is_in_the_navigation_under_logs(client: TestClient) -> None:
    r = client.get("/logs")
    links = re.findall(r'<li><a href="([^"]+)"( aria-current="page")?>([^<]+)</a></li>', r.text)
    assert links == [("/explore", "", "Explore"), ("/logs", ' aria-current="page"', "Logs")]
    assert re.search(r'<script type="module" src="/static/logs-[A-Z0-9]+\.js">', r.text)
