"""format_text: the Prometheus text format writer, also for pages read as OpenMetrics."""

from __future__ import annotations

import math

from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition import (
    Exposition,
    ScrapedSample,
    format_text,
    parse_openmetrics,
    parse_text,
)


def test_writes_families_with_help_type_and_escapes() -> None:
    exp = Exposition(
        [
            ScrapedSample((("__name__", "up"), ("job", 'a"b\\c\nd')), 1.0, 1700000000000),
            ScrapedSample((("__name__", "temp"),), -math.inf, None),
            ScrapedSample((("__name__", "nan"),), math.nan, None),
        ],
        {"up": MetricMetadata("gauge", "Up?\nsecond \\ line")},
    )
    assert format_text(exp) == (
        "# HELP up Up?\\nsecond \\\\ line\n"
        "# TYPE up gauge\n"
        'up{job="a\\"b\\\\c\\nd"} 1.0 1700000000000\n'
        "temp -Inf\n"
        "nan NaN\n"
    )


def test_openmetrics_families_are_written_under_text_format_names() -> None:
    """OpenMetrics-only types map onto the text format's: counter metadata moves to _total,
    info becomes a gauge named _info, stateset a gauge, gaugehistogram untyped; exemplars and
    units have no place in the text format and are dropped."""
    page = (
        '# TYPE req counter\n# HELP req Requests.\nreq_total 3 # {trace_id="x"} 1\n'
        '# TYPE build info\nbuild_info{v="1"} 1\n'
        '# TYPE state stateset\nstate{state="up"} 1\n'
        '# TYPE q gaugehistogram\nq_bucket{le="+Inf"} 1\nq_gcount 1\nq_gsum 1\n'
        "# TYPE t_seconds gauge\n# UNIT t_seconds seconds\nt_seconds 2\n"
        "# EOF\n"
    )
    text = format_text(parse_openmetrics(page))
    assert text == (
        "# HELP req_total Requests.\n# TYPE req_total counter\nreq_total 3.0\n"
        '# TYPE build_info gauge\nbuild_info{v="1"} 1.0\n'
        '# TYPE state gauge\nstate{state="up"} 1.0\n'
        '# TYPE q untyped\nq_bucket{le="+Inf"} 1.0\nq_gcount 1.0\nq_gsum 1.0\n'
        "# TYPE t_seconds gauge\nt_seconds 2.0\n"
    )
    back = parse_text(text)
    assert back.metadata["req_total"] == MetricMetadata("counter", "Requests.")
    assert [s.value for s in back.samples] == [3, 1, 1, 1, 1, 1, 2]


def test_utf8_names_use_the_quoted_form() -> None:
    exp = Exposition(
        [ScrapedSample((("__name__", "my.metric"), ("label.x", "v")), 2.0, None)],
        {"my.metric": MetricMetadata("gauge")},
    )
    text = format_text(exp)
    assert text == '# TYPE "my.metric" gauge\n{"my.metric","label.x"="v"} 2.0\n'
    assert parse_text(text).samples == exp.samples
