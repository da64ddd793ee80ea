"""Zipkin v2 JSON spans map onto OpenTelemetry's model as the Collector's Zipkin receiver maps
them; a malformed body is refused with Zipkin's wording."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.spans import MAX_TIME_NS, SpanBatch
from spyglass.ingest.zipkin import decode_zipkin_spans
from spyglass.storage.traces._codec import decode_batch, encode_batch

SPAN = {
    "traceId": "5af7183fb1d4cf5f",
    "id": "352bff9a74ca9ad2",
    "parentId": "6b221d5bc9e6496c",
    "name": "get /api",
    "kind": "SERVER",
    "timestamp": 1556604172355737,
    "duration": 1431,
    "localEndpoint": {"serviceName": "backend", "ipv4": "192.168.99.1", "port": 3306},
    "remoteEndpoint": {"serviceName": "frontend", "ipv4": "172.19.0.2", "port": 58648},
    "tags": {"http.method": "GET", "error": "timeout"},
    "annotations": [{"timestamp": 1556604172355800, "value": "ws"}],
}


@pytest.mark.parametrize("timestamp", ["1e300", "Infinity", "NaN", "-5", "18446744073709551615"])
def test_times_out_of_range_are_cut_not_a_crash(timestamp: str) -> None:
    """A timestamp no span can have (past int64 nanoseconds, infinite, not a number) is cut
    to the range Spyglass keeps, never an overflow while the span is stored."""
    body = json.dumps([{**SPAN, "annotations": []}]).replace("1556604172355737", timestamp)
    (span,) = decode_zipkin_spans(body.encode()).spans
    assert 0 <= span.start_ns <= MAX_TIME_NS
    assert decode_batch(encode_batch(SpanBatch((span,)))) == SpanBatch((span,))


def test_the_zipkin_example_span() -> None:
    [span] = decode_zipkin_spans(json.dumps([SPAN]).encode())
    assert span.trace_id == "00000000000000005af7183fb1d4cf5f"
    assert (span.span_id, span.parent_span_id) == ("352bff9a74ca9ad2", "6b221d5bc9e6496c")
    assert (span.start_ns, span.duration_ns) == (1556604172355737000, 1431000)
    assert (span.kind, span.service_name) == ("Server", "backend")
    assert (span.status_code, span.status_message) == ("Error", "timeout")
    assert span.attributes == {
        "http.method": "GET",
        "net.host.ip": "192.168.99.1",
        "net.host.port": "3306",
        "peer.service": "frontend",
        "net.peer.ip": "172.19.0.2",
        "net.peer.port": "58648",
    }
    assert [(e.timestamp_ns, e.name) for e in span.events] == [(1556604172355800000, "ws")]


def test_a_root_span_without_kind_is_internal() -> None:
    [span] = decode_zipkin_spans(b'[{"traceId":"1","id":"2","name":"x"}]')
    assert (span.trace_id, span.span_id, span.parent_span_id) == (
        "0" * 31 + "1",
        "0" * 15 + "2",
        "",
    )
    assert span.kind == "Internal"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "Malformed reading List<Span> from json"),
        (b"{}", "expected a JSON array"),
        (b'[{"id":"2"}]', "span 0: traceId None"),
        (b'[{"traceId":"1","id":"XYZ"}]', "span 0: id 'XYZ'"),
        (b'[{"traceId":"1","id":"0000"}]', "span 0: id '0000'"),
        (b"[1]", "span 0 is not an object"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        decode_zipkin_spans(body)


def test_too_many_spans() -> None:
    with pytest.raises(LimitExceeded):
        decode_zipkin_spans(json.dumps([SPAN] * 3).encode(), max_spans=2)


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_fail_cleanly(body: bytes) -> None:
    try:
        decode_zipkin_spans(body)
    except BadInput:
        return
