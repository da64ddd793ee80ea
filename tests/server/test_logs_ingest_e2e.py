"""Log shipping end to end on a real ``spyglass serve``: the client shapes of python-logging-loki
(JSON), Promtail (snappy protobuf), the OpenTelemetry exporters (OTLP/HTTP JSON and OTLP/gRPC)
and Fluent Bit/Filebeat (Elasticsearch ``_bulk``) are accepted with each protocol's answer; bad
pushes get each protocol's error; the logs signal shows in ``/metrics``; and after ``kill -9``
every acknowledged record reads back through ``LogStore.select_logs`` on the same data dir."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import cramjam
import grpc
import httpx
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from tests.support.required import need_conformance
from tests.support.servers import Server, free_port, spyglass, stop

from spyglass.core.matchers import Matcher
from spyglass.ingest.loki import PushRequest
from spyglass.storage import LogSelection
from spyglass.storage.backends import CHDB_SUBDIR, ChdbBackend
from spyglass.storage.logs import LogStore


def promtail_body(labels: str, entries: list[tuple[int, str]]) -> bytes:
    """A PushRequest as Promtail builds it: protobuf, snappy block compressed."""
    req = PushRequest()
    stream = req.streams.add()
    stream.labels = labels.encode()
    for ts, line in entries:
        e = stream.entries.add()
        e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 1_000_000_000)
        e.line = line.encode()
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def read_back(data_dir: Path, *matchers: Matcher) -> list[tuple[tuple[tuple[str, str], ...], str]]:
    """Every record of the matching streams, oldest first, read through a LogStore opened on
    the server's data dir (which replays its WAL)."""

    async def go() -> list[tuple[tuple[tuple[str, str], ...], str]]:
        backend = ChdbBackend(data_dir / CHDB_SUBDIR)
        store = LogStore(backend, data_dir)
        try:
            await store.start()
            sel = LogSelection(tuple(matchers), 0, 2**62, direction="forward")
            return [(r.stream, r.line) for r in store.select_logs(sel)]
        finally:
            await store.close()
            backend.close()

    return asyncio.run(go())


def test_every_log_protocol_on_a_real_server_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    grpc_port = free_port()
    now = time.time_ns()
    args = ("--flush-interval", "1h", "--otlp-grpc-address", f"127.0.0.1:{grpc_port}")
    with spyglass(data, *args) as sg:
        # python-logging-loki's LokiHandler (version "1"): JSON streams with values.
        r = httpx.post(
            sg.url + "/loki/api/v1/push",
            json={
                "streams": [
                    {
                        "stream": {"application": "shop", "logger": "root", "severity": "error"},
                        "values": [[str(now), "payment failed for order 42"]],
                    }
                ]
            },
        )
        assert r.status_code == 204, r.text
        # Promtail: snappy protobuf.
        r = httpx.post(
            sg.url + "/loki/api/v1/push",
            content=promtail_body('{job="varlogs", filename="/var/log/syslog"}',
                                  [(now + 1, "sshd started"), (now + 2, "cron ran")]),
            headers={"Content-Type": "application/x-protobuf"},
        )  # fmt: skip
        assert r.status_code == 204, r.text
        # Loki's answer to bad input: 400 and a plain-text message.
        r = httpx.post(
            sg.url + "/loki/api/v1/push",
            content=promtail_body('{job="varlogs"', [(now, "x")]),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert r.status_code == 400
        assert r.text.startswith("error parsing labels '{job=\"varlogs\"' with error:")
        r = httpx.post(
            sg.url + "/loki/api/v1/push", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("text/plain")
        # OTLP/HTTP JSON: the OpenTelemetry example is timestamped 2018, older than Loki's
        # default limit of a week, so it is refused and reported as partial success; with a
        # current time it is stored.
        example = need_conformance("otlp/logs.json", "opentelemetry-proto's example logs")
        r = httpx.post(sg.url + "/v1/logs", content=example.read_bytes(),
                       headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["partialSuccess"]["rejectedLogRecords"] == "1"
        doc = json.loads(example.read_text())
        record = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
        record["timeUnixNano"] = str(now + 3)
        r = httpx.post(sg.url + "/otlp/v1/logs", json=doc)  # Loki's path
        assert r.status_code == 200, r.text
        assert "partialSuccess" not in r.json()
        # OTLP/gRPC with the generated client.
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = logs_service_pb2_grpc.LogsServiceStub(channel)
            req = logs_service_pb2.ExportLogsServiceRequest()
            rl = req.resource_logs.add()
            kv = rl.resource.attributes.add()
            kv.key, kv.value.string_value = "service.name", "checkout"
            lr = rl.scope_logs.add().log_records.add()
            lr.time_unix_nano = now + 4
            lr.body.string_value = "order placed over gRPC"
            answer = stub.Export(req, timeout=30)
            assert answer.partial_success.rejected_log_records == 0
        # Elasticsearch: what Filebeat asks first, then a bulk with one bad document.
        info = httpx.get(sg.url + "/es").json()
        assert info["version"]["number"].startswith("8.")
        bulk = "\n".join(
            json.dumps(x)
            for x in [
                {"create": {"_index": "filebeat"}},
                {"@timestamp": now // 1_000_000 + 5, "message": "GET /cart 200",
                 "service": {"name": "web"}},
                {"create": {"_index": "filebeat"}},
                {"@timestamp": "not a time", "message": "bad"},
            ]
        ) + "\n"  # fmt: skip
        r = httpx.post(sg.url + "/_bulk", content=bulk,
                       headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
        assert r.status_code == 200
        answer = r.json()
        assert answer["errors"] is True
        assert [i["create"]["status"] for i in answer["items"]] == [201, 400]
        r = httpx.post(sg.url + "/_bulk", content=b"garbage\n")
        assert r.status_code == 400
        assert r.json()["error"]["type"] == "illegal_argument_exception"
        # The logs signal's write path in /metrics.
        metrics = httpx.get(sg.url + "/metrics").text
        assert 'spyglass_wal_bytes{signal="logs"}' in metrics
        assert "spyglass_storage_records_appended_total 6.0" in metrics
        stop(sg, signal.SIGKILL)  # nothing flushed (1h interval): all of it is in the WAL only
    got = read_back(data)
    assert sorted(line for _, line in got) == sorted(
        [
            "payment failed for order 42",
            "sshd started",
            "cron ran",
            "Example log record",
            "order placed over gRPC",
            "GET /cart 200",
        ]
    )
    streams = {line: stream for stream, line in got}
    assert streams["sshd started"] == (("filename", "/var/log/syslog"), ("job", "varlogs"))
    assert streams["Example log record"] == (("service_name", "my.service"),)
    assert streams["order placed over gRPC"] == (("service_name", "checkout"),)
    assert streams["GET /cart 200"] == (("index", "filebeat"), ("service_name", "web"))
    assert [line for _, line in read_back(data, Matcher.of("job", "=", "varlogs"))] == [
        "sshd started",
        "cron ran",
    ]


def _pending_bytes(sg: Server) -> float:
    for line in httpx.get(sg.url + "/metrics").text.splitlines():
        if line.startswith('spyglass_storage_pending_bytes{signal="logs"}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("spyglass_storage_pending_bytes is not in /metrics")


def test_a_burst_past_the_pending_limit_is_refused_retryably_and_nothing_accepted_is_lost(
    tmp_path: Path,
) -> None:
    """``--logs-max-pending-bytes`` bounds what waits for ClickHouse in memory. Past it a Loki
    push gets 503 (Promtail retries a 5xx), OTLP/HTTP 503 with an UNAVAILABLE Status (a
    retryable code) and an Elasticsearch bulk a 429 per item, as a full write queue answers;
    what was acknowledged survives ``kill -9``, and a shipper retrying the refused pushes (as
    Promtail does) gets every line stored, each once."""
    data = tmp_path / "data"
    limit = "256KiB"
    now = time.time_ns()
    per_body = 500
    sent = {
        b: [(now + (b * per_body + i) * 1_000, f"burst {b:02d} {i:03d} " + "x" * 80)
            for i in range(per_body)]
        for b in range(12)
    }  # fmt: skip  # ~50 KiB of lines a body: five fit under the limit
    bodies = {b: promtail_body('{job="burst"}', entries) for b, entries in sent.items()}
    proto = {"Content-Type": "application/x-protobuf"}
    with spyglass(data, "--flush-interval", "1h", "--logs-max-pending-bytes", limit) as sg:
        statuses = {
            b: httpx.post(sg.url + "/loki/api/v1/push", content=body, headers=proto)
            for b, body in bodies.items()
        }
        accepted = [b for b, r in statuses.items() if r.status_code == 204]
        refused = [b for b, r in statuses.items() if r.status_code != 204]
        # Nothing is flushed (1 h interval): the first bodies fill the buffer, the rest wait.
        assert accepted == list(range(len(accepted))), statuses
        assert 3 <= len(accepted) <= 6
        for b in refused:
            assert statuses[b].status_code == 503
            assert "wait for storage" in statuses[b].text
        assert 0 < _pending_bytes(sg) <= 256 * 1024
        # A push whose body does not fit is refused before it is decoded: this one is not
        # JSON, and gets the 503 of a full buffer, not the 400 of a bad body.
        full = httpx.post(sg.url + "/loki/api/v1/push", content=b"x" * 40_000,
                          headers={"Content-Type": "application/json"})  # fmt: skip
        assert full.status_code == 503, full.text
        big = "<line> " + "y" * 40_000  # more than what is left below the limit
        otlp = {
            "resourceLogs": [{
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "burst"}}]},
                "scopeLogs": [{"logRecords": [
                    {"timeUnixNano": str(now), "body": {"stringValue": big}}]}],
            }]
        }  # fmt: skip
        r = httpx.post(sg.url + "/v1/logs", json=otlp)
        assert r.status_code == 503
        assert r.json()["code"] == 14  # UNAVAILABLE: the OTLP exporters retry it
        bulk = "\n".join(
            json.dumps(x)
            for x in [
                {"create": {"_index": "burst"}}, {"message": big, "@timestamp": now // 10**6},
                {"create": {"_index": "burst"}}, {"message": "two", "@timestamp": now // 10**6},
            ]
        ) + "\n"  # fmt: skip
        r = httpx.post(sg.url + "/_bulk", content=bulk,
                       headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
        assert r.status_code == 200
        answer = r.json()
        assert answer["errors"] is True
        items = [i["create"] for i in answer["items"]]
        assert [i["status"] for i in items] == [429, 429]
        assert {i["error"]["type"] for i in items} == {"es_rejected_execution_exception"}
        stop(sg, signal.SIGKILL)
    assert {line for _, line in read_back(data)} == {line for b in accepted for _, line in sent[b]}
    # Started again (flushing every second), the shipper retries what was refused.
    with spyglass(data, "--logs-max-pending-bytes", limit) as sg:
        for b in refused:
            for attempt in range(100):
                r = httpx.post(sg.url + "/loki/api/v1/push", content=bodies[b], headers=proto)
                if r.status_code != 503:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))  # Promtail's backoff, shortened
            assert r.status_code == 204, r.text
            assert _pending_bytes(sg) <= 256 * 1024 + len(sent[b]) * 200
        stop(sg)
    got = [line for _, line in read_back(data, Matcher.of("job", "=", "burst"))]
    assert got == [line for b in sorted(sent) for _, line in sent[b]]
