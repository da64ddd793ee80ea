"""``MetricsStore.series_stats``: the cardinality tables of ``/api/v1/status/tsdb``, counted in
ClickHouse, agree with the in-memory reference over the same series."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.labels import Labels, fingerprint, labels_of
from spyglass.core.samples import SampleBatch
from spyglass.storage import MemoryStore
from spyglass.storage.backends import Backend
from spyglass.storage.metrics import MetricsStore
from spyglass.storage.ports import NameCount
from spyglass.storage.schema import TABLES

DAY = 86_400_000
T0 = 1_760_000_000_000  # 2025-10-09 (fixed, so results do not depend on the clock)
RETENTION = 10 * 365 * DAY


def _series() -> list[Labels]:
    """Distinct counts per metric, label and pair, so the top-N order has few ties."""
    out = []
    for m, (name, n) in enumerate([("http_requests_total", 12), ("up", 4), ("go_goroutines", 2)]):
        for i in range(n):
            out.append(
                labels_of(
                    {
                        "__name__": name,
                        "job": "api" if i % 3 else "db",
                        "instance": f"host-{i}:9100",
                        "path": f"/p/{i % (m + 2)}" if m == 0 else "",
                        "ünicode": "é" * (i % 2),  # multi-byte values count in bytes
                    }
                )
            )
    return out


def _batch(series: list[Labels], t: int) -> SampleBatch:
    return SampleBatch(
        {fingerprint(ls): ls for ls in series},
        np.array([fingerprint(ls) for ls in series], np.uint64),
        np.full(len(series), t, np.int64),
        np.arange(len(series), dtype=np.float64),
    )


def test_counts_agree_with_the_memory_reference(backend: Backend, data_dir: Path) -> None:
    """Every table and head number equal the reference's, including the limit and the
    byte size of multi-byte values; samples outside the range do not count for the times."""
    series = _series()
    memory = MemoryStore()
    early, late = _batch(series, T0), _batch(series[:5], T0 + 60_000)
    outside = _batch(series[:1], T0 + 3 * 3_600_000)
    for b in (early, late, outside):
        memory.write(b)

    async def go() -> None:
        store = MetricsStore(backend, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000)
        await store.start()
        try:
            for b in (early, late, outside):
                await store.append(b)
            store.flush_now()
            end = T0 + 3_600_000
            for limit in (1, 3, 10, 100):
                got = store.series_stats(T0 - 3_600_000, end, limit)
                want = memory.series_stats(T0 - 3_600_000, end, limit)
                assert got == want, limit
            got = store.series_stats(T0 - 3_600_000, end, 3)
            assert got.num_series == len(series)
            assert (got.min_time_ms, got.max_time_ms) == (T0, T0 + 60_000)
            assert got.series_count_by_metric_name == [
                NameCount("http_requests_total", 12),
                NameCount("up", 4),
                NameCount("go_goroutines", 2),
            ]
            empty = store.series_stats(T0 + 30 * DAY, T0 + 31 * DAY, 10)
            assert empty.num_series == 0
            assert empty.min_time_ms is None
            assert empty.series_count_by_label_value_pair == []
        finally:
            await store.close()

    asyncio.run(go())


def test_memory_reference_counts_by_hand() -> None:
    """The reference itself on a case small enough to count by hand."""
    memory = MemoryStore()
    memory.add(labels_of({"__name__": "a", "x": "1"}), [10], [1.0])
    memory.add(labels_of({"__name__": "a", "x": "22"}), [20], [1.0])
    memory.add(labels_of({"__name__": "b", "x": "1"}), [30], [1.0])
    stats = memory.series_stats(0, 100, 10)
    assert stats.num_series == 3
    assert stats.num_label_pairs == 4  # __name__=a, __name__=b, x=1, x=22
    assert (stats.min_time_ms, stats.max_time_ms) == (10, 30)
    assert stats.series_count_by_metric_name == [NameCount("a", 2), NameCount("b", 1)]
    assert stats.label_value_count_by_label_name == [NameCount("__name__", 2), NameCount("x", 2)]
    # Distinct values only, as Prometheus counts them: "a" + "b" is 2 bytes, "1" + "22" is 3.
    assert stats.memory_in_bytes_by_label_name == [NameCount("x", 3), NameCount("__name__", 2)]
    assert stats.series_count_by_label_value_pair[:2] == [
        NameCount("__name__=a", 2),
        NameCount("x=1", 2),
    ]


_label_sets = st.lists(
    st.dictionaries(
        st.sampled_from(["__name__", "job", "path", "zone"]),
        st.sampled_from(["a", "b", "c", "dd", "é"]),
        min_size=1,
        max_size=4,
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_label_sets, st.integers(min_value=1, max_value=6))
def test_any_series_set_agrees_with_the_reference(
    backend: Backend, label_sets: list[dict[str, str]], limit: int
) -> None:
    """Random label sets and limits: the single-pass SQL (top values per label, merged) gives
    exactly the reference's tables, ties included."""
    series = sorted({labels_of(ls) for ls in label_sets})
    memory = MemoryStore()
    early = _batch(series, T0)
    memory.write(early)
    for table in TABLES:
        backend.command(f"DROP TABLE IF EXISTS {table} SYNC")

    async def go() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = MetricsStore(backend, tmp, retention_ms=RETENTION, flush_interval_ms=3_600_000)
            await store.start()
            try:
                await store.append(early)
                store.flush_now()
                got = store.series_stats(T0 - 1000, T0 + 1000, limit)
                assert got == memory.series_stats(T0 - 1000, T0 + 1000, limit)
            finally:
                await store.close()

    asyncio.run(go())
