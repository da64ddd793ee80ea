"""Differential test: parse_text accepts and rejects exactly what ``promtool check metrics`` does.

promtool (Debian's prometheus 2.42) reads pages with Go's expfmt parser, the reference for the
text format. Random edits of realistic pages are fed to both; verdicts and error lines must agree.
promtool 2.42 predates Prometheus 3's quoted UTF-8 names, so pages using them are left out.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.support.required import need_promtool

from spyglass.core.errors import ParseError
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition import Exposition, ScrapedSample, format_text, parse_text

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def promtool() -> str:
    return need_promtool()


SEEDS = [
    "# HELP a_total Requests.\n# TYPE a_total counter\n"
    'a_total{code="200",path="/x"} 3 1700000000\n'
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n',
    '# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 2\ns_count 3\n'
    '  m { a = "1" , } -Inf 12\n# comment\n\n',
    'x{a="\\\\",b="\\"",c="\\n"} NaN\ny +Inf -5\n# HELP y help \\\\ \\n\n',
]
PIECES = [
    *'ab_:{}",= \t\n#\\01.-+eExp\r',
    *("le", "quantile", "# TYPE ", "# HELP ", "Inf", "NaN", "counter", "summary"),
    *("histogram", "untyped", "__name__"),
]
_QUOTED_NAME = re.compile(r'[{,][ \t]*"|(HELP|TYPE)[ \t]+"')
_BACKSLASH_IN_TYPE = re.compile(r"TYPE[^\n]*\\")


def _promtool_verdict(promtool: str, page: str) -> tuple[bool, int]:
    proc = subprocess.run(
        [promtool, "check", "metrics"],
        input=page.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    out = proc.stdout.decode() + proc.stderr.decode()
    m = re.search(r"text format parsing error in line (\d+)", out)
    if m is not None:
        return False, int(m.group(1))
    # 0 = clean, 3 = lint findings (missing HELP and the like): both mean the page parsed.
    assert proc.returncode in (0, 3), out
    return True, 0


@st.composite
def edited_pages(draw: st.DrawFn) -> str:
    page = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(page)))
        cut = draw(st.integers(0, 2))
        insert = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=2)))
        page = page[:at] + insert + page[at + cut :]
    return page


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=edited_pages())
def test_same_verdict_and_error_line_as_promtool(promtool: str, page: str) -> None:
    assume(_QUOTED_NAME.search(page) is None)
    # promtool 2.42's expfmt drops backslashes inside a TYPE word ("histo\\gram" is read as
    # histogram); a version quirk Spyglass does not copy: such a word is an unknown type here.
    assume(_BACKSLASH_IN_TYPE.search(page) is None)
    accepted, line = _promtool_verdict(promtool, page)
    if accepted:
        parse_text(page)
        return
    with pytest.raises(ParseError) as info:
        parse_text(page)
    assert info.value.line == line, (page, info.value)


def test_seed_pages_are_valid_for_both(promtool: str) -> None:
    for page in SEEDS:
        assert _promtool_verdict(promtool, page)[0]
        assert parse_text(page).samples


_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)


@st.composite
def _expositions(draw: st.DrawFn) -> Exposition:
    """Families with legacy names (promtool 2.42 predates quoted names), any label values."""
    samples: list[ScrapedSample] = []
    metadata: dict[str, MetricMetadata] = {}
    for i in range(draw(st.integers(1, 4))):
        name = f"{draw(_names)}_m{i}"
        metadata[name] = MetricMetadata(
            draw(st.sampled_from(["counter", "gauge", "unknown"])), draw(st.text(max_size=20))
        )
        for labels in draw(
            st.lists(
                st.dictionaries(_names, st.text(min_size=1, max_size=10), max_size=3),
                min_size=1,
                max_size=3,
            )
        ):
            if "__name__" in labels:
                continue
            ts = draw(st.one_of(st.none(), st.integers(0, 2**62)))
            pairs = tuple(sorted({**labels, "__name__": name}.items()))
            samples.append(ScrapedSample(pairs, draw(st.floats()), ts))
    return Exposition(samples, metadata)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exposition=_expositions())
def test_format_text_output_passes_promtool(promtool: str, exposition: Exposition) -> None:
    """What format_text writes is a valid page for Go's expfmt parser."""
    text = format_text(exposition)
    accepted, line = _promtool_verdict(promtool, text)
    assert accepted, (line, text)
