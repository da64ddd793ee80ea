"""The push endpoints on their own: what a sender gets back for each kind of request, what the
server log says about refused ones, and what the receivers count for ``/metrics``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import cramjam
import httpx
import pytest
from google.rpc.status_pb2 import Status
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.core.errors import Unavailable
from spyglass.core.limits import IngestLimits
from spyglass.ingest.remote_write import encode_write_request
from spyglass.ingest.remote_write._schema import WriteRequest
from spyglass.server.api.write import WriteAPI
from spyglass.storage.memory import MemoryStore

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
T_MS = 1_700_000_000_000


@pytest.fixture
def api() -> WriteAPI:
    return WriteAPI(MemoryStore(), IngestLimits(max_body_bytes=64 * 1024))


@pytest.fixture
def client(api: WriteAPI) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=api.routes())) as c:
        yield c


def _gauge_and_delta(name: str) -> dict[str, object]:
    """An OTLP/JSON export with one gauge point and a delta sum of two points (not stored)."""
    point = {"asDouble": 1, "timeUnixNano": str(T_MS * 1_000_000)}
    metrics = [
        {"name": name, "gauge": {"dataPoints": [point]}},
        {
            "name": "d",
            "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [point] * 2},
        },
    ]
    return {"resourceMetrics": [{"scopeMetrics": [{"metrics": metrics}]}]}


def _with_histograms_and_exemplars(name: str) -> bytes:
    """A remote_write body: a series with one float sample, two native histogram samples and
    one exemplar."""
    req = WriteRequest()
    ts = req.timeseries.add()
    ts.labels.add(name="__name__", value=name)
    ts.samples.add(value=1.0, timestamp=T_MS)
    ts.histograms.extend([b"\x08\x05", b"\x08\x06"])  # Histogram{count_int}: not decoded
    ts.exemplars.append(b"\x0a\x00")  # Exemplar{labels: [{}]}: not decoded
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def test_collectors_report_what_the_receivers_counted(client: TestClient, api: WriteAPI) -> None:
    registry = CollectorRegistry(auto_describe=False)
    for collector in api.collectors():
        registry.register(collector)

    def value(name: str) -> float | None:
        return registry.get_sample_value(name)

    assert value("spyglass_remote_write_histograms_skipped_total") == 0
    for name in ("a", "b", "a"):
        r = client.post(
            "/api/v1/write", content=_with_histograms_and_exemplars(name), headers=RW_HEADERS
        )
        assert r.status_code == 204
    for name in ("x", "y"):
        r = client.post("/v1/metrics", json=_gauge_and_delta(name))
        assert r.status_code == 200
        assert r.json()["partialSuccess"]["rejectedDataPoints"] == "2"

    assert value("spyglass_remote_write_histograms_skipped_total") == 6
    assert value("spyglass_remote_write_exemplars_skipped_total") == 3
    assert value("spyglass_remote_write_cached_series") == 2
    assert value("spyglass_otlp_http_points_rejected_total") == 4
    assert value("spyglass_otlp_http_cached_series") == 2


def test_each_api_counts_on_its_own_decoders() -> None:
    """Two servers in one process (tests, embedding) do not share caches or counters."""
    first, second = WriteAPI(MemoryStore()), WriteAPI(MemoryStore())
    assert first.remote_write_decoder is not second.remote_write_decoder
    assert first.otlp_converter is not second.otlp_converter
    with TestClient(Starlette(routes=first.routes())) as c:
        body = json.dumps(_gauge_and_delta("x"))
        c.post("/v1/metrics", content=body, headers={"Content-Type": "application/json"})
    assert first.otlp_converter.cached_series == 1
    assert second.otlp_converter.cached_series == 0


def _rw_body() -> bytes:
    return encode_write_request([((("__name__", "up"),), [(T_MS, 1.0)])])


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("application/json", "unsupported content type 'application/json'"),
        ("text/plain; charset=utf-8", "unsupported content type 'text/plain; charset=utf-8'"),
        ("application/x-www-form-urlencoded", "unsupported content type"),
        ("application/octet-stream", "unsupported content type"),
        ("application/x-protobuf;proto=io.prometheus.write.v2.Request", "remote write 2.0"),
        ("application/x-protobuf;proto=acme.Batch", "unsupported protobuf message 'acme.Batch'"),
        ("application/x-protobuf;proto", "malformed parameter 'proto'"),
    ],
)
def test_remote_write_other_content_types_are_415(
    client: TestClient, content_type: str, message: str
) -> None:
    """A body of another type is refused as such, not read as (bad) snappy: the sender learns
    what to send instead."""
    r = client.post(
        "/api/v1/write", content=_rw_body(), headers={**RW_HEADERS, "Content-Type": content_type}
    )
    assert r.status_code == 415
    assert message in r.text
    assert r.headers["content-type"].startswith("text/plain")


def test_remote_write_form_post_is_415(client: TestClient) -> None:
    r = client.post("/api/v1/write", data={"series": "up 1"})
    assert r.status_code == 415
    assert "application/x-protobuf" in r.text


def test_remote_write_other_content_encoding_is_415(client: TestClient) -> None:
    r = client.post(
        "/api/v1/write", content=_rw_body(), headers={**RW_HEADERS, "Content-Encoding": "gzip"}
    )
    assert r.status_code == 415
    assert "unsupported content encoding 'gzip'" in r.text


@pytest.mark.parametrize(
    "headers",
    [
        RW_HEADERS,
        {**RW_HEADERS, "Content-Type": "application/x-protobuf;proto=prometheus.WriteRequest"},
        {**RW_HEADERS, "Content-Type": "Application/X-Protobuf; proto=prometheus.WriteRequest"},
        {**RW_HEADERS, "Content-Encoding": "SNAPPY"},
        # No Content-Type and no Content-Encoding: remote write 1.0 and snappy, as Prometheus
        # assumes for senders that predate the 1.0 spec.
        {"X-Prometheus-Remote-Write-Version": "0.1.0"},
    ],
)
def test_remote_write_1_content_types_are_accepted(
    client: TestClient, headers: dict[str, str]
) -> None:
    assert client.post("/api/v1/write", content=_rw_body(), headers=headers).status_code == 204


def _status(r: httpx.Response) -> Status:
    """The google.rpc.Status an OTLP exporter reads from an error response."""
    assert r.headers["content-type"] == "application/x-protobuf"
    return Status.FromString(r.content)


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},
    ],
)
def test_otlp_other_content_types_are_415_with_a_protobuf_status(
    client: TestClient, headers: dict[str, str]
) -> None:
    r = client.post("/v1/metrics", content=b"x", headers=headers)
    assert r.status_code == 415
    status = _status(r)
    assert status.code == 3  # INVALID_ARGUMENT
    assert "application/x-protobuf or application/json" in status.message


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_otlp_other_methods_are_405_with_a_status(client: TestClient, method: str) -> None:
    r = client.request(method, "/v1/metrics")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert f"method {method} is not allowed" in _status(r).message


def test_otlp_errors_answer_in_the_requests_encoding(client: TestClient) -> None:
    r = client.post(
        "/v1/metrics", content=b"\x0a\xff", headers={"Content-Type": "application/x-protobuf"}
    )
    assert r.status_code == 400
    assert "malformed protobuf" in _status(r).message
    r = client.post("/v1/metrics", content=b"[", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"
    assert r.json()["code"] == 3
    assert "not JSON" in r.json()["message"]
    r = client.post(
        "/v1/metrics",
        content=b"x" * (64 * 1024 + 1),
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 413
    assert "max_body_bytes" in _status(r).message


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [
        (r.levelno, r.getMessage()) for r in caplog.records if r.name == "spyglass.server.api.write"
    ]


def test_refused_writes_leave_one_line_per_protocol(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "spyglass.server.api.write"):
        garbage = b"\xff\xff\xff\xff\x0fgarbage"
        assert client.post("/api/v1/write", content=garbage).status_code == 400
        r = client.post("/v1/metrics", content=b"x", headers={"Content-Type": "text/plain"})
        assert r.status_code == 415
        # The same sender again at once: answered, but the log already has its line.
        assert client.post("/api/v1/write", content=garbage).status_code == 400
    [(level, first), (_, second)] = _log_lines(caplog)
    assert level == logging.WARNING
    assert first.startswith("remote_write write from testclient:50000 refused with 400: ")
    assert "not snappy-compressed" in first
    assert second.startswith("otlp_http write from testclient:50000 refused with 415: ")
    assert "'text/plain'" in second


class BrokenSink:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def append(self, batch: object) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"), [(Unavailable("the WAL disk is full"), 503), (RuntimeError("bug"), 500)]
)
def test_failed_writes_are_logged_as_errors_and_answered_in_each_shape(
    caplog: pytest.LogCaptureFixture, error: Exception, status: int
) -> None:
    api = WriteAPI(BrokenSink(error))
    with (
        caplog.at_level(logging.WARNING, "spyglass.server.api.write"),
        TestClient(Starlette(routes=api.routes())) as client,
    ):
        r = client.post("/api/v1/write", content=_rw_body(), headers=RW_HEADERS)
        assert r.status_code == status
        assert r.headers["content-type"].startswith("text/plain")
        r = client.post(
            "/v1/metrics", content=b"", headers={"Content-Type": "application/x-protobuf"}
        )
        assert r.status_code == status
        assert _status(r).code == (14 if status == 503 else 13)  # UNAVAILABLE / INTERNAL
    lines = _log_lines(caplog)
    assert [level for level, _ in lines] == [logging.ERROR, logging.ERROR]
    assert lines[0][1].startswith(f"remote_write write from testclient:50000 failed with {status}")
    assert lines[1][1].startswith(f"otlp_http write from testclient:50000 failed with {status}")
    assert str(error) in lines[0][1]
