"""Route templates: the label is the template, mounts are followed, misses collapse."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Mount, Route, Router

from spyglass.sdk import UNMATCHED
from spyglass.sdk._routes import route_template


async def ok(request: Any) -> PlainTextResponse:
    return PlainTextResponse("ok")


def scope(path: str, method: str = "GET", host: str = "example.com") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "headers": [(b"host", host.encode())],
        "query_string": b"",
    }


def test_starlette_routes_mounts_and_hosts() -> None:
    inner = Router(routes=[Route("/users/{user_id:int}", ok), Route("/", ok)])
    app = Starlette(
        routes=[
            Route("/items/{item_id}", ok, methods=["GET"]),
            Mount("/api/v1", routes=[Mount("/admin", app=inner)]),
            Mount("/static", app=ok),
            Host("api.example.org", app=Router(routes=[Route("/ping", ok)])),
        ]
    )
    routes = app.routes
    assert route_template(routes, scope("/items/42")) == "/items/{item_id}"
    assert route_template(routes, scope("/api/v1/admin/users/7")) == (
        "/api/v1/admin/users/{user_id:int}"
    )
    assert route_template(routes, scope("/api/v1/admin/users/x")) == UNMATCHED
    assert route_template(routes, scope("/static/css/site.css")) == "/static"
    assert route_template(routes, scope("/ping", host="api.example.org")) == "/ping"
    assert route_template(routes, scope("/ping")) == UNMATCHED
    assert route_template(routes, scope("/nothing/here")) == UNMATCHED
    # Wrong method: Starlette answers 405 for the route, so the route is the label.
    assert route_template(routes, scope("/items/42", method="POST")) == "/items/{item_id}"


def test_fastapi_routers_with_prefixes() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/orders")

    @router.get("/{order_id}/lines/{line}")
    async def line(order_id: int, line: int) -> dict[str, int]:
        return {}

    deep = APIRouter(prefix="/deep")

    @deep.post("/x/{y}")
    async def x(y: int) -> dict[str, int]:
        return {}

    router.include_router(deep)
    app.include_router(router, prefix="/v1")
    assert route_template(app.routes, scope("/v1/orders/9/lines/2")) == (
        "/v1/orders/{order_id}/lines/{line}"
    )
    assert route_template(app.routes, scope("/v1/orders/deep/x/1", "POST")) == (
        "/v1/orders/deep/x/{y}"
    )
    assert route_template(app.routes, scope("/v1/orders/deep/x/1", "GET")) == (
        "/v1/orders/deep/x/{y}"
    )
    assert route_template(app.routes, scope("/v1/orders/9")) == UNMATCHED
    assert route_template(app.routes, scope("/docs")) == "/docs"


def test_a_broken_route_matcher_is_unmatched() -> None:
    class Broken:
        def matches(self, scope: Any) -> Any:
            raise RuntimeError("boom")

    assert route_template([Broken()], scope("/x")) == UNMATCHED
