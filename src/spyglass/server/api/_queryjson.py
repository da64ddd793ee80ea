"""Query answers (``/api/v1/query``, ``/api/v1/query_range``) written straight to JSON text.

An answer of a thousand series spent most of its time outside the engine: a dict per series
and a list per point for ``json`` to walk, and the labels of every series encoded again on every
request although dashboards and rules ask for the same series over and over. Here the text is
joined from pieces: each label set's JSON from ``LabelJson`` (a cache keyed by the label set),
each value formatted once (``format_value``), each timestamp of a range once per answer. The
text is byte for byte what ``json.dumps(body, separators=(",", ":"), allow_nan=False)`` writes
for the same answer (tests/server/api/test_queryjson.py compares them), so clients see nothing
new.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels
from spyglass.server.api._promjson import format_value

# The encoder ``_promjson.success`` uses, made once: ``json.dumps`` with options builds a new
# encoder object on every call, which costs more than encoding a small label set.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
# What the label cache may hold before it starts again, in characters of JSON (ASCII, so one
# byte each); some 100k series of ordinary labels.
LABEL_JSON_MAX_CHARS = 16 * 2**20

Vector = Sequence[tuple[Labels, float]]
Matrix = Sequence[tuple[Labels, npt.NDArray[np.int64], npt.NDArray[np.float64]]]


class LabelJson:
    """A label set as the JSON object Prometheus writes for ``metric``, cached by label set.

    The key is the label tuple itself (equal label sets from different queries hash equal), so
    an entry is never stale; when the cache holds ``max_chars`` it starts again rather than
    track use. Worker threads share it: a lost update between two of them only costs an
    encoding.
    """

    def __init__(self, max_chars: int = LABEL_JSON_MAX_CHARS) -> None:
        self.max_chars = max_chars
        self._texts: dict[Labels, str] = {}
        self._chars = 0
        self._lock = threading.Lock()

    def __call__(self, labels: Labels) -> str:
        """``labels`` as a JSON object."""
        text = self._texts.get(labels)
        if text is None:
            text = _ENCODER.encode(dict(labels))
            with self._lock:
                if self._chars + len(text) > self.max_chars:
                    self._texts = {}  # a new dict: other threads may be reading the old one
                    self._chars = 0
                self._texts[labels] = text
                self._chars += len(text)
        return text

    def __len__(self) -> int:
        return len(self._texts)


def time_json(ms: int) -> str:
    """A timestamp as Prometheus writes it (``format_time``) in JSON: seconds, integral when
    whole, else the float's shortest digits."""
    return str(ms // 1000) if ms % 1000 == 0 else repr(ms / 1000)


def vector_json(rows: Vector, at_ms: int, label_json: LabelJson) -> str:
    """An instant vector's ``result``: ``[{"metric": {...}, "value": [t, "v"]}, ...]``."""
    t = time_json(at_ms)
    return (
        "["
        + ",".join(
            f'{{"metric":{label_json(ls)},"value":[{t},"{format_value(v)}"]}}' for ls, v in rows
        )
        + "]"
    )


def matrix_json(series: Matrix, label_json: LabelJson) -> str:
    """A range vector's ``result``: ``[{"metric": {...}, "values": [[t, "v"], ...]}, ...]``.

    The series of a range query share the step grid, so each distinct timestamp's text is made
    once and each series' points are joined in one pass.
    """
    if not series:
        return "[]"
    times = np.unique(np.concatenate([ts for _, ts, _ in series]))
    time_texts = np.array([time_json(t) for t in times.tolist()], dtype=object)
    point = '[{},"{}"]'.format
    parts = []
    for ls, ts, vs in series:
        stamps = time_texts[np.searchsorted(times, ts)].tolist()
        points = ",".join(map(point, stamps, format_values(vs)))
        parts.append(f'{{"metric":{label_json(ls)},"values":[{points}]}}')
    return "[" + ",".join(parts) + "]"


def point_json(at_ms: int, text: str) -> str:
    """A scalar's or a string's ``result``: ``[t, "text"]``."""
    return f"[{time_json(at_ms)},{_ENCODER.encode(text)}]"


# Below 1e-4 ``repr`` writes an exponent, which Go's 'f' format never does, and from 1e15 on
# ``format_value`` writes integral values apart; such values (and NaN, infinities and -0) go
# through that exact one-value formatter. Integral values below 1e15 are written as integers.
_PLAIN_LOW = 1e-4
_PLAIN_HIGH = 1e15


def format_values(values: npt.NDArray[np.float64]) -> list[str]:
    """Many sample values as Prometheus writes them (``format_value`` of each), without a
    Python call per value in the common cases: integral values through ``int``, the rest
    through C-level ``repr``."""
    if len(values) == 0:
        return []
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        integral = (values == np.trunc(values)) & (magnitude < _PLAIN_HIGH)
        special = ~np.isfinite(values) | (magnitude >= _PLAIN_HIGH)
        special |= (magnitude < _PLAIN_LOW) & ~integral
    special |= (values == 0) & np.signbit(values)
    integral &= ~special
    if integral.all():
        return list(map(str, values.astype(np.int64).tolist()))
    out = list(map(repr, values.tolist()))
    if integral.any():
        for i, text in zip(
            np.flatnonzero(integral).tolist(),
            map(str, values[integral].astype(np.int64).tolist()),
            strict=True,
        ):
            out[i] = text
    if special.any():
        for i in np.flatnonzero(special).tolist():
            out[i] = format_value(float(values[i]))
    return out


def answer_json(
    result_type: str,
    result: str,
    stats: dict[str, Any] | None,
    warnings: list[str],
    infos: list[str],
) -> bytes:
    """The whole ``success`` envelope around a ``result`` already in JSON."""
    text = f'{{"status":"success","data":{{"resultType":{_ENCODER.encode(result_type)},'
    text += f'"result":{result}'
    if stats is not None:
        text += f',"stats":{_ENCODER.encode(stats)}'
    text += "}"
    if warnings:
        text += f',"warnings":{_ENCODER.encode(warnings)}'
    if infos:
        text += f',"infos":{_ENCODER.encode(infos)}'
    return (text + "}").encode()


__all__ = [
    "LABEL_JSON_MAX_CHARS",
    "LabelJson",
    "answer_json",
    "format_values",
    "matrix_json",
    "point_json",
    "time_json",
    "vector_json",
]
