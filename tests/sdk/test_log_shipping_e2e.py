"""End to end: an instrumented Starlette app served by uvicorn ships its own JSON logs to a real
``spyglass serve``, and they come back through Loki's query API with the service, level,
request id and trace id; with Spyglass down, or not answering, requests still succeed and the
shipper counts what it dropped."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.sdk.conftest import UvicornThread
from tests.support.servers import free_port, spyglass

from spyglass.sdk import Instrumentation, get_logger, instrument


def shop(**options: Any) -> tuple[Starlette, Instrumentation]:
    async def pay(request: Request) -> PlainTextResponse:
        order = request.path_params["order"]
        get_logger("shop").error("payment failed", order_id=int(order), card="visa")
        logging.getLogger("shop.std").info("retry scheduled for %s", order)
        return PlainTextResponse("declined", status_code=402)

    app = Starlette(routes=[Route("/pay/{order}", pay)])
    inst = instrument(
        app, service="shop", ship_logs=True, instrument_libraries=False, log_stream=None, **options
    )
    return app, inst


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # A uvicorn run earlier in this process with log_level="warning" leaves uvicorn's loggers at
    # WARNING (uvicorn sets them, nobody resets them); start from uvicorn's own default, INFO.
    servers = {name: logging.getLogger(name).level for name in ("uvicorn.error", "uvicorn.access")}
    for name in servers:
        logging.getLogger(name).setLevel(logging.INFO)
    yield
    for name, old in servers.items():
        logging.getLogger(name).setLevel(old)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def query_range(base: str, query: str) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{base}/loki/api/v1/query_range",
        params={"query": query, "since": "10m", "direction": "forward"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return list(r.json()["data"]["result"])


@pytest.mark.usefixtures("restore_logging")
def test_an_instrumented_app_s_logs_come_back_through_loki_s_api(tmp_path: Path) -> None:
    with spyglass(tmp_path / "data") as sg:
        app, inst = shop(otlp_endpoint=sg.url)
        try:
            with UvicornThread(app) as server:
                for order in ("1", "2"):
                    r = httpx.get(
                        f"{server.url}/pay/{order}", headers={"X-Request-ID": f"req-{order}"}
                    )
                    assert r.status_code == 402
            assert inst.force_flush(30)
        finally:
            inst.shutdown()

        def found() -> list[dict[str, Any]]:
            return query_range(sg.url, '{service_name="shop"} | request_id="req-2"')

        def lines_of(streams: list[dict[str, Any]]) -> dict[str, Any]:
            return {v[1]: s["stream"] for s in streams for v in s["values"]}

        # uvicorn logs the access line after the response went out, so it may come in a later
        # batch than the handler's records: wait for all three.
        deadline = time.monotonic() + 30
        lines = lines_of(found())
        while len(lines) < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
            lines = lines_of(found())
        # The handler's two records and uvicorn's access line: every record of the request.
        assert set(lines) == {
            "payment failed",
            "retry scheduled for 2",
            next(line for line in lines if '"GET /pay/2 HTTP/1.1" 402' in line),
        }
        error = lines["payment failed"]
        assert error["service_name"] == "shop"
        assert error["request_id"] == "req-2"
        assert error["level"] == "error"
        assert error["severity_text"] == "ERROR"
        assert error["order_id"] == "2"
        assert re.fullmatch("[0-9a-f]{32}", error["trace_id"])
        assert re.fullmatch("[0-9a-f]{16}", error["span_id"])
        # The stdlib record of the same request carries the same ids.
        assert lines["retry scheduled for 2"]["trace_id"] == error["trace_id"]
        # LogQL filters on the shipped fields.
        errors = query_range(sg.url, '{service_name="shop"} | detected_level="error"')
        assert sorted(v[1] for s in errors for v in s["values"]) == ["payment failed"] * 2


def dropped(server_url: str) -> float:
    page = httpx.get(f"{server_url}/metrics").text
    total = 0.0
    for family in text_string_to_metric_families(page):
        if family.name == "spyglass_sdk_log_records_dropped":
            total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


@pytest.mark.usefixtures("restore_logging")
def test_requests_succeed_and_drops_are_counted_while_spyglass_is_down() -> None:
    app, inst = shop(otlp_endpoint=f"http://127.0.0.1:{free_port()}", tracing=False)
    try:
        with UvicornThread(app) as server:
            for i in range(20):
                assert httpx.get(f"{server.url}/pay/{i}").status_code == 402
            assert inst.force_flush(30)
            assert dropped(server.url) >= 40  # two records a request, none taken
    finally:
        inst.shutdown()


@pytest.mark.usefixtures("restore_logging")
def test_a_collector_that_never_answers_does_not_hold_up_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "60")
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "10")
    with socket.socket() as black_hole:  # takes connections, never reads or answers
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(16)
        port = black_hole.getsockname()[1]
        app, inst = shop(otlp_endpoint=f"http://127.0.0.1:{port}", tracing=False)
        try:
            with UvicornThread(app) as server:
                first = httpx.get(f"{server.url}/pay/0")
                assert first.status_code == 402
                # Wait until the shipper is inside a POST the black hole never answers.
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        black_hole.settimeout(0.2)
                        conn, _ = black_hole.accept()
                        break
                    except TimeoutError:
                        continue
                else:
                    pytest.fail("the shipper never connected")
                with conn:
                    # Every request is answered while that export is stuck.
                    for i in range(1, 21):
                        assert httpx.get(f"{server.url}/pay/{i}").status_code == 402
                    shipper = inst.log_shipper
                    assert shipper is not None
                    assert (shipper.exported, shipper.dropped) == (0, 0)
                    # Shutting down gives up on the stuck export after the time it is given.
                    shipper.shutdown(timeout_s=0.5)
                    assert not shipper._thread.is_alive()
        finally:
            inst.shutdown()
