"""PromQL's pretty printer: ``prettify`` writes what Prometheus' ``/api/v1/format_query`` writes.

The differential test sends the PromQL compliance tester's queries (every variant expanded) and
a few long ones that must be broken over lines to a real Prometheus 2.42 and compares texts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from tests.support.required import CONFORMANCE, need_path, need_prometheus
from tests.support.servers import prometheus

from spyglass.core.errors import ParseError
from spyglass.promql import parse_query, prettify
from spyglass.promql._prettify import go_float

QUERIES = CONFORMANCE / "promql-compliance" / "promql-test-queries.yml"
VARIANT_SAMPLE = 2  # the first values of each placeholder: enough to vary the printed text
LONG_QUERIES = [
    'sum by (job) (rate(http_requests_total{job="api",code=~"5.."}[5m])) / on (job) '
    "group_left sum by (job) (rate(http_requests_total[5m])) > 0.1 and vector(1)",
    "histogram_quantile(0.99, sum by (le, job, instance, handler) (rate("
    'prometheus_http_request_duration_seconds_bucket{job="prometheus",handler=~"/api/v1/q.*"}'
    "[5m])))",
    "topk(5, sum without (instance) (rate(node_cpu_seconds_total{mode!='idle'}[1m])))",
    'sort_desc(sum(increase(http_requests_total{code=~"5..",service="checkout-gateway"}[1h])) '
    'by (route) / sum(increase(http_requests_total{service="checkout-gateway"}[1h])) by (route))',
    "max_over_time(rate(foo[1m])[10m:30s] offset 1h) * 1e6 + -Inf - 1e-7 + 123456789",
    'label_replace(up, "foo", "$1", "instance", "(.*):.*") @ 1609746000',
]


def test_numbers_are_printed_as_go_prints_them() -> None:
    """What Prometheus 2.42's format_query answered for these literals."""
    cases = {
        "1000000": "1e+06",
        "123456789": "1.23456789e+08",
        "1e20": "1e+20",
        "0.0001": "0.0001",
        "0.00001": "1e-05",
        "-1e-7": "-1e-07",
        "foo * 2e6": "foo * 2e+06",
        "Inf": "+Inf",
        "-Inf": "-Inf",
        "foo + Inf": "foo + +Inf",
        "x @ 100": "x @ 100.000",
        "1.5e3": "1500",
        "0x1f": "31",
        "5e-324": "5e-324",
    }
    for query, want in cases.items():
        assert prettify(query) == want, query


def test_invalid_queries_raise_parse_errors() -> None:
    for bad in ("", "sum(", 'foo{__name__="bar"}', "1 +"):
        with pytest.raises(ParseError):
            prettify(bad)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_float_round_trips_and_uses_exponent_form_outside_1e_4_to_1e6(value: float) -> None:
    """The text parses back to the same float; it has an exponent exactly when Go's shortest
    'g' format uses one (decimal exponent below -4 or at least 6)."""
    text = go_float(value)
    assert float(text) == value
    if value != 0:
        # repr has the shortest round-tripping digits, whose decimal exponent Go's rule reads.
        exponent = int(f"{float(repr(value)):.{len(repr(abs(value)))}e}".split("e")[1])
        assert ("e" in text) == (exponent < -4 or exponent >= 6), text


_names = st.sampled_from(["up", "http_requests_total", "foo", "bar:rate5m"])
_selectors = st.builds(
    lambda n, lv, r: f'{n}{{job="{lv}"}}' + (f"[{r}]" if r else ""),
    _names,
    st.sampled_from(["api", "db", "a\\\\b"]),
    st.sampled_from(["", "5m", "1h30m"]),
)


@st.composite
def _queries(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["sel", "num", "rate", "agg", "bin"] if depth < 3 else ["num"]))
    if kind == "sel":
        return draw(_selectors).split("[")[0]
    if kind == "num":
        return go_float(draw(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)))
    if kind == "rate":
        return f"rate({draw(_selectors).split('[')[0]}[5m])"
    inner = draw(_queries(depth + 1))
    if kind == "agg":
        op = draw(st.sampled_from(["sum", "max", "count"]))
        return f"{op} by (job) ({inner})"
    op = draw(st.sampled_from(["+", "*", "/", ">", "and", "or"]))
    other = draw(_queries(depth + 1))
    if op in ("and", "or"):
        inner, other = f"({inner}) * on() group_left vector(1)", f"vector(1) + ({other})"
    return f"({inner}) {op} ({other})"


@given(_queries())
def test_prettified_text_is_valid_promql_and_a_fixed_point(query: str) -> None:
    """Formatting parses again and formatting it again changes nothing."""
    try:
        parse_query(query)
    except ParseError:
        return  # the generator may combine types PromQL refuses; those are not under test
    once = prettify(query)
    parse_query(once)
    assert prettify(once) == once


def _expanded() -> list[str]:
    spec = yaml.safe_load(QUERIES.read_text())
    variants: dict[str, list[str]] = {}
    out = []
    for case in spec["test_cases"]:
        args = case.get("variant_args", [])
        if case.get("should_fail"):
            continue
        pools = [variants.setdefault(a, _variant_values(a))[:VARIANT_SAMPLE] for a in args]
        for combo in itertools.product(*pools):
            q = case["query"]
            for a, v in zip(args, combo, strict=True):
                q = q.replace("{{." + a + "}}", v)
            out.append(q)
    return out


def _variant_values(arg: str) -> list[str]:
    values = {
        "range": ["1m", "5m"],
        "offset": ["1m", "5m"],
        "quantile": ["-0.5", "0.95"],
        "simpleAggrOp": ["sum", "stddev"],
        "topBottomOp": ["topk", "bottomk"],
        "arithBinOp": ["+", "^"],
        "compBinOp": ["==", ">="],
        "binOp": ["-", "!="],
        "simpleTimeAggrOp": ["avg", "present"],
        "simpleMathFunc": ["abs", "log10"],
        "extrapolatedRateFunc": ["rate", "delta"],
        "instantRateFunc": ["irate", "idelta"],
        "clampFunc": ["clamp_min", "clamp_max"],
        "dateFunc": ["hour", "days_in_month"],
    }
    return values.get(arg, ["1m"])


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_prometheus()
    with prometheus(tmp_path_factory.mktemp("prom"), "global: {}\n") as server:
        yield server.url


@pytest.mark.prometheus
def test_format_query_agrees_with_prometheus(prometheus_url: str) -> None:
    """Every compliance query (two values of each placeholder) and the long ones print the
    same as Prometheus 2.42's format_query."""
    need_path(QUERIES, "the PromQL compliance tester's query list")
    queries = [*_expanded(), *LONG_QUERIES]
    differ = []
    refused = 0
    with httpx.Client(base_url=prometheus_url, timeout=10) as client:
        for q in queries:
            body = client.post("/api/v1/format_query", data={"query": q}).json()
            if body["status"] != "success":
                refused += 1  # Prometheus 2.42 lacks a function Prometheus 3 has
                continue
            if prettify(q) != body["data"]:
                differ.append((q, body["data"], prettify(q)))
    assert len(queries) - refused > 150
    assert differ == []
