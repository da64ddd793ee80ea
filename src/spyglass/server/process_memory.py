"""How the serving process's memory is kept: malloc arenas (glibc) and transparent huge pages.

chDB runs dozens of threads, and glibc gives threads up to eight arenas per core, each keeping
the memory its threads freed for their next allocations. On the remote_write benchmark (10k
series, 14 M samples, docs/decisions.md "Less resident memory") two arenas took peak RSS from
667 to 576 MiB at no ingest rate measurable on the shared machine. A fixed mmap threshold, which
makes every block above it a mapping of its own that is unmapped when freed, took 25 MiB more
but cost a third more CPU per sample (page faults and unmaps of every large block ClickHouse
allocates), so glibc's adaptive threshold stays.

Transparent huge pages: with the kernel's usual ``madvise`` mode, only memory asked for gets
2 MiB pages, but numpy asks for every array of 4 MiB or more (a flush's concatenated columns)
and pyarrow's mimalloc for its arenas; the kernel then keeps whole 2 MiB pages resident where
the heap later holds a few small blocks. Under the remote_write benchmark's long load 86-94 MiB
of the server's memory was in huge pages, 20 MiB of them in a mimalloc arena that never held
more than 1 MiB. ``PR_SET_THP_DISABLE`` turns them off for this process alone.

``tune_allocator`` must run before chDB starts its threads, ``refuse_huge_pages`` before the
large allocations. Elsewhere (musl, macOS; other kernels) they do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

_M_ARENA_MAX = -8
_PR_SET_THP_DISABLE = 41

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


def refuse_huge_pages() -> bool:
    """Keep this process (and what it starts) on 4 KiB pages; whether it applied."""
    if platform.system() != "Linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError:
        return False
    return bool(libc.prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0)


__all__ = ["ARENA_MAX", "refuse_huge_pages", "tune_allocator"]
