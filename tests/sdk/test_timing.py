"""timed() and track_external_call(): count and time functions and blocks, sync and async."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import CollectorRegistry
from tests.support.servers import free_port

from spyglass.sdk import timed, track_external_call, tracked_transport


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    got = registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


def test_decorators_and_blocks_sync_and_async() -> None:
    reg = CollectorRegistry()

    @timed("checkout", labels={"plan": "pro"}, registry=reg)
    def checkout(fail: bool) -> str:
        if fail:
            raise ValueError("card declined")
        return "done"

    @timed("checkout", labels={"plan": "pro"}, registry=reg)
    async def checkout_async() -> str:
        await asyncio.sleep(0)
        return "done"

    assert checkout(False) == "done"
    with pytest.raises(ValueError, match="card declined"):
        checkout(True)
    assert asyncio.run(checkout_async()) == "done"
    with timed("checkout", labels={"plan": "pro"}, registry=reg):
        pass

    async def block() -> None:
        async with timed("checkout", labels={"plan": "pro"}, registry=reg):
            raise KeyError("x")

    with pytest.raises(KeyError):
        asyncio.run(block())
    ok = {"plan": "pro", "outcome": "success"}
    err = {"plan": "pro", "outcome": "error"}
    assert value(reg, "checkout_total", **ok) == 3
    assert value(reg, "checkout_total", **err) == 2
    assert value(reg, "checkout_duration_seconds_count", **ok) == 3
    assert value(reg, "checkout_duration_seconds_sum", **ok) >= 0
    assert checkout.__name__ == "checkout"


def test_external_calls() -> None:
    reg = CollectorRegistry()

    @track_external_call("stripe", "create_charge", registry=reg)
    async def charge() -> int:
        return 1

    asyncio.run(charge())
    with track_external_call("geo", registry=reg):
        pass
    labels = {"service": "stripe", "operation": "create_charge", "outcome": "success"}
    assert value(reg, "external_calls_total", **labels) == 1
    assert value(reg, "external_call_duration_seconds_count", **labels) == 1
    geo = {"service": "geo", "operation": "call", "outcome": "success"}
    assert value(reg, "external_calls_total", **geo) == 1


def test_mismatched_labels_never_break_the_timed_code() -> None:
    reg = CollectorRegistry()
    with timed("job", labels={"a": "1"}, registry=reg):
        pass
    # Same name, other label names: prometheus_client refuses, the block still runs and returns.
    with timed("job", labels={"b": "2"}, registry=reg):
        result = 42
    assert result == 42
    assert value(reg, "job_total", a="1", outcome="success") == 1


def test_invalid_names_fail_at_definition() -> None:
    with pytest.raises(ValueError, match="metric name"):
        timed("not valid!")
    with pytest.raises(ValueError, match="outcome"):
        timed("x", labels={"outcome": "mine"})


def test_tracked_transport_records_responses_and_connection_failures() -> None:
    reg = CollectorRegistry()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503 if request.url.path == "/down" else 200)

    transport = tracked_transport("inventory", httpx.MockTransport(handler), registry=reg)
    with httpx.Client(transport=transport, base_url="http://inventory") as client:
        assert client.get("/stock").status_code == 200
        assert client.post("/stock").status_code == 200
        assert client.get("/down").status_code == 503
    closed = free_port()
    refused = tracked_transport("billing", registry=reg)
    with httpx.Client(transport=refused) as client, pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{closed}/")

    def count(service: str, op: str, outcome: str) -> float:
        labels = {"service": service, "operation": op, "outcome": outcome}
        return value(reg, "external_calls_total", **labels)

    assert count("inventory", "GET", "success") == 1
    assert count("inventory", "POST", "success") == 1
    assert count("inventory", "GET", "error") == 1
    assert count("billing", "GET", "error") == 1
    assert calls == ["/stock", "/stock", "/down"]


def test_tracked_async_transport() -> None:
    reg = CollectorRegistry()

    async def go() -> int:
        inner = httpx.MockTransport(lambda request: httpx.Response(201))
        transport = tracked_transport("queue", inner, asynchronous=True, registry=reg)
        async with httpx.AsyncClient(transport=transport) as client:
            return (await client.put("http://queue/jobs")).status_code

    assert asyncio.run(go()) == 201
    labels = {"service": "queue", "operation": "PUT", "outcome": "success"}
    assert value(reg, "external_call_duration_seconds_count", **labels) == 1
