"""One log entry on its way through a pipeline, as Promtail's stages see it.

Promtail's stages share four things per entry: the line, its timestamp, its label set and the
*extracted map* (values parsed out of the line by ``json``/``regex``/``logfmt``, read by
``labels``/``timestamp``/``output``...); Loki 2.9 added structured metadata. ``source`` and
``offset`` are the agent's own: which tailed file the entry came from and the byte offset where
its first line starts, so the position file only moves past lines whose entries were pushed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class Entry:
    """A log entry: mutable, because every stage edits it in place as Promtail's do."""

    line: str
    ts_ns: int
    labels: dict[str, str]
    extracted: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    source: int = 0
    offset: int = 0


def value_text(value: Any) -> str | None:
    """An extracted value as a string, as Promtail's ``getString`` converts it: numbers without
    exponent (``200``, ``0.25``), booleans as ``true``/``false``, nil as ``""``; ``None`` for a
    value it refuses (objects and arrays that were not turned into JSON text)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        # Go's strconv.FormatFloat(f, 'f', -1, 64): the shortest digits, never an exponent.
        text = format(Decimal(repr(value)), "f")
        return text.removesuffix(".0") if "." in text and text.endswith(".0") else text
    return None


__all__ = ["Entry", "value_text"]
