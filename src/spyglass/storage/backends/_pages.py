"""Hand back the resident pages of chDB's library that only its start-up touched.

chDB is one 530 MiB shared library holding all of ClickHouse. Loading it runs some 2,700 static
initialisers spread over its code, and the kernel maps up to 64 KiB of already-cached file
around each page fault ("fault-around"), so an idle process shows some 180 MiB of the library
resident (measured: 129 MiB of its code, 45 MiB of read-only data), most of which nothing
touches again. Those pages are clean copies of the file: ``madvise(MADV_DONTNEED)`` on the
read-only, never-written mappings drops them from this process (they stay in the page cache,
and whatever ClickHouse runs later is faulted back in from there). Writable mappings, and
read-only ones holding private copies (relocated data), are left alone: dropping those would
lose their contents.

Only Linux has ``/proc/self/smaps``; elsewhere this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import re
from dataclasses import dataclass
from pathlib import Path

_MADV_DONTNEED = 4
_HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$")
_FIELD = re.compile(r"^(\w+):\s+(\d+) kB$")


@dataclass(frozen=True, slots=True)
class Mapping:
    """One region of ``/proc/<pid>/smaps``: address range, permissions, file and sizes in
    bytes."""

    start: int
    end: int
    perms: str
    path: str
    rss: int
    anonymous: int

    @property
    def droppable(self) -> bool:
        """Whether dropping the region's pages loses nothing: not writable and no page of it
        is a private copy."""
        return "w" not in self.perms and self.anonymous == 0 and self.rss > 0


def parse_smaps(text: str) -> list[Mapping]:
    """The regions of an smaps listing (fields other than ``Rss`` and ``Anonymous`` are
    skipped)."""
    out: list[Mapping] = []
    head: tuple[int, int, str, str] | None = None
    fields: dict[str, int] = {}

    def close() -> None:
        if head is not None:
            out.append(Mapping(*head, fields.get("Rss", 0), fields.get("Anonymous", 0)))

    for line in text.splitlines():
        if m := _HEADER.match(line):
            close()
            head = (int(m[1], 16), int(m[2], 16), m[3], m[4])
            fields = {}
        elif m := _FIELD.match(line):
            fields[m[1]] = int(m[2]) * 1024
    close()
    return out


def release_library_pages(library: str | Path) -> int:
    """Drop this process's resident pages of ``library``'s read-only, unmodified mappings;
    returns the bytes that were resident there (0 where this is not possible)."""
    target = str(Path(library).resolve())
    try:
        text = Path("/proc/self/smaps").read_text()
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    except OSError:
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.madvise.restype = ctypes.c_int
    released = 0
    for region in parse_smaps(text):
        if region.path != target or not region.droppable:
            continue
        with contextlib.suppress(OSError):
            if libc.madvise(region.start, region.end - region.start, _MADV_DONTNEED) == 0:
                released += region.rss
    return released


__all__ = ["Mapping", "parse_smaps", "release_library_pages"]
