"""The ``ui`` component in process: security headers, caching of the built files, escaping of
data in templates, and the navigation that pages from other components slot into."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from spyglass.promql import Engine
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.server.app import create_app
from spyglass.server.component import Part
from spyglass.server.lifecycle import Lifecycle
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.server.ui import (
    EXPLORE,
    NAV_SECTIONS,
    Assets,
    OffersPages,
    Page,
    WebUI,
    contributed_pages,
    service_map_page,
)
from spyglass.storage.memory import MemoryStore

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"


async def _rules_context(request: Request) -> Mapping[str, Any]:
    del request
    return {"rules": [{"name": "<b>HighLatency</b>", "expr": 'x{a="</td><script>"}'}]}


RULES = Page(
    path="/rules",
    title="Rules",
    template="rules_test.html",
    section="Rules",
    context=_rules_context,
    templates=TEMPLATES,
)


@dataclass(frozen=True)
class RulesPart(Part):
    """A component of another domain that offers a page."""

    def pages(self) -> Sequence[Page]:
        return [RULES]


@pytest.fixture
def client() -> Iterator[TestClient]:
    store = MemoryStore()
    metrics = SelfMetrics()
    api = PrometheusAPI(store, store, engine=Engine(store), build_info=BuildInfo("3.0.0", "0"))
    components: list[Any] = [Part("prometheus-api", routes=api.routes), RulesPart("rules")]
    components += [WebUI([EXPLORE, *contributed_pages(components)]), Lifecycle(metrics)]
    with TestClient(create_app(components, metrics)) as c:
        yield c


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in policy.split("; ")}


@pytest.mark.parametrize("path", ["/", "/explore", "/explore?q0=up", "/rules"])
def test_every_page_forbids_inline_and_foreign_scripts(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    csp = _csp(r)
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    # The editor's style elements carry the page's nonce; nothing else inline.
    nonce = re.fullmatch(r"'self' 'nonce-([\w-]+)'", csp["style-src"])
    assert nonce
    assert f'<meta name="csp-nonce" content="{nonce.group(1)}">' in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    # No inline script at all: every <script> loads a file from /static.
    scripts = re.findall(r"<script\b[^>]*>", r.text)
    assert all(re.search(r'src="/static/[^"]+"', s) for s in scripts), scripts
    assert "<script>" not in r.text


def test_each_response_gets_its_own_nonce(client: TestClient) -> None:
    first = _csp(client.get("/explore"))["style-src"]
    second = _csp(client.get("/explore"))["style-src"]
    assert first != second


def test_query_text_from_the_url_is_escaped(client: TestClient) -> None:
    hostile = "</textarea><script>alert(1)</script>"
    legend = '"><img src=x onerror=alert(1)>'
    r = client.get("/explore", params={"q0": hostile, "legend0": legend, "from": "<now>"})
    assert "<script>alert(1)" not in r.text
    assert "<img src=x" not in r.text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in r.text
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in r.text
    assert 'value="&lt;now&gt;"' in r.text


def test_the_url_state_is_rendered_into_the_form(client: TestClient) -> None:
    r = client.get(
        "/explore",
        params={
            "q1": "rate(b[5m])",
            "q0": "a",
            "legend1": "{{job}}",
            "from": "now-6h",
            "to": "1700000000000",
            "step": "30s",
            "mode": "table",
            "stacked": "1",
            "time": "1699990000000",
            "refresh": "2m",
        },
    )
    text = r.text
    # Queries in index order, whatever the parameters' order.
    assert text.index('name="q0"') < text.index('name="q1"')
    assert '<textarea name="q1" aria-label="PromQL query" rows="1">rate(b[5m])</textarea>' in text
    assert 'name="legend1" value="{{job}}"' in text
    assert 'name="from" value="now-6h"' in text
    assert 'name="to" value="1700000000000"' in text
    assert 'name="step" value="30s"' in text
    assert 'value="table" checked' in text
    assert 'name="stacked" value="1" checked' in text
    assert 'name="time" value="1699990000000"' in text
    # A refresh interval the menu does not offer is added to it, chosen.
    assert '<option value="2m" selected>2m</option>' in text
    assert '<option value="">Off</option>' in text


def test_data_in_a_contributed_pages_template_is_escaped(client: TestClient) -> None:
    r = client.get("/rules")
    assert "&lt;b&gt;HighLatency&lt;/b&gt;" in r.text
    assert "x{a=&#34;&lt;/td&gt;&lt;script&gt;&#34;}" in r.text
    assert "<b>HighLatency" not in r.text


def test_the_navigation_lists_only_sections_with_pages_in_order(client: TestClient) -> None:
    r = client.get("/rules")
    links = re.findall(r'<li><a href="([^"]+)"( aria-current="page")?>([^<]+)</a></li>', r.text)
    assert links == [("/explore", "", "Explore"), ("/rules", ' aria-current="page"', "Rules")]
    assert "Dashboards" not in r.text
    assert "Alerts" not in r.text
    assert NAV_SECTIONS.index("Explore") < NAV_SECTIONS.index("Rules")


def test_a_component_offers_pages_by_having_pages() -> None:
    assert isinstance(RulesPart("rules"), OffersPages)
    assert contributed_pages([Part("x"), RulesPart("rules")]) == [RULES]


def test_pages_do_not_shadow_the_api_or_the_metrics(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "1+1", "time": "0"})
    assert r.json()["data"]["result"] == [0, "2"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/-/ready").status_code == 200
    assert client.get("/nope").status_code == 404


async def _trace_context(request: Request) -> Mapping[str, Any]:
    return {"rules": [{"name": "trace " + request.path_params["trace_id"], "expr": ""}]}


def test_a_fixed_path_wins_over_a_parameter_page_registered_before_it() -> None:
    """A page at ``/traces/{trace_id}`` listed first does not take ``/traces/map``."""
    trace = Page(
        path="/traces/{trace_id}",
        title="Trace",
        template="rules_test.html",
        section="Traces",
        context=_trace_context,
        templates=TEMPLATES,
    )
    metrics = SelfMetrics()
    components = [WebUI([trace, service_map_page(span_metrics=True)]), Lifecycle(metrics)]
    with TestClient(create_app(components, metrics)) as c:
        assert "Service map" in c.get("/traces/map").text
        assert "trace abc" in c.get("/traces/abc").text
        # The section's link is still its first page, whichever route answers first.
        assert '<a href="/traces/{trace_id}"' in c.get("/traces/map").text


def test_built_files_are_cached_for_a_year_and_gzipped(client: TestClient) -> None:
    bundle = Assets().bundle("explore")
    assert bundle.js is not None
    r = client.get(f"/static/{bundle.js}", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["content-encoding"] == "gzip"
    on_disk = (Assets().folder / bundle.js).read_bytes()
    assert r.content == on_disk  # the client inflated it
    again = client.get(f"/static/{bundle.js}", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    plain = client.get(f"/static/{bundle.css[0]}", headers={"Accept-Encoding": "identity"})
    assert plain.headers["content-type"] == "text/css; charset=utf-8"
    assert "content-encoding" not in plain.headers
    assert gzip.compress(plain.content)  # a body, not empty


@pytest.mark.parametrize(
    "name",
    ["manifest.json", "nope-ABCDEFGH.js", "..%2F_component.py", "%2E%2E%2F__init__.py"],
)
def test_only_built_files_are_served(client: TestClient, name: str) -> None:
    r = client.get(f"/static/{name}")
    assert r.status_code == 404


def test_a_page_in_an_unknown_section_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown section 'Graphs'"):
        Page(path="/g", title="G", template="x.html", section="Graphs")


def test_a_missing_template_or_script_or_a_taken_path_fails_at_start_up() -> None:
    with pytest.raises(jinja2.TemplateNotFound, match=r"nope\.html"):
        WebUI([Page(path="/x", title="X", template="nope.html")])
    with pytest.raises(KeyError, match="no bundle 'nope'"):
        WebUI([Page(path="/x", title="X", template="base.html", script="nope")])
    with pytest.raises(ValueError, match="two pages at /explore"):
        WebUI([EXPLORE, Page(path="/explore", title="X", template="base.html")])


def test_the_public_names() -> None:
    import spyglass.server.ui as ui  # noqa: PLC0415

    assert sorted(ui.__all__) == sorted(
        [
            "EXPLORE",
            "LOGS",
            "NAV_SECTIONS",
            "STATUS_LINKS",
            "REFRESH_CHOICES",
            "Assets",
            "Bundle",
            "NavLink",
            "OffersPages",
            "Page",
            "StatusSources",
            "WebUI",
            "alerts_page",
            "content_security_policy",
            "contributed_pages",
            "dashboard_pages",
            "error_pages",
            "explore_context",
            "incident_pages",
            "logs_context",
            "navigation",
            "notifications_page",
            "rules_page",
            "service_map_page",
            "silence_url",
            "silences_page",
            "slo_pages",
            "status_pages",
            "targets_page",
            "trace_pages",
            "uptime_page",
        ]
    )
    assert all(hasattr(ui, name) for name in ui.__all__)
