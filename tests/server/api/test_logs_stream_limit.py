"""``--logs-max-streams`` on every log push protocol, in process: the lines of existing streams
and of new streams within the limit are stored, the others refused in the protocol's own shape
(Loki push 429 with Loki's message, OTLP/HTTP partial success or 429 RESOURCE_EXHAUSTED,
Elasticsearch ``_bulk`` 429 items), and ``/metrics`` counts the refused lines by reason."""

from __future__ import annotations

import asyncio
import json
import time

import grpc
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from prometheus_client import CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.support.servers import free_port

from spyglass.core.labels import labels_of
from spyglass.core.limits import IngestLimits, LogLimits
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.core.matchers import Matcher
from spyglass.ingest.active_streams import ActiveStreams
from spyglass.server.api.logs_ingest import LogsIngestAPI
from spyglass.server.log_streams import LogStreamLimit
from spyglass.server.otlp_grpc import LogsService, start_otlp_grpc
from spyglass.storage import LogSelection, MemoryLogStore
from spyglass.storage.memory import MemoryStore

_ALL = LogSelection((), 0, 2**62, direction="forward")
LIMIT_TEXT = "Maximum active stream limit exceeded when trying to create stream "


def _client(limit: int) -> tuple[TestClient, MemoryLogStore, ActiveStreams]:
    store = MemoryLogStore()
    streams = ActiveStreams(limit)
    api = LogsIngestAPI(store, streams=streams)
    return TestClient(Starlette(routes=api.routes())), store, streams


def _stored(store: MemoryLogStore) -> list[tuple[str, str]]:
    sel = LogSelection((Matcher.of("job", "=", "app"),), 0, 2**62, direction="forward")
    return [(dict(r.stream)["id"], r.line) for r in store.select_logs(sel)]


def _loki(ids: list[str]) -> dict[str, object]:
    now = time.time_ns()
    return {
        "streams": [
            {"stream": {"job": "app", "id": i}, "values": [[str(now + k), f"line {i}"]]}
            for k, i in enumerate(ids)
        ]
    }


def test_loki_push_stores_streams_within_the_limit_and_answers_429_with_lokis_message() -> None:
    client, store, streams = _client(2)
    assert client.post("/loki/api/v1/push", json=_loki(["a"])).status_code == 204
    r = client.post("/loki/api/v1/push", json=_loki(["a", "b", "c", "d"]))
    assert r.status_code == 429
    assert r.text.startswith(LIMIT_TEXT + '{id="c", job="app"}, reduce the number of active')
    assert r.text.rstrip().endswith("user: 'fake'")
    # The existing stream and the one new stream within the limit were stored anyway.
    assert _stored(store) == [("a", "line a"), ("a", "line a"), ("b", "line b")]
    # A push to an existing stream still goes through.
    assert client.post("/loki/api/v1/push", json=_loki(["b"])).status_code == 204
    assert streams.refused_lines == 2
    registry = CollectorRegistry()
    for collector in LogStreamLimit(streams, store).collectors():
        registry.register(collector)
    text = generate_latest(registry).decode()
    assert 'spyglass_logs_refused_lines_total{reason="stream_limit"} 2.0' in text
    assert "spyglass_logs_active_streams 2.0" in text


def _otlp(ids: list[str]) -> dict[str, object]:
    now = str(time.time_ns())
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": i}}]},
                "scopeLogs": [
                    {"logRecords": [{"timeUnixNano": now, "body": {"stringValue": f"line {i}"}}]}
                ],
            }
            for i in ids
        ]
    }


def test_otlp_http_reports_a_partial_success_when_part_was_taken_else_429() -> None:
    client, store, _ = _client(1)
    r = client.post("/v1/logs", json=_otlp(["api", "db"]))
    assert r.status_code == 200
    body = r.json()["partialSuccess"]
    assert body["rejectedLogRecords"] == "1"
    assert body["errorMessage"].startswith(LIMIT_TEXT)
    assert 'service_name="db"' in body["errorMessage"]
    # Nothing of this export can be taken: OTLP's throttling answer.
    r = client.post("/v1/logs", json=_otlp(["web"]))
    assert r.status_code == 429
    assert r.json()["code"] == 8  # RESOURCE_EXHAUSTED
    assert r.json()["message"].startswith(LIMIT_TEXT)
    # The existing stream is still taken, in full.
    ok = client.post("/v1/logs", json=_otlp(["api"]))
    assert ok.status_code == 200
    assert "partialSuccess" not in ok.json()
    services = [dict(r.stream)["service_name"] for r in store.select_logs(_ALL)]
    assert services == ["api", "api"]


def test_otlp_http_protobuf_partial_success() -> None:

    client, _, _ = _client(1)
    request = json_format.ParseDict(_otlp(["api", "db", "web"]), ExportLogsServiceRequest())
    r = client.post(
        "/v1/logs",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
    )
    assert r.status_code == 200
    response = ExportLogsServiceResponse.FromString(r.content)
    assert response.partial_success.rejected_log_records == 2
    assert response.partial_success.error_message.startswith(LIMIT_TEXT)


def test_es_bulk_refuses_the_items_of_streams_past_the_limit_with_429_items() -> None:
    client, store, _ = _client(1)
    lines = []
    for i, index in enumerate(["logs-a", "logs-b", "logs-a"]):
        lines.append(json.dumps({"index": {"_index": index, "_id": str(i)}}))
        lines.append(json.dumps({"message": f"doc {i}"}))
    r = client.post("/_bulk", content="\n".join(lines) + "\n")
    assert r.status_code == 200
    body = r.json()
    assert body["errors"] is True
    statuses = [item["index"]["status"] for item in body["items"]]
    assert statuses == [201, 429, 201]
    error = body["items"][1]["index"]["error"]
    assert error["type"] == "es_rejected_execution_exception"
    assert error["reason"].startswith(LIMIT_TEXT + '{index="logs-b"}')
    stored = store.select_logs(LogSelection((Matcher.of("index", "=", "logs-a"),), 0, 2**62))
    assert sorted(r.line for r in stored) == ["doc 0", "doc 2"]


@pytest.mark.parametrize("limit", [0, 100])
def test_no_refusal_while_under_the_limit(limit: int) -> None:
    client, store, _ = _client(limit)
    r = client.post("/loki/api/v1/push", json=_loki([str(i) for i in range(50)]))
    assert r.status_code == 204
    assert len(_stored(store)) == 50


def test_seeding_counts_the_streams_the_store_already_holds() -> None:

    store = MemoryLogStore()
    now = time.time_ns()
    old = labels_of({"job": "app", "id": "old"})
    recent = labels_of({"job": "app", "id": "recent"})
    store.load([LogRecord(now - 2 * 3_600 * 10**9, "x", old), LogRecord(now - 10**9, "y", recent)])
    streams = ActiveStreams(1)
    asyncio.run(LogStreamLimit(streams, store).start())
    assert len(streams) == 1  # only the stream with a line in the last hour
    assert streams.split(LogBatch((LogRecord(now, "z", recent),))).refused_lines == 0
    assert streams.split(LogBatch((LogRecord(now, "z", old),))).refused_lines == 1


def test_otlp_grpc_partial_success_then_resource_exhausted() -> None:

    logs = MemoryLogStore()
    streams = ActiveStreams(1)
    port = free_port()
    answers: list[logs_service_pb2.ExportLogsServiceResponse] = []
    errors: list[grpc.aio.AioRpcError] = []

    def request(ids: list[str]) -> logs_service_pb2.ExportLogsServiceRequest:
        return json_format.ParseDict(_otlp(ids), logs_service_pb2.ExportLogsServiceRequest())

    async def main() -> None:
        server = await start_otlp_grpc(
            MemoryStore(), IngestLimits(), "127.0.0.1", port,
            logs=LogsService(logs, LogLimits(), streams=streams),
        )  # fmt: skip
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = logs_service_pb2_grpc.LogsServiceStub(channel)
                answers.append(await stub.Export(request(["api", "db"]), timeout=10))
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await stub.Export(request(["web"]), timeout=10)
                errors.append(err.value)
                answers.append(await stub.Export(request(["api"]), timeout=10))
        finally:
            await server.stop(None)

    asyncio.run(main())
    assert answers[0].partial_success.rejected_log_records == 1
    assert answers[0].partial_success.error_message.startswith(LIMIT_TEXT)
    assert errors[0].code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (errors[0].details() or "").startswith(LIMIT_TEXT)
    assert not answers[1].HasField("partial_success")
    sel = LogSelection((Matcher.of("service_name", "=", "api"),), 0, 2**62)
    assert len(logs.select_logs(sel)) == 2
