"""Run a writer script, read the ids it acknowledges, then ``kill -9`` it mid-load.

The durability tests of every signal use it: a writer prints ``ready``, then one acknowledged
id per line; whatever it acknowledged must read back after the kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def run_and_kill(writer: Path, acks_before_kill: int, *args: object) -> list[int]:
    """Start ``writer`` with ``args``, read ``acks_before_kill`` acknowledged ids, SIGKILL it;
    the ids read."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(writer), *map(str, args)],
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
            if len(acked) >= acks_before_kill:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert len(acked) >= acks_before_kill, "writer stopped early"
    return acked


__all__ = ["run_and_kill"]
