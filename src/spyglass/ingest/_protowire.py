"""Protobuf varints read straight from a request's bytes: one at a time in Python, or many at
once with numpy.

Shared by the columnar readers of remote_write (``remote_write._wire``) and Loki push
(``loki._wire``), which read the wire format themselves for the shapes real senders write and
leave everything else to upb.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

MAX_VARINT = 10  # bytes of the longest varint (a 64-bit value)


def varint(raw: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; ``(-1, pos)`` if it is not one."""
    value = shift = 0
    for i in range(pos, min(pos + MAX_VARINT, len(raw))):
        byte = raw[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    return -1, pos


def varints(
    buf: npt.NDArray[np.uint8], at: npt.NDArray[np.int64], width: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]] | None:
    """The varints starting at ``at`` (at most ``width`` bytes each) and their sizes; ``None``
    if one does not end within ``width`` bytes. ``buf`` must hold ``width`` bytes past every
    ``at`` (pad it)."""
    window = sliding_window_view(buf, width)[at]
    ends = window < 0x80
    if not np.all(ends.any(axis=1)):
        return None
    size = ends.argmax(axis=1) + 1
    if width == MAX_VARINT and np.any((size == width) & (window[:, -1] > 1)):
        return None  # more than 64 bits: left to upb to judge
    used = np.arange(width) < size[:, None]
    digits = (window & 0x7F).astype(np.uint64) << (np.arange(width, dtype=np.uint64) * 7)
    values = np.where(used, digits, np.uint64(0)).sum(axis=1, dtype=np.uint64)
    return values, size.astype(np.int64)


__all__ = ["MAX_VARINT", "varint", "varints"]
