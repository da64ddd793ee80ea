"""The planner's push-down (promql/_pushdown.py): which range-function calls it hands to a
``GridQuerier``, that answers through the port equal the numpy path, and that Prometheus'
promqltest scripts pass exactly as without it, through the in-memory reference behind the port
and through a real chDB-backed ``MetricsStore``."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from tests.support.required import CONFORMANCE, missing, need_path

from spyglass.core.errors import QueryTooLarge
from spyglass.core.labels import Labels, fingerprint, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import STALE_NAN, SampleBatch
from spyglass.promql import Engine, EngineOptions, QueryResult
from spyglass.promql.testing import HARNESS_OPTIONS, GridMemoryStore, Report, run_files
from spyglass.storage import MemoryStore, SeriesData
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.metrics import MetricsStore
from spyglass.storage.ports import GRID_FUNCTIONS, GridRequest, GridSeries
from spyglass.storage.schema import SAMPLES, SERIES

T = TypeVar("T")
ON = EngineOptions(push_down=True, experimental_functions=True)
OFF = EngineOptions(experimental_functions=True)
PROMQL_TESTS = CONFORMANCE / "promql"


def loaded(store: MemoryStore) -> MemoryStore:
    """Counters with resets and a gap, a gauge with a staleness marker, over 20 minutes."""
    rng = np.random.default_rng(7)
    for job in ("api", "web"):
        for i in range(3):
            ts = np.arange(0, 1_200_000, 15_000) + rng.integers(0, 900)
            vals = np.cumsum(rng.integers(0, 20, len(ts))).astype(float)
            vals[40:] -= vals[40]  # a counter reset
            keep = (ts < 400_000) | (ts > 520_000)  # a gap
            labels = labels_of({"__name__": "req_total", "job": job, "i": str(i)})
            store.add(labels, ts[keep].tolist(), vals[keep].tolist())
    g = rng.normal(100, 10, 80)
    g[30] = STALE_NAN
    store.add(labels_of({"__name__": "temp", "job": "api"}), range(0, 1_200_000, 15_000), g)
    return store


def same(a: QueryResult, b: QueryResult) -> None:
    assert a.result_type == b.result_type
    assert a.samples_processed == b.samples_processed
    assert (a.warnings, a.infos) == (b.warnings, b.infos)
    assert [x[0] for x in a.matrix] == [x[0] for x in b.matrix]
    for (_, ta, va), (_, tb, vb) in zip(a.matrix, b.matrix, strict=True):
        assert ta.tolist() == tb.tolist()
        np.testing.assert_allclose(va, vb, rtol=1e-12)
    assert [x[0] for x in a.vector] == [x[0] for x in b.vector]
    np.testing.assert_allclose([x[1] for x in a.vector], [x[1] for x in b.vector], rtol=1e-12)


PUSHED = [
    "rate(req_total[5m])",
    "sum by (job) (rate(req_total[5m]))",
    "increase(req_total[2m] offset 1m)",
    "delta(temp[3m])",
    "irate(req_total[1m]) / idelta(req_total[1m])",
    "deriv(temp[5m])",
    "predict_linear(temp[5m], 120)",
    "changes(temp[10m]) + resets(req_total[10m])",
    "max by (job) (last_over_time(req_total[1m]))",
    "avg_over_time(temp[5m]) - sum_over_time(temp[5m]) / count_over_time(temp[5m])",
    "min_over_time(temp[4m]) < max_over_time(temp[4m])",
    "ts_of_max_over_time(temp[5m]) - ts_of_min_over_time(temp[5m])",
    "rate(temp[5m])",  # not a counter: the info annotation names it either way
]


@pytest.mark.parametrize("query", PUSHED)
def test_pushed_calls_answer_as_the_numpy_path(query: str) -> None:
    """Range and instant queries give the same series, values, samples counted and
    annotations with push-down on as off, and the store was asked."""
    store = loaded(GridMemoryStore())
    assert isinstance(store, GridMemoryStore)
    on, off = Engine(store, ON), Engine(store, OFF)
    same(on.range_query(query, 0, 1_200_000, 30_000), off.range_query(query, 0, 1_200_000, 30_000))
    same(on.instant_query(query, 700_000), off.instant_query(query, 700_000))
    assert store.requests


def test_the_request_describes_the_grid_of_window_ends() -> None:
    """An offset moves the window ends; the step and range are the query's."""
    store = loaded(GridMemoryStore())
    assert isinstance(store, GridMemoryStore)
    Engine(store, ON).range_query("sum(rate(req_total[5m] offset 1m))", 60_000, 600_000, 20_000)
    Engine(store, ON).instant_query("predict_linear(temp[2m], 30)", 500_000)
    assert store.requests == [
        GridRequest(
            "rate", (Matcher.of("__name__", "=", "req_total"),), 0, 540_000, 20_000, 300_000
        ),
        GridRequest(
            "predict_linear",
            (Matcher.of("__name__", "=", "temp"),),
            500_000,
            500_000,
            1_000,
            120_000,
            30.0,
        ),
    ]


NOT_PUSHED = [
    "rate(req_total[5m] @ 600)",  # one window at every step
    "rate(req_total[5m:1m])",  # a subquery
    "max_over_time(rate(req_total[1m])[5m:30s])",  # the inner rate is pushed, not the outer
    "quantile_over_time(0.5, temp[5m])",  # not among the proven functions
    "stddev_over_time(temp[5m])",
    "predict_linear(temp[5m] offset 1m, 60)",  # extrapolates from the evaluation time
    "predict_linear(temp[5m], time())",  # a different argument at every step
    "rate(req_total[5m] smoothed)",  # extended selectors
]


@pytest.mark.parametrize("query", NOT_PUSHED)
def test_calls_outside_the_proven_cases_stay_in_numpy(query: str) -> None:
    """These are never handed over (or only their inner pushable part), and answer as
    without push-down."""
    store = loaded(GridMemoryStore())
    assert isinstance(store, GridMemoryStore)
    on, off = Engine(store, ON), Engine(store, OFF)
    same(on.range_query(query, 0, 1_200_000, 30_000), off.range_query(query, 0, 1_200_000, 30_000))
    outer = query.split("(", 1)[0]
    assert all(r.function != outer for r in store.requests)


def test_the_option_off_or_a_plain_querier_means_no_request() -> None:
    store = loaded(GridMemoryStore())
    assert isinstance(store, GridMemoryStore)
    Engine(store, OFF).range_query("rate(req_total[5m])", 0, 600_000, 30_000)
    assert store.requests == []
    plain = loaded(MemoryStore())
    Engine(plain, ON).range_query("rate(req_total[5m])", 0, 600_000, 30_000)  # no port: numpy


class _Declining(GridMemoryStore):
    def range_function(self, request: GridRequest) -> list[GridSeries] | None:
        super().range_function(request)
        return None


def test_a_declining_store_gets_its_samples_read() -> None:
    """``None`` from the store: the engine selects samples and evaluates in numpy."""
    store = loaded(_Declining())
    ref = loaded(MemoryStore())
    q = "sum by (job) (increase(req_total[5m]))"
    same(
        Engine(store, ON).range_query(q, 0, 1_200_000, 30_000),
        Engine(ref, OFF).range_query(q, 0, 1_200_000, 30_000),
    )
    assert isinstance(store, _Declining)
    assert len(store.requests) == 1


def test_the_sample_limit_holds_the_same() -> None:
    """Windows' samples count against ``max_samples`` as the matrix selector counts them."""
    store = loaded(GridMemoryStore())
    for opts in (ON, OFF):
        limited = dataclasses.replace(opts, max_samples=100)
        with pytest.raises(QueryTooLarge):
            Engine(store, limited).range_query("rate(req_total[10m])", 0, 1_200_000, 30_000)
        roomy = dataclasses.replace(opts, max_samples=240)
        Engine(store, roomy).range_query("rate(req_total[10m])", 0, 1_200_000, 30_000)


# -- promqltest scripts ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scripts() -> list[Path]:
    files = sorted(need_path(PROMQL_TESTS, "Prometheus' promqltest scripts").glob("*.test"))
    if not files:
        missing(f"no Prometheus promqltest scripts (*.test) under {PROMQL_TESTS}")
    return files


@pytest.fixture(scope="module")
def without(scripts: list[Path]) -> Report:
    return run_files(scripts)


def outcomes(report: Report) -> dict[tuple[str, int, str], str]:
    return {(c.file, c.line, c.query): c.status for c in report.cases}


def test_scripts_pass_the_same_with_push_down(scripts: list[Path], without: Report) -> None:
    """Every case passes or fails as without push-down, through the port's reference."""
    asked: set[str] = set()
    real = GridMemoryStore.range_function

    def spy(self: GridMemoryStore, request: GridRequest) -> list[GridSeries] | None:
        asked.add(request.function)
        return real(self, request)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(GridMemoryStore, "range_function", spy)
        report = run_files(scripts, dataclasses.replace(HARNESS_OPTIONS, push_down=True))
    assert outcomes(report) == outcomes(without)
    assert asked == GRID_FUNCTIONS


def _run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(coro, loop).result()


class ChdbScriptStore:
    """A chDB-backed ``MetricsStore`` as a script store: loads are appended and flushed before
    the next read, with no head (every read goes to ClickHouse) and no TTL (the scripts' samples
    are from 1970, which any retention would drop)."""

    def __init__(self, backend: ChdbBackend, data_dir: Path) -> None:
        self.backend = backend
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.store = MetricsStore(backend, data_dir, head_window_ms=0, flush_interval_ms=3_600_000)
        _run(self.loop, self.store.start())
        for table in (SAMPLES, SERIES):
            backend.command(f"ALTER TABLE {table} REMOVE TTL")
        self.waiting: list[tuple[Labels, list[int], list[float]]] = []
        self.answered = 0

    def close(self) -> None:
        _run(self.loop, self.store.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    def add(self, labels: Labels, timestamps: Iterable[int], values: Iterable[float]) -> None:
        self.waiting.append((labels, list(timestamps), list(values)))

    def clear(self) -> None:
        # Samples only: the store remembers which series rows it wrote, and a series row
        # without samples in range selects nothing.
        self.waiting = []
        self.backend.command(f"TRUNCATE TABLE {SAMPLES} SYNC")

    def _sync(self) -> None:
        if not self.waiting:
            return
        rows = [(ls, t, v) for ls, ts, vs in self.waiting for t, v in zip(ts, vs, strict=True)]
        self.waiting = []
        b = SampleBatch(
            {fingerprint(ls): ls for ls, _, _ in rows},
            np.array([fingerprint(ls) for ls, _, _ in rows], np.uint64),
            np.array([t for _, t, _ in rows], np.int64),
            np.array([v for _, _, v in rows], np.float64),
        )
        _run(self.loop, self.store.append(b))
        self.store.flush_now()

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        self._sync()
        return self.store.select(matchers, start_ms, end_ms)

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        self._sync()
        return self.store.series(matcher_sets, start_ms, end_ms)

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        self._sync()
        return self.store.label_names(matcher_sets, start_ms, end_ms)

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        self._sync()
        return self.store.label_values(name, matcher_sets, start_ms, end_ms)

    def range_function(self, request: GridRequest) -> list[GridSeries] | None:
        self._sync()
        found = self.store.range_function(request)
        self.answered += found is not None
        return found


@pytest.fixture
def chdb_scripts(tmp_path: Path) -> Iterator[ChdbScriptStore]:
    backend = ChdbBackend(tmp_path / "chdb")
    store = ChdbScriptStore(backend, tmp_path / "data")
    try:
        yield store
    finally:
        store.close()
        backend.close()


def through_clickhouse(files: list[Path], store: ChdbScriptStore) -> None:
    """Through a real MetricsStore on chDB, with the push-down on, every case passes or fails
    as in memory without it, and ClickHouse answered range functions."""
    options = dataclasses.replace(HARNESS_OPTIONS, push_down=True)
    report = run_files(files, options, store=store)
    want = outcomes(run_files(files))
    got = outcomes(report)
    differ = {k: (want[k], v) for k, v in got.items() if want.get(k) != v}
    reasons = {(c.file, c.line, c.query): c.reason for c in report.cases}
    assert not differ, "\n".join(f"{k}: {v} {reasons[k]}" for k, v in differ.items())
    assert got.keys() == want.keys()
    assert store.answered > 100


def test_functions_script_passes_the_same_through_clickhouse(
    scripts: list[Path], chdb_scripts: ChdbScriptStore
) -> None:
    """functions.test, where the range functions are, through ClickHouse's aggregates."""
    through_clickhouse([p for p in scripts if p.name == "functions.test"], chdb_scripts)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_every_script_passes_the_same_through_clickhouse(
    scripts: list[Path], chdb_scripts: ChdbScriptStore
) -> None:
    """All promqltest scripts through ClickHouse (a query costs tens of milliseconds on chDB,
    and the scripts make thousands)."""
    through_clickhouse(scripts, chdb_scripts)
