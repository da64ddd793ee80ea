"""Every acknowledged span batch survives ``kill -9`` mid-load, exactly once: a trace inserted and
also replayed from the WAL (a kill between insert and checkpoint) reads back with each span
once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.support.crash import run_and_kill

from spyglass.storage.backends import ChdbBackend
from spyglass.storage.traces import SpanStore

WRITER = Path(__file__).with_name("crash_writer.py")
SPANS = 5
ACKS_BEFORE_KILL = 120


def test_acknowledged_span_batches_survive_sigkill_exactly_once(tmp_path: Path) -> None:
    """Killed twice: the second run replays the first run's WAL, then is killed mid-load too."""
    base = time.time_ns() - 3600 * 10**9
    acked = run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 0)
    acked += run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 100_000)

    async def check() -> None:
        backend = ChdbBackend(tmp_path / "chdb")
        store = SpanStore(backend, tmp_path)
        try:
            await store.start()
            for flushed in (False, True):
                bad = [
                    i
                    for i in acked
                    if [s.name for s in store.trace(f"{i + 1:032x}")]
                    != [f"op {k}" for k in range(SPANS)]
                ]
                assert bad == [], f"acknowledged traces lost or doubled: {bad[:10]}"
                if not flushed:
                    await asyncio.to_thread(store.flush_now)
        finally:
            await store.close()
            backend.close()

    asyncio.run(check())
