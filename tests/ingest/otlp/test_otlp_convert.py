"""OTLP metrics become the series Prometheus' OTLP receiver would store for them."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from tests.support.required import need_conformance

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.exemplars import Exemplar
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import MetricMetadata, SampleBatch, is_stale
from spyglass.ingest.otlp import (
    MetricsConverter,
    convert_metrics_request,
    convert_metrics_request_report,
    decode_otlp_metrics,
    decode_otlp_metrics_report,
)
from spyglass.ingest.otlp._cache import SeriesCache

LIMITS = IngestLimits()
T_NS = 1_700_000_000_123_456_789
T_MS = 1_700_000_000_123
CUMULATIVE = m.AGGREGATION_TEMPORALITY_CUMULATIVE
DELTA = m.AGGREGATION_TEMPORALITY_DELTA


def kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def request(
    metrics: list[m.Metric], resource: dict[str, object] | None = None
) -> ExportMetricsServiceRequest:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    for k, v in ({"service.name": "api"} if resource is None else resource).items():
        rm.resource.attributes.append(kv(k, v))
    rm.scope_metrics.add().metrics.extend(metrics)
    return req


def rows(batch: SampleBatch) -> set[tuple[tuple[tuple[str, str], ...], int, float]]:
    out = set()
    for fp, t, v in zip(batch.fingerprints, batch.timestamps, batch.values, strict=True):
        value = float(v)
        out.add((batch.series[int(fp)], int(t), -0.0 if is_stale(value) else value))
    return out


def series(name: str, **labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"__name__": name, **labels}.items()))


def test_monotonic_cumulative_sum_is_a_counter() -> None:
    metric = m.Metric(name="http.requests", unit="{request}", description="Requests served.")
    metric.sum.is_monotonic = True
    metric.sum.aggregation_temporality = CUMULATIVE
    metric.sum.data_points.add(
        time_unix_nano=T_NS, as_int=42, attributes=[kv("http.method", "GET")]
    )
    batch = convert_metrics_request(request([metric]), LIMITS)
    expected = series("http_requests_total", job="api", http_method="GET")
    assert rows(batch) == {(expected, T_MS, 42.0)}
    assert batch.metadata == {
        "http_requests_total": MetricMetadata("counter", "Requests served.", "")
    }


def test_non_monotonic_sum_and_gauge_are_gauges_with_unit_suffixes() -> None:
    updown = m.Metric(name="queue.size", unit="By")
    updown.sum.is_monotonic = False
    updown.sum.aggregation_temporality = CUMULATIVE
    updown.sum.data_points.add(time_unix_nano=T_NS, as_double=-3.5)
    gauge = m.Metric(name="cpu.utilization", unit="1")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_double=0.25)
    batch = convert_metrics_request(request([updown, gauge]), LIMITS)
    assert rows(batch) == {
        (series("queue_size_bytes", job="api"), T_MS, -3.5),
        (series("cpu_utilization_ratio", job="api"), T_MS, 0.25),
    }
    assert batch.metadata["queue_size_bytes"] == MetricMetadata("gauge", "", "bytes")
    assert batch.metadata["cpu_utilization_ratio"].type == "gauge"


def test_histogram_becomes_cumulative_buckets_sum_and_count() -> None:
    metric = m.Metric(name="http.server.duration", unit="s", description="Latency.")
    metric.histogram.aggregation_temporality = CUMULATIVE
    metric.histogram.data_points.add(
        time_unix_nano=T_NS,
        count=10,
        sum=4.5,
        explicit_bounds=[0.1, 0.5, 1.0],
        bucket_counts=[2, 3, 4, 1],
        attributes=[kv("route", "/users/{id}")],
    )
    batch = convert_metrics_request(request([metric]), LIMITS)
    name = "http_server_duration_seconds"
    base = {"job": "api", "route": "/users/{id}"}
    assert rows(batch) == {
        (series(name + "_bucket", le="0.1", **base), T_MS, 2.0),
        (series(name + "_bucket", le="0.5", **base), T_MS, 5.0),
        (series(name + "_bucket", le="1", **base), T_MS, 9.0),
        (series(name + "_bucket", le="+Inf", **base), T_MS, 10.0),
        (series(name + "_sum", **base), T_MS, 4.5),
        (series(name + "_count", **base), T_MS, 10.0),
    }
    assert batch.metadata == {name: MetricMetadata("histogram", "Latency.", "seconds")}


def test_bucket_bounds_zero_and_negative_zero_keep_their_own_labels() -> None:
    """A bound of -0.0 is ``le="-0"`` and 0.0 is ``le="0"`` (Go's FormatFloat), whichever of
    the two the process met first: the label cache once keyed them as one float."""
    for bounds in ([-0.0, 1.0], [0.0, 1.0], [-0.0, 1.0]):
        metric = m.Metric(name="delta.seconds", unit="s")
        metric.histogram.aggregation_temporality = CUMULATIVE
        metric.histogram.data_points.add(
            time_unix_nano=T_NS, count=3, explicit_bounds=bounds, bucket_counts=[1, 1, 1]
        )
        req = request([metric])
        for batch in (
            convert_metrics_request(req, LIMITS),
            MetricsConverter().convert_protobuf(req.SerializeToString(), LIMITS).batch,
        ):
            le = {dict(labels).get("le") for labels, _, _ in rows(batch)} - {None}
            assert le == {"-0" if math.copysign(1.0, bounds[0]) < 0 else "0", "1", "+Inf"}


def test_histogram_without_sum_has_no_sum_series() -> None:
    metric = m.Metric(name="sizes", unit="By")
    metric.histogram.aggregation_temporality = CUMULATIVE
    metric.histogram.data_points.add(time_unix_nano=T_NS, count=1, bucket_counts=[1])
    names = {
        dict(ls)["__name__"]
        for ls in convert_metrics_request(request([metric]), LIMITS).series.values()
    }
    assert names == {"sizes_bytes_bucket", "sizes_bytes_count"}


def test_summary_becomes_quantiles_sum_and_count() -> None:
    metric = m.Metric(name="rpc.latency", unit="ms")
    point = metric.summary.data_points.add(time_unix_nano=T_NS, count=7, sum=70.0)
    point.quantile_values.add(quantile=0.5, value=9.0)
    point.quantile_values.add(quantile=0.99, value=20.0)
    batch = convert_metrics_request(request([metric]), LIMITS)
    name = "rpc_latency_milliseconds"
    assert rows(batch) == {
        (series(name, job="api", quantile="0.5"), T_MS, 9.0),
        (series(name, job="api", quantile="0.99"), T_MS, 20.0),
        (series(name + "_sum", job="api"), T_MS, 70.0),
        (series(name + "_count", job="api"), T_MS, 7.0),
    }
    assert batch.metadata[name].type == "summary"


def test_resource_gives_job_instance_and_target_info() -> None:
    gauge = m.Metric(name="temp", unit="Cel")
    gauge.gauge.data_points.add(
        time_unix_nano=T_NS, as_double=21.5, attributes=[kv("job", "overridden"), kv("room", "a")]
    )
    gauge.gauge.data_points.add(time_unix_nano=T_NS + 5_000_000_000, as_double=22.0)
    resource = {
        "service.name": "checkout",
        "service.namespace": "shop",
        "service.instance.id": "pod-7",
        "host.name": "node-1",
        "deployment.environment": "prod",
    }
    batch = convert_metrics_request(request([gauge], resource), LIMITS)
    ident = {"job": "shop/checkout", "instance": "pod-7"}
    assert rows(batch) == {
        (series("temp_celsius", room="a", **ident), T_MS, 21.5),
        (series("temp_celsius", **ident), T_MS + 5000, 22.0),
        (
            series("target_info", host_name="node-1", deployment_environment="prod", **ident),
            T_MS + 5000,
            1.0,
        ),
    }
    assert batch.metadata["target_info"].type == "gauge"


def test_no_target_info_when_resource_only_identifies() -> None:
    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_double=1.0)
    batch = convert_metrics_request(
        request([gauge], {"service.name": "a", "service.instance.id": "b"}), LIMITS
    )
    assert rows(batch) == {(series("g", job="a", instance="b"), T_MS, 1.0)}


def test_attribute_values_of_every_type_and_colliding_names() -> None:
    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(
        time_unix_nano=T_NS,
        as_double=1.0,
        attributes=[
            kv("a.b", "dot"),
            kv("a_b", "underscore"),
            kv("flag", True),
            kv("n", 7),
            kv("ratio", 0.5),
            kv("empty", ""),
        ],
    )
    batch = convert_metrics_request(request([gauge], {}), LIMITS)
    # "a.b" and "a_b" both become "a_b": values joined with ";" in key order; empty = absent.
    assert rows(batch) == {
        (series("g", a_b="dot;underscore", flag="true", n="7", ratio="0.5"), T_MS, 1.0)
    }


def test_no_recorded_value_is_a_staleness_marker() -> None:
    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(
        time_unix_nano=T_NS, as_double=3.0, flags=m.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
    )
    hist = m.Metric(name="h")
    hist.histogram.aggregation_temporality = CUMULATIVE
    hist.histogram.data_points.add(
        time_unix_nano=T_NS,
        count=1,
        sum=1.0,
        bucket_counts=[1],
        flags=m.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK,
    )
    batch = convert_metrics_request(request([gauge, hist], {}), LIMITS)
    assert len(batch) == 4
    assert all(is_stale(float(v)) for v in batch.values)


def test_delta_and_exponential_histograms_are_rejected_and_counted() -> None:
    delta = m.Metric(name="d")
    delta.sum.is_monotonic = True
    delta.sum.aggregation_temporality = DELTA
    delta.sum.data_points.add(time_unix_nano=T_NS, as_int=1)
    delta.sum.data_points.add(time_unix_nano=T_NS, as_int=2)
    expo = m.Metric(name="e")
    expo.exponential_histogram.aggregation_temporality = CUMULATIVE
    expo.exponential_histogram.data_points.add(time_unix_nano=T_NS, count=1)
    kept = m.Metric(name="k")
    kept.gauge.data_points.add(time_unix_nano=T_NS, as_int=5)
    report = convert_metrics_request_report(request([delta, expo, kept], {}), LIMITS)
    assert rows(report.batch) == {(series("k"), T_MS, 5.0)}
    assert report.rejected_points == 3
    assert "d:" in report.error_message
    assert "e:" in report.error_message


def test_limits_apply_to_converted_series() -> None:
    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_int=1, attributes=[kv("big", "x" * 50)])
    with pytest.raises(LimitExceeded) as err:
        convert_metrics_request(request([gauge]), IngestLimits(max_label_value_length=10))
    assert err.value.limit == "max_label_value_length"


def test_protobuf_body() -> None:
    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_int=9)
    body = request([gauge]).SerializeToString()
    batch = decode_otlp_metrics(body, "application/x-protobuf", LIMITS)
    assert rows(batch) == {(series("g", job="api"), T_MS, 9.0)}


def test_json_body_with_string_ints_enum_names_hex_ids_and_unknown_fields() -> None:
    doc = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "futureField": {"x": 1},
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "c",
                                "sum": {
                                    "aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
                                    "isMonotonic": True,
                                    "dataPoints": [
                                        {
                                            "asInt": "12",
                                            "timeUnixNano": str(T_NS),
                                            "exemplars": [
                                                {
                                                    "asDouble": 1,
                                                    "timeUnixNano": T_NS,
                                                    "traceId": "5B8EFFF798038103D269B633813FC60C",
                                                    "spanId": "EEE19B7EC3C1B174",
                                                }
                                            ],
                                        }
                                    ],
                                },
                            }
                        ]
                    }
                ],
            }
        ]
    }
    body = json.dumps(doc).encode()
    batch = decode_otlp_metrics(body, "application/json; charset=utf-8", LIMITS)
    assert rows(batch) == {(series("c_total", job="svc"), T_MS, 12.0)}
    # the exemplar's hex ids read as hex, on the counter's series
    report = decode_otlp_metrics_report(body, "application/json", LIMITS)
    assert report.exemplars == [
        Exemplar(
            series("c_total", job="svc"),
            (("span_id", "eee19b7ec3c1b174"), ("trace_id", "5b8efff798038103d269b633813fc60c")),
            1.0,
            T_MS,
        )
    ]
    # an id that is not hex drops that exemplar, not the request
    point = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]["dataPoints"][0]
    point["exemplars"][0]["traceId"] = "not hex"
    report = decode_otlp_metrics_report(json.dumps(doc).encode(), "application/json", LIMITS)
    assert rows(report.batch) == {(series("c_total", job="svc"), T_MS, 12.0)}
    assert report.exemplars == []


def test_exemplars_go_on_the_counter_or_the_bucket_their_value_falls_in() -> None:
    trace, span = (
        bytes.fromhex("5b8efff798038103d269b633813fc60c"),
        bytes.fromhex("eee19b7ec3c1b174"),
    )
    latency = m.Metric(name="latency", unit="s")
    latency.histogram.aggregation_temporality = CUMULATIVE
    p = latency.histogram.data_points.add(
        time_unix_nano=T_NS, count=3, sum=1.5, explicit_bounds=[0.1, 1.0], bucket_counts=[1, 1, 1]
    )
    p.exemplars.add(time_unix_nano=T_NS, as_double=0.1, trace_id=trace, span_id=span)
    p.exemplars.add(
        time_unix_nano=T_NS - 1_000_000, as_double=0.5, trace_id=trace,
        filtered_attributes=[kv("user", "u-1")],
    )  # fmt: skip
    p.exemplars.add(time_unix_nano=T_NS, as_double=7.0)  # no ids: still an exemplar
    p.exemplars.add(time_unix_nano=T_NS, as_double=0.2, filtered_attributes=[kv("x", "y" * 130)])
    gauge = m.Metric(name="temperature")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_double=21.5).exemplars.add(
        time_unix_nano=T_NS, as_double=21.5, trace_id=trace
    )  # gauges carry none, as in Prometheus' translator
    report = convert_metrics_request_report(request([latency, gauge]), LIMITS)
    bucket = "latency_seconds_bucket"
    assert report.exemplars == [
        Exemplar(
            series(bucket, job="api", le="0.1"),
            (("span_id", span.hex()), ("trace_id", trace.hex())),
            0.1,
            T_MS,
        ),
        Exemplar(
            series(bucket, job="api", le="1"), (("trace_id", trace.hex()), ("user", "u-1")), 0.5,
            T_MS - 1,
        ),
        Exemplar(series(bucket, job="api", le="+Inf"), (), 7.0, T_MS),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xff\xff", "application/x-protobuf"),
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"resourceMetrics": 5}', "application/json"),
        (b"{}", "text/plain"),
    ],
)
def test_malformed_bodies_are_bad_input(body: bytes, content_type: str) -> None:
    with pytest.raises(BadInput):
        decode_otlp_metrics(body, content_type, LIMITS)


def test_body_size_limit() -> None:
    with pytest.raises(LimitExceeded):
        decode_otlp_metrics(b"{}" + b" " * 100, "application/json", IngestLimits(max_body_bytes=50))


# -- conformance: opentelemetry-proto's examples/metrics.json ---------------------------------


def _example() -> dict[str, Any]:
    path = need_conformance("otlp/metrics.json", "opentelemetry-proto's example metrics request")
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


EXAMPLE_MS = 1544712660300
EXAMPLE_JOB = {"job": "my.service"}


def test_conformance_example_as_prometheus_stores_it() -> None:
    """The example's sum and histogram are DELTA (temporality 1): Prometheus rejects those, and
    the exponential histogram is not stored yet; only the gauge remains (unit "1" -> _ratio)."""
    doc = _example()
    report = decode_otlp_metrics_report(json.dumps(doc).encode(), "application/json", LIMITS)
    assert rows(report.batch) == {
        (series("my_gauge_ratio", my_gauge_attr="some value", **EXAMPLE_JOB), EXAMPLE_MS, 10.0)
    }
    assert report.rejected_points == 3
    assert report.batch.metadata == {"my_gauge_ratio": MetricMetadata("gauge", "I am a Gauge", "")}


def test_conformance_example_made_cumulative() -> None:
    """The same document with cumulative temporality yields the counter and the histogram."""
    doc = copy.deepcopy(_example())
    for metric in doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]:
        for kind in ("sum", "histogram"):
            if kind in metric:
                metric[kind]["aggregationTemporality"] = 2
    report = decode_otlp_metrics_report(json.dumps(doc).encode(), "application/json", LIMITS)
    h = {"my_histogram_attr": "some value", **EXAMPLE_JOB}
    assert rows(report.batch) == {
        (series("my_counter_total", my_counter_attr="some value", **EXAMPLE_JOB), EXAMPLE_MS, 5.0),
        (series("my_gauge_ratio", my_gauge_attr="some value", **EXAMPLE_JOB), EXAMPLE_MS, 10.0),
        (series("my_histogram_bucket", le="1", **h), EXAMPLE_MS, 1.0),
        (series("my_histogram_bucket", le="+Inf", **h), EXAMPLE_MS, 2.0),
        (series("my_histogram_sum", **h), EXAMPLE_MS, 2.0),
        (series("my_histogram_count", **h), EXAMPLE_MS, 2.0),
    }
    assert report.rejected_points == 1  # the exponential histogram
    assert report.batch.metadata["my_counter_total"] == MetricMetadata(
        "counter", "I am a Counter", ""
    )
    assert report.batch.metadata["my_histogram"].type == "histogram"


def test_nan_values_pass_through() -> None:
    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_double=math.nan)
    batch = convert_metrics_request(request([gauge], {}), LIMITS)
    assert math.isnan(batch.values[0])
    assert not is_stale(float(batch.values[0]))


def test_series_seen_under_loose_limits_are_rechecked_under_strict_ones() -> None:
    converter = MetricsConverter()
    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_int=1, attributes=[kv("big", "x" * 50)])
    assert len(converter.convert(request([gauge]), LIMITS).batch) == 1
    assert converter.cached_series == 1
    with pytest.raises(LimitExceeded):
        converter.convert(request([gauge]), IngestLimits(max_label_value_length=10))
    assert len(converter.convert(request([gauge]), LIMITS).batch) == 1


def test_converter_counts_cached_series_and_rejected_points() -> None:
    """A receiver's converter keeps its label sets across requests and adds up the points it
    left out; the convenience functions take it as an argument."""
    converter = MetricsConverter(cache_size=100)
    delta = m.Metric(name="d")
    delta.sum.aggregation_temporality = DELTA
    delta.sum.data_points.add(time_unix_nano=T_NS, as_int=1)
    for i in range(3):
        gauge = m.Metric(name=f"g{i}")
        gauge.gauge.data_points.add(time_unix_nano=T_NS, as_int=i)
        report = convert_metrics_request_report(
            request([gauge, delta]), LIMITS, converter=converter
        )
        assert report.rejected_points == 1
    # OTLP/JSON goes the object path, as these did, and finds g0 cached (protobuf bodies are
    # read as columns and keyed by their attributes' bytes: test_otlp_metrics_wire).
    body = request([m.Metric(name="g0", gauge=m.Gauge(data_points=[m.NumberDataPoint()]))])
    decode_otlp_metrics(
        json_format.MessageToJson(body).encode(), "application/json", LIMITS, converter=converter
    )
    assert converter.cached_series == 3
    assert converter.points_rejected == 3


def test_no_converter_state_outlives_a_call() -> None:
    """Without a converter each call starts afresh: no module keeps a cache or counters."""
    import spyglass.ingest.otlp._cache as cache_module  # noqa: PLC0415
    import spyglass.ingest.otlp._convert as convert_module  # noqa: PLC0415
    import spyglass.ingest.otlp._decode as decode_module  # noqa: PLC0415

    gauge = m.Metric(name="g")
    gauge.gauge.data_points.add(time_unix_nano=T_NS, as_int=1)
    convert_metrics_request(request([gauge]), LIMITS)
    for module in (cache_module, convert_module, decode_module):
        kept = [
            name
            for name, value in vars(module).items()
            if isinstance(value, (SeriesCache, MetricsConverter))
        ]
        assert kept == [], f"{module.__name__} keeps {kept}"


@pytest.mark.parametrize("depth", [20, 60, 3000])
def test_deeply_nested_attribute_values(depth: int) -> None:
    """Nested kvlists render as JSON label text; past protobuf's nesting limit of 100 messages
    (about 33 kvlist levels) or Python's JSON recursion limit they are refused, never a crash."""
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(depth):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    doc = {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "g",
                                "gauge": {
                                    "dataPoints": [
                                        {
                                            "asInt": 1,
                                            "timeUnixNano": str(T_NS),
                                            "attributes": [{"key": "deep", "value": value}],
                                        }
                                    ]
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    }
    body = (
        json.dumps(doc).encode()
        if depth < 900
        else ('{"resourceMetrics": [' * 1 + '{"a": ' * depth + "1" + "}" * depth + "]}").encode()
    )
    try:
        batch = decode_otlp_metrics(body, "application/json", LIMITS)
    except BadInput:
        assert depth > 33
        return
    assert depth <= 33
    [labels] = batch.series.values()
    assert dict(labels)["deep"].startswith('{"k":{"k":')


def _ld(field: int, payload: bytes) -> bytes:
    assert len(payload) < 2**14
    n = len(payload)
    size = bytes([n]) if n < 128 else bytes([n & 0x7F | 0x80, n >> 7])
    return bytes([field << 3 | 2]) + size + payload


def test_deeply_nested_protobuf_is_refused() -> None:
    """Built by hand: the protobuf runtime itself will not build a message this deep."""
    value = _ld(1, b"leaf")  # AnyValue.string_value
    for _ in range(60):  # AnyValue.kvlist_value(6) -> KeyValueList.values(1) -> KeyValue
        value = _ld(6, _ld(1, _ld(1, b"k") + _ld(2, value)))
    point = _ld(7, _ld(1, b"deep") + _ld(2, value))  # NumberDataPoint.attributes
    metric = _ld(1, b"g") + _ld(5, _ld(1, point))  # Metric.name, Metric.gauge.data_points
    body = _ld(1, _ld(2, _ld(2, metric)))  # resource_metrics.scope_metrics.metrics
    with pytest.raises(BadInput, match="protobuf"):
        decode_otlp_metrics(body, "application/x-protobuf", LIMITS)


def test_hand_built_protobuf_decodes() -> None:
    """The same hand encoding, shallow, decodes: the helper above builds valid OTLP."""
    point = _ld(7, _ld(1, b"a") + _ld(2, _ld(1, b"b")))
    metric = _ld(1, b"g") + _ld(5, _ld(1, point))
    body = _ld(1, _ld(2, _ld(2, metric)))
    batch = decode_otlp_metrics(body, "application/x-protobuf", LIMITS)
    assert rows(batch) == {(series("g", a="b"), 0, 0.0)}


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=6, unique=True).map(
        sorted
    ),
    st.lists(st.floats(-2e6, 2e6, allow_nan=False), min_size=1, max_size=5),
)
def test_a_histogram_exemplar_lands_in_the_lowest_bucket_that_holds_its_value(
    bounds: list[float], values: list[float]
) -> None:
    metric = m.Metric(name="h")
    metric.histogram.aggregation_temporality = CUMULATIVE
    p = metric.histogram.data_points.add(
        time_unix_nano=T_NS, count=0, explicit_bounds=bounds, bucket_counts=[0] * (len(bounds) + 1)
    )
    for v in values:
        p.exemplars.add(time_unix_nano=T_NS, as_double=v, trace_id=b"\x01" * 16)
    report = convert_metrics_request_report(request([metric]), LIMITS)
    assert [e.value for e in report.exemplars] == values
    for e in report.exemplars:
        le = dict(e.series)["le"]
        upper = math.inf if le == "+Inf" else float(le)
        assert e.value <= upper
        assert all(b < e.value for b in bounds if b < upper)
