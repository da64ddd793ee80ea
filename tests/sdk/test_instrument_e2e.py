"""End to end: a real FastAPI app on uvicorn, instrumented with one call, real HTTP requests.

The metrics page is read with Spyglass' own exposition parser, log lines are parsed as JSON,
spans arrive at a loopback OTLP receiver: what a user of the SDK would check by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
from typing import Any

import httpx
import pytest
import structlog
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse
from opentelemetry import trace
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.sdk.conftest import UvicornThread
from tests.support.otlp import OtlpReceiver

from spyglass.ingest.exposition import parse
from spyglass.sdk import Instrumentation, get_logger, instrument


def build_app(**options: Any) -> tuple[FastAPI, Instrumentation, io.StringIO]:
    app = FastAPI()
    holder: dict[str, Instrumentation] = {}
    std_log = logging.getLogger("shop.std")

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, Any]:
        tracer = holder["inst"].tracer
        with tracer.start_as_current_span("load-item") as span:
            span.set_attribute("item.id", item_id)
            get_logger("shop").info(
                "loaded item",
                item_id=item_id,
                password="hunter2",
                request={"headers": {"Authorization": "Bearer s3cr3t", "Accept": "*/*"}},
            )
        std_log.warning("stdlib line for %s", item_id)
        return {"id": item_id}

    @app.get("/whoami/{user}")
    async def whoami(user: str) -> dict[str, str]:
        # Context bound in one request must not leak into the next.
        leaked = structlog.contextvars.get_contextvars().get("user_id")
        structlog.contextvars.bind_contextvars(user_id=user)
        get_logger("shop").info("who", leaked=leaked)
        return {"user": user}

    @app.get("/fail")
    async def fail() -> None:
        raise RuntimeError("handler blew up")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(status_code=418, detail="short and stout")

    @app.post("/echo")
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(await request.body())

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            for i in range(5):
                yield f"chunk {i}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    async def thing(request: Any) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["name"])

    app.mount("/sub", Starlette(routes=[Route("/things/{name}", thing)]))
    orders = APIRouter(prefix="/orders")

    @orders.get("/{order_id}")
    async def order(order_id: int) -> dict[str, int]:
        return {"order": order_id}

    app.include_router(orders, prefix="/v1")

    stream_buf = io.StringIO()
    inst = instrument(app, service="shop", log_stream=stream_buf, **options)
    holder["inst"] = inst
    return app, inst, stream_buf


def samples(text: str, name: str, content_type: str | None = None) -> dict[frozenset[Any], float]:
    """{labels without __name__: value} for every sample of ``name``."""
    page = parse(text, content_type)
    out = {}
    for s in page.samples:
        labels = dict(s.labels)
        if labels.pop("__name__") == name:
            out[frozenset(labels.items())] = s.value
    return out


def fresh_get(url: str, **kwargs: Any) -> httpx.Response:
    """GET on a new connection: uvicorn closes a connection whose handler raised."""
    return httpx.get(url, **kwargs)


def log_lines(buf: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


@pytest.fixture
def served(otlp: OtlpReceiver) -> Any:
    app, inst, buf = build_app(otlp_endpoint=otlp.url, instrument_libraries=False)
    with UvicornThread(app) as server:
        yield server, inst, buf
    inst.shutdown()


def test_metrics_are_keyed_by_route_template_and_status(served: Any) -> None:
    server, _inst, _buf = served
    with httpx.Client(base_url=server.url) as c:
        for i in (1, 2, 3):
            assert c.get(f"/items/{i}").status_code == 200
        assert c.get("/no/such/path").status_code == 404
        assert c.get("/another/missing/one").status_code == 404
        assert fresh_get(server.url + "/fail").status_code == 500
        assert c.get("/teapot").status_code == 418
        assert c.get("/items/not-a-number").status_code == 422
        assert c.post("/echo", content=b"x" * 1234).text == "x" * 1234
        assert c.get("/stream").text.count("chunk") == 5
        assert c.get("/sub/things/bolt").text == "bolt"
        assert c.get("/v1/orders/77").json() == {"order": 77}
        page = c.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    total = samples(page.text, "http_requests_total")

    def key(method: str, route: str, code: str) -> frozenset[Any]:
        return frozenset({"method": method, "route": route, "status_code": code}.items())

    assert total[key("GET", "/items/{item_id}", "200")] == 3
    assert total[key("GET", "/items/{item_id}", "422")] == 1
    assert total[key("GET", "<unmatched>", "404")] == 2
    assert total[key("GET", "/fail", "500")] == 1
    assert total[key("GET", "/teapot", "418")] == 1
    assert total[key("POST", "/echo", "200")] == 1
    assert total[key("GET", "/stream", "200")] == 1
    assert total[key("GET", "/sub/things/{name}", "200")] == 1
    assert total[key("GET", "/v1/orders/{order_id}", "200")] == 1
    # Raw paths never become label values; the SDK's own endpoints are not counted.
    routes = {dict(k)["route"] for k in total}
    assert routes == {
        "/items/{item_id}", "<unmatched>", "/fail", "/teapot", "/echo", "/stream",
        "/sub/things/{name}", "/v1/orders/{order_id}",
    }  # fmt: skip

    counts = samples(page.text, "http_request_duration_seconds_count")
    assert counts[frozenset({"method": "GET", "route": "/items/{item_id}"}.items())] == 4
    in_progress = samples(page.text, "http_requests_in_progress")
    assert all(v == 0 for v in in_progress.values())
    req_sum = samples(page.text, "http_request_size_bytes_sum")
    assert req_sum[frozenset({"method": "POST", "route": "/echo"}.items())] == 1234
    resp_sum = samples(page.text, "http_response_size_bytes_sum")
    assert resp_sum[frozenset({"method": "POST", "route": "/echo"}.items())] == 1234
    assert resp_sum[frozenset({"method": "GET", "route": "/stream"}.items())] == len(
        "".join(f"chunk {i}\n" for i in range(5))
    )


def test_metrics_page_speaks_openmetrics_when_asked(served: Any) -> None:
    server, _inst, _buf = served
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    with httpx.Client(base_url=server.url) as c:
        c.get("/items/7", headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})
        page = c.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    content_type = page.headers["content-type"]
    assert content_type.startswith("application/openmetrics-text")
    total = samples(page.text, "http_requests_total", content_type)
    assert total == {
        frozenset({"method": "GET", "route": "/items/{item_id}", "status_code": "200"}.items()): 1
    }
    # Sampled requests leave exemplars pointing at their trace: from a graph to the trace.
    exemplars = [s.exemplar for s in parse(page.text, content_type).samples if s.exemplar]
    assert exemplars
    assert {dict(e.labels)["trace_id"] for e in exemplars} == {trace_id}


def test_request_id_is_honoured_or_generated_and_echoed(served: Any) -> None:
    server, _inst, buf = served
    with httpx.Client(base_url=server.url) as c:
        ok = c.get("/items/1", headers={"X-Request-ID": "abc-123_X.y"})
        assert ok.headers["x-request-id"] == "abc-123_X.y"
        fresh = c.get("/items/1")
        assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
        hostile: list[bytes] = [
            b"a" * 129,
            b"<script>alert(1)</script>",
            b"has space",
            "caf\u00e9-\u2603".encode(),
            b"\xff\xfebad\x7f",
            b"",
            b"x" * 8000,
        ]
        for value in hostile:
            r = c.get("/items/1", headers=[(b"X-Request-ID", value)])
            if r.status_code == 400 and any(b < 0x20 or b == 0x7F for b in value):
                # A control character is not allowed in a header (RFC 9110): httptools, which
                # uvicorn uses when installed, refuses the request before the app sees it.
                continue
            assert r.status_code == 200, value
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]), value
            assert r.headers.get_list("x-request-id") == [r.headers["x-request-id"]]
        # Garbage trace context is ignored, never an error.
        for bad in (
            {"traceparent": "garbage"},
            {"traceparent": "00-" + "z" * 32 + "-" + "0" * 16 + "-01"},
            {"traceparent": "00-00000000000000000000000000000000-0000000000000000-01"},
            {"traceparent": "ff-" + "a" * 32 + "-" + "b" * 16 + "-01"},
            {"tracestate": "=" * 5000, "baggage": "k=" + "v" * 8000},
        ):
            assert c.get("/items/1", headers=bad).status_code == 200, bad
        sdk_errors = [x for x in log_lines(buf) if x["logger"].startswith("spyglass.sdk")]
        assert sdk_errors == []
        # The error paths carry the ID too.
        failed = fresh_get(server.url + "/fail", headers={"X-Request-ID": "fail-1"})
        assert failed.headers["x-request-id"] == "fail-1"
        assert c.get("/nowhere", headers={"X-Request-ID": "nf-1"}).headers["x-request-id"] == (
            "nf-1"
        )


def test_huge_headers_do_not_break_the_app(served: Any) -> None:
    server, _inst, _buf = served
    # Far beyond any sane request id: h11 refuses the request; httptools (which uvicorn uses when
    # it is installed) has no header limit and hands it to the app, which must not echo it.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Request-ID: " + b"a" * 200_000 + b"\r\n\r\n"
        )
        reply = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                reply += chunk
    if reply.startswith(b"HTTP/1.1 200"):
        assert b"a" * 1000 not in reply, reply[:300]
        assert b"x-request-id: " in reply.lower()
    with httpx.Client(base_url=server.url) as c:
        many = [(f"X-Junk-{i}".encode(), b"v" * 100) for i in range(100)]
        assert c.get("/items/2", headers=many).status_code == 200
        assert c.get("/items/3").status_code == 200


def test_log_lines_are_json_with_request_and_trace_ids(served: Any, otlp: OtlpReceiver) -> None:
    server, inst, buf = served
    with httpx.Client(base_url=server.url) as c:
        r = c.get("/items/42", headers={"X-Request-ID": "req-42"})
    assert r.status_code == 200
    assert inst.force_flush()
    lines = [line for line in log_lines(buf) if line.get("request_id") == "req-42"]
    app_line = next(line for line in lines if line.get("logger") == "shop")
    std_line = next(line for line in lines if line.get("logger") == "shop.std")
    for line in (app_line, std_line):
        for field in ("timestamp", "level", "logger", "message", "service", "trace_id"):
            assert field in line, (field, line)
        assert line["service"] == "shop"
    assert app_line["message"] == "loaded item"
    assert app_line["level"] == "info"
    assert std_line["message"] == "stdlib line for 42"
    assert std_line["level"] == "warning"
    # Secrets are redacted at any depth; the rest is kept.
    assert app_line["password"] == "[REDACTED]"
    assert app_line["request"]["headers"] == {"Authorization": "[REDACTED]", "Accept": "*/*"}
    assert "hunter2" not in buf.getvalue()
    assert "s3cr3t" not in buf.getvalue()

    spans = {span.name: span for _service, span in otlp.spans()}
    server_span, child = spans["GET /items/{item_id}"], spans["load-item"]
    assert app_line["trace_id"] == server_span.trace_id.hex()
    # Logged inside the child span, then in the server span after it ended.
    assert app_line["span_id"] == child.span_id.hex()
    assert std_line["span_id"] == server_span.span_id.hex()


def test_spans_reach_the_otlp_receiver_with_parent_and_child(
    served: Any, otlp: OtlpReceiver
) -> None:
    server, inst, _buf = served
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    caller_span = "00f067aa0ba902b7"
    with httpx.Client(base_url=server.url) as c:
        c.get("/items/5")
        c.get("/items/6", headers={"traceparent": f"00-{trace_id}-{caller_span}-01"})
        fresh_get(server.url + "/fail")
        c.get("/nowhere/at/all")
    assert inst.force_flush()
    got = otlp.spans()
    assert {service for service, _ in got} == {"shop"}
    spans = [span for _, span in got]
    servers = [s for s in spans if s.name == "GET /items/{item_id}"]
    children = [s for s in spans if s.name == "load-item"]
    assert len(servers) == 2
    assert len(children) == 2
    by_id = {s.span_id: s for s in servers}
    for child in children:
        parent = by_id[child.parent_span_id]
        assert parent.trace_id == child.trace_id
        assert parent.kind == 2  # SPAN_KIND_SERVER
    attrs = {s.trace_id.hex(): {a.key: a.value for a in s.attributes} for s in servers}
    # The incoming W3C traceparent makes our server span a child of the caller's span.
    continued = next(s for s in servers if s.trace_id.hex() == trace_id)
    assert continued.parent_span_id.hex() == caller_span
    assert attrs[trace_id]["http.route"].string_value == "/items/{item_id}"
    assert attrs[trace_id]["http.request.method"].string_value == "GET"
    assert attrs[trace_id]["http.response.status_code"].int_value == 200
    assert attrs[trace_id]["url.path"].string_value == "/items/6"
    failed = next(s for s in spans if s.name == "GET /fail")
    assert failed.status.code == 2  # STATUS_CODE_ERROR
    assert any(e.name == "exception" for e in failed.events)
    assert any(s.name == "GET" for s in spans), "unmatched paths are named by method only"


def test_sampling_ratio_zero_exports_no_new_traces(otlp: OtlpReceiver) -> None:
    app, inst, _buf = build_app(
        otlp_endpoint=otlp.url, sample_ratio=0.0, instrument_libraries=False
    )
    try:
        with UvicornThread(app) as server, httpx.Client(base_url=server.url) as c:
            for i in range(5):
                assert c.get(f"/items/{i}").status_code == 200
            # ParentBased: a sampled caller is still followed.
            c.get(
                "/items/9",
                headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
            )
        assert inst.force_flush()
    finally:
        inst.shutdown()
    traces = {span.trace_id.hex() for _, span in otlp.spans()}
    assert traces == {"4bf92f3577b34da6a3ce929d0e0e4736"}


def test_tracing_off_still_serves_metrics_and_ids() -> None:
    app, inst, buf = build_app(tracing=False)
    assert inst.tracer is None
    assert inst.tracer_provider is None
    # The app's own handler uses the tracer; without tracing it uses a no-op one.
    inst.tracer = trace.NoOpTracer()
    with UvicornThread(app) as server, httpx.Client(base_url=server.url) as c:
        r = c.get("/items/1", headers={"X-Request-ID": "no-trace"})
        assert r.headers["x-request-id"] == "no-trace"
        total = samples(c.get("/metrics").text, "http_requests_total")
    assert sum(total.values()) == 1
    line = next(x for x in log_lines(buf) if x.get("logger") == "shop")
    assert line["request_id"] == "no-trace"


def test_partial_sampling_exports_whole_traces_and_logs_every_trace_id(
    otlp: OtlpReceiver,
) -> None:
    app, inst, buf = build_app(otlp_endpoint=otlp.url, sample_ratio=0.5, instrument_libraries=False)
    try:
        with UvicornThread(app) as server, httpx.Client(base_url=server.url) as c:
            for i in range(40):
                assert c.get(f"/items/{i}", headers={"X-Request-ID": f"r{i}"}).status_code == 200
        assert inst.force_flush()
    finally:
        inst.shutdown()
    spans = [span for _, span in otlp.spans()]
    servers = {s.trace_id.hex(): s for s in spans if s.name == "GET /items/{item_id}"}
    children = {s.trace_id.hex(): s for s in spans if s.name == "load-item"}
    # 40 fair coin flips: all heads or all tails has probability 2**-39.
    assert 0 < len(servers) < 40
    assert set(children) == set(servers)
    for trace_id, child in children.items():
        assert child.parent_span_id == servers[trace_id].span_id
    logged = {
        line["request_id"]: line["trace_id"]
        for line in log_lines(buf)
        if line.get("logger") == "shop"
    }
    # Every request's logs carry a trace ID, sampled or not, and they are all distinct.
    assert len(logged) == 40
    assert len(set(logged.values())) == 40
    assert set(servers) <= set(logged.values())


def test_bound_context_reaches_log_lines_of_that_request_only(served: Any) -> None:
    server, _inst, buf = served
    with httpx.Client(base_url=server.url) as c:
        for user in ("u-1", "u-2", "u-3"):
            assert c.get(f"/whoami/{user}").status_code == 200
    lines = [x for x in log_lines(buf) if x.get("message") == "who"]
    assert [x["user_id"] for x in lines] == ["u-1", "u-2", "u-3"]
    assert [x["leaked"] for x in lines] == [None, None, None]
