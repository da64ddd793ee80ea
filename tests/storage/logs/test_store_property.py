"""LogStore against a reference written from the LogReader contract alone: for random records
and random selections (matchers, line filters, range, direction, limit), ``select_logs`` returns
exactly what the reference does, with the records still pending and once they are flushed."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest
import re2  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.logs import LogBatch, LogRecord
from spyglass.core.matchers import Matcher
from spyglass.storage import LineFilter, LogSelection
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.logs import LogStore
from spyglass.storage.schema import LOG_TABLES

T0 = 1_760_000_000_000_000_000
RETENTION = 10 * 365 * 86_400_000
RUNS = itertools.count()
WORDS = ["GET", "POST", "error", "Error", "a_b", "50%", "x\\y", "é", "done", "\n"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LogStore]:
    """One store for the module on chDB; each example appends to fresh streams of its own."""
    path = tmp_path_factory.mktemp("logs-property")
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


records = st.lists(
    st.tuples(
        st.integers(0, 20),  # timestamp offset (seconds): ties are common
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
        st.sampled_from(["api", "web", "db"]),
        st.sampled_from(["prod", "dev", ""]),
    ),
    min_size=1,
    max_size=25,
)
filters = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["|=", "!="]), st.sampled_from([*WORDS, "", "r", "%", "_"])),
        st.tuples(st.sampled_from(["|~", "!~"]),
                  st.sampled_from(["(?i)error", "^G", "o.e", "[0-9]+%", "e$"])),
    ),
    max_size=2,
)  # fmt: skip
matchers = st.lists(
    st.sampled_from(
        [
            Matcher.of("app", "=", "api"),
            Matcher.of("app", "!=", "web"),
            Matcher.of("app", "=~", "a.*|d.*"),
            Matcher.of("env", "=", ""),
            Matcher.of("env", "!~", "p.*"),
        ]
    ),
    min_size=1,
    max_size=2,
)


def reference(rows: list[LogRecord], sel: LogSelection) -> list[LogRecord]:
    def passes(line: str) -> bool:
        for f in sel.line_filters:
            if f.op in ("|=", "!="):
                ok = (f.value in line) == (f.op == "|=")
            else:
                ok = (re2.search(f.value, line) is not None) == (f.op == "|~")
            if not ok:
                return False
        return True

    seen: set[tuple[object, ...]] = set()
    kept = []
    for r in rows:  # in write order; a duplicate (stream, time, line) counts once
        key = (r.stream, r.timestamp_ns, r.line)
        if key in seen:
            continue
        seen.add(key)
        if (
            sel.start_ns <= r.timestamp_ns < sel.end_ns
            and all(m.matches(r.stream) for m in sel.matchers)
            and passes(r.line)
        ):
            kept.append(r)
    # A stable sort by time keeps write order among ties, in both directions.
    kept.sort(key=lambda r: -r.timestamp_ns if sel.direction == "backward" else r.timestamp_ns)
    return kept if sel.limit is None else kept[: sel.limit]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=records,
    ms=matchers,
    fs=filters,
    window=st.tuples(st.integers(-2, 22), st.integers(0, 24)),
    direction=st.sampled_from(["forward", "backward"]),
    limit=st.none() | st.integers(1, 10),
    split=st.integers(0, 25),
)
def test_select_logs_equals_the_reference(
    store: LogStore,
    rows: list[tuple[int, str, str, str]],
    ms: list[Matcher],
    fs: list[tuple[str, str]],
    window: tuple[int, int],
    direction: str,
    limit: int | None,
    split: int,
) -> None:
    loop: asyncio.AbstractEventLoop = store._loop  # type: ignore[attr-defined]
    # Streams unique to this example, so earlier examples' records never match.
    run = next(RUNS)
    recs = [
        LogRecord(
            T0 + t * 10**9,
            line,
            tuple(sorted({"app": app, "env": env, "run": str(run)}.items() - {("env", "")})),
        )
        for t, line, app, env in rows
    ]
    mine = [*ms, Matcher.of("run", "=", str(run))]
    start, length = window
    sel = LogSelection(
        tuple(mine),
        T0 + start * 10**9,
        T0 + (start + length) * 10**9,
        tuple(LineFilter(op, v) for op, v in fs),
        direction,
        limit,
    )
    split = min(split, len(recs))
    loop.run_until_complete(store.append(LogBatch.of(recs[:split])))
    store.flush_now()  # the first part stored, the rest pending
    loop.run_until_complete(store.append(LogBatch.of(recs[split:])))
    want = reference(recs, sel)
    assert store.select_logs(sel) == want
    store.flush_now()
    assert store.select_logs(sel) == want
