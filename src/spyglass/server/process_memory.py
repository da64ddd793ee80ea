"""How many malloc arenas the serving process keeps (glibc only).

chDB runs dozens of threads, and glibc gives threads up to eight arenas per core, each keeping
the memory its threads freed for their next allocations. On the remote_write benchmark (10k
series, 14 M samples, docs/decisions.md "Less resident memory") two arenas took peak RSS from
667 to 576 MiB at no ingest rate measurable on the shared machine. A fixed mmap threshold, which
makes every block above it a mapping of its own that is unmapped when freed, took 25 MiB more
but cost a third more CPU per sample (page faults and unmaps of every large block ClickHouse
allocates), so glibc's adaptive threshold stays.

``tune_allocator`` must run before chDB starts its threads. Elsewhere (musl, macOS) it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

_M_ARENA_MAX = -8

ARENA_MAX = 2


def tune_allocator() -> bool:
    """Limit glibc to ``ARENA_MAX`` malloc arenas; whether it applied."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, ARENA_MAX))  # mallopt returns 1 on success


__all__ = ["ARENA_MAX", "tune_allocator"]
