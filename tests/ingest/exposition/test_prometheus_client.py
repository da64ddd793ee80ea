"""Compatibility with prometheus_client, the library Python services expose metrics with."""

from __future__ import annotations

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
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
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
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


_OM_SEEDS = [
    '# TYPE a counter\n# HELP a help\na_total{x="1"} 1 1.5 # {t="x"} 1 1.2\n'
    'a_created{x="1"} 1 1.5\n# TYPE h histogram\nh_bucket{le="1.0"} 1\n'
    'h_bucket{le="+Inf"} 2\nh_count 2\nh_sum 3\n# EOF\n',
    '# TYPE s_seconds summary\n# UNIT s_seconds seconds\ns_seconds{quantile="0.5"} 1\n'
    "s_seconds_sum 2\ns_seconds_count 3\n# TYPE g gauge\n"
    'g 1\n# TYPE i info\ni_info{v="1"} 1\n# TYPE st stateset\nst{st="a"} 1\nst{st="b"} 0\n# EOF\n',
    '# TYPE gh gaugehistogram\ngh_bucket{le="-1.0"} 1\ngh_bucket{le="+Inf"} 2\ngh_gcount 2\n'
    'gh_gsum -3\n# TYPE u unknown\nu 1\nu{a="b"} NaN\n# EOF\n',
]
_OM_PIECES = [
    *'ab_:{}",= \n#\\01.-+eE',
    *("le", "quantile", "# TYPE ", "# HELP ", "# UNIT ", "Inf", "NaN", "counter", "summary"),
    *("histogram", "_total", "_bucket", "_sum", "_count", "_created", " # {", "# EOF\n"),
]


@st.composite
def _edited_openmetrics(draw: st.DrawFn) -> str:
    page = draw(st.sampled_from(_OM_SEEDS))
    for _ in range(draw(st.integers(1, 2))):
        at = draw(st.integers(0, len(page)))
        insert = "".join(draw(st.lists(st.sampled_from(_OM_PIECES), max_size=2)))
        page = page[:at] + insert + page[at + draw(st.integers(0, 2)) :]
    return page


def test_openmetrics_seed_pages_are_valid_for_both() -> None:
    for page in _OM_SEEDS:
        assert is_valid_openmetrics(page)
        assert list(openmetrics_families(page))


@settings(max_examples=200, deadline=None)
@given(_edited_openmetrics())
def test_strict_validator_never_accepts_what_the_reference_parser_refuses(page: str) -> None:
    """prometheus_client's OpenMetrics parser is the one the OpenMetrics suite was written for.

    It is more lenient than the ABNF in places (spaces inside label sets, arbitrary comments),
    so only this direction holds: a page is_valid_openmetrics accepts, it accepts too.
    """
    if not is_valid_openmetrics(page):
        return
    try:
        list(openmetrics_families(page))
    except ValueError as exc:
        pytest.fail(f"accepted here, refused by prometheus_client ({exc}): {page!r}")
    except (AttributeError, TypeError, IndexError, KeyError):
        # prometheus_client crashes on some valid inputs (e.g. timestamp ".5"): no verdict.
        reject()
