"""Plain Starlette and bare ASGI callables get the same metrics, IDs and endpoints."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.sdk.conftest import UvicornThread

from spyglass.ingest.exposition import parse
from spyglass.sdk import instrument
from spyglass.sdk._metrics import render


def totals(page: str) -> dict[tuple[str, str, str], float]:
    out = {}
    for s in parse(page).samples:
        labels = dict(s.labels)
        if labels["__name__"] == "http_requests_total":
            out[(labels["method"], labels["route"], labels["status_code"])] = s.value
    return out


def test_starlette_app() -> None:
    async def user(request: Any) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["name"])

    app = Starlette(routes=[Route("/users/{name}", user, methods=["GET", "PUT"])])
    instrument(app, service="st", tracing=False, logging=False, metrics_path="/-/metrics")
    with UvicornThread(app) as server, httpx.Client(base_url=server.url) as c:
        assert c.get("/users/ann").text == "ann"
        assert c.put("/users/bob").text == "bob"
        assert c.delete("/users/bob").status_code == 405
        assert c.request("PURGE", "/users/x").status_code == 405
        assert c.get("/metrics").status_code == 404  # moved
        page = c.get("/-/metrics").text
    assert totals(page) == {
        ("GET", "/users/{name}", "200"): 1,
        ("PUT", "/users/{name}", "200"): 1,
        ("DELETE", "/users/{name}", "405"): 1,
        ("OTHER", "/users/{name}", "405"): 1,
        ("GET", "<unmatched>", "404"): 1,
    }


def test_bare_asgi_callable_is_wrapped() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # no lifespan support, as many small ASGI apps
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    inst = instrument(app, service="raw", tracing=False, logging=False, health_path="/hc")
    assert inst.app is not app
    with UvicornThread(inst.app) as server, httpx.Client(base_url=server.url) as c:
        r = c.get("/anything/123", headers={"X-Request-ID": "raw-1"})
        assert r.status_code == 204
        assert r.headers["x-request-id"] == "raw-1"
        assert c.get("/hc/live").json()["status"] == "alive"
        assert c.get("/hc").json()["status"] == "healthy"
        page = c.get("/metrics").text
    # Without a route table every path is one label value.
    assert totals(page) == {("GET", "<unmatched>", "204"): 1}


def _sums(page: str, name: str) -> dict[str, float]:
    return {
        dict(s.labels)["method"]: s.value
        for s in parse(page).samples
        if dict(s.labels)["__name__"] == name
    }


def test_body_sizes_whether_declared_chunked_or_undeclared() -> None:
    """Request sizes come from Content-Length when declared and from the body read otherwise
    (chunked HTTP/1.1, or HTTP/2 which need not declare a length); an ID the app set itself
    is replaced by the request's."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = [(b"content-type", b"text/plain"), (b"X-Request-ID", b"app-made")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"!"})

    inst = instrument(app, service="raw", tracing=False, logging=False)
    with UvicornThread(inst.app) as server, httpx.Client(base_url=server.url) as c:
        declared = c.put("/x", content=b"a" * 300)
        assert declared.text == "a" * 300 + "!"
        assert declared.headers.get_list("x-request-id") == [declared.headers["x-request-id"]]
        assert declared.headers["x-request-id"] != "app-made"
        chunked = c.post("/x", content=iter([b"b" * 100, b"c" * 23]))  # no Content-Length
        assert chunked.text == "b" * 100 + "c" * 23 + "!"
        assert c.get("/x").text == "!"
        page = c.get("/metrics").text

    async def call(scope_extra: dict[str, Any], chunks: list[bytes]) -> None:
        scope = {"type": "http", "method": "PATCH", "path": "/y", "headers": [], **scope_extra}
        messages = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)
        ]

        async def receive() -> dict[str, Any]:
            return messages.pop(0)

        async def send(message: dict[str, Any]) -> None:
            return None

        await inst.app(scope, receive, send)

    asyncio.run(call({"http_version": "2"}, [b"d" * 40, b"e" * 2]))
    page2 = render(inst.registry, "")[0].decode()

    requests = _sums(page, "http_request_size_bytes_sum")
    assert requests == {"PUT": 300, "POST": 123, "GET": 0}
    responses = _sums(page, "http_response_size_bytes_sum")
    assert responses == {"PUT": 301, "POST": 124, "GET": 1}
    assert _sums(page2, "http_request_size_bytes_sum")["PATCH"] == 42


def test_in_progress_counts_requests_being_handled() -> None:
    """http_requests_in_progress is 1 for a route while a request of it is in the handler
    (also when the handler fails) and 0 once it is over."""
    during: list[float] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        page = render(inst.registry, "")[0].decode()
        during.extend(_sums(page, "http_requests_in_progress").values())
        if scope["path"] == "/fail":
            raise RuntimeError("handler failed")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    inst = instrument(app, service="raw", tracing=False, logging=False)

    async def call(path: str) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            return None

        scope = {"type": "http", "method": "GET", "path": path, "headers": []}
        try:
            await inst.app(scope, receive, send)
        except RuntimeError:
            assert path == "/fail"

    asyncio.run(call("/ok"))
    asyncio.run(call("/fail"))
    assert during == [1, 1]
    after = _sums(render(inst.registry, "")[0].decode(), "http_requests_in_progress")
    assert after == {"GET": 0}


header_values = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"0", b"12", b"-1", b"1e3", b" 5", b"9" * 5000, b"\xff"]),
)


@settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from([b"content-length", b"transfer-encoding", b"x-request-id", b"host"]),
            header_values,
        ),
        max_size=5,
    ),
    body=st.binary(max_size=50),
    version=st.sampled_from(["1.0", "1.1", "2"]),
)
def test_any_request_headers_are_served_and_sized(
    headers: list[tuple[bytes, bytes]], body: bytes, version: str
) -> None:
    """Whatever the request headers say (hostile request IDs, lengths that are no numbers or
    have thousands of digits), the request is served with one request ID, and its size is the
    declared Content-Length when that is a number, else the bytes the app read."""
    served = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        served.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    inst = instrument(app, service="raw", tracing=False, logging=False)
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/", "headers": headers,
                 "http_version": version}  # fmt: skip
        await inst.app(scope, receive, send)

    asyncio.run(call())
    assert served == [body]
    ids = [v for k, v in sent[0]["headers"] if k == b"x-request-id"]
    assert len(ids) == 1
    declared = dict(headers).get(b"content-length", b"")
    expected = int(declared) if declared.isdigit() and len(declared) <= 18 else None
    if expected is None:
        # Without a usable length an HTTP/1 request has a body only when it is chunked.
        unknown = {b"transfer-encoding", b"content-length"} & dict(headers).keys()
        expected = len(body) if unknown or version == "2" else 0
    page = render(inst.registry, "")[0].decode()
    assert _sums(page, "http_request_size_bytes_sum") == {"POST": expected}


def test_header_names_in_any_case_are_read() -> None:
    """An ASGI adapter that passes header names as they came (not lowercased, as the spec
    asks) still has its request ID kept and its trace continued."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult  # noqa: PLC0415

    spans: list[Any] = []

    class Keep(SpanExporter):
        def export(self, batch: Any) -> SpanExportResult:
            spans.extend(batch)
            return SpanExportResult.SUCCESS

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    inst = instrument(
        app, service="raw", logging=False, span_exporter=Keep(), instrument_libraries=False,
        sample_ratio=0.0,
    )  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        headers = [
            (b"Host", b"example"),
            (b"X-Request-ID", b"Mixed-1"),
            (b"Traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ]
        await inst.app({"type": "http", "method": "GET", "path": "/", "headers": headers},
                       receive, send)  # fmt: skip

    try:
        asyncio.run(call())
        inst.force_flush()
    finally:
        inst.shutdown()
    assert [v for k, v in sent[0]["headers"] if k == b"x-request-id"] == [b"Mixed-1"]
    # The sampled parent wins over the ratio of 0: the span continues the caller's trace.
    assert len(spans) == 1
    assert spans[0].context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert spans[0].parent.span_id == 0xB7AD6B7169203331
