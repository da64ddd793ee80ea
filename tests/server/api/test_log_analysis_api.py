"""The log analysis routes over MemoryLogStore, in process: ``/api/logs/patterns`` and
``/api/logs/impact`` in Spyglass's JSON shape with ``{"error": ...}`` errors, and Loki's
``/loki/api/v1/patterns`` in Loki 3's shape (pattern, level, samples per step) with Loki's
plain-text errors."""

from __future__ import annotations

from collections import Counter

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.support.logcorpus import (
    GROWING_KEY,
    NEW_KEY,
    ORIGIN_NS,
    PERIOD_NS,
    CorpusLine,
    generate,
    window,
)

from spyglass.core.labels import labels_of
from spyglass.core.logs import LogRecord
from spyglass.core.settings import Settings
from spyglass.server.api.log_analysis import LogAnalysisAPI, rfc3339
from spyglass.storage import MemoryLogStore

START = ORIGIN_NS + PERIOD_NS
END = START + PERIOD_NS


@pytest.fixture(scope="module")
def corpus() -> list[CorpusLine]:
    return generate()


@pytest.fixture(scope="module")
def client(corpus: list[CorpusLine]) -> TestClient:
    store = MemoryLogStore()
    store.load(LogRecord(c.timestamp_ns, c.line, labels_of(c.labels)) for c in corpus)
    api = LogAnalysisAPI.from_settings(store, Settings())
    return TestClient(Starlette(routes=api.routes()))


def test_patterns_answer_new_and_growing_first(
    client: TestClient, corpus: list[CorpusLine]
) -> None:
    r = client.get(
        "/api/logs/patterns",
        params={"query": '{env="prod"}', "start": START, "end": END, "limit": 3},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["window"] == {"start": rfc3339(START), "end": rfc3339(END)}
    assert body["baseline"] == {"start": rfc3339(START - PERIOD_NS), "end": rfc3339(START)}
    assert body["lines"] == {
        "window": len(window(corpus)),
        "baseline": len(corpus) - len(window(corpus)),
    }
    assert body["truncated"] is False
    assert body["maxLines"] == 50_000
    assert len(body["patterns"]) == 3
    new, growing = body["patterns"][0], body["patterns"][1]
    if growing["new"]:
        new, growing = growing, new
    injected = [c for c in window(corpus) if c.key == NEW_KEY]
    assert new == {
        "service": "checkout",
        "level": "error",
        "template": "payment provider acme declined card for order <NUM>: insufficient funds",
        "lokiPattern": "payment provider acme declined card for order <_>: insufficient funds",
        "count": len(injected),
        "baselineCount": 0,
        "firstSeen": rfc3339(injected[0].timestamp_ns),
        "lastSeen": rfc3339(injected[-1].timestamp_ns),
        "new": True,
        "growing": False,
        "sample": {
            "time": rfc3339(injected[-1].timestamp_ns),
            "line": injected[-1].line,
            "labels": {"env": "prod", "service_name": "checkout"},
        },
    }
    assert (growing["service"], growing["level"], growing["growing"]) == (*GROWING_KEY[:2], True)


def test_an_explicit_baseline_decides_what_is_new(client: TestClient) -> None:
    # The window itself as the baseline: nothing can be new, nothing grows.
    r = client.get(
        "/api/logs/patterns",
        params={
            "query": '{service_name="checkout"}',
            "start": START,
            "end": END,
            "baseline_start": START,
            "baseline_end": END,
        },
    )
    assert r.status_code == 200, r.text
    assert not any(p["new"] or p["growing"] for p in r.json()["patterns"])


def test_impact_counts_distinct_users(client: TestClient, corpus: list[CorpusLine]) -> None:
    r = client.get(
        "/api/logs/impact",
        params={"query": '{service_name="checkout"}', "start": START, "end": END},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    errors = [c for c in window(corpus) if c.service == "checkout" and c.level == "error"]
    users = Counter(c.user for c in errors if c.user)
    assert body["userField"] == "user_id"
    assert body["errorLines"] == len(errors)
    assert body["users"] == len(users)
    assert body["errorLinesWithoutUser"] == sum(1 for c in errors if not c.user)
    assert [u["errorLines"] for u in body["topUsers"]] == sorted(users.values(), reverse=True)[:10]
    assert [s["service"] for s in body["services"]] == ["checkout"]
    declined = next(p for p in body["patterns"] if "declined" in p["template"])
    injected = [c for c in errors if c.key == NEW_KEY]
    assert declined["errorLines"] == len(injected)
    assert declined["users"] == len({c.user for c in injected if c.user})


def test_loki_patterns_have_loki_shape_and_counts_per_step(
    client: TestClient, corpus: list[CorpusLine]
) -> None:
    r = client.get(
        "/loki/api/v1/patterns",
        params={"query": '{service_name="checkout"}', "start": START, "end": END, "step": "5m"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success"
    declined = [p for p in body["data"] if "declined" in p["pattern"]]
    assert len(declined) == 1
    entry = declined[0]
    assert set(entry) == {"pattern", "level", "samples"}
    assert (
        entry["pattern"] == "payment provider acme declined card for order <_>: insufficient funds"
    )
    assert entry["level"] == "error"
    expected: Counter[int] = Counter()
    for c in window(corpus):
        if c.key == NEW_KEY:
            expected[c.timestamp_ns // 10**9 // 300 * 300] += 1
    assert entry["samples"] == sorted([t, n] for t, n in expected.items())
    total = sum(n for p in body["data"] for _, n in p["samples"])
    assert total == sum(1 for c in window(corpus) if c.service == "checkout")


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/logs/patterns", {}, 400, "query parameter is required"),
        ("/api/logs/patterns", {"query": "{"}, 400, "parse error"),
        ("/api/logs/patterns", {"query": 'rate({a="b"}[1m])'}, 400, "needs a log query"),
        ("/api/logs/patterns", {"query": '{a="b"}', "start": "x"}, 400, "invalid syntax"),
        ("/api/logs/patterns", {"query": '{a="b"}', "limit": "0"}, 400, "limit must be"),
        ("/api/logs/impact", {"query": '{a="b"}', "start": "20", "end": "10"}, 400, "end must be"),
    ],
)
def test_spyglass_routes_answer_errors_as_json(
    client: TestClient, path: str, params: dict[str, str], status: int, message: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status
    assert message in r.json()["error"]


def test_loki_patterns_answer_errors_as_loki_does(client: TestClient) -> None:
    r = client.get("/loki/api/v1/patterns", params={"query": "{"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert "parse error" in r.text
