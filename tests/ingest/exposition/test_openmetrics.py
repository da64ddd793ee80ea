"""OpenMetrics 1.0: hand-written cases for the lenient scrape parser and the strict validator."""

from __future__ import annotations

import math

import pytest

from spyglass.core.errors import ParseError
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition import (
    Exemplar,
    is_valid_openmetrics,
    parse_openmetrics,
    validate_openmetrics,
)

PAGE = """# TYPE http_requests counter
# HELP http_requests Requests served.
http_requests_total{code="200"} 1027 1700000000.123 # {trace_id="abc123"} 1 1700000000.001
http_requests_created{code="200"} 1699990000 1700000000.123
# TYPE temp_celsius gauge
# UNIT temp_celsius celsius
temp_celsius -3.5
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 1 # {trace_id="t1"} 0.05
latency_seconds_bucket{le="+Inf"} 3
latency_seconds_sum 0.9
latency_seconds_count 3
# TYPE rpc summary
rpc{quantile="0.5"} 0.2
rpc_sum 7
rpc_count 2
# TYPE build info
build_info{version="1.2.3"} 1
# TYPE state stateset
state{state="up"} 1
state{state="down"} 0
# TYPE queue gaugehistogram
queue_bucket{le="10"} 2
queue_bucket{le="+Inf"} 5
queue_gcount 5
queue_gsum 30
# TYPE mystery unknown
mystery 42
# EOF
"""


def test_every_type_parses_with_metadata_keyed_by_family() -> None:
    exp = validate_openmetrics(PAGE)
    assert exp.metadata == {
        "http_requests": MetricMetadata("counter", "Requests served."),
        "temp_celsius": MetricMetadata("gauge", unit="celsius"),
        "latency_seconds": MetricMetadata("histogram"),
        "rpc": MetricMetadata("summary"),
        "build": MetricMetadata("info"),
        "state": MetricMetadata("stateset"),
        "queue": MetricMetadata("gaugehistogram"),
        "mystery": MetricMetadata("unknown"),
    }
    assert len(exp.samples) == 18
    assert parse_openmetrics(PAGE).metadata == exp.metadata


def test_timestamps_are_seconds_and_exemplars_are_kept() -> None:
    first = parse_openmetrics(PAGE).samples[0]
    assert first.labels == (("__name__", "http_requests_total"), ("code", "200"))
    assert first.value == 1027
    assert first.timestamp_ms == 1_700_000_000_123
    assert first.exemplar == Exemplar((("trace_id", "abc123"),), 1.0, 1_700_000_000_001)
    bucket = parse_openmetrics(PAGE).samples[3]
    assert bucket.exemplar == Exemplar((("trace_id", "t1"),), 0.05, None)


def test_negative_and_fractional_timestamps_truncate_toward_zero() -> None:
    exp = parse_openmetrics("a 1 -1.5\nb 1 0.0009\n# EOF\n")
    assert [s.timestamp_ms for s in exp.samples] == [-1500, 0]


def test_values() -> None:
    exp = parse_openmetrics("a NaN\nb +Inf\nc -Inf\nd 1e-3\ne 00012\n# EOF\n")
    values = [s.value for s in exp.samples]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf, 0.001, 12.0]


def test_eof_rules() -> None:
    assert parse_openmetrics("a 1\n# EOF").samples[0].value == 1
    for bad, line in [("a 1\n", 2), ("a 1\n# EOF\n\n", 3), ("a 1\n# EOF\nb 2\n", 3), ("", 1)]:
        with pytest.raises(ParseError) as info:
            parse_openmetrics(bad)
        assert info.value.line == line, bad


@pytest.mark.parametrize(
    ("page", "line", "column", "phrase"),
    [
        ("a  1\n# EOF\n", 1, 3, "invalid value"),
        ("a 1 \n# EOF\n", 1, 4, "trailing space"),
        ("a{,} 1\n# EOF\n", 1, 3, "invalid label name"),
        ('a{b="1",,} 1\n# EOF\n', 1, 9, "invalid label name"),
        ('a{b="1" } 1\n# EOF\n', 1, 8, "expected ',' or '}'"),
        ('a{b="1",b="2"} 1\n# EOF\n', 1, 9, "duplicate label"),
        ("a 1 z\n# EOF\n", 1, 5, "invalid timestamp"),
        ("a 1 NaN\n# EOF\n", 1, 5, "invalid timestamp"),
        ("# TYPE a untyped\n# EOF\n", 1, 10, "invalid metric type"),
        ("# UNIT a seconds\n# EOF\n", 1, 10, "not a suffix"),
        ("# random comment\n# EOF\n", 1, 1, "comment lines"),
        ("a 1\n\nb 1\n# EOF\n", 2, 1, "empty line"),
        ("a.b 1\n# EOF\n", 1, 2, "expected a space"),
        ('a_total 1 # {x="y"}\n# EOF\n', 1, 20, "expected a space"),
        ('a_total 1 #{x="y"} 1\n# EOF\n', 1, 11, "exemplar"),
    ],
)
def test_syntax_errors_have_positions(page: str, line: int, column: int, phrase: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_openmetrics(page)
    assert phrase in info.value.message
    assert (info.value.line, info.value.column) == (line, column)


@pytest.mark.parametrize(
    ("page", "phrase"),
    [
        ("# TYPE a counter\na_total -1\n", "non-negative"),
        ('# TYPE a gauge\na 1 # {t="x"} 1\n', "exemplars are not allowed"),
        ("# TYPE a counter\na_total 1 # {} 1\n", "exemplar without labels"),
        ('# TYPE a counter\na_total 1 # {t="' + "x" * 128 + '"} 1\n', "more than 128"),
        ('# TYPE a histogram\na_bucket{le="1"} 2\na_bucket{le="+Inf"} 1\n', "cumulative"),
        ('# TYPE a histogram\na_bucket{le="1"} 1\n', "no +Inf bucket"),
        ('# TYPE a histogram\na_bucket{le="+Inf"} 1\na_count 2\na_sum 1\n', "does not match"),
        ('# TYPE a summary\na{quantile="2"} 1\n', "quantile"),
        ("# TYPE a info\na_info 2\n", "value 1"),
        ('# TYPE a stateset\na{a="x"} 0.5\n', "0 or 1"),
        ("a 1\nb 1\na 2\n", "not grouped"),
        ("a 1 2\na 1 1\n", "backwards"),
        ("a 1 1.0001\na 1 1.0000\n", "backwards"),  # compared exactly, not per millisecond
        ("a 1\na 1 1\n", "with and without timestamps"),
        ('# TYPE a counter\na_total{x="1"} 1 1\na_created{x="1"} 1\n', "with and without"),
        ("a 1\n# HELP a late\n", "after its samples"),
        ("# HELP a x\n# HELP a y\n", "repeated HELP"),
        ("# TYPE a_total gauge\n# TYPE a counter\n", "clashes"),
        ("# TYPE a counter\na 1\n", "not grouped"),
        ('a{b="1",} 1\n', "invalid label name"),
        ('a{__x="1"} 1\n', "reserved"),
    ],
)
def test_strict_rules_only_in_the_validator(page: str, phrase: str) -> None:
    page += "# EOF\n"
    assert not is_valid_openmetrics(page)
    with pytest.raises(ParseError) as info:
        validate_openmetrics(page)
    assert phrase in info.value.message
    # The scrape parser trusts the exposer on semantics, as Prometheus does.
    parse_openmetrics(page)


def test_label_value_escapes_keep_unknown_ones() -> None:
    exp = parse_openmetrics('a{x="q\\"\\n\\\\\\z"} 1\n# EOF\n')
    assert dict(exp.samples[0].labels)["x"] == 'q"\n\\\\z'


def test_hash_in_label_values_is_not_an_exemplar() -> None:
    exp = validate_openmetrics('# TYPE a counter\na_total{x="} # {y=\\"z\\"} 1"} 1\n# EOF\n')
    assert exp.samples[0].exemplar is None
    assert dict(exp.samples[0].labels)["x"] == '} # {y="z"} 1'


def test_invalid_utf8_and_not_crashing_on_bytes() -> None:
    with pytest.raises(ParseError) as info:
        parse_openmetrics(b"a 1\n\xc3\x28 1\n# EOF\n")
    assert info.value.line == 2
    assert not is_valid_openmetrics(b"\xff")


def test_le_and_quantile_are_stored_as_prometheus_3_does() -> None:
    """Histogram le and summary quantile are normalized (le="1" -> "1.0"); other types keep
    their spelling, as in Prometheus 3's OpenMetrics parser."""
    page = (
        '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\n'
        '# TYPE s summary\ns{quantile="1"} 1\n'
        '# TYPE g gaugehistogram\ng_bucket{le="1"} 1\ng_bucket{le="+Inf"} 1\n'
        '# TYPE x histogram\nx_bucket{le="junk"} 1\n# EOF\n'
    )
    got = [
        dict(s.labels).get("le") or dict(s.labels).get("quantile")
        for s in parse_openmetrics(page).samples
    ]
    assert got == ["1.0", "+Inf", "1.0", "1", "+Inf", "junk"]


def test_prometheus_3_extensions_in_the_lenient_parser() -> None:
    """What Prometheus 3 reads beyond OpenMetrics 1.0: quoted UTF-8 names, trailing commas."""
    page = (
        '# TYPE "my.metric" gauge\n# HELP "my.metric" dotted\n'
        '{"my.metric","label.x"="v",y="w",} 1\n'
        'plain{"odd key"="1"} 2\n# EOF\n'
    )
    exp = parse_openmetrics(page)
    assert exp.metadata["my.metric"] == MetricMetadata("gauge", "dotted")
    assert [s.labels for s in exp.samples] == [
        (("__name__", "my.metric"), ("label.x", "v"), ("y", "w")),
        (("__name__", "plain"), ("odd key", "1")),
    ]
    assert not is_valid_openmetrics(page)
    for bad in ['{a="1"} 1\n# EOF\n', 'a{"b"} 1\n# EOF\n', '{"a","b"} 1\n# EOF\n']:
        with pytest.raises(ParseError):
            parse_openmetrics(bad)


def test_lenient_parser_attributes_returning_samples_to_their_family() -> None:
    """Samples of a family that come back after another family (which Prometheus takes) still
    belong to it: metadata is not duplicated and le is normalized for them too."""
    page = '# TYPE h histogram\nh_bucket{le="1"} 1\nx 1\nh_bucket{le="2"} 1\n# EOF\n'
    exp = parse_openmetrics(page)
    assert [dict(s.labels).get("le") for s in exp.samples] == ["1.0", None, "2.0"]
    assert exp.metadata == {"h": MetricMetadata("histogram")}
    assert not is_valid_openmetrics(page)
