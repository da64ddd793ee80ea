"""Metric values of LogQL: series over the evaluation steps.

A ``Series`` holds one label set's value at every step of the query and which steps have one
(an instant query has a single step). Label sets are sorted ``(name, value)`` tuples; unlike
Prometheus', LogQL keeps labels with empty values (``| json age="user.age"`` yields
``age=""``), so they are not ``core.labels`` normalised sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
SeriesLabels = tuple[tuple[str, str], ...]


def labels_key(labels: Mapping[str, str]) -> SeriesLabels:
    """A label mapping as a sorted tuple."""
    return tuple(sorted(labels.items()))


@dataclass(slots=True)
class Series:
    """One label set's values at every step; ``present[j]`` says step ``j`` has a value."""

    labels: SeriesLabels
    values: F64
    present: Mask


Vector = list[Series]


def empty_series(labels: SeriesLabels, steps: int) -> Series:
    """A series with no value yet at any step."""
    return Series(labels, np.zeros(steps), np.zeros(steps, dtype=bool))


__all__ = ["F64", "Mask", "Series", "SeriesLabels", "Vector", "empty_series", "labels_key"]
