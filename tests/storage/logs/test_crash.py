"""Every acknowledged log batch survives ``kill -9`` mid-load, exactly once: what was inserted
and also replayed from the WAL (a kill between insert and checkpoint) reads back once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from spyglass.core.matchers import Matcher
from spyglass.storage import LogSelection
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.logs import LogStore

WRITER = Path(__file__).with_name("crash_writer.py")
LINES = 20
ACKS_BEFORE_KILL = 300


def run_and_kill(data_dir: Path, base: int, first_id: int) -> list[int]:
    """Start the writer, read ACKS_BEFORE_KILL acknowledged ids, SIGKILL it; the ids."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(data_dir), str(base), str(first_id)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    acked: list[int] = []
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        for line in proc.stdout:
            acked.append(int(line))
            if len(acked) >= ACKS_BEFORE_KILL:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert len(acked) >= ACKS_BEFORE_KILL, "writer stopped early"
    return acked


def test_acknowledged_log_batches_survive_sigkill_exactly_once(tmp_path: Path) -> None:
    """Killed twice: the second run replays the first run's WAL, then is killed mid-load too."""
    base = time.time_ns() - 3600 * 10**9
    acked = run_and_kill(tmp_path, base, 0)
    acked += run_and_kill(tmp_path, base, 100_000)

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
