"""The assembled HTTP app in process: push with remote_write or OTLP, read back through PromQL.

Real decoders and the real PromQL engine over the in-memory store; the ClickHouse-backed store is
exercised by tests/server/test_serve_e2e.py against a real ``spyglass serve`` process.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from spyglass.core.limits import IngestLimits
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition import parse
from spyglass.ingest.remote_write import encode_write_request
from spyglass.promql import Engine
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.server.api.write import WriteAPI
from spyglass.server.app import create_app
from spyglass.server.component import Part
from spyglass.server.lifecycle import Lifecycle
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.storage.memory import MemoryStore

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
NOW_MS = (int(time.time()) - 600) * 1000


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def client(store: MemoryStore) -> Iterator[TestClient]:
    metrics = SelfMetrics()
    prometheus = PrometheusAPI(
        querier=store,
        metadata=store,
        engine=Engine(store),
        build_info=BuildInfo("3.0.0", "0.0.0"),
        observe_query=metrics.observe_query,
    )
    write = WriteAPI(store, IngestLimits(max_body_bytes=64 * 1024), observe=metrics.observe_ingest)
    components = [
        Part("prometheus-api", routes=prometheus.routes),
        Part("write-api", routes=write.routes),
        Lifecycle(metrics),
    ]
    with TestClient(create_app(components, metrics)) as c:
        yield c


def _write(client: TestClient, body: bytes) -> int:
    return client.post("/api/v1/write", content=body, headers=RW_HEADERS).status_code


def test_remote_write_then_rate_over_promql(client: TestClient) -> None:
    labels = (("__name__", "http_requests_total"), ("job", "api"))
    points = [(NOW_MS + i * 15_000, float(i * 30)) for i in range(9)]
    body = encode_write_request(
        [(labels, points)], {"http_requests_total": MetricMetadata("counter", "Requests.", "")}
    )
    assert _write(client, body) == 204
    at = (NOW_MS + 120_000) / 1000
    r = client.get("/api/v1/query", params={"query": "rate(http_requests_total[1m])", "time": at})
    [sample] = r.json()["data"]["result"]
    assert sample["metric"] == {"job": "api"}
    assert float(sample["value"][1]) == pytest.approx(2.0)  # 30 per 15 s
    meta = client.get("/api/v1/metadata").json()["data"]
    assert meta["http_requests_total"] == [{"type": "counter", "help": "Requests.", "unit": ""}]


def test_remote_write_bad_body_is_400_and_nothing_stored(
    client: TestClient, store: MemoryStore
) -> None:
    r = client.post("/api/v1/write", content=b"\x00garbage", headers=RW_HEADERS)
    assert r.status_code == 400
    assert r.text.strip()
    assert store.series([], 0, 2**62) == []


def test_remote_write_random_body_is_400_not_snappy_rather_than_413(client: TestClient) -> None:
    """Bytes whose first ones read as a snappy header of 4 GiB are not snappy, not too large."""
    r = client.post("/api/v1/write", content=b"\xff\xff\xff\xff\x0fgarbage", headers=RW_HEADERS)
    assert r.status_code == 400
    assert "not snappy-compressed" in r.text


def test_remote_write_body_limit_is_413(client: TestClient) -> None:
    r = client.post("/api/v1/write", content=b"x" * (64 * 1024 + 1), headers=RW_HEADERS)
    assert r.status_code == 413
    assert "max_body_bytes" in r.text


def test_remote_write_2_is_refused_with_415(client: TestClient) -> None:
    headers = {
        **RW_HEADERS,
        "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    }
    assert client.post("/api/v1/write", content=b"", headers=headers).status_code == 415


def test_remote_write_missing_metric_name_is_400(client: TestClient) -> None:
    body = encode_write_request([((("job", "x"),), [(NOW_MS, 1.0)])])
    assert _write(client, body) == 400


def _otlp_gauge(value: float) -> dict[str, object]:
    return {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]
                },
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "queue.depth",
                                "gauge": {
                                    "dataPoints": [
                                        {"asDouble": value, "timeUnixNano": str(NOW_MS * 1_000_000)}
                                    ]
                                },
                            }
                        ]
                    }
                ],
            }
        ]
    }


def test_otlp_json_then_query(client: TestClient) -> None:
    r = client.post(
        "/v1/metrics",
        content=json.dumps(_otlp_gauge(7)),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    r = client.get("/api/v1/query", params={"query": "queue_depth", "time": NOW_MS / 1000})
    [sample] = r.json()["data"]["result"]
    assert sample["metric"]["job"] == "shop"
    assert sample["value"][1] == "7"


def test_otlp_gzip_and_errors(client: TestClient) -> None:
    body = gzip.compress(json.dumps(_otlp_gauge(3)).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert client.post("/v1/metrics", content=body, headers=headers).status_code == 200
    r = client.post(
        "/v1/metrics", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == 3  # google.rpc.Code INVALID_ARGUMENT
    r = client.post("/v1/metrics", content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    bomb = gzip.compress(b"\x00" * (1024 * 1024))
    r = client.post(
        "/v1/metrics", content=bomb, headers={**headers, "Content-Type": "application/x-protobuf"}
    )
    assert r.status_code == 413


def test_health_ready_and_self_metrics(client: TestClient) -> None:
    assert client.get("/-/healthy").status_code == 200
    assert client.get("/-/ready").status_code == 200
    _write(client, encode_write_request([((("__name__", "x"),), [(NOW_MS, 1.0)])]))
    client.get("/api/v1/query", params={"query": "x", "time": NOW_MS / 1000})
    r = client.get("/metrics")
    exposition = parse(r.content, r.headers["content-type"])
    names = {dict(s.labels)["__name__"] for s in exposition.samples}
    assert "spyglass_ingest_samples_total" in names
    assert "spyglass_query_duration_seconds_count" in names
    assert "spyglass_http_requests_total" in names
    assert "process_resident_memory_bytes" in names


def test_unknown_route_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/nope").status_code == 404


def test_the_requests_grafanas_prometheus_data_source_makes(client: TestClient) -> None:
    """Health check, version detection, metric/label browsing and a panel query, as Grafana sends
    them (POST forms for queries, GET for metadata, start/end on the browsing endpoints)."""
    labels = (("__name__", "http_requests_total"), ("job", "api"), ("route", "/items/{id}"))
    _write(
        client,
        encode_write_request([(labels, [(NOW_MS + i * 15_000, i * 3.0) for i in range(41)])]),
    )
    start, end = NOW_MS / 1000, NOW_MS / 1000 + 600

    assert client.get("/-/healthy").status_code == 200
    health = client.post("/api/v1/query", data={"query": "1+1", "time": str(end)}).json()
    assert health["data"] == {"resultType": "scalar", "result": [end, "2"]}
    assert client.get("/api/v1/status/buildinfo").json()["data"]["version"].startswith("3.")

    span = {"start": str(start), "end": str(end)}
    names = client.get("/api/v1/label/__name__/values", params=span).json()["data"]
    assert names == ["http_requests_total"]
    assert client.get("/api/v1/labels", params=span).json()["data"] == ["__name__", "job", "route"]
    values = client.get(
        "/api/v1/label/route/values", params={**span, "match[]": 'http_requests_total{job="api"}'}
    ).json()["data"]
    assert values == ["/items/{id}"]
    series = client.get("/api/v1/series", params={**span, "match[]": "http_requests_total"})
    assert series.json()["data"] == [dict(labels)]

    panel = client.post(
        "/api/v1/query_range",
        data={
            "query": "sum by (route) (rate(http_requests_total[1m]))",
            "start": str(start + 60),
            "end": str(end),
            "step": "30",
        },
    ).json()["data"]
    assert panel["resultType"] == "matrix"
    [row] = panel["result"]
    assert row["metric"] == {"route": "/items/{id}"}
    assert len(row["values"]) == 19
    assert all(float(v) == pytest.approx(0.2) for _, v in row["values"])  # 3 per 15 s
