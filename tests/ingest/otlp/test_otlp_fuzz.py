"""Whatever arrives at the OTLP metrics decoder, only ``BadInput`` escapes, for both encodings."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from spyglass.core.errors import BadInput
from spyglass.core.labels import LABEL_NAME_RE
from spyglass.core.limits import IngestLimits
from spyglass.ingest.otlp import decode_otlp_metrics

LIMITS = IngestLimits(max_body_bytes=1 << 20)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = ("application/x-protobuf", "application/json")


def _decode(body: bytes, content_type: str) -> None:
    try:
        batch = decode_otlp_metrics(body, content_type, LIMITS)
    except BadInput:
        return
    assert len(batch.timestamps) == len(batch.values) == len(batch)
    for fp in set(batch.fingerprints.tolist()):
        labels = batch.series[fp]
        assert labels == tuple(sorted(labels))
        assert all(n == "__name__" or LABEL_NAME_RE.match(n) for n, _ in labels)


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from(TYPES))
def test_arbitrary_bytes(body: bytes, content_type: str) -> None:
    _decode(body, content_type)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "resourceMetrics",
        "scopeMetrics",
        "metrics",
        "name",
        "unit",
        "gauge",
        "sum",
        "histogram",
        "summary",
        "exponentialHistogram",
        "dataPoints",
        "asInt",
        "asDouble",
        "timeUnixNano",
        "attributes",
        "key",
        "value",
        "stringValue",
        "isMonotonic",
        "aggregationTemporality",
        "bucketCounts",
        "explicitBounds",
        "count",
        "flags",
        "resource",
        "quantileValues",
    ]
)
otlp_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)


@FUZZ
@given(otlp_like)
def test_json_shaped_like_otlp(doc: Any) -> None:
    _decode(json.dumps(doc).encode(), "application/json")


attr = st.fixed_dictionaries(
    {
        "key": st.text(max_size=10),
        "value": st.fixed_dictionaries({"stringValue": st.text(max_size=6)}),
    }
)
point = st.fixed_dictionaries(
    {
        "asDouble": st.floats(allow_nan=False, allow_infinity=False),
        "timeUnixNano": st.integers(0, 2**63 - 1).map(str),
        "attributes": st.lists(attr, max_size=4),
        "flags": st.integers(0, 3),
    }
)
metric = st.fixed_dictionaries(
    {
        "name": st.text(max_size=12),
        "unit": st.text(max_size=6),
        "gauge": st.fixed_dictionaries({"dataPoints": st.lists(point, max_size=3)}),
    }
)
valid_requests = st.builds(
    lambda res, ms: {
        "resourceMetrics": [{"resource": {"attributes": res}, "scopeMetrics": [{"metrics": ms}]}]
    },
    st.lists(attr, max_size=4),
    st.lists(metric, max_size=4),
)


@FUZZ
@given(valid_requests)
def test_valid_json_with_arbitrary_names(doc: dict[str, Any]) -> None:
    _decode(json.dumps(doc).encode(), "application/json")


@FUZZ
@given(valid_requests, st.data())
def test_mutated_protobuf(doc: dict[str, Any], data: st.DataObject) -> None:
    req = json_format.ParseDict(doc, ExportMetricsServiceRequest())
    raw = bytearray(req.SerializeToString())
    if raw:
        for _ in range(data.draw(st.integers(1, 4))):
            pos = data.draw(st.integers(0, len(raw) - 1))
            raw[pos] ^= data.draw(st.integers(1, 255))
    _decode(bytes(raw), "application/x-protobuf")
