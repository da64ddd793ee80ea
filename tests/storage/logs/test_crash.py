"""Every acknowledged log batch survives ``kill -9`` mid-load, exactly once: what was inserted
and also replayed from the WAL (a kill between insert and checkpoint) reads back once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from tests.support.crash import run_and_kill

from spyglass.core.matchers import Matcher
from spyglass.storage import LogSelection
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.logs import LogStore

WRITER = Path(__file__).with_name("crash_writer.py")
LINES = 20
ACKS_BEFORE_KILL = 300


def test_acknowledged_log_batches_survive_sigkill_exactly_once(tmp_path: Path) -> None:
    """Killed twice: the second run replays the first run's WAL, then is killed mid-load too."""
    base = time.time_ns() - 3600 * 10**9
    acked = run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 0)
    acked += run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 100_000)

    async def check() -> None:
        backend = ChdbBackend(tmp_path / "chdb")
        store = LogStore(backend, tmp_path)
        try:
            await store.start()
            sel = LogSelection(
                (Matcher.of("job", "=", "crash"),), base, base + 10**12, (), "forward"
            )
            for flushed in (False, True):
                lines = Counter(r.line for r in store.select_logs(sel))
                missing = [i for i in acked if any(lines[f"{i} {k}"] != 1 for k in range(LINES))]
                assert missing == [], f"acknowledged batches lost or doubled: {missing[:10]}"
                if not flushed:
                    await asyncio.to_thread(store.flush_now)
        finally:
            await store.close()
            backend.close()

    asyncio.run(check())
