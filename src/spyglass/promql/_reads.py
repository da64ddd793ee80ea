"""What an instant query will read from its ``Querier``, known before it runs.

A caller that evaluates many queries at one time (a rule group) can read their series together,
in one batch, instead of one selector at a time (``spyglass.rules``' prefetch). The ranges here
are exactly those ``Evaluator.vector_selector`` and ``Evaluator.matrix_selector`` ask for at a
one-step grid, so a prefetched read answers the engine's own ``select`` call. Selectors the
engine reads some other way are left out: they are read when they run.
"""

from __future__ import annotations

from spyglass.promql._ast import Expr, MatrixSelector, Subquery, VectorSelector, children
from spyglass.storage.ports import Selection


def instant_reads(expr: Expr, time_ms: int, lookback_delta_ms: int) -> list[Selection]:
    """The ``select`` calls evaluating ``expr`` at ``time_ms`` makes, in textual order
    (repeats included), except those of subqueries, ``@`` and extended selectors."""
    out: list[Selection] = []
    _walk(expr, time_ms, lookback_delta_ms, out)
    return out


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


__all__ = ["instant_reads"]
