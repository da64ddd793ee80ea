"""``RankedLabels``: integer codes of label values for the head's series, numbered in label order.

``Head.rank`` numbers every series in label order now and then; this table keeps that numbering
and, per label name asked for, one integer code per series (``storage.ports.LabelIndex``). The
engine then groups ``sum by (job) (...)`` with array operations on the codes of the selected
series' numbers instead of a label tuple per series. A column is built on first use, in one
pass over the label sets, and kept until the next ``rank`` replaces the table; the table is
never changed after that, so queries read it without a lock.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels

Column = tuple[npt.NDArray[np.int64], list[str]]


class RankedLabels:
    """The label sets of ranked series (position = number) and their value codes per name."""

    __slots__ = ("_columns", "fingerprints", "labels")

    def __init__(self, labels: list[Labels], fingerprints: list[int]) -> None:
        self.labels = labels
        self.fingerprints = fingerprints
        self._columns: dict[str, Column] = {}

    def __len__(self) -> int:
        return len(self.labels)

    def codes(self, name: str) -> tuple[npt.NDArray[np.int64], Sequence[str]]:
        """Per series, the code of its value of ``name`` (0: ``""``, the label missing), and
        the value of every code."""
        column = self._columns.get(name)
        if column is None:
            # Two queries may build the same column at once; both build the same thing, and
            # the dictionary keeps one.
            code_of: dict[str, int] = {"": 0}
            codes = np.fromiter(
                (code_of.setdefault(_value(ls, name), len(code_of)) for ls in self.labels),
                np.int64,
                len(self.labels),
            )
            column = (codes, list(code_of))
            self._columns[name] = column
        return column


def _value(labels: Labels, name: str) -> str:
    for key, value in labels:
        if key == name:
            return value
    return ""


__all__ = ["RankedLabels"]
