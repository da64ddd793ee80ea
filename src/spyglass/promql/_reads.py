"""What an instant query will read from its ``Querier``, known before it runs.

A caller that evaluates many queries at one time (a rule group) can read their series together,
in one batch, instead of one selector at a time (``spyglass.rules``' prefetch). The ranges here
are exactly those ``Evaluator.vector_selector`` and ``Evaluator.matrix_selector`` ask for at a
one-step grid, so a prefetched read answers the engine's own ``select`` call. Selectors the
engine reads some other way are left out: they are read when they run.

``few_series`` tells from the same list, before anything runs, whether an instant query reads
so little, all of it from memory, that it is quicker to evaluate than to hand to a thread.
"""

from __future__ import annotations

from spyglass.promql._ast import (
    Expr,
    MatrixSelector,
    Subquery,
    VectorSelector,
    children,
    selectors,
)
from spyglass.storage.ports import Selection, SeriesBound


def instant_reads(expr: Expr, time_ms: int, lookback_delta_ms: int) -> list[Selection]:
    """The ``select`` calls evaluating ``expr`` at ``time_ms`` makes, in textual order
    (repeats included), except those of subqueries, ``@`` and extended selectors."""
    out: list[Selection] = []
    _walk(expr, time_ms, lookback_delta_ms, out)
    return out


def few_series(
    expr: Expr, time_ms: int, lookback_delta_ms: int, bound: SeriesBound, limit: int
) -> bool:
    """Whether every selector of ``expr`` at ``time_ms`` reads from memory and all of them
    together match at most ``limit`` series (``SeriesBound``); a subquery, ``@`` or an
    extended selector, which ``instant_reads`` leaves out, makes the answer no (a subquery
    evaluates a grid of its own, however few series it reads)."""
    if _has_subquery(expr):
        return False
    reads = instant_reads(expr, time_ms, lookback_delta_ms)
    if len(reads) != len(selectors(expr)):
        return False
    left = limit
    for read in reads:
        n = bound.series_bound(read.matchers, read.start_ms, read.end_ms, left)
        if n is None:
            return False
        left -= n
    return True


def _has_subquery(expr: Expr) -> bool:
    return isinstance(expr, Subquery) or any(_has_subquery(c) for c in children(expr))


def _walk(expr: Expr, time_ms: int, lookback_ms: int, out: list[Selection]) -> None:
    if isinstance(expr, Subquery):
        return  # evaluated on its own grid
    if isinstance(expr, VectorSelector):
        if expr.at is None and not expr.modifier:
            t = time_ms - expr.offset_ms
            out.append(Selection(expr.matchers, t - lookback_ms + 1, t))
        return
    if isinstance(expr, MatrixSelector):
        vs = expr.selector
        if vs.at is None and not vs.modifier:
            t = time_ms - vs.offset_ms
            out.append(Selection(vs.matchers, t - expr.range_ms + 1, t))
        return
    for child in children(expr):
        _walk(child, time_ms, lookback_ms, out)


__all__ = ["few_series", "instant_reads"]
