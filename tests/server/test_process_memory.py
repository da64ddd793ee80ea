"""The serving process's allocator setting: however many threads allocate, glibc keeps at most
``ARENA_MAX`` malloc arenas (each arena holds on to what its threads freed)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from spyglass.server.process_memory import ARENA_MAX

# Eight threads allocate at the same time, then glibc's malloc_info lists its arenas ("heaps").
PROBE = """
import ctypes, ctypes.util, sys, tempfile, threading
from spyglass.server.process_memory import tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
barrier = threading.Barrier(8)
held = []

def work():
    held.append(bytearray(100_000))
    barrier.wait()

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with tempfile.NamedTemporaryFile(suffix=".xml") as f:
    fp = libc.fopen(f.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(open(f.name).read().count("<heap nr="))
"""


def _arenas(mode: str) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return int(out.stdout)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_threads_share_at_most_arena_max_arenas_once_tuned() -> None:
    assert _arenas("tuned") <= ARENA_MAX
    # Without the setting the threads get arenas of their own (what the setting is for).
    assert _arenas("untuned") > ARENA_MAX
