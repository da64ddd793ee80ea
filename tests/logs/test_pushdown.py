"""Range aggregations counted in ClickHouse equal the engine's line-by-line reference.

Every query shape the engine hands to a ``LogCounter`` (``count_over_time``, ``rate``,
``bytes_over_time``, ``bytes_rate`` over stream selectors and line filters, plain or summed
``by``/``without`` labels, ranges longer and shorter than the step, ``offset``, instant and
range queries) runs twice on the same real ``LogStore`` on chDB: counted by the store, and with
``count_in_store=False``, where the engine reads every line (the reference). Records carry side
data that becomes labels (structured metadata, severity, trace ids), repeat each other (Loki's
duplicate rule: counted once), and sit both in ClickHouse and in the pending buffer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.logs import LogBatch, LogRecord
from spyglass.logs import Engine
from spyglass.logs._engine import QueryResult
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.logs import LogStore
from spyglass.storage.schema import LOG_TABLES

S = 10**9
T0 = 1_760_000_000 * S
RETENTION = 10 * 365 * 86_400_000
RUNS = itertools.count()
WORDS = ["GET", "POST", "error", "done", "é", "x"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LogStore]:
    """One store for the module on chDB; each example writes streams of its own."""
    path = tmp_path_factory.mktemp("logs-pushdown")
    backend = ChdbBackend(path / "chdb")
    for t in LOG_TABLES:
        backend.command(f"DROP TABLE IF EXISTS {t.name} SYNC")
    s = LogStore(backend, path, retention_ms=RETENTION, flush_interval_ms=3_600_000)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(s.start())
    s._loop = loop  # type: ignore[attr-defined]
    try:
        yield s
    finally:
        loop.run_until_complete(s.close())
        loop.close()
        backend.close()


SIDE = [
    {},
    {"metadata": {"user": "u1"}},
    {"metadata": {"level": "meta"}},
    {"severity_text": "ERROR", "severity_number": 17},
    {"trace_id": "0af7651916cd43dd8448eb211c80319c"},
]
records = st.lists(
    st.tuples(
        st.integers(0, 40),  # seconds after T0: ties are common
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
        st.sampled_from(["api", "web"]),
        st.sampled_from(["info", "error", ""]),  # "": no level label on the stream
        st.integers(0, len(SIDE) - 1),
    ),
    min_size=1,
    max_size=30,
)
SHAPES = [
    "{op}({sel}{filters} [{range}]{offset})",
    "sum by (app) ({op}({sel}{filters} [{range}]{offset}))",
    "sum by (level) ({op}({sel}{filters} [{range}]{offset}))",
    "sum without (app) ({op}({sel}{filters} [{range}]{offset}))",
    "sum({op}({sel}{filters} [{range}]{offset}))",
    "sum by (user, app) ({op}({sel}{filters} [{range}]{offset})) > 1",
    '{op}({sel}{filters} | line_format "{{{{.app}}}}" [{range}]{offset})',
]
filters = st.lists(
    st.sampled_from(['|= "GET"', '!= "x"', '|~ "e.r"', '!~ "^P"', '|= "é"']), max_size=2
)


def _matrix(r: QueryResult) -> object:
    return r.matrix if r.result_type == "matrix" else r.vector


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=records,
    shape=st.sampled_from(SHAPES),
    op=st.sampled_from(["count_over_time", "rate", "bytes_over_time", "bytes_rate"]),
    fs=filters,
    range_s=st.sampled_from([1, 3, 10, 30]),
    step_s=st.sampled_from([1, 4, 10]),
    offset_s=st.sampled_from([0, 3]),
    window=st.tuples(st.integers(-5, 40), st.integers(0, 45)),
    split=st.integers(0, 30),
    repeats=st.lists(st.integers(0, 29), max_size=4),
    app_only=st.booleans(),
)
def test_counted_in_the_store_equals_the_line_by_line_reference(
    store: LogStore,
    rows: list[tuple[int, str, str, str, int]],
    shape: str,
    op: str,
    fs: list[str],
    range_s: int,
    step_s: int,
    offset_s: int,
    window: tuple[int, int],
    split: int,
    repeats: list[int],
    app_only: bool,
) -> None:
    loop: asyncio.AbstractEventLoop = store._loop  # type: ignore[attr-defined]
    run = str(next(RUNS))
    recs = []
    for t, line, app, level, side in rows:
        stream = {"app": app, "run": run, **({"level": level} if level else {})}
        recs.append(LogRecord(T0 + t * S, line, tuple(sorted(stream.items())), **SIDE[side]))  # type: ignore[arg-type]
    # Copies of earlier records: in the same flush, across the flush and in the pending buffer.
    recs += [recs[i] for i in repeats if i < len(recs)]
    first, rest = recs[:split], recs[split:]
    if first:
        loop.run_until_complete(store.append(LogBatch.of(first)))
        store.flush_now()
    if rest:
        loop.run_until_complete(store.append(LogBatch.of(rest)))
    sel = f'{{run="{run}"' + (', app="api"' if app_only else "") + "}"
    query = shape.format(
        op=op,
        sel=sel,
        filters="".join(f" {f}" for f in fs),
        range=f"{range_s}s",
        offset=f" offset {offset_s}s" if offset_s else "",
    )
    counted, reference = Engine(store), Engine(store, count_in_store=False)
    start, end = T0 + window[0] * S, T0 + max(window) * S + window[1] * S // 3
    got = counted.range(query, start, end, step_s * S)
    want = reference.range(query, start, end, step_s * S)
    assert _matrix(got) == _matrix(want), query
    at = T0 + window[1] * S
    assert _matrix(counted.instant(query, at)) == _matrix(reference.instant(query, at)), query
    store.flush_now()


def test_a_line_is_counted_in_every_window_that_holds_it(store: LogStore) -> None:
    """Windows longer than the step overlap: a line falls in each window ``(t - range, t]``
    that contains it, the lower bound excluded and the upper one included."""
    loop: asyncio.AbstractEventLoop = store._loop  # type: ignore[attr-defined]
    stream = (("app", "edges"), ("run", "edges"))
    loop.run_until_complete(store.append(LogBatch.of([LogRecord(T0 + 10 * S, "x", stream)])))
    store.flush_now()
    result = Engine(store).range('count_over_time({run="edges"}[3s])', T0 + 8 * S, T0 + 14 * S, S)
    assert result.matrix == [(stream, [(T0 + t * S, 1.0) for t in (10, 11, 12)])]


def test_many_streams_summed_count_each_stream_s_own_lines(store: LogStore) -> None:
    """Under ``sum`` (or ``by`` labels every stream has) the store counts by stream alone; with
    dozens of streams, each with lines in several windows and written interleaved, every
    stream still gets exactly its own rows (the sum equals the line-by-line reference)."""
    loop: asyncio.AbstractEventLoop = store._loop  # type: ignore[attr-defined]
    recs = [
        LogRecord(
            T0 + (i % 7 + j * 5) * S, f"l{i}-{j}", (("app", "a"), ("n", str(i)), ("run", "many"))
        )
        for j in range(3)
        for i in range(30)
    ]
    loop.run_until_complete(store.append(LogBatch.of(recs)))
    store.flush_now()
    for query in (
        'sum(count_over_time({run="many"}[3s]))',
        'sum by (app) (bytes_over_time({run="many"}[3s]))',
    ):
        start, end = T0, T0 + 20 * S
        got = Engine(store).range(query, start, end, S)
        want = Engine(store, count_in_store=False).range(query, start, end, S)
        assert got.matrix == want.matrix, query
