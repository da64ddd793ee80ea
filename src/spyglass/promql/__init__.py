"""PromQL: parsing (``promql-parser``) and a numpy evaluator with Prometheus 3's semantics.

``Engine`` evaluates instant and range queries against a ``storage.ports.Querier``;
``parse_query`` turns text into the syntax tree or raises ``ParseError`` with a position;
``selectors`` lists a tree's vector selectors;
``prettify`` formats a query as Prometheus' pretty printer does.
``RangeCache`` keeps range query results of the immutable past so a refreshed dashboard
evaluates only its new steps.
``instant_reads`` lists what an instant query will read, so callers can read it in one batch.
``spyglass.promql.testing`` runs Prometheus' ``.test`` conformance scripts.
Names load on first use (``spyglass.core.lazy``): a parser user does not load the engine.
"""

from typing import TYPE_CHECKING

from spyglass.core.lazy import lazy_exports

if TYPE_CHECKING:
    from spyglass.promql._ast import Expr, parse_query, selectors
    from spyglass.promql._cache import (
        DEFAULT_CACHE_MAX_BYTES,
        DEFAULT_CACHE_OFFSET_MS,
        RangeCache,
        RangeCacheStats,
    )
    from spyglass.promql._engine import Engine, EngineOptions, QueryResult
    from spyglass.promql._preparse import parse_native
    from spyglass.promql._prettify import prettify
    from spyglass.promql._reads import instant_reads

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
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
