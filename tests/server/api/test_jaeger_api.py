"""Jaeger's query API over an in-memory TraceReader: the routes the Jaeger UI and Grafana's
Jaeger data source call, in Jaeger's envelope, with Jaeger's parameters and error shape."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.core.spans import Span
from spyglass.server.api.jaeger import JaegerAPI
from spyglass.storage import MemorySpanStore

S = 1_000_000_000
NOW = 1_760_000_000 * S
T1, T2 = "a1" * 16, "b2" * 16
FRONT = {"service.name": "frontend"}
BACK = {"service.name": "backend"}

SPANS = [
    Span(T1, "1" * 16, "GET /checkout", NOW - 60 * S, 120_000_000, "frontend", kind="Server",
         attributes={"http.method": "GET", "http.status_code": "500"}, resource=FRONT),
    Span(T1, "2" * 16, "POST /pay", NOW - 60 * S + 1000, 90_000_000, "backend", "1" * 16,
         kind="Server", status_code="Error", status_message="declined", resource=BACK),
    Span(T2, "3" * 16, "GET /checkout", NOW - 30 * S, 5_000_000, "frontend", kind="Server",
         attributes={"http.method": "GET"}, resource=FRONT),
    Span("0" * 16 + "c3" * 8, "4" * 16, "cron", NOW - 3 * 86_400 * S, 1, "backend",
         kind="Internal", resource=BACK),
]  # fmt: skip


@pytest.fixture
def client() -> TestClient:
    store = MemorySpanStore()
    store.load(SPANS)
    return TestClient(Starlette(routes=JaegerAPI(store, clock=lambda: NOW).routes()))


def envelope(data: object, total: int = 0, errors: object = None) -> dict[str, object]:
    return {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}


def test_services_and_operations(client: TestClient) -> None:
    assert client.get("/api/services").json() == envelope(["backend", "frontend"], 2)
    assert client.get("/api/services/backend/operations").json() == envelope(
        ["POST /pay", "cron"], 2
    )
    r = client.get("/api/operations", params={"service": "backend"})
    assert r.json() == envelope(
        [{"name": "POST /pay", "spanKind": "server"}, {"name": "cron", "spanKind": "internal"}], 2
    )
    r = client.get("/api/operations", params={"service": "backend", "spanKind": "server"})
    assert r.json()["data"] == [{"name": "POST /pay", "spanKind": "server"}]
    r = client.get("/api/operations")
    assert r.status_code == 400
    assert r.json() == envelope(
        None, errors=[{"code": 400, "msg": "parameter 'service' is required"}]
    )


def test_a_trace_by_id_in_jaegers_shape(client: TestClient) -> None:
    r = client.get(f"/api/traces/{T1}")
    assert r.status_code == 200
    body = r.json()
    assert body["errors"] is None
    assert body["total"] == 0
    (trace,) = body["data"]
    assert trace["traceID"] == T1
    root, pay = trace["spans"]
    assert root["operationName"] == "GET /checkout"
    assert root["references"] == []
    assert pay["references"] == [{"refType": "CHILD_OF", "traceID": T1, "spanID": "1" * 16}]
    assert {"key": "error", "type": "bool", "value": True} in pay["tags"]
    assert trace["processes"][pay["processID"]]["serviceName"] == "backend"
    # A 64-bit id as Jaeger shows it finds the 128-bit one with leading zeros.
    assert client.get("/api/traces/" + "c3" * 8).json()["data"][0]["traceID"] == "0" * 16 + "c3" * 8
    r = client.get("/api/traces/" + "f" * 32)
    assert r.status_code == 404
    assert r.json() == envelope(None, errors=[{"code": 404, "msg": "trace not found"}])
    r = client.get("/api/traces/xyz")
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"code": 400, "msg": 'strconv.ParseUint: parsing "xyz": invalid syntax'}
    ]


def search(client: TestClient, **params: object) -> list[str]:
    r = client.get("/api/traces", params=params)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return [t["traceID"] for t in r.json()["data"]]


def test_search_as_the_jaeger_ui_and_grafana_send_it(client: TestClient) -> None:
    start = (NOW - 3600 * S) // 1000
    end = NOW // 1000
    window = {"start": start, "end": end}
    # Latest matching span first; the Jaeger UI's own parameters (lookback, limit) as it sends them.
    assert search(client, service="frontend", limit=20, lookback="1h", **window) == [T2, T1]
    assert search(client, service="frontend", operation="GET /checkout", **window) == [T2, T1]
    assert search(client, service="frontend", minDuration="100ms", **window) == [T1]
    assert search(client, service="frontend", maxDuration="10ms", **window) == [T2]
    assert search(client, service="frontend", limit=1, **window) == [T2]
    # Grafana sends tags as JSON; logfmt and tag=key:value work too.
    assert search(client, service="frontend", tags=json.dumps({"http.status_code": "500"}),
                  **window) == [T1]  # fmt: skip
    assert search(client, service="backend", tags="error=true", **window) == [T1]
    assert search(client, service="frontend", tag="http.method:GET", **window) == [T2, T1]
    # Without start: the last two days (Jaeger's default), or end minus lookback.
    assert search(client, service="backend") == [T1]
    assert search(client, service="frontend", lookback="45s") == [T2]
    # By id, with Jaeger's error item for an unknown one.
    r = client.get("/api/traces", params={"traceID": [T2, "e" * 32]})
    body = r.json()
    assert [t["traceID"] for t in body["data"]] == [T2]
    assert body["errors"] == [{"msg": "trace not found", "traceID": "e" * 32}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "parameter 'service' is required"),
        ({"service": "x", "minDuration": "5"}, "unable to parse param 'minDuration': "
         'time: missing unit in duration "5"'),
        ({"service": "x", "minDuration": "2s", "maxDuration": "1s"},
         "'maxDuration' should be greater than 'minDuration'"),
        ({"service": "x", "start": "yesterday"}, "unable to parse param 'start': "
         'strconv.ParseInt: parsing "yesterday": invalid syntax'),
        ({"service": "x", "limit": "ten"}, 'strconv.ParseInt: parsing "ten": invalid syntax'),
        ({"service": "x", "limit": "2147483648"},
         'strconv.ParseInt: parsing "2147483648": value out of range'),
        ({"service": "x", "tags": "{"}, "malformed 'tags' parameter, cannot unmarshal JSON"),
        ({"traceID": "z"}, 'cannot parse traceID param: strconv.ParseUint: parsing "z": '
         "invalid syntax"),
    ],
)  # fmt: skip
def test_bad_search_parameters_are_400s_in_jaegers_shape(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    r = client.get("/api/traces", params=params)
    assert r.status_code == 400
    body = r.json()
    assert body["data"] is None
    assert body["errors"][0]["code"] == 400
    assert body["errors"][0]["msg"].startswith(message)


def test_dependencies(client: TestClient) -> None:
    end_ms = NOW // 1_000_000
    r = client.get("/api/dependencies", params={"endTs": end_ms, "lookback": 3_600_000})
    assert r.json() == envelope([{"parent": "frontend", "child": "backend", "callCount": 1}])
    r = client.get("/api/dependencies", params={"endTs": end_ms - 3_600_000, "lookback": 60_000})
    assert r.json()["data"] == []
    r = client.get("/api/dependencies", params={"endTs": end_ms, "service": "other"})
    assert r.json()["data"] == []
    # Without endTs, up to now (Jaeger's default): the last 24 hours.
    r = client.get("/api/dependencies")
    assert r.json() == envelope([{"parent": "frontend", "child": "backend", "callCount": 1}])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"endTs": "now"}, "unable to parse param 'endTs': "
         'strconv.ParseInt: parsing "now": invalid syntax'),
        ({"lookback": "1h"}, "unable to parse param 'lookback': "
         'strconv.ParseInt: parsing "1h": invalid syntax'),
        ({"lookback": "1.5"}, "unable to parse param 'lookback': "
         'strconv.ParseInt: parsing "1.5": invalid syntax'),
    ],
)  # fmt: skip
def test_bad_dependencies_parameters_are_400s_naming_the_parameter(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    r = client.get("/api/dependencies", params=params)
    assert r.status_code == 400
    assert r.json() == envelope(None, errors=[{"code": 400, "msg": message}])
