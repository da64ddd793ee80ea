"""Compatibility with prometheus_client, the library Python services expose metrics with."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    Summary,
    generate_latest,
)
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition import (
    Exemplar,
    Exposition,
    format_text,
    is_valid_openmetrics,
    parse,
    parse_text,
)

OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def _registry() -> CollectorRegistry:
    r = CollectorRegistry()
    c = Counter("requests", "Requests served.", ["code"], registry=r)
    c.labels("200").inc(3)
    c.labels("500").inc(1, exemplar={"trace_id": "abc123"})
    Gauge("temp_celsius", "Temperature.", unit="celsius", registry=r).set(-1.5)
    h = Histogram("latency_seconds", "Latency.", buckets=[0.1, 1], registry=r)
    h.observe(0.05)
    h.observe(0.5)
    Summary("rpc_seconds", "RPC time.", registry=r).observe(2)
    Info("build", "Build info.", registry=r).info({"version": "1.2.3"})
    Enum("state", "Service state.", states=["up", "down"], registry=r).state("down")
    return r


def _values(exposition: Exposition) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        s.labels: s.value
        for s in exposition.samples
        if not dict(s.labels)["__name__"].endswith("_created")
    }


EXPECTED = {
    (("__name__", "requests_total"), ("code", "200")): 3.0,
    (("__name__", "requests_total"), ("code", "500")): 1.0,
    (("__name__", "temp_celsius"),): -1.5,
    (("__name__", "latency_seconds_bucket"), ("le", "0.1")): 1.0,
    (("__name__", "latency_seconds_bucket"), ("le", "1.0")): 2.0,
    (("__name__", "latency_seconds_bucket"), ("le", "+Inf")): 2.0,
    (("__name__", "latency_seconds_count"),): 2.0,
    (("__name__", "latency_seconds_sum"),): 0.55,
    (("__name__", "rpc_seconds_count"),): 1.0,
    (("__name__", "rpc_seconds_sum"),): 2.0,
    (("__name__", "build_info"), ("version", "1.2.3")): 1.0,
    (("__name__", "state"), ("state", "up")): 0.0,
    (("__name__", "state"), ("state", "down")): 1.0,
}


def test_text_format_from_generate_latest() -> None:
    exp = parse(generate_latest(_registry()), "text/plain; version=0.0.4; charset=utf-8")
    assert _values(exp) == EXPECTED
    assert exp.metadata["requests_total"] == MetricMetadata("counter", "Requests served.")
    assert exp.metadata["requests_created"].type == "gauge"
    assert exp.metadata["latency_seconds"] == MetricMetadata("histogram", "Latency.")
    assert exp.metadata["rpc_seconds"].type == "summary"
    assert exp.metadata["build_info"].type == "gauge"
    assert exp.metadata["state"] == MetricMetadata("gauge", "Service state.")
    assert all(s.timestamp_ms is None for s in exp.samples)


def test_openmetrics_from_generate_latest() -> None:
    page = generate_openmetrics(_registry())
    assert is_valid_openmetrics(page)
    exp = parse(page, OM)
    assert _values(exp) == EXPECTED
    assert exp.metadata == {
        "requests": MetricMetadata("counter", "Requests served."),
        "temp_celsius": MetricMetadata("gauge", "Temperature.", "celsius"),
        "latency_seconds": MetricMetadata("histogram", "Latency."),
        "rpc_seconds": MetricMetadata("summary", "RPC time."),
        "build": MetricMetadata("info", "Build info."),
        "state": MetricMetadata("stateset", "Service state."),
    }
    exemplars = [s.exemplar for s in exp.samples if s.exemplar is not None]
    assert exemplars == [Exemplar((("trace_id", "abc123"),), 1.0, exemplars[0].timestamp_ms)]
    assert exemplars[0].timestamp_ms is not None
    created = [s for s in exp.samples if dict(s.labels)["__name__"] == "requests_created"]
    assert len(created) == 2
    assert created[0].value > 1e9


def test_our_text_output_reads_the_same_in_prometheus_client() -> None:
    """format_text's output, read by prometheus_client's own parser, gives the same samples."""
    exp = parse(generate_openmetrics(_registry()), OM)
    text = format_text(exp)
    ours = {(s.labels, s.value) for s in parse_text(text).samples}
    theirs = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted({**sample.labels, "__name__": sample.name}.items()))
            theirs.add((labels, sample.value))
    assert ours == theirs
    assert ours == {(s.labels, s.value) for s in exp.samples}
