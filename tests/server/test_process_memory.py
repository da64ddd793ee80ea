"""The serving process's memory settings: however many threads allocate, glibc keeps at most
``ARENA_MAX`` malloc arenas (each arena holds on to what its threads freed); and the process
takes no transparent huge pages, even for memory that asks for them."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

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


# A 64 MiB mapping that asks for huge pages (as numpy does for large arrays), touched throughout:
# what the kernel reports for the process and the mapping.
THP_PROBE = """
import mmap, re, sys
from spyglass.server.process_memory import refuse_huge_pages
if sys.argv[1] == "refused":
    assert refuse_huge_pages()
size = 64 * 2**20
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
m.madvise(mmap.MADV_HUGEPAGE)
for at in range(0, size, 4096):
    m[at] = 1
status = open("/proc/self/status").read()
smaps = open("/proc/self/smaps").read()
huge = sum(int(k) for k in re.findall(r"AnonHugePages:\\s+(\\d+) kB", smaps))
print(re.search(r"THP_enabled:\\s+(\\d)", status)[1], huge)
"""


def _huge_pages(mode: str) -> tuple[int, int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", THP_PROBE, mode],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    enabled, huge_kib = out.stdout.split()
    return int(enabled), int(huge_kib)


_THP_MODE = Path("/sys/kernel/mm/transparent_hugepage/enabled")


@pytest.mark.skipif(
    not _THP_MODE.exists() or "[never]" in _THP_MODE.read_text(),
    reason="no transparent huge pages on this kernel",
)
def test_refused_huge_pages_stay_off_even_where_memory_asks_for_them() -> None:
    assert _huge_pages("refused") == (0, 0)
    # Without it the kernel reports them on for the process (and, memory allowing, hands the
    # mapping 2 MiB pages: not asserted, since a busy machine may have none to give).
    assert _huge_pages("default")[0] == 1
