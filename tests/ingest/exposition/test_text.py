"""Prometheus text format 0.0.4: hand-written cases for every rule the parser implements."""

from __future__ import annotations

import math

import pytest

from spyglass.core.errors import ParseError
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition import parse, parse_text


def _values(text: str) -> list[tuple[dict[str, str], float, int | None]]:
    return [(dict(s.labels), s.value, s.timestamp_ms) for s in parse_text(text).samples]


def test_all_metric_types_and_metadata() -> None:
    page = """# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{method="get",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000
# TYPE temperature gauge
temperature -3.5
# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE latency histogram
latency_bucket{le="0.1"} 1
latency_bucket{le="+Inf"} 3
latency_sum 0.9
latency_count 3
# TYPE other untyped
other 1
"""
    exp = parse_text(page)
    assert exp.metadata == {
        "http_requests_total": MetricMetadata("counter", "Requests served."),
        "temperature": MetricMetadata("gauge"),
        "rpc_duration_seconds": MetricMetadata("summary", "RPC latency."),
        "latency": MetricMetadata("histogram"),
        "other": MetricMetadata("unknown"),
    }
    first = exp.samples[0]
    assert first.labels == (
        ("__name__", "http_requests_total"),
        ("code", "200"),
        ("method", "get"),
    )
    assert first.value == 1027
    assert first.timestamp_ms == 1395066363000
    assert exp.samples[1].value == 3
    assert [dict(s.labels)["__name__"] for s in exp.samples[6:10]] == [
        "latency_bucket",
        "latency_bucket",
        "latency_sum",
        "latency_count",
    ]
    assert len(exp.samples) == 11


def test_special_values() -> None:
    got = _values("a NaN\nb +Inf\nc -Inf\nd Inf\ne inf\nf 1e3\ng .5\nh -0\ni 08\nj 1.\n")
    assert math.isnan(got[0][1])
    assert [v for _, v, _ in got[1:]] == [
        math.inf,
        -math.inf,
        math.inf,
        math.inf,
        1000.0,
        0.5,
        0.0,
        8.0,
        1.0,
    ]


@pytest.mark.parametrize(
    "value", ["0x1p-3", "1_000", "0x10", "1e", "--1", "+nan", "1e999", "1 2 3"]
)
def test_values_go_would_refuse(value: str) -> None:
    with pytest.raises(ParseError):
        parse_text(f"a {value}\n")


def test_label_value_escapes() -> None:
    ((labels, _, _),) = _values('a{p="x\\\\y",q="say \\"hi\\"",r="two\\nlines"} 1\n')
    assert labels == {"__name__": "a", "p": "x\\y", "q": 'say "hi"', "r": "two\nlines"}


def test_help_escapes() -> None:
    exp = parse_text('# HELP a one\\ntwo \\\\ back "q"  \n# TYPE a gauge\na 1\n')
    assert exp.metadata["a"].help == 'one\ntwo \\ back "q"  '
    # expfmt knows only these two escapes in HELP; promtool refuses the rest.
    with pytest.raises(ParseError, match="invalid escape"):
        parse_text("# HELP a tab\\t\n")


def test_loose_whitespace_comments_and_blank_lines() -> None:
    page = '\n  # just a comment\n#\n\t\n name2{ a = "1" ,\tb="2", }-Inf \t 17\n\n'
    ((labels, value, ts),) = _values(page)
    assert labels == {"__name__": "name2", "a": "1", "b": "2"}
    assert value == -math.inf
    assert ts == 17


def test_empty_label_values_are_dropped() -> None:
    ((labels, _, _),) = _values('a{x="",y="1"} 1\n')
    assert labels == {"__name__": "a", "y": "1"}


def test_prometheus3_quoted_names() -> None:
    exp = parse_text('# TYPE "my.metric" gauge\n{"my.metric", "label.x"="v", y="w"} 2\n')
    assert exp.metadata["my.metric"].type == "gauge"
    assert exp.samples[0].labels == (("__name__", "my.metric"), ("label.x", "v"), ("y", "w"))


def test_value_may_follow_the_name_directly_as_in_expfmt() -> None:
    assert _values('a+3\nb{c="d"}-1\n') == [
        ({"__name__": "a"}, 3.0, None),
        ({"__name__": "b", "c": "d"}, -1.0, None),
    ]


def test_hash_inside_label_value_is_not_a_comment() -> None:
    ((labels, _, _),) = _values('a{x="# not a comment"} 1\n')
    assert labels["x"] == "# not a comment"


@pytest.mark.parametrize(
    ("page", "line", "column", "phrase"),
    [
        ('a{b="c",b="d"} 1\n', 1, 9, "duplicate label"),
        ("ok 1\nbad{x=1} 2\n", 2, 7, "start of label value"),
        ("ok 1\n\nx 1 2 3\n", 3, 6, "spurious"),
        ('a{b="c\\q"} 1\n', 1, 7, "invalid escape"),
        ("a 1 1.5\n", 1, 5, "integer as timestamp"),
        ("a 1 9223372036854775808\n", 1, 5, "integer as timestamp"),
        ("a\n", 1, 2, "expected float"),
        ("9a 1\n", 1, 1, "invalid metric name"),
        ("a-b 1\n", 1, 2, "expected float as value"),
        ('a{b="c" 1\n', 1, 9, "end of label value"),
        ("# TYPE a gauge\n# TYPE a counter\n", 2, 1, "second TYPE"),
        ("a 1\n# TYPE a gauge\n", 2, 1, "after samples"),
        ("# HELP a x\n# HELP a y\n", 2, 1, "second HELP"),
        ("# TYPE a gaugehistogram\n", 1, 10, "unknown metric type"),
        ('# TYPE h histogram\nh_bucket{le="x"} 1\n', 2, 10, "'le' label"),
        ("a 1", 1, 4, "end of input"),
        # expfmt (and promtool) refuse trailing blanks after the value or the timestamp.
        ("a 1 \n", 1, 5, "expected integer as timestamp"),
        ("a 1\t\n", 1, 5, "expected integer as timestamp"),
        ("a 1 2 \n", 1, 6, "spurious"),
        ("# TYPE a gauge \n", 1, 10, "unknown metric type"),
        ("a{,} 1\n", 1, 3, "invalid label name"),
        ("a 1\r\n", 1, 3, "expected float"),
    ],
)
def test_errors_have_positions(page: str, line: int, column: int, phrase: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_text(page)
    assert phrase in info.value.message
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value).startswith(f"{line}:{column}: ")


def test_invalid_utf8_is_a_parse_error_with_position() -> None:
    with pytest.raises(ParseError) as info:
        parse_text(b'a 1\nb{x="\xff"} 1\n')
    assert (info.value.line, info.value.column) == (2, 6)
    with pytest.raises(ParseError) as info:
        parse_text('a 1\nb{x="\ud800"} 1\n')
    assert (info.value.line, info.value.column) == (2, 6)


def test_comment_forms_expfmt_ignores() -> None:
    exp = parse_text(
        "# HELP\n# HELP \n# TYPE lonely\n# TYPE blank \t\n# HELP blank \n"
        "# HELP line for a family with no samples\n"
    )
    assert exp.samples == []
    assert exp.metadata == {"line": MetricMetadata("unknown", "for a family with no samples")}


def test_summary_and_histogram_suffixes_belong_to_their_family() -> None:
    page = '# TYPE s summary\ns_sum 1\ns_count 1\ns{quantile="x"} 1\n'
    with pytest.raises(ParseError, match="quantile"):
        parse_text(page)
    # A _bucket sample of a summary is its own family: its le is not checked.
    parse_text('# TYPE s summary\ns_bucket{le="x"} 1\n')


def test_empty_input_is_an_empty_page() -> None:
    assert parse_text(b"").samples == []
    assert parse_text("\n\n  ").samples == []


def test_parse_dispatches_on_content_type() -> None:
    om = '# TYPE a counter\na_total 1 # {t="x"} 1\n# EOF\n'
    exp = parse(om, "application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert exp.samples[0].exemplar is not None
    with pytest.raises(ParseError):
        parse(om, "text/plain; version=0.0.4")
    assert parse("a 1\n", None).samples[0].value == 1
    assert parse("a 1\n", "").samples[0].value == 1


def test_le_and_quantile_are_stored_as_prometheus_3_does() -> None:
    """Prometheus 3 normalizes le/quantile of typed histograms and summaries: le="1" -> "1.0"."""
    page = (
        '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="1e6"} 1\nh_bucket{le="+Inf"} 1\n'
        '# TYPE s summary\ns{quantile="0"} 1\ns{quantile=".5"} 1\n'
        'u_bucket{le="1"} 1\n'
    )
    got = [
        dict(s.labels).get("le") or dict(s.labels).get("quantile") for s in parse_text(page).samples
    ]
    assert got == ["1.0", "1e+06", "+Inf", "0.0", "0.5", "1"]


def test_lenient_mode_takes_what_prometheus_scraper_takes() -> None:
    """Pages expfmt refuses but Prometheus' scraper ingests parse with lenient=True."""
    page = (
        "# HELP a first\n# HELP a second\n# TYPE a gauge\n"
        'a{x="tab\\there"} 1\n# TYPE a counter\n'
        '# TYPE h histogram\nh_bucket{le="junk"} 1\n'
        'm{a="1" b="2"} 3\n'
        'multi{v="two\nlines"} 4\n'
        "last 5"
    )
    with pytest.raises(ParseError):
        parse_text(page)
    exp = parse_text(page, lenient=True)
    assert exp.metadata["a"] == MetricMetadata("counter", "second")
    assert [dict(s.labels) for s in exp.samples] == [
        {"__name__": "a", "x": "tab\\there"},
        {"__name__": "h_bucket", "le": "junk"},
        {"__name__": "m", "a": "1", "b": "2"},
        {"__name__": "multi", "v": "two\nlines"},
        {"__name__": "last"},
    ]
    assert parse(page, "text/plain", lenient=True).samples[-1].value == 5


def test_lenient_mode_still_refuses_broken_lines() -> None:
    for page in ["a{b=1} 1\n", "a b\n", 'a{b="c"} 1 2 3\n', 'a{b="open\n']:
        with pytest.raises(ParseError):
            parse_text(page, lenient=True)
