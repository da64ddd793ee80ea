"""Spyglass's own /metrics: counters move, routes are labelled by template, formats negotiate."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from spyglass.ingest.exposition import parse
from spyglass.server.selfmetrics import (
    HTTPMetricsMiddleware,
    SelfMetrics,
    StatField,
    StatsCollector,
)


def _value(metrics: SelfMetrics, name: str, **labels: str) -> float:
    body, ctype = metrics.render(None)
    for s in parse(body, ctype).samples:
        d = dict(s.labels)
        if d.pop("__name__") == name and d == labels:
            return s.value
    raise AssertionError(f"{name}{labels} not exposed")


def test_ingest_counters() -> None:
    m = SelfMetrics()
    m.observe_ingest("remote_write", "accepted", 500)
    m.observe_ingest("remote_write", "accepted", 250)
    m.observe_ingest("remote_write", "rejected", 0)
    assert _value(m, "spyglass_ingest_samples_total", protocol="remote_write") == 750
    assert (
        _value(m, "spyglass_ingest_requests_total", protocol="remote_write", outcome="rejected")
        == 1
    )


def test_stats_collector_reads_snapshot_at_scrape_time() -> None:
    @dataclass
    class Stats:
        pending: int
        flushed: int
        seconds: float = 1.5
        flushes: int = 2

    current = Stats(3, 10)
    m = SelfMetrics()
    m.add(
        StatsCollector(
            lambda: current,
            [
                StatField("pending", "spyglass_pending_samples", "gauge", "Pending."),
                StatField("flushed", "spyglass_flushed_samples", "counter", "Flushed."),
                StatField("seconds", "spyglass_flush_seconds", "summary", "Flush time.", "flushes"),
            ],
        )
    )
    assert _value(m, "spyglass_pending_samples") == 3
    assert _value(m, "spyglass_flush_seconds_sum") == 1.5
    assert _value(m, "spyglass_flush_seconds_count") == 2
    current = Stats(0, 13)
    assert _value(m, "spyglass_flushed_samples_total") == 13
    assert _value(m, "spyglass_pending_samples") == 0


def test_openmetrics_when_asked() -> None:
    body, ctype = SelfMetrics().render("application/openmetrics-text; version=1.0.0")
    assert ctype.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")


def test_http_middleware_labels_by_route_template() -> None:
    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["id"])

    m = SelfMetrics()
    routes = [Route("/items/{id}", item)]
    app = Starlette(
        routes=routes, middleware=[Middleware(HTTPMetricsMiddleware, metrics=m, routes=routes)]
    )
    client = TestClient(app)
    client.get("/items/1")
    client.get("/items/2")
    client.get("/nowhere")
    assert _value(m, "spyglass_http_requests_total", handler="/items/{id}", code="200") == 2
    assert _value(m, "spyglass_http_requests_total", handler="other", code="404") == 1
