"""Fixed-width columns read front to back out of a WAL record's payload.

The logs and span WAL codecs lay a record out as a header, then one little-endian array per
column, then the strings. Each column is a view of the payload (no copy), and a record cut
short is a ``ParseError`` that names the byte where it ends, so replay reports a torn record
instead of reading past it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import ParseError


class RecordColumns:
    """Reads ``payload``'s columns from byte ``pos`` on; ``pos`` is where the next one starts."""

    __slots__ = ("payload", "pos")

    def __init__(self, payload: bytes, pos: int) -> None:
        self.payload = payload
        self.pos = pos

    def column(self, dtype: str, count: int) -> npt.NDArray[Any]:
        """The next ``count`` values of ``dtype`` (a view of the payload)."""
        pos = self.pos
        size = np.dtype(dtype).itemsize * count
        if pos + size > len(self.payload):
            raise ParseError(f"WAL record truncated at byte {pos} (needs {size} more)")
        self.pos = pos + size
        return np.frombuffer(self.payload, dtype, count, pos)


__all__ = ["RecordColumns"]
