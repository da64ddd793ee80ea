"""Following one log file: lines from an offset on, across rotation and truncation.

A ``FileTail`` keeps the file open and reads what was appended. Only whole lines (ended by
``\\n``; a ``\\r`` before it is dropped too) come out; a partial last line waits for its end.
``offset`` is the byte offset just past the last whole line read, which is what the positions
file records. Each ``poll`` first looks at the path:

- another file now has the path (rename + create rotation): the rest of the old file is read
  to its end (a last line without ``\\n`` included), then the new file is read from its start;
- the file is shorter than the offset (copytruncate rotation): reading restarts at 0;
- the path is gone (deleted, or renamed with nothing created yet): the open file is read to its
  end and the tail reports it has ``ended``.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

# Bytes read per poll and file: a large backlog is shipped in steps, not read into memory whole.
READ_CHUNK = 1 << 20
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Line:
    """A whole line of a file, which file (``FileTail.id`` when it was read: a rotation gives
    the new file a new id) and the byte offset where it starts."""

    source: int
    offset: int
    text: str
    size: int


class FileTail:
    """Follows ``path`` from ``offset`` (0: the start; beyond the end: the start too)."""

    def __init__(self, path: str, offset: int = 0) -> None:
        self.path = path
        self.id = next(_ids)
        self.ended = False
        self.rotations = 0
        self.truncations = 0
        self._fh = open(path, "rb")  # noqa: SIM115  (kept open while tailing)
        st = os.fstat(self._fh.fileno())
        self._ident = (st.st_dev, st.st_ino)
        self.offset = offset if 0 <= offset <= st.st_size else 0
        self._fh.seek(self.offset)
        self._partial = b""

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def poll(self, limit: int = READ_CHUNK) -> list[Line]:
        """Whole lines appended since the last poll (at most about ``limit`` bytes of them),
        after handling rotation, truncation and removal of the path."""
        if self.ended:
            return []
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            lines = self._drain()
            self.ended = True
            return lines
        if (st.st_dev, st.st_ino) != self._ident:
            # Rotated: finish the old file, then follow the new one from its start.
            lines = self._drain()
            self._fh.close()
            self._fh = open(self.path, "rb")  # noqa: SIM115
            fst = os.fstat(self._fh.fileno())
            self._ident = (fst.st_dev, fst.st_ino)
            self.id = next(_ids)
            self.offset = 0
            self.rotations += 1
            return lines + self._read(limit)
        if st.st_size < self.offset + len(self._partial):
            self._fh.seek(0)
            self.offset = 0
            self._partial = b""
            self.truncations += 1
            # New content under old offsets: a new id, so entries of the old content still
            # waiting for their push do not hold the new content's position.
            self.id = next(_ids)
        return self._read(limit)

    def _drain(self) -> list[Line]:
        lines: list[Line] = []
        while True:
            chunk = self._read(READ_CHUNK)
            if not chunk:
                break
            lines.extend(chunk)
        if self._partial:
            lines.append(self._line(self.offset, self._partial, len(self._partial)))
            self.offset += len(self._partial)
            self._partial = b""
        return lines

    def _read(self, limit: int) -> list[Line]:
        data = self._fh.read(limit)
        if not data:
            return []
        buf = self._partial + data
        lines: list[Line] = []
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            raw = buf[start:end]
            lines.append(self._line(self.offset, raw, end + 1 - start))
            self.offset += end + 1 - start
            start = end + 1
        self._partial = buf[start:]
        return lines

    def _line(self, offset: int, raw: bytes, size: int) -> Line:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        return Line(self.id, offset, raw.decode("utf-8", "replace"), size)


__all__ = ["READ_CHUNK", "FileTail", "Line"]
