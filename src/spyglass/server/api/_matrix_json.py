"""A range query's matrix written as Prometheus' JSON text directly.

A range answer of a few hundred series over a day holds hundreds of thousands of points; built
as nested lists of Python numbers and strings for ``json.dumps``, each point cost two objects
and a list. Here each distinct timestamp is formatted once, each series' values in one pass over
their C-level ``repr`` (integral values through ``int``), and each series' points joined into
text at once, so the per-point work is a few C calls. The text is what ``json.dumps`` of the
nested lists gave, byte for byte (the Prometheus API's tests compare both).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from starlette.responses import Response

from spyglass.core.labels import Labels
from spyglass.server.api._promjson import format_value

Series = tuple[Labels, npt.NDArray[np.int64], npt.NDArray[np.float64]]

# Below 1e-4 ``repr`` writes an exponent, which Go's 'f' format never does, and from 1e15 on
# ``format_value`` writes integral values apart; such values (and NaN, infinities and -0) go
# through that exact one-value formatter. Integral values below 1e15 are written as integers.
_PLAIN_LOW = 1e-4
_PLAIN_HIGH = 1e15


def _time_text(ms: int) -> str:
    return str(ms // 1000) if ms % 1000 == 0 else repr(ms / 1000)


def value_texts(values: npt.NDArray[np.float64]) -> list[str]:
    """Each value as Prometheus writes it (``format_value``), without a Python call per value
    in the common cases."""
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


def matrix_text(matrix: Sequence[Series]) -> str:
    """The ``result`` array of a matrix answer as JSON text."""
    if not matrix:
        return "[]"
    # Every series' timestamps come from one grid: format each distinct time once.
    times = np.unique(np.concatenate([ts for _, ts, _ in matrix]))
    time_texts = np.array([_time_text(t) for t in times.tolist()], dtype=object)
    parts = []
    point = '[{},"{}"]'.format
    for labels, ts, vs in matrix:
        t_texts = time_texts[np.searchsorted(times, ts)].tolist()
        points = ",".join(map(point, t_texts, value_texts(vs)))
        metric = json.dumps(dict(labels), separators=(",", ":"))
        parts.append(f'{{"metric":{metric},"values":[{points}]}}')
    return "[" + ",".join(parts) + "]"


def success_text(
    data: str, warnings: list[str] | None = None, infos: list[str] | None = None
) -> Response:
    """``_promjson.success`` for a ``data`` already written as JSON text."""
    body = '{"status":"success","data":' + data
    if warnings:
        body += ',"warnings":' + json.dumps(warnings, separators=(",", ":"))
    if infos:
        body += ',"infos":' + json.dumps(infos, separators=(",", ":"))
    return Response((body + "}").encode(), media_type="application/json")


__all__ = ["matrix_text", "success_text", "value_texts"]
