"""The key durability test: every acknowledged batch survives ``kill -9`` mid-load."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
from tests.support.crash import run_and_kill

from spyglass.core.matchers import Matcher
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.metrics import MetricsStore

WRITER = Path(__file__).with_name("crash_writer.py")
SERIES = 100
ACKS_BEFORE_KILL = 400


def test_acknowledged_batches_survive_sigkill(tmp_path: Path) -> None:
    """Killed twice: the second run replays the first run's WAL, then is killed mid-load too."""
    base = (int(time.time()) - 3600) * 1000
    acked = run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 0)
    acked += run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 10_000)
    wal_files = list((tmp_path / "wal").glob("*.seg"))

    async def check() -> None:
        backend = ChdbBackend(tmp_path / "chdb")
        store = MetricsStore(backend, tmp_path)
        try:
            await store.start()
            stats = store.stats()
            [*series] = store.select(
                [Matcher.of("__name__", "=", "crash_test")], base, base + 10**9
            )
            assert len(series) == SERIES
            for s in series:
                k = int(dict(s.labels)["s"])
                by_ts = dict(zip(s.timestamps.tolist(), s.values.tolist(), strict=True))
                missing = [i for i in acked if by_ts.get(base + i * 1000) != i * 1000 + k]
                assert missing == [], f"series {k}: acknowledged batches lost: {missing[:10]}"
                assert np.all(np.diff(s.timestamps) > 0)
            # After recovery, a flush makes everything durable in ClickHouse as well.
            store.flush_now()
            assert store.stats().pending_samples == 0
            again = store.select([Matcher.of("s", "=", "0")], base, base + 10**9)
            assert len(again[0].timestamps) >= len(acked)
        finally:
            await store.close()
            backend.close()
        print(
            f"acked={len(acked)} wal_segments_at_kill={len(wal_files)} "
            f"replayed_samples={stats.replayed_samples} torn_bytes={stats.wal_torn_bytes}"
        )

    asyncio.run(check())
