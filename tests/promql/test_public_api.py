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
    ]
    for name in spyglass.promql.testing.__all__:
        assert hasattr(spyglass.promql.testing, name)


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
