"""MetricsStore as a ``GridQuerier``: ClickHouse's ``timeSeries*ToGrid`` aggregates give what the
engine's numpy evaluation gives (``GridMemoryStore``, the reference behind the same port), to
1e-9 relative, on random data with counter resets, gaps, staleness markers, NaN and infinities,
rewritten timestamps and windows not aligned to samples; and the store declines (``None``)
exactly where that would not hold."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.storage.fakes import samples_of

from spyglass.core.errors import Unavailable
from spyglass.core.labels import Labels, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import STALE_NAN, SampleBatch
from spyglass.promql.testing import GridMemoryStore
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.metrics import MetricsStore
from spyglass.storage.ports import (
    FINITE_GRID_FUNCTIONS,
    GRID_FUNCTIONS,
    GridQuerier,
    GridRequest,
    GridSeries,
)
from spyglass.storage.schema import TABLES

T0 = 1_760_000_000_000
DAY = 86_400_000
SERIES: list[Labels] = [labels_of({"__name__": "c_total", "i": str(i)}) for i in range(3)]
NAME = (Matcher.of("__name__", "=", "c_total"),)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbBackend]:
    backend = ChdbBackend(tmp_path_factory.mktemp("chdb"))
    try:
        yield backend
    finally:
        backend.close()


def batch(rows: list[tuple[int, int, float]]) -> SampleBatch:
    return samples_of(SERIES, rows)


def run(shared: ChdbBackend, data_dir: Path, writes: list[list[Any]], check: Any) -> None:
    """Write each batch (flushed, so copies of a rewritten sample sit in separate parts), then
    ``check(store, reference)``."""
    for table in TABLES:
        shared.command(f"TRUNCATE TABLE IF EXISTS {table} SYNC")
    ref = GridMemoryStore()

    async def go() -> None:
        store = MetricsStore(shared, data_dir, flush_interval_ms=3_600_000, retention_ms=3650 * DAY)
        await store.start()
        try:
            for rows in writes:
                if rows:
                    b = batch(rows)
                    ref.write(b)
                    await store.append(b)
                    store.flush_now()
            check(store, ref)
        finally:
            await store.close()

    asyncio.run(go())


def by_labels(found: list[GridSeries] | None) -> dict[Labels, GridSeries]:
    assert found is not None
    return {s.labels: s for s in found}


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def assert_same(got: list[GridSeries] | None, want: list[GridSeries] | None) -> None:
    g, w = by_labels(got), by_labels(want)
    # A series with samples in no window may be left out by either side.
    g = {k: s for k, s in g.items() if s.max_window_samples}
    w = {k: s for k, s in w.items() if s.max_window_samples}
    assert g.keys() == w.keys()
    for k, ws in w.items():
        gs = g[k]
        assert gs.max_window_samples == ws.max_window_samples, k
        assert gs.present.tolist() == ws.present.tolist(), k
        for a, b in zip(gs.values[gs.present], ws.values[ws.present], strict=True):
            assert close(float(a), float(b)), (k, a, b, gs.values, ws.values)


def nonfinite_in(ref: GridMemoryStore, request: GridRequest) -> bool:
    lo = request.start_ms - request.range_ms + 1
    for d in ref.select(list(request.matchers), lo, request.end_ms):
        bits = d.values.view(np.uint64)
        real = bits != np.float64(STALE_NAN).view(np.uint64)
        if (~np.isfinite(d.values[real])).any():
            return True
    return False


def counter_rows(draw: st.DrawFn, series: int) -> list[tuple[int, int, float]]:
    """A counter: increments with occasional resets, irregular gaps, a stale marker now and
    then; sometimes a NaN or an infinity."""
    n = draw(st.integers(1, 30))
    t = T0 + draw(st.integers(0, 60_000))
    v = float(draw(st.integers(0, 100)))
    rows = []
    for _ in range(n):
        t += draw(st.sampled_from([1_000, 7_000, 15_000, 15_000, 30_000, 90_000, 301_000]))
        t += draw(st.integers(0, 999))
        kind = draw(st.sampled_from(["inc"] * 8 + ["reset", "stale", "weird", "real"]))
        if kind == "inc":
            v += draw(st.integers(0, 50))
        elif kind == "reset":
            v = float(draw(st.integers(0, 5)))
        elif kind == "real":
            v += draw(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
        if kind == "stale":
            rows.append((series, t, STALE_NAN))
        elif kind == "weird":
            rows.append((series, t, draw(st.sampled_from([math.nan, math.inf, -math.inf]))))
        else:
            rows.append((series, t, v))
    return rows


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[list[Any]], GridRequest]:
    first = [r for i in range(draw(st.integers(1, 3))) for r in counter_rows(draw, i)]
    # A second write rewrites some samples: the same value (a retry) or another one (the later
    # write wins), in a part of its own.
    again = draw(st.lists(st.sampled_from(first), max_size=4))
    changed = draw(st.booleans())
    second = [(i, t, (v + 1.0 if changed else v)) for i, t, v in again]
    fn = draw(st.sampled_from(sorted(GRID_FUNCTIONS)))
    step = draw(st.sampled_from([1_000, 10_000, 15_000, 30_000, 60_000, 7_777]))
    rng = draw(st.sampled_from([1_000, 30_000, 60_000, 120_000, 300_000, 45_500]))
    start = T0 + draw(st.integers(-60_000, 600_000))
    steps = draw(st.integers(1, 60))
    arg = float(draw(st.sampled_from([0, 60, -30.5, 3600])))
    request = GridRequest(fn, NAME, start, start + (steps - 1) * step, step, rng, arg)
    return [first, second], request


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=scenarios())
def test_grid_aggregates_equal_the_numpy_reference(
    shared: ChdbBackend, tmp_path: Path, case: tuple[list[list[Any]], GridRequest]
) -> None:
    """Every pushed-down function gives the reference's values, presence and window sizes;
    the store declines only a function equal on finite values (or an average that may
    overflow) when a value is not finite."""
    writes, request = case

    def check(store: MetricsStore, ref: GridMemoryStore) -> None:
        got = store.range_function(request)
        want = ref.range_function(request)
        if got is None:
            # An Inf also makes the average's sum "may overflow".
            assert request.function in FINITE_GRID_FUNCTIONS | {"avg_over_time"}
            assert nonfinite_in(ref, request)
            return
        assert_same(got, want)

    run(shared, tmp_path / "data", writes, check)


@pytest.mark.parametrize("function", sorted(GRID_FUNCTIONS))
def test_each_function_on_a_regular_counter(
    shared: ChdbBackend, tmp_path: Path, function: str
) -> None:
    """A 15 s counter with a reset, over a 5 m window every 30 s: an answer per step, equal to
    the reference (every function is exercised, whatever hypothesis draws)."""
    rows = [(0, T0 + k * 15_000, float(k * 3 if k < 40 else k - 40)) for k in range(80)]
    request = GridRequest(function, NAME, T0 + 300_000, T0 + 1_200_000, 30_000, 300_000, 60.0)

    def check(store: MetricsStore, ref: GridMemoryStore) -> None:
        got = store.range_function(request)
        assert got is not None
        assert len(got) == 1
        assert got[0].present.all()
        assert got[0].max_window_samples == 20
        assert_same(got, ref.range_function(request))

    run(shared, tmp_path / "data", [rows], check)


def test_pending_samples_make_the_store_decline(shared: ChdbBackend, tmp_path: Path) -> None:
    """Samples not yet in ClickHouse would be missing from the aggregate: the store says
    ``None`` until they are flushed, then answers with them."""
    for table in TABLES:
        shared.command(f"TRUNCATE TABLE IF EXISTS {table} SYNC")
    rows = [(0, T0 + k * 15_000, float(k)) for k in range(40)]
    request = GridRequest("count_over_time", NAME, T0 + 600_000, T0 + 600_000, 1, 600_000)

    async def go() -> None:
        store = MetricsStore(
            shared, tmp_path / "d", flush_interval_ms=3_600_000, retention_ms=3650 * DAY
        )
        await store.start()
        try:
            await store.append(batch(rows))
            assert isinstance(store, GridQuerier)
            assert store.range_function(request) is None
            store.flush_now()
            got = store.range_function(request)
            assert got is not None
            assert got[0].values.tolist() == [39.0]  # the window is left-open
        finally:
            await store.close()

    asyncio.run(go())


class _OldClickHouse:
    """The shared backend as a ClickHouse before 25.6 (no ``timeSeries*ToGrid``) would be."""

    def __init__(self, backend: ChdbBackend) -> None:
        self.backend = backend
        self.sent: list[str] = []

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self.backend.command(sql, params)

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        self.sent.append(sql)
        if "ToGrid" in sql:
            raise Unavailable("Code: 63. DB::Exception: Unknown aggregate function timeSeriesX")
        return self.backend.query_arrow(sql, params)

    def insert(self, table: str, data: Any) -> None:
        self.backend.insert(table, data)

    def close(self) -> None:
        pass


def test_a_clickhouse_without_the_aggregates_is_not_asked_again(
    shared: ChdbBackend, tmp_path: Path
) -> None:
    """The store declines once ClickHouse lacks the aggregates, and stops sending them."""
    backend = _OldClickHouse(shared)
    request = GridRequest("rate", NAME, T0 + 600_000, T0 + 600_000, 1, 300_000)

    async def go() -> None:
        store = MetricsStore(backend, tmp_path / "d", retention_ms=3650 * DAY)
        await store.start()
        try:
            await store.append(batch([(0, T0 + k * 15_000, float(k)) for k in range(40)]))
            store.flush_now()
            assert store.range_function(request) is None
            assert store.range_function(request) is None
        finally:
            await store.close()

    asyncio.run(go())
    assert sum("ToGrid" in s for s in backend.sent) == 1


def test_an_average_that_could_overflow_is_left_to_the_engine(
    shared: ChdbBackend, tmp_path: Path
) -> None:
    """Prometheus averages values near the float64 limit without overflowing (an incremental
    mean once the sum would); ClickHouse's sum overflows to Inf, so the store declines."""
    rows = [(0, T0 + k * 15_000, 5e307) for k in range(10)]
    request = GridRequest("avg_over_time", NAME, T0 + 150_000, T0 + 150_000, 1, 150_000)

    def check(store: MetricsStore, ref: GridMemoryStore) -> None:
        assert store.range_function(request) is None
        want = ref.range_function(request)
        assert want is not None
        assert want[0].values.tolist() == [5e307]
        # One sample a window: no sum to overflow, so ClickHouse answers.
        one = GridRequest("avg_over_time", NAME, T0 + 135_000, T0 + 135_000, 1, 10_000)
        assert_same(store.range_function(one), ref.range_function(one))

    run(shared, tmp_path / "data", [rows], check)


def test_ranges_the_head_holds_are_left_to_it(shared: ChdbBackend, tmp_path: Path) -> None:
    """The head answers a range it holds whole from memory (faster than the aggregates), so
    the store declines it; a range reaching before the head's start goes to ClickHouse."""
    for table in TABLES:
        shared.command(f"TRUNCATE TABLE IF EXISTS {table} SYNC")
    rows = [(0, T0 + k * 15_000, float(k)) for k in range(80)]
    now_s = (T0 + 3_600_000) / 1000  # the head (two hours) starts an hour before T0

    async def go() -> None:
        store = MetricsStore(
            shared,
            tmp_path / "d",
            retention_ms=3650 * DAY,
            head_window_ms=7_200_000,
            clock=lambda: now_s,
        )
        await store.start()
        try:
            await store.append(batch(rows))
            store.flush_now()
            assert store.head is not None
            assert store.head.start_ms == T0 - 3_600_000
            inside = GridRequest("rate", NAME, T0 + 600_000, T0 + 900_000, 60_000, 300_000)
            assert store.range_function(inside) is None
            straddling = GridRequest("rate", NAME, T0 + 600_000, T0 + 900_000, 60_000, 5_000_000)
            got = store.range_function(straddling)
            assert got is not None
            assert got[0].present.all()
        finally:
            await store.close()

    asyncio.run(go())
