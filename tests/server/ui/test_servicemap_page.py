"""The service map page in process: the URL's range and open service are in the form, and the
page says when span metrics are off (its boxes then show only the calls into them)."""

from __future__ import annotations

from starlette.testclient import TestClient

from spyglass.server.app import create_app
from spyglass.server.lifecycle import Lifecycle
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.server.ui import WebUI, service_map_page


def _client(*, span_metrics: bool) -> TestClient:
    metrics = SelfMetrics()
    ui = WebUI([service_map_page(span_metrics=span_metrics)])
    return TestClient(create_app([ui, Lifecycle(metrics)], metrics))


def test_the_url_state_is_in_the_form_and_escaped() -> None:
    with _client(span_metrics=True) as c:
        r = c.get("/traces/map", params={"from": "now-6h", "to": "now-1h", "service": '<b>"x'})
    assert r.status_code == 200
    assert 'name="from" value="now-6h"' in r.text
    assert 'name="to" value="now-1h"' in r.text
    assert 'name="service" value="&lt;b&gt;&#34;x"' in r.text
    assert 'data-span-metrics="1"' in r.text
    assert "Span metrics are off" not in r.text
    # The Traces section is current, and its link is the map while it is the only page.
    assert '<a href="/traces/map" aria-current="page">Traces</a>' in r.text


def test_without_span_metrics_the_page_says_what_the_boxes_show() -> None:
    with _client(span_metrics=False) as c:
        r = c.get("/traces/map")
    assert 'data-span-metrics="0"' in r.text
    assert "Span metrics are off" in r.text
    assert 'name="from" value="now-1h"' in r.text
