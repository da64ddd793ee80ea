"""Label sets: the identity of a series.

A label set is a tuple of ``(name, value)`` pairs sorted by name, with no empty values (Prometheus
treats an empty value as an absent label). Tuples are hashable and cheap to compare, which is what
the ingest caches and the query engine need. The metric name is the ``__name__`` label.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

Labels = tuple[tuple[str, str], ...]
"""A label set: ``(name, value)`` pairs sorted by name, values non-empty."""

METRIC_NAME = "__name__"
EMPTY: Labels = ()

# Prometheus' legacy name rules. Prometheus 3 also accepts any UTF-8 name when quoted; Spyglass
# stores such names as they come and validates with these only where the text format requires.
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

_SEP = b"\xff"  # cannot occur in valid UTF-8, so name/value boundaries are unambiguous


def labels_of(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> Labels:
    """Build a label set from a mapping or pairs: sorted by name, empty values dropped.

    A later pair with the same name wins, as in a dict.
    """
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    merged = dict(items)
    return tuple(sorted((n, v) for n, v in merged.items() if v != ""))


def metric_name(labels: Labels) -> str:
    """The ``__name__`` value, or ``""`` when the set has none."""
    for name, value in labels:
        if name == METRIC_NAME:
            return value
    return ""


def get(labels: Labels, name: str) -> str:
    """The value of ``name``, or ``""`` when absent (Prometheus' semantics for missing labels)."""
    for n, v in labels:
        if n == name:
            return v
    return ""


def without(labels: Labels, *names: str) -> Labels:
    """The label set minus ``names``."""
    drop = set(names)
    return tuple(p for p in labels if p[0] not in drop)


def fingerprint(labels: Labels) -> int:
    """A stable unsigned 64-bit identity of a label set (the series key in storage).

    Stable across processes and versions: it is persisted, so never change the encoding.
    """
    h = hashlib.blake2b(digest_size=8)
    for name, value in labels:
        h.update(name.encode())
        h.update(_SEP)
        h.update(value.encode())
        h.update(_SEP)
    return int.from_bytes(h.digest(), "little")


def format_labels(labels: Labels) -> str:
    """Prometheus' text form: ``name{a="1", b="2"}`` (the name outside the braces)."""
    name = metric_name(labels)
    inner = ", ".join(f'{n}="{_escape(v)}"' for n, v in labels if n != METRIC_NAME)
    if not inner:
        return name or "{}"
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


__all__ = [
    "EMPTY",
    "LABEL_NAME_RE",
    "METRIC_NAME",
    "METRIC_NAME_RE",
    "Labels",
    "fingerprint",
    "format_labels",
    "get",
    "labels_of",
    "metric_name",
    "without",
]
