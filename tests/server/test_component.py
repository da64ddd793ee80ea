"""Components start in order, stop in reverse, and a failed start-up stops what already runs."""

from __future__ import annotations

import asyncio

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from spyglass.core.config import Config
from spyglass.server.app import create_app
from spyglass.server.component import Assembly, Part, ReloadablePart
from spyglass.server.lifecycle import Lifecycle
from spyglass.server.selfmetrics import SelfMetrics


def recording(name: str, events: list[str], *, fail_start: bool = False) -> Part:
    async def start() -> None:
        if fail_start:
            raise RuntimeError(f"{name} cannot start")
        events.append(f"start {name}")

    async def stop() -> None:
        events.append(f"stop {name}")

    return Part(name, start=start, stop=stop)


def test_start_in_order_stop_in_reverse_once() -> None:
    events: list[str] = []
    assembly = Assembly([recording(n, events) for n in ("storage", "scrape", "api")])

    async def go() -> None:
        await assembly.start()
        await assembly.stop()
        await assembly.stop()  # a second stop does nothing

    asyncio.run(go())
    assert events == [
        "start storage",
        "start scrape",
        "start api",
        "stop api",
        "stop scrape",
        "stop storage",
    ]


def test_failed_start_stops_what_started_and_raises() -> None:
    events: list[str] = []
    assembly = Assembly(
        [
            recording("storage", events),
            recording("grpc", events, fail_start=True),
            recording("api", events),
        ]
    )
    with pytest.raises(RuntimeError, match="grpc cannot start"):
        asyncio.run(assembly.start())
    assert events == ["start storage", "stop storage"]


def test_a_failing_stop_does_not_keep_the_others_running() -> None:
    events: list[str] = []

    async def broken() -> None:
        raise RuntimeError("stop failed")

    assembly = Assembly(
        [recording("storage", events), Part("bad", stop=broken), recording("api", events)]
    )

    async def go() -> None:
        await assembly.start()
        await assembly.stop()

    asyncio.run(go())
    assert events == ["start storage", "start api", "stop api", "stop storage"]


def test_only_reloadable_parts_reload() -> None:
    seen: list[Config] = []

    async def reload(config: Config) -> None:
        seen.append(config)

    plain = Part("api")
    scrape = ReloadablePart("scrape", reload=reload)
    assembly = Assembly([plain, scrape])
    assert assembly.reloadable() == [scrape]
    asyncio.run(scrape.reload(Config()))
    assert len(seen) == 1


def test_the_app_mounts_every_components_routes_and_collectors() -> None:
    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    metrics = SelfMetrics()
    lifecycle = Lifecycle(metrics)
    part = Part("greeter", routes=lambda: [Route("/hello", hello)])
    with TestClient(create_app([part, lifecycle], metrics)) as client:
        assert client.get("/hello").text == "hello"
        assert client.get("/-/ready").status_code == 200
        body = client.get("/metrics").text
        assert "spyglass_config_last_reload_successful 1.0" in body
    assert not lifecycle.ready  # stopped with the app
