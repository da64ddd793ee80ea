"""timed() and track_external_call(): count and time functions and blocks, sync and async."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from spyglass.sdk import timed, track_external_call


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
