"""Plain Starlette and bare ASGI callables get the same metrics, IDs and endpoints."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.sdk.conftest import UvicornThread

from spyglass.ingest.exposition import parse
from spyglass.sdk import instrument


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
