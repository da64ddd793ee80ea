"""Distinct objects of a batch and each row's index into them, found by identity.

A batch's rows share a few label maps (a stream's, a resource's, a record's metadata): a decoder
hands every row of one stream or resource the same object. Columns are built once per distinct
object and then taken by index, and finding the distinct ones by ``id`` costs a dict lookup per
row, where hashing the maps themselves would cost one per key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")


def by_identity(values: Iterable[T], n: int) -> tuple[list[T], npt.NDArray[np.int64]]:
    """The distinct objects of the ``n`` ``values`` in first-seen order, and each value's index
    into them (equal objects that are not the same object count as distinct)."""
    seen: dict[int, int] = {}
    distinct: list[T] = []
    index = np.empty(n, np.int64)
    for i, value in enumerate(values):
        k = seen.get(id(value))
        if k is None:
            k = seen[id(value)] = len(distinct)
            distinct.append(value)
        index[i] = k
    return distinct, index


__all__ = ["by_identity"]
