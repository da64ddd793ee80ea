"""OTLP logs become the records Loki's OTLP ingestion makes: index labels from the resource,
everything else structured metadata, hex ids, the body as text; Loki's limits refuse records
through partial success; the OpenTelemetry examples are accepted; no body crashes the decoder."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from tests.support.required import need_conformance

from spyglass.core.errors import BadInput
from spyglass.core.limits import LogLimits
from spyglass.ingest.otlp import decode_otlp_logs

NOW = 1_544_712_660_300_000_000 + 3600 * 10**9  # an hour after the examples' records
LIMITS = LogLimits(reject_old_samples_max_age_ms=0)


def test_the_opentelemetry_logs_example_maps_as_loki_maps_it() -> None:
    body = need_conformance("otlp/logs.json", "opentelemetry-proto's example logs").read_bytes()
    got = decode_otlp_logs(body, "application/json", LIMITS, NOW)
    assert got.rejected == 0
    (r,) = got.batch.records
    assert r.stream == (("service_name", "my.service"),)
    assert r.timestamp_ns == 1544712660300000000
    assert r.line == "Example log record"
    assert r.trace_id == "5b8efff798038103d269b633813fc60c"
    assert r.span_id == "eee19b7ec3c1b174"
    assert (r.severity_text, r.severity_number) == ("Information", 10)
    assert r.resource == {"service.name": "my.service"}
    meta = dict(r.metadata)
    assert meta["scope_name"] == "my.library"
    assert meta["scope_version"] == "1.0.0"
    assert meta["my_scope_attribute"] == "some scope attribute"
    assert meta["string_attribute"] == "some string"
    assert meta["boolean_attribute"] == "true"
    assert meta["trace_id"] == r.trace_id
    assert meta["span_id"] == r.span_id
    assert meta["severity_text"] == "Information"
    assert meta["detected_level"] == "info"
    assert meta["observed_timestamp"] == "1544712660300000000"


def test_the_opentelemetry_events_example_is_accepted_with_a_json_body() -> None:
    body = need_conformance("otlp/events.json", "opentelemetry-proto's example events").read_bytes()
    got = decode_otlp_logs(body, "application/json", LIMITS, NOW)
    (r,) = got.batch.records
    assert json.loads(r.line)["title"] == "Free Online GUID Generator"


def test_protobuf_index_labels_unknown_service_and_partial_success() -> None:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    for key, value in [("k8s.pod.name", "api-1"), ("host.name", "h1")]:
        kv = rl.resource.attributes.add()
        kv.key, kv.value.string_value = key, value
    lr = rl.scope_logs.add().log_records.add()
    lr.time_unix_nano = NOW
    lr.body.string_value = "hello"
    lr.severity_number = 17
    long = rl.scope_logs[0].log_records.add()
    long.time_unix_nano = NOW
    long.body.string_value = "x" * 20
    got = decode_otlp_logs(
        req.SerializeToString(), "application/x-protobuf", LogLimits(max_line_size=10), NOW
    )
    (r,) = got.batch.records
    assert r.stream == (("k8s_pod_name", "api-1"), ("service_name", "unknown_service"))
    assert r.metadata["host_name"] == "h1"
    assert r.metadata["detected_level"] == "error"
    assert got.rejected == 1
    assert "Max entry size '10' bytes exceeded" in got.error_message


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xff", "application/x-protobuf"),
        (b"[]", "application/json"),
        (
            b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}',
            "application/json",
        ),
        (b'{"resourceLogs": 5}', "application/json"),
        (b"{}", "text/plain"),
    ],
)
def test_malformed_bodies_are_bad_input(body: bytes, content_type: str) -> None:
    with pytest.raises(BadInput):
        decode_otlp_logs(body, content_type, LIMITS, NOW)


@given(st.binary(max_size=300), st.sampled_from(["application/json", "application/x-protobuf"]))
def test_any_body_is_records_or_bad_input_never_a_crash(body: bytes, content_type: str) -> None:
    with contextlib.suppress(BadInput):
        decode_otlp_logs(body, content_type, LIMITS, NOW)
