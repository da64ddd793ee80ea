"""The public surface the HTTP API and the CLI code against."""

from __future__ import annotations

import dataclasses

import spyglass.promql
import spyglass.promql.testing
from spyglass.promql import EngineOptions, QueryResult


def test_exported_names() -> None:
    assert sorted(spyglass.promql.__all__) == [
        "DEFAULT_CACHE_MAX_BYTES",
        "DEFAULT_CACHE_OFFSET_MS",
        "Engine",
        "EngineOptions",
        "Expr",
        "QueryResult",
        "RangeCache",
        "RangeCacheStats",
        "instant_reads",
        "parse_native",
        "parse_query",
        "prettify",
        "selectors",
    ]
    for name in spyglass.promql.testing.__all__:
        assert hasattr(spyglass.promql.testing, name)


def test_selectors_finds_every_vector_selector_as_prometheus_extract_selectors() -> None:
    """What /api/v1/query_exemplars selects series with: also selectors inside range
    selectors, subqueries, functions, aggregations and both sides of binary operators."""
    expr = spyglass.promql.parse_query(
        'sum by (le) (rate(a_bucket{job="x"}[5m])) / on() group_left max_over_time(b[1h:1m])'
        " or -c offset 5m"
    )
    found = [(s.name, [(m.name, m.value) for m in s.matchers if m.name != "__name__"])
             for s in spyglass.promql.selectors(expr)]  # fmt: skip
    assert found == [("a_bucket", [("job", "x")]), ("b", []), ("c", [])]
    assert spyglass.promql.selectors(spyglass.promql.parse_query("1 + time()")) == []


def test_engine_option_defaults_are_prometheus_defaults() -> None:
    opts = EngineOptions()
    assert opts.lookback_delta_ms == 300_000
    assert opts.max_samples == 50_000_000
    assert opts.timeout_s == 120.0
    assert opts.default_subquery_step_ms == 60_000
    assert opts.delayed_name_removal is False
    assert opts.experimental_functions is False
    assert opts.push_down is False  # the serve setting turns it on
    assert dataclasses.is_dataclass(QueryResult)
    fields = {f.name for f in dataclasses.fields(QueryResult)}
    assert fields == {
        "result_type",
        "vector",
        "matrix",
        "scalar",
        "string",
        "warnings",
        "infos",
        "samples_processed",
    }
