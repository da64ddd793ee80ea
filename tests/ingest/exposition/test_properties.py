"""Property tests: text format round trip, and no input makes a parser crash or hang."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ParseError
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.exposition import (
    Exposition,
    ScrapedSample,
    format_text,
    is_valid_openmetrics,
    parse_openmetrics,
    parse_text,
)
from spyglass.ingest.exposition._numbers import format_openmetrics_float

_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

legacy_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
# Prometheus 3 names: anything, written quoted when it is not a legacy name.
any_names = st.one_of(legacy_names, st.text(min_size=1, max_size=12))
label_names = any_names.filter(lambda n: n != "__name__" and n not in ("le", "quantile"))
label_values = st.text(min_size=1, max_size=16)
values = st.floats(allow_nan=True, allow_infinity=True)
timestamps = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
# The text format cannot express HELP text that starts with a blank: the parser skips them.
helps = st.text(max_size=30).filter(lambda h: h[:1] not in (" ", "\t"))
label_sets = st.dictionaries(label_names, label_values, max_size=4)


@st.composite
def families(draw: st.DrawFn) -> Exposition:
    """Families of every text-format type with distinct names that cannot clash."""
    count = draw(st.integers(0, 5))
    samples: list[ScrapedSample] = []
    metadata: dict[str, MetricMetadata] = {}
    for i in range(count):
        # The "_f{i}" ending keeps names distinct and never ends in _sum/_count/_bucket.
        name = draw(any_names) + f"_f{i}"
        kind = draw(st.sampled_from(["counter", "gauge", "unknown", "histogram", "summary"]))
        metadata[name] = MetricMetadata(kind, draw(helps))
        for labels in draw(st.lists(label_sets, min_size=1, max_size=3, unique_by=str)):
            ts = draw(timestamps)
            if kind in ("counter", "gauge", "unknown"):
                samples.append(_sample(name, labels, draw(values), ts))
                continue
            bound = "le" if kind == "histogram" else "quantile"
            member = name + "_bucket" if kind == "histogram" else name
            for b in draw(st.lists(values.filter(lambda v: not math.isnan(v)), max_size=3)):
                # Parsing stores le/quantile in Prometheus 3's canonical spelling; start there.
                bounded = {**labels, bound: format_openmetrics_float(b)}
                samples.append(_sample(member, bounded, draw(values), ts))
            samples.append(_sample(name + "_sum", labels, draw(values), ts))
            samples.append(_sample(name + "_count", labels, draw(values), ts))
    # Any sample order must survive: the writer puts each TYPE before its family's first sample.
    return Exposition(draw(st.permutations(samples)), metadata)


def _sample(name: str, labels: dict[str, str], value: float, ts: int | None) -> ScrapedSample:
    return ScrapedSample(tuple(sorted({**labels, "__name__": name}.items())), value, ts)


def _key(s: ScrapedSample) -> tuple[object, ...]:
    return (s.labels, repr(s.value), s.timestamp_ms)


@_SETTINGS
@given(families())
def test_format_then_parse_is_identity(exposition: Exposition) -> None:
    """Whatever format_text writes, parse_text reads back as the same samples and metadata."""
    text = format_text(exposition)
    back = parse_text(text)
    assert [_key(s) for s in back.samples] == [_key(s) for s in exposition.samples]
    assert back.metadata == exposition.metadata


@_SETTINGS
@given(families())
def test_formatting_is_stable(exposition: Exposition) -> None:
    """Writing what was read gives the same bytes again."""
    text = format_text(exposition)
    assert format_text(parse_text(text)) == text


def _parse_text_lenient(data: bytes | str) -> Exposition:
    return parse_text(data, lenient=True)


def _only_parse_errors(data: bytes | str) -> None:
    """Each parser either returns or raises ParseError with a position; nothing else escapes."""
    for parser in (parse_text, _parse_text_lenient, parse_openmetrics):
        error: ParseError | None = None
        try:
            parser(data)
        except ParseError as exc:
            error = exc
        if error is not None:
            assert error.line >= 1
            assert error.column >= 1
    assert is_valid_openmetrics(data) in (True, False)


@_SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_parse_errors(data: bytes) -> None:
    _only_parse_errors(data)


# Text made of the characters the grammars care about, so the fuzzer reaches deep states.
_ALPHABET = st.sampled_from(
    [
        *'abc_:{}",= \t\n#\\01.-+eE',
        *("le", "quantile", "# EOF\n", "# TYPE ", "# HELP ", "# UNIT ", " # {", "_total"),
        *("_bucket", "_sum", "_count", "Inf", "NaN", "counter", "histogram", "summary"),
        *("gauge", "info", "stateset", "é", "\x00"),
    ]
)


@_SETTINGS
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_structured_noise_raises_only_parse_errors(text: str) -> None:
    _only_parse_errors(text)


_VALID_PAGE = """# HELP a_total Requests.
# TYPE a counter
a_total{code="200",path="/x"} 3 1700000000 # {trace_id="abc"} 1 1700000000
# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="+Inf"} 2
h_sum 3
h_count 2
# EOF
"""


@_SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, len(_VALID_PAGE)), st.integers(0, 3), st.text(max_size=3)),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_valid_pages_raise_only_parse_errors(edits: list[tuple[int, int, str]]) -> None:
    page = _VALID_PAGE
    for at, cut, insert in edits:
        page = page[:at] + insert + page[at + cut :]
    _only_parse_errors(page)


def test_adversarial_long_inputs_finish() -> None:
    """Long runs that would make a backtracking regex quadratic are handled in linear time."""
    pages = [
        "a " + "1" * 200_000 + "x\n",
        'a{b="' + "x" * 1_000_000 + '"} 1\n',
        'a{b="' + "\\\\" * 200_000 + '"} 1\n',
        "a{" + ",".join(f'l{i}="v"' for i in range(20_000)) + "} 1\n",
        "{" * 100_000 + "\n",
        "# " * 100_000 + "\n",
        'a{b="' + "x" * 500_000,
        "a" + " " * 500_000 + "1\n",
        "a_total 1 # {" + ",".join(f'l{i}="v"' for i in range(20_000)) + "} 1\n",
        "".join(f"m{i} 1\n" for i in range(20_000)),
        'a{b="x\n' * 20_000,
    ]
    for page in pages:
        _only_parse_errors(page)
        _only_parse_errors(page + "# EOF\n")
