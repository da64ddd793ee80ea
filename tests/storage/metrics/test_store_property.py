"""Property: whatever is appended and whenever it is flushed, MetricsStore answers like
MemoryStore (the reference implementation of the Querier contract), one selection at a time and
several at once (``select_many``)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.storage.fakes import samples_of

from spyglass.core.labels import Labels, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import SampleBatch
from spyglass.storage import MemoryStore, Selection, SeriesData
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.metrics import MetricsStore
from spyglass.storage.schema import TABLES

T0 = 1_760_000_000_000
DAY = 86_400_000
SERIES: list[Labels] = [
    labels_of({"__name__": name, "job": job, "env": env})
    for name in ("up", "req_total")
    for job in ("a", "b", "")
    for env in ("prod", "")
]
VALUES = ["a", "b", "", "prod", "x", "a|b", ".*", ".+", "p.*"]


rows = st.lists(
    st.tuples(
        st.integers(0, len(SERIES) - 1),
        st.integers(0, 40).map(lambda k: T0 + k * 7_200_000),  # spans two days
        st.floats(allow_nan=False, width=64),
    ),
    min_size=1,
    max_size=15,
)
steps = st.lists(st.tuples(rows, st.booleans()), min_size=1, max_size=4)
matchers = st.lists(
    st.builds(
        Matcher.of,
        st.sampled_from(["__name__", "job", "env", "nope"]),
        st.sampled_from(["=", "!=", "=~", "!~"]),
        st.sampled_from(VALUES),
    ),
    min_size=1,
    max_size=2,
)
ranges = st.tuples(st.integers(-1, 41), st.integers(-1, 41)).map(
    lambda r: (T0 + min(r) * 7_200_000, T0 + max(r) * 7_200_000)
)


def make(rs: list[tuple[int, int, float]]) -> SampleBatch:
    return samples_of(SERIES, rs)


def norm(result: list[SeriesData]) -> dict[Labels, tuple[list[int], list[float]]]:
    return {s.labels: (s.timestamps.tolist(), s.values.tolist()) for s in result}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, queries=st.lists(st.tuples(matchers, ranges), min_size=1, max_size=4))
def test_store_answers_like_the_memory_store(
    chdb_backend: ChdbBackend,
    steps: list[tuple[list[tuple[int, int, float]], bool]],
    queries: list[tuple[list[Matcher], tuple[int, int]]],
) -> None:
    for table in TABLES:
        chdb_backend.command(f"TRUNCATE TABLE IF EXISTS {table} SYNC")
    ref = MemoryStore()

    async def go(data_dir: Path) -> None:
        store = MetricsStore(
            chdb_backend, data_dir, flush_interval_ms=3_600_000, retention_ms=3650 * DAY
        )
        await store.start()
        try:
            for rs, flush in steps:
                b = make(rs)
                ref.write(b)
                await store.append(b)
                if flush:
                    store.flush_now()
            for ms, (lo, hi) in queries:
                assert norm(store.select(ms, lo, hi)) == norm(ref.select(ms, lo, hi))
                # Series activity is per day for flushed data, so compare whole days.
                day_lo, day_hi = lo - lo % DAY, hi - hi % DAY + DAY - 1
                assert sorted(store.series([ms], day_lo, day_hi)) == sorted(
                    ref.series([ms], day_lo, day_hi)
                )
                assert store.label_values("job", [ms], day_lo, day_hi) == ref.label_values(
                    "job", [ms], day_lo, day_hi
                )
            batched = store.select_many([Selection(tuple(ms), lo, hi) for ms, (lo, hi) in queries])
            for (ms, (lo, hi)), result in zip(queries, batched, strict=True):
                assert norm(result) == norm(ref.select(ms, lo, hi))
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(go(Path(tmp)))
