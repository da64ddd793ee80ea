"""Telemetry failures stay telemetry failures: the app keeps answering."""

from __future__ import annotations

import importlib.machinery
import io
import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Histogram, values
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.sdk.conftest import UvicornThread

from spyglass.sdk import instrument
from spyglass.sdk._metrics import HttpMetrics, RequestMetrics, RouteStats
from spyglass.sdk._tracing import instrument_installed_libraries


async def hello(request: Any) -> PlainTextResponse:
    return PlainTextResponse("hello")


def app() -> Starlette:
    return Starlette(routes=[Route("/hello/{who}", hello)])


class Broken(Collector):
    def collect(self) -> Iterator[Metric]:
        raise RuntimeError("collector bug")


def test_a_broken_collector_fails_only_the_metrics_page() -> None:
    registry = CollectorRegistry()
    registry.register(Broken())
    a = app()
    instrument(a, service="x", registry=registry, tracing=False, logging=False)
    with UvicornThread(a) as server, httpx.Client(base_url=server.url) as c:
        assert c.get("/metrics").status_code == 500
        assert c.get("/hello/you").text == "hello"
        assert c.get("/health/live").status_code == 200


def test_instrumenting_twice_is_refused() -> None:
    a = app()
    instrument(a, service="x", tracing=False, logging=False)
    with pytest.raises(RuntimeError, match="already instrumented"):
        instrument(a, service="x", tracing=False, logging=False)


def test_access_log_line_per_request() -> None:
    buf = io.StringIO()
    a = app()
    instrument(a, service="x", tracing=False, log_stream=buf, access_log=True)
    with UvicornThread(a) as server, httpx.Client(base_url=server.url) as c:
        rid = c.get("/hello/ann").headers["x-request-id"]
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    access = [x for x in lines if x.get("logger") == "spyglass.sdk"]
    assert len(access) == 1
    line = access[0]
    assert line["route"] == "/hello/{who}"
    assert line["status_code"] == 200
    assert line["request_id"] == rid
    assert line["duration_ms"] >= 0


def test_library_instrumentations_only_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    class FakeInstrumentor:
        is_instrumented_by_opentelemetry = False

        def instrument(self, **kwargs: Any) -> None:
            calls.append(kwargs)

    class Exploding:
        is_instrumented_by_opentelemetry = False

        def instrument(self, **kwargs: Any) -> None:
            raise RuntimeError("bad instrumentation")

    fake = types.ModuleType("fake_instr")
    fake.__spec__ = importlib.machinery.ModuleSpec("fake_instr", None)
    fake.FakeInstrumentor = FakeInstrumentor  # type: ignore[attr-defined]
    fake.Exploding = Exploding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_instr", fake)
    provider = object()
    enabled = instrument_installed_libraries(
        provider,
        [
            ("json", "fake_instr", "FakeInstrumentor"),  # library and package present
            ("no_such_library_xyz", "fake_instr", "FakeInstrumentor"),  # library missing
            ("json", "no_such_instrumentation_xyz", "X"),  # package missing
            ("json", "fake_instr", "Exploding"),  # broken: logged, skipped
        ],
    )
    assert enabled == ["json"]
    assert calls == [{"tracer_provider": provider}]


@pytest.mark.parametrize("backend", ["single-process", "prometheus_client"])
def test_failing_metric_updates_never_fail_requests(
    monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """A metrics update that raises is logged with the request's ID; the request succeeds and
    the in-progress gauge still goes back to zero. Both recorders: the single-process one and
    prometheus_client's metrics (what multiprocess mode uses)."""

    def broken(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("metrics backend broke")

    if backend == "prometheus_client":
        # Any value class other than the plain in-process one selects prometheus_client's
        # metrics, as multiprocess mode does; this one still keeps values in memory.
        class SharedValue(values.MutexValue):
            pass

        monkeypatch.setattr(values, "ValueClass", SharedValue)
    buf = io.StringIO()
    a = app()
    inst = instrument(a, service="x", tracing=False, log_stream=buf)
    if backend == "prometheus_client":
        assert isinstance(inst.metrics, HttpMetrics)
        monkeypatch.setattr(Histogram, "observe", broken)
    else:
        assert isinstance(inst.metrics, RequestMetrics)
        monkeypatch.setattr(RouteStats, "record", broken)
    with UvicornThread(a) as server, httpx.Client(base_url=server.url) as c:
        for rid in ("first", "second"):
            r = c.get("/hello/one", headers={"X-Request-ID": rid})
            assert r.status_code == 200
            assert r.headers["x-request-id"] == rid
    # Read after the server stopped: recording happens after the response went out.
    gauge = inst.registry.get_sample_value(
        "http_requests_in_progress", {"method": "GET", "route": "/hello/{who}"}
    )
    assert gauge == 0
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    failed = [x for x in lines if x["message"] == "spyglass.sdk: recording a request failed"]
    assert [x["request_id"] for x in failed] == ["first", "second"]
    assert "metrics backend broke" in failed[0]["exception"]


def test_metrics_that_cannot_be_prepared_leave_requests_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the metrics of a route cannot be created, its requests are served unobserved (still
    with a request ID), the failure is logged, and a later request tries again."""
    calls = []

    def broken(self: Any, method: str, route: str) -> None:
        calls.append((method, route))
        raise RuntimeError("no metrics today")

    buf = io.StringIO()
    a = app()
    instrument(a, service="x", tracing=False, log_stream=buf)
    monkeypatch.setattr(RequestMetrics, "route", broken)
    with UvicornThread(a) as server, httpx.Client(base_url=server.url) as c:
        for _ in range(2):
            r = c.get("/hello/one", headers={"X-Request-ID": "kept"})
            assert r.status_code == 200
            assert r.text == "hello"
            assert r.headers["x-request-id"] == "kept"
    assert calls == [("GET", "/hello/{who}")] * 2
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    failed = [x for x in lines if x["message"] == "spyglass.sdk: preparing metrics failed"]
    assert len(failed) == 2
    assert "no metrics today" in failed[0]["exception"]


def test_without_the_opentelemetry_sdk_tracing_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    a = app()
    inst = instrument(a, service="x", logging=False)
    assert inst.tracer_provider is None
    assert inst.tracer is None
    with UvicornThread(a) as server, httpx.Client(base_url=server.url) as c:
        assert c.get("/hello/x").status_code == 200
        assert "http_requests_total" in c.get("/metrics").text
