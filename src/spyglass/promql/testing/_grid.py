"""``GridMemoryStore``: the in-memory store answering the push-down port with the engine's numpy.

The conformance runner uses it when push-down is on (``EngineOptions.push_down``), so every
promqltest case whose range function the planner hands to a store goes through the same
planner path as against ClickHouse (``GridRequest`` out, ``GridSeries`` back, laid out and
counted by ``promql._pushdown``), with the reference evaluation behind the port. That the
ClickHouse aggregates equal this reference is what tests/storage/metrics/test_store_grid.py
checks.
"""

from __future__ import annotations

import numpy as np

from spyglass.core.samples import stale_mask
from spyglass.promql._engine import Context, EngineOptions
from spyglass.promql._functions import reduce_windows
from spyglass.promql._values import Matrix, RangeSeries
from spyglass.storage.memory import MemoryStore
from spyglass.storage.ports import GRID_FUNCTIONS, GridRequest, GridSeries


class GridMemoryStore(MemoryStore):
    """A ``MemoryStore`` that is also a ``GridQuerier``, evaluating with the engine's numpy."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[GridRequest] = []  # what the planner handed over, for tests

    def range_function(self, request: GridRequest) -> list[GridSeries] | None:
        """The function per series on the grid, as the engine's numpy path computes it."""
        self.requests.append(request)
        if request.function not in GRID_FUNCTIONS:
            return None
        lo, hi = request.start_ms - request.range_ms + 1, request.end_ms
        series = []
        for d in sorted(self.select(list(request.matchers), lo, hi), key=lambda d: d.labels):
            keep = ~stale_mask(d.values)
            if keep.any():
                series.append(RangeSeries(d.labels, d.timestamps[keep], d.values[keep]))
        if not series:
            return []
        ends = np.arange(request.start_ms, request.end_ms + 1, request.step_ms, dtype=np.int64)
        m = Matrix.from_series(series, ends, request.range_ms)
        w = m.windows()
        scalars = [np.full(len(ends), request.argument)]
        ctx = Context(self, EngineOptions(), ends, request.start_ms, request.end_ms)
        with np.errstate(all="ignore"):  # as the engine evaluates
            seg_vals, seg_ok = reduce_windows(request.function, w, scalars, ctx)
            values, present = w.to_grid(seg_vals, seg_ok)
        a, b = m.bounds()
        most = (b - a).max(axis=1)
        return [
            GridSeries(s.labels, values[i], present[i], int(most[i])) for i, s in enumerate(series)
        ]


__all__ = ["GridMemoryStore"]
