"""A range answer written as JSON text is what the nested lists gave through ``json.dumps``.

``matrix_json`` formats each timestamp once and each series' values in bulk (``format_values``);
these tests build the same answer the slow way (``format_time`` and ``format_value`` per point,
``json.dumps``) and compare the bytes, for arbitrary values (NaN, infinities, -0, tiny and huge
magnitudes, integers past 2^53) and for label values that need escaping.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.labels import Labels
from spyglass.server.api._promjson import format_time, format_value
from spyglass.server.api._queryjson import LabelJson, format_values, matrix_json

_values = st.lists(
    st.one_of(
        st.floats(),
        st.integers(-(2**60), 2**60).map(float),
        st.sampled_from([0.0, -0.0, 1e-4, 9.99e-5, 1e15, 1e15 - 1, 1e16, 0.1, 123.456]),
    ),
    max_size=30,
)


@given(_values)
def test_format_values_agree_with_format_value(values: list[float]) -> None:
    arr = np.array(values, dtype=np.float64)
    assert format_values(arr) == [format_value(v) for v in values]


def _slow(matrix: list[tuple[Labels, np.ndarray[Any, Any], np.ndarray[Any, Any]]]) -> str:
    result = [
        {
            "metric": dict(ls),
            "values": [
                [format_time(int(t)), format_value(float(v))]
                for t, v in zip(ts.tolist(), vs.tolist(), strict=True)
            ],
        }
        for ls, ts, vs in matrix
    ]
    return json.dumps(result, separators=(",", ":"), allow_nan=False)


_label_text = st.text(max_size=8)
_series = st.tuples(
    st.dictionaries(st.sampled_from(["__name__", "job", 'a"b', "le"]), _label_text, max_size=3),
    st.lists(st.tuples(st.integers(0, 40), st.floats()), max_size=12, unique_by=lambda p: p[0]),
)


@given(
    st.lists(_series, max_size=5),
    st.integers(-(10**13), 10**13),
    st.sampled_from([1, 500, 1000, 15_000]),
)
def test_matrix_json_is_the_json_of_the_nested_lists(
    series: list[tuple[dict[str, str], list[tuple[int, float]]]], start: int, step: int
) -> None:
    matrix = []
    for labels, unordered in series:
        points = sorted(unordered)
        ts = np.array([start + k * step for k, _ in points], np.int64)
        vs = np.array([v for _, v in points], np.float64)
        matrix.append((tuple(sorted(labels.items())), ts, vs))
    text = matrix_json(matrix, LabelJson())
    assert text == _slow(matrix)
    # And it is JSON a client reads back: values as strings, times as numbers.
    for row, (_, ts, vs) in zip(json.loads(text), matrix, strict=True):
        assert [t for t, _ in row["values"]] == [format_time(int(t)) for t in ts.tolist()]
        got = [float(v) for _, v in row["values"]]
        same = [(math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, vs, strict=True)]
        assert all(same)
