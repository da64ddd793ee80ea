"""OTLP names become the Prometheus names the compatibility spec and Prometheus' receiver give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spyglass.ingest.otlp as otlp
from spyglass.core.labels import LABEL_NAME_RE, METRIC_NAME_RE
from spyglass.ingest.otlp import label_name, metric_name, unit_name
from spyglass.ingest.otlp._names import Kind, format_float


def test_public_surface() -> None:
    assert sorted(otlp.__all__) == [
        "Conversion",
        "DEFAULT_INDEX_LABELS",
        "LogsConversion",
        "MetricsConverter",
        "SpanConversion",
        "convert_logs_request",
        "convert_metrics_request",
        "convert_metrics_request_report",
        "decode_otlp_logs",
        "decode_otlp_metrics",
        "decode_otlp_metrics_report",
        "decode_otlp_traces",
        "detected_level",
        "label_name",
        "metric_name",
        "parse_logs_request",
        "parse_metrics_request",
        "parse_traces_request",
        "spans_from_request",
        "unit_name",
    ]


@pytest.mark.parametrize(
    ("name", "unit", "kind", "expected"),
    [
        ("http.server.request.duration", "s", Kind.OTHER, "http_server_request_duration_seconds"),
        ("requests.count", "1", Kind.COUNTER, "requests_count_total"),
        ("memory.usage", "By", Kind.GAUGE, "memory_usage_bytes"),
        ("cpu.utilization", "1", Kind.GAUGE, "cpu_utilization_ratio"),
        ("system.network.io", "By", Kind.COUNTER, "system_network_io_bytes_total"),
        ("throughput", "By/s", Kind.GAUGE, "throughput_bytes_per_second"),
        ("packets", "{packet}", Kind.COUNTER, "packets_total"),
        ("queue.wait", "ms", Kind.OTHER, "queue_wait_milliseconds"),
        ("already_total", "", Kind.COUNTER, "already_total"),
        ("total.requests", "", Kind.COUNTER, "requests_total"),
        ("latency_seconds", "s", Kind.OTHER, "latency_seconds"),
        ("odd__name..x", "", Kind.GAUGE, "odd_name_x"),
        ("2xx.responses", "", Kind.GAUGE, "_2xx_responses"),
        ("rate", "/s", Kind.GAUGE, "rate_per_second"),
        ("temp", "Cel", Kind.GAUGE, "temp_celsius"),
        ("custom", "widgets", Kind.GAUGE, "custom_widgets"),
        ("non.monotonic", "1", Kind.OTHER, "non_monotonic"),
        ("ns:metric", "", Kind.GAUGE, "ns:metric"),
        ("...", "", Kind.GAUGE, ""),
    ],
)
def test_metric_names(name: str, unit: str, kind: Kind, expected: str) -> None:
    assert metric_name(name, unit, kind) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("http.method", "http_method"),
        ("k8s.pod.name", "k8s_pod_name"),
        ("123abc", "key_123abc"),
        ("__meta__", "__meta__"),
        ("a__b", "a_b"),
        ("a.-b", "a_b"),
        ("_private", "_private"),
        ("ünïcode", "_n_code"),
        ("", ""),
        ("...", ""),
    ],
)
def test_label_names(key: str, expected: str) -> None:
    assert label_name(key) == expected


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("s", "seconds"), ("By/s", "bytes_per_second"), ("1", ""), ("{req}", ""), ("%", "percent")],
)
def test_unit_words(unit: str, expected: str) -> None:
    assert unit_name(unit) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (0.005, "0.005"),
        (1e-7, "0.0000001"),
        (2.5e21, "2500000000000000000000"),
        (1000.0, "1000"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
    ],
)
def test_bucket_bounds_format_like_go(value: float, expected: str) -> None:
    assert format_float(value) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=8), st.sampled_from(list(Kind)))
def test_any_metric_name_becomes_a_legal_name_or_nothing(name: str, unit: str, kind: Kind) -> None:
    out = metric_name(name, unit, kind)
    assert out == "" or METRIC_NAME_RE.match(out)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_any_attribute_key_becomes_a_legal_label_name_or_nothing(key: str) -> None:
    out = label_name(key)
    assert out == "" or LABEL_NAME_RE.match(out)
