"""The planner's push-down: range functions a store evaluates where the samples are.

A store that implements ``GridQuerier`` (the ClickHouse-backed one, through its
``timeSeries*ToGrid`` aggregates) can answer ``f(selector[range])`` with one value per series and
step instead of sending every sample of the range. The engine hands it exactly the calls whose
result is proven equal to its own numpy evaluation (docs/decisions.md, "timeSeries*ToGrid
push-down"): ``f`` in ``GRID_FUNCTIONS``, a plain selector (no ``@``, no extended modifier, not a
subquery), on a regular grid; ``predict_linear`` only without ``offset`` and with the same
argument at every step. Anything else, and any request the store declines (``None``), takes the
numpy path, which stays the reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from spyglass.core.labels import Labels
from spyglass.promql._ast import Call, MatrixSelector
from spyglass.promql._values import F64, Mask
from spyglass.storage.ports import GRID_FUNCTIONS, GridQuerier, GridRequest, GridSeries

if TYPE_CHECKING:
    from spyglass.promql._engine import Evaluator

# Grid step of a one-step grid (an instant query): any positive step describes it.
_ONE_STEP_MS = 1_000


def grid_request(
    ev: Evaluator, call: Call, arg: MatrixSelector, scalars: list[F64]
) -> GridRequest | None:
    """The request that answers ``call`` (whose range argument is ``arg``), or ``None`` when
    it is not one the planner hands to the store."""
    if not ev.ctx.options.push_down or call.name not in GRID_FUNCTIONS:
        return None
    if not isinstance(ev.ctx.querier, GridQuerier):
        return None
    sel = arg.selector
    if sel.at is not None or sel.modifier:
        return None
    argument = 0.0
    if call.name == "predict_linear":
        # Prometheus extrapolates from the evaluation time, which an offset moves away from
        # the window end; ClickHouse extrapolates from the window end.
        if sel.offset_ms or len(scalars) != 1 or not len(scalars[0]):
            return None
        first = float(scalars[0][0])
        if not np.isfinite(first) or not (scalars[0] == first).all():
            return None
        argument = first
    elif scalars:
        return None
    ends = ev.ref_times(None, sel.offset_ms)
    if not len(ends):
        return None
    step = int(ends[1] - ends[0]) if len(ends) > 1 else _ONE_STEP_MS
    if step <= 0 or (len(ends) > 2 and not (np.diff(ends) == step).all()):
        return None
    return GridRequest(
        call.name, sel.matchers, int(ends[0]), int(ends[-1]), step, arg.range_ms, argument
    )


def pushed_down(ev: Evaluator, request: GridRequest) -> tuple[list[Labels], F64, Mask] | None:
    """The store's answer as the numpy path lays it out: labels in sorted order, values and
    presence per ``(series, step)``; ``None`` when the store declines. Counts the samples the
    windows hold against the query's limit, as the matrix selector does."""
    querier = ev.ctx.querier
    assert isinstance(querier, GridQuerier)
    found = querier.range_function(request)
    ev.ctx.check_deadline()
    if found is None:
        return None
    steps = ev.ctx.steps
    # Sorted by labels and including series with no sample in any window, like the matrix
    # selector's series (an annotation may name them; ``compact`` drops them after).
    series: list[GridSeries] = sorted(found, key=lambda s: s.labels)
    if series:
        ev.ctx.count(sum(s.max_window_samples for s in series))
    if not series:
        return [], np.zeros((0, steps)), np.zeros((0, steps), bool)
    values = np.stack([s.values for s in series]).astype(np.float64, copy=False)
    present = np.stack([s.present for s in series]).astype(bool, copy=False)
    values = np.where(present, values, 0.0)
    return [s.labels for s in series], values, present


__all__ = ["grid_request", "pushed_down"]
