"""Third-party conformance data: the OpenMetrics parser suite, expfmt's corpus, real pages.

The data lives in ``../shared/conformance/exposition`` (see its SOURCES.md); every test here skips
when that folder is absent, or fails in CI (tests/support/required.py). Failing OpenMetrics cases
are counted and printed, never hidden.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from tests.support.required import CONFORMANCE, need_path

from spyglass.core.errors import ParseError
from spyglass.ingest.exposition import (
    ScrapedSample,
    is_valid_openmetrics,
    parse,
    parse_openmetrics,
    parse_text,
    validate_openmetrics,
)

DATA = CONFORMANCE / "exposition"

# The measured result: every one of the 211 cases is classified as the suite expects.
OPENMETRICS_FLOOR = 211


def _key(sample: ScrapedSample) -> tuple[object, ...]:
    """A sample as comparable data: NaN compares equal to NaN here."""
    return (sample.labels, repr(sample.value), sample.timestamp_ms, sample.exemplar)


def _need_data() -> Path:
    return need_path(DATA, "OpenMetrics and expfmt conformance data")


def _om_cases() -> list[tuple[str, bytes, bool]]:
    root = _need_data() / "openmetrics-parsers"
    cases = []
    for case in sorted(root.iterdir()):
        spec = json.loads((case / "test.json").read_text())
        cases.append(
            (
                case.name,
                (case / spec.get("file", "metrics")).read_bytes(),
                bool(spec["shouldParse"]),
            )
        )
    return cases


def test_openmetrics_suite_strict_validation_meets_floor() -> None:
    """is_valid_openmetrics agrees with shouldParse on at least the measured number of cases."""
    cases = _om_cases()
    assert len(cases) == 211
    failures = [name for name, data, expected in cases if is_valid_openmetrics(data) != expected]
    passed = len(cases) - len(failures)
    print(f"OpenMetrics suite: {passed}/{len(cases)} pass; failing: {failures}")
    assert passed >= OPENMETRICS_FLOOR, failures


def test_openmetrics_good_cases_also_parse_leniently() -> None:
    """Whatever the strict validator accepts, the scraper's parser accepts too."""
    for name, data, expected in _om_cases():
        if expected:
            lenient = parse_openmetrics(data)
            strict = validate_openmetrics(data)
            assert lenient.metadata == strict.metadata, name
            assert [_key(s) for s in lenient.samples] == [_key(s) for s in strict.samples], name


def test_openmetrics_bad_cases_fail_with_a_position() -> None:
    """Rejections carry a real line number inside the input."""
    for name, data, expected in _om_cases():
        if expected:
            continue
        with pytest.raises(ParseError) as info:
            validate_openmetrics(data)
        assert 1 <= info.value.line <= data.count(b"\n") + 1, name


def test_openmetrics_suite_selected_values() -> None:
    """Spot checks of what the good cases mean, not just that they parse."""
    root = _need_data() / "openmetrics-parsers"
    exp = parse_openmetrics((root / "timestamps" / "metrics").read_bytes())
    ts = {dict(s.labels).get("foo", "b"): s.timestamp_ms for s in exp.samples}
    assert ts["1"] == 0
    assert ts["3"] == 1100
    assert ts["5"] == 1_500_000
    assert ts["b"] == 1_234_567_890_000
    exp = parse_openmetrics((root / "escaping" / "metrics").read_bytes())
    assert exp.metadata["a"].help == "he\n\\l\\tp"
    values = [dict(s.labels)["foo"] for s in exp.samples]
    assert values == ['b"a\nr', "b\\a\\z", 'b"a\nr # ', "b\\a\\z # "]
    exp = parse_openmetrics((root / "counter_unit" / "metrics").read_bytes())
    assert exp.metadata["cc_seconds"].unit == "seconds"
    assert exp.metadata["cc_seconds"].type == "counter"
    exp = parse_openmetrics((root / "histogram_exemplars" / "metrics").read_bytes())
    last = exp.samples[-1]
    assert last.exemplar is not None
    assert last.exemplar.value == 4
    assert last.exemplar.timestamp_ms == 123_000


# expfmt's error scenarios: the phrase our message must contain, and the line Go reports.
_EXPFMT_ERRORS = {
    "from_test_parse_error_0": ("end of input", 1),
    "from_test_parse_error_1": ("invalid escape sequence", 1),
    "from_test_parse_error_2": ("unescaped new-line", 2),
    "from_test_parse_error_3": ("invalid label name", 1),
    "from_test_parse_error_4": ('"__name__" is reserved', 1),
    "from_test_parse_error_5": ("expected '=' after label name", 1),
    "from_test_parse_error_6": ("expected '\"' at start of label value", 1),
    "from_test_parse_error_7": ("expected float as value for 'quantile' label", 3),
    "from_test_parse_error_8": ("unexpected end of label value", 1),
    "from_test_parse_error_9": ("expected integer as timestamp", 1),
    "from_test_parse_error_10": ("spurious string after timestamp", 1),
    "from_test_parse_error_11": ("expected float as value", 1),
    "from_test_parse_error_12": ("second HELP line", 3),
    "from_test_parse_error_13": ("second TYPE line", 3),
    "from_test_parse_error_14": ("TYPE reported after samples", 3),
    "from_test_parse_error_15": ("unknown metric type", 2),
    "from_test_parse_error_16": ("invalid metric name in comment", 2),
    "from_test_parse_error_17": ("invalid metric name", 1),
    "from_test_parse_error_18": ("invalid metric name", 1),
    "from_test_parse_error_19": ("expected float as value for 'le' label", 3),
}


def _expected_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (_need_data() / "EXPECTED.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        rows.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return rows


def test_expfmt_corpus_accepts_and_rejects_like_go() -> None:
    """Each corpus file is accepted or rejected as EXPECTED.tsv says, with the same meaning."""
    rows = [r for r in _expected_rows() if r[0].startswith("expfmt-corpus/")]
    assert len(rows) == 27
    for path, expectation, go_error in rows:
        data = (DATA / path).read_bytes()
        case = path.split("/", 1)[1]
        if expectation == "parse_ok":
            parse_text(data)
            continue
        with pytest.raises(ParseError) as info:
            parse_text(data)
        phrase, line = _EXPFMT_ERRORS[case]
        assert phrase in info.value.message, (case, info.value.message, go_error)
        go_line = int(re.search(r"in line (\d+)", go_error).group(1))  # type: ignore[union-attr]
        assert info.value.line == line == go_line, case


def test_real_pages_parse() -> None:
    """Prometheus' textparse benchmark pages parse in the format their name says."""
    rows = [r for r in _expected_rows() if r[0].startswith("prometheus-textparse/")]
    assert len(rows) == 5
    for path, _, _ in rows:
        data = (DATA / path).read_bytes()
        ctype = "application/openmetrics-text; version=1.0.0" if ".om." in path else None
        exposition = parse(data, ctype)
        assert exposition.samples, path


def test_metrics_test_page_matches_promtool_cardinality() -> None:
    """promtool check metrics --extended: 27 series; per-family counts as EXPECTED.tsv lists."""
    page = _need_data() / "prometheus-textparse" / "metrics-test.prom"
    exposition = parse_text(page.read_bytes())
    assert len({s.labels for s in exposition.samples}) == 27
    families: Counter[str] = Counter()
    for s in exposition.samples:
        name = dict(s.labels)["__name__"]
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        families[family if family in exposition.metadata else name] += 1
    assert families["prometheus_tsdb_compaction_chunk_size_bytes"] == 15
    assert families["go_gc_duration_seconds"] == 7
    assert families["net_conntrack_dialer_conn_attempted_total"] == 4
    assert families["go_info"] == 1


def test_alltypes_pages_agree_with_and_without_metadata() -> None:
    """The .nometa page is the same samples as the full page minus HELP/TYPE lines."""
    root = _need_data() / "prometheus-textparse"
    full = parse_text((root / "alltypes.237mfs.prom.txt").read_bytes())
    bare = parse_text((root / "alltypes.237mfs.nometa.prom.txt").read_bytes())
    assert len(full.metadata) == 237
    assert bare.metadata == {}
    assert len(full.samples) == len(bare.samples)
    for typed, untyped in zip(full.samples, bare.samples, strict=True):
        assert typed.value == untyped.value or (typed.value != typed.value)
        # With a TYPE line, le and quantile are stored as Prometheus 3 does ("0" -> "0.0").
        for (k1, v1), (k2, v2) in zip(typed.labels, untyped.labels, strict=True):
            assert k1 == k2
            assert v1 == v2 or (k1 in ("le", "quantile") and float(v1) == float(v2))
