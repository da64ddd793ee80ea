"""Elasticsearch _bulk bodies: ECS and Fluent Bit documents become log records with a small set
of stream labels, every item gets Elasticsearch's answer, and no body crashes the decoder."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import spyglass.ingest.es_bulk as es_bulk
from spyglass.core.errors import BadInput
from spyglass.core.limits import LogLimits
from spyglass.ingest.es_bulk import BulkRequestError, decode_bulk, parse_timestamp

NOW = 1_760_000_000_000_000_000
LIMITS = LogLimits(reject_old_samples_max_age_ms=0)


def test_public_surface() -> None:
    assert sorted(es_bulk.__all__) == [
        "BulkItem",
        "BulkRequestError",
        "BulkResult",
        "decode_bulk",
        "document_record",
        "new_id",
        "parse_timestamp",
    ]


def ndjson(*docs: object) -> bytes:
    return b"".join(json.dumps(d).encode() + b"\n" for d in docs)


def test_filebeat_ecs_document() -> None:
    body = ndjson(
        {"create": {"_index": "filebeat-8"}},
        {
            "@timestamp": "2025-10-09T08:53:20.123456789Z",
            "message": "GET /users 500",
            "log": {"level": "ERROR", "file": {"path": "/var/log/app.log"}},
            "service": {"name": "api"},
            "host": {"name": "web-1"},
            "trace": {"id": "0AF7651916CD43DD8448EB211C80319C"},
            "span": {"id": "B7AD6B7169203331"},
            "http": {"response": {"status_code": 500}},
            "tags": ["a", "b"],
        },
    )
    got = decode_bulk(body, "", LIMITS, NOW)
    (r,) = got.batch.records
    assert r.timestamp_ns == 1_760_000_000_123_456_789
    assert r.line == "GET /users 500"
    assert r.stream == (("host_name", "web-1"), ("index", "filebeat-8"), ("service_name", "api"))
    assert r.severity_text == "ERROR"
    assert r.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert r.span_id == "b7ad6b7169203331"
    assert dict(r.metadata) == {
        "log_file_path": "/var/log/app.log",
        "http_response_status_code": "500",
        "tags": '["a","b"]',
        "detected_level": "error",
    }
    (item,) = got.items
    assert item.as_json()["create"]["status"] == 201
    assert item.as_json()["create"]["result"] == "created"
    assert item.as_json()["create"]["_index"] == "filebeat-8"
    assert not got.errors


def test_fluent_bit_document_uses_log_and_the_url_index() -> None:
    body = ndjson({"index": {"_id": "x1"}}, {"@timestamp": 1760000000123, "log": "plain line"})
    got = decode_bulk(body, "fluent-bit", LIMITS, NOW)
    (r,) = got.batch.records
    assert (r.timestamp_ns, r.line, r.stream) == (
        1_760_000_000_123_000_000,
        "plain line",
        (("index", "fluent-bit"),),
    )
    assert got.items[0].id == "x1"


def test_a_document_without_message_is_its_json_and_without_time_is_now() -> None:
    got = decode_bulk(ndjson({"index": {}}, {"a": 1, "b": "two"}), "i", LIMITS, NOW)
    (r,) = got.batch.records
    assert r.timestamp_ns == NOW
    assert r.line == '{"a": 1, "b": "two"}'


def test_bad_items_fail_alone_with_elasticsearch_errors() -> None:
    body = ndjson(
        {"index": {"_index": "ok"}},
        {"message": "fine"},
        {"index": {"_index": "ok"}},
        {"message": "bad time", "@timestamp": "yesterday"},
        {"delete": {"_index": "ok", "_id": "1"}},
        {"update": {"_index": "ok", "_id": "1"}},
        {"doc": {}},
        {"index": {}},
        {"message": "no index"},
        {"create": {"_index": "ok"}},
        {"message": "x" * 20},
    )
    got = decode_bulk(body, "", LogLimits(max_line_size=10, reject_old_samples_max_age_ms=0), NOW)
    assert [r.line for r in got.batch.records] == ["fine"]
    assert [i.status for i in got.items] == [201, 400, 400, 400, 400, 400]
    assert got.errors
    kinds = [i.error["type"] for i in got.items if i.error is not None]
    assert kinds == [
        "document_parsing_exception",
        "illegal_argument_exception",
        "illegal_argument_exception",
        "action_request_validation_exception",
        "illegal_argument_exception",
    ]
    last = got.items[-1].error
    assert last is not None
    assert last["reason"].startswith("Max entry size '10' bytes exceeded")


@pytest.mark.parametrize(
    "body", [b"not json\n{}\n", b'{"index": {}, "create": {}}\n{}\n', b'{"search": {}}\n', b"[1]\n"]
)
def test_a_malformed_action_line_fails_the_whole_request(body: bytes) -> None:
    with pytest.raises(BulkRequestError, match="Malformed action/metadata line"):
        decode_bulk(body, "i", LIMITS, NOW)


def test_timestamps_in_elasticsearchs_default_formats() -> None:
    assert parse_timestamp("2025-10-09T08:53:20Z") == 1_760_000_000 * 10**9
    assert parse_timestamp("2025-10-09T10:53:20+02:00") == 1_760_000_000 * 10**9
    assert parse_timestamp("2025-10-09T08:53:20.5") == 1_760_000_000_500_000_000
    assert parse_timestamp("2025-10-09") == 1_759_968_000 * 10**9
    assert parse_timestamp("1760000000000") == 1_760_000_000 * 10**9
    for bad in ["2025-13-01", "soon", True, -1, float("nan"), "2025-10-09T25:00:00Z"]:
        with pytest.raises(BadInput):
            parse_timestamp(bad)


@given(st.binary(max_size=300))
def test_any_body_is_items_or_a_request_error_never_a_crash(body: bytes) -> None:
    with contextlib.suppress(BadInput):
        decode_bulk(body, "i", LIMITS, NOW)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(json_values)
def test_any_document_is_an_item_never_a_crash(doc: object) -> None:
    got = decode_bulk(b'{"index": {}}\n' + json.dumps(doc).encode() + b"\n", "i", LIMITS, NOW)
    assert len(got.items) == 1


def test_a_document_that_is_its_own_line_is_not_repeated_as_metadata() -> None:
    doc = {"@timestamp": 1760000000000, "level": "WARN", "msg": "slow", "route": "/a"}
    got = decode_bulk(ndjson({"index": {}}, doc), "i", LIMITS, NOW)
    (r,) = got.batch.records
    assert json.loads(r.line) == doc
    assert dict(r.metadata) == {"detected_level": "warn"}


def test_the_response_body_is_the_items_as_elasticsearch_writes_them() -> None:
    body = ndjson(
        {"index": {"_index": 'we"ird', "_id": "1"}},
        {"message": "ok"},
        {"create": {"_index": "b"}},
        {"@timestamp": "bad"},
    )
    got = decode_bulk(body, "", LIMITS, NOW)
    answer = json.loads(got.response_body(7))
    assert answer == {
        "took": 7,
        "errors": True,
        "items": [item.as_json() for item in got.items],
    }
    assert answer["items"][0]["index"]["_index"] == 'we"ird'


def test_a_refused_bulk_answers_429_for_each_item_that_was_to_be_stored() -> None:
    """When storage is behind, Elasticsearch's answer to a full write queue: every item that
    would have been stored is a 429 ``es_rejected_execution_exception`` (shippers retry those),
    items that failed on their own keep their error, and nothing is left to store."""
    body = ndjson(
        {"index": {"_index": "a", "_id": "1"}},
        {"message": "one"},
        {"create": {"_index": "a"}},
        {"@timestamp": "bad"},
        {"create": {"_index": "b"}},
        {"message": "two"},
    )
    got = decode_bulk(body, "", LIMITS, NOW).refused(429, "es_rejected_execution_exception", "x")
    assert len(got.batch) == 0
    answer = json.loads(got.response_body(3))
    assert answer["errors"] is True
    items = [next(iter(i.values())) for i in answer["items"]]
    assert [i["status"] for i in items] == [429, 400, 429]
    assert items[0] == {
        "_index": "a",
        "_id": "1",
        "status": 429,
        "error": {"type": "es_rejected_execution_exception", "reason": "x"},
    }
    assert items[1]["error"]["type"] == "document_parsing_exception"
