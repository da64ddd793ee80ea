"""The state store survives ``kill -9``: every write that returned is there after reopening."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.state import StateDatabase

WRITER = Path(__file__).with_name("state_crash_writer.py")
ACKS_BEFORE_KILL = 300


def run_and_kill(db: StateDatabase) -> list[tuple[int, int, int, int]]:
    """Start the writer, read ACKS_BEFORE_KILL acknowledgements, SIGKILL it mid-write."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), db.url, str(db.data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    acked: list[tuple[int, int, int, int]] = []
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first == "ready", proc.stderr.read() if proc.stderr else first
        for line in proc.stdout:
            t, i, version, entry = (int(x) for x in line.split())
            acked.append((t, i, version, entry))
            if len(acked) >= ACKS_BEFORE_KILL:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= ACKS_BEFORE_KILL, "the writer stopped early"
    return acked


def test_acknowledged_writes_survive_sigkill(state_db: StateDatabase) -> None:
    acked = run_and_kill(state_db)
    with state_db.open() as store:
        for t, i, version, _ in acked:
            doc = store.get("crash", f"w{t}-{i}")
            assert doc is not None, f"acknowledged document w{t}-{i} lost"
            assert (doc.value, doc.version) == ({"i": i}, version)
        entries = {e.id: e.value for e in store.read("crash", limit=1_000_000)}
        for t, i, _, entry in acked:
            assert entries.get(entry) == {"w": t, "i": i}, f"acknowledged entry {entry} lost"
        # The store carries on where the killed one stopped: new ids are above all of them.
        assert store.append("crash", {}) > max(entries)
    if state_db.backend == "sqlite":
        assert state_db.sql("PRAGMA integrity_check") == [("ok",)]
