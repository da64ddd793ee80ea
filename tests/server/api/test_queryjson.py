"""Query answers joined from pieces are byte for byte what ``json.dumps`` wrote before, and
the label cache stays bounded."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.labels import Labels
from spyglass.server.api._promjson import format_time, format_value
from spyglass.server.api._queryjson import (
    LabelJson,
    answer_json,
    format_values,
    matrix_json,
    point_json,
    time_json,
    vector_json,
)

# Label text as hostile as it gets: quotes, backslashes, control characters, markup, non-ASCII
# (json escapes it as \\uXXXX, as the answers always did) and astral characters (surrogate pairs).
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from('"\\<>&/\n\t\x00\x1f\u2028é☃'), st.characters(codec="utf-8")
    ),
    max_size=12,
)
_LABELS = st.lists(st.tuples(_TEXT, _TEXT), max_size=5, unique_by=lambda p: p[0]).map(
    lambda pairs: tuple(sorted(pairs))
)
_FLOATS = st.floats(allow_subnormal=True, width=64)
# Milliseconds around now and far from it, negative included.
_MS = st.integers(min_value=-(2**53), max_value=2**53)


def _dumps(body: Any) -> bytes:
    """What ``_promjson.success`` writes."""
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


def _envelope(data: dict[str, Any], warnings: list[str], infos: list[str]) -> bytes:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    if infos:
        body["infos"] = infos
    return _dumps(body)


@given(
    st.lists(st.tuples(_LABELS, _FLOATS), max_size=8),
    _MS,
    st.lists(_TEXT, max_size=2),
    st.lists(_TEXT, max_size=2),
    st.booleans(),
)
def test_vector_answer_is_what_json_dumps_wrote(
    rows: list[tuple[Labels, float]],
    at_ms: int,
    warnings: list[str],
    infos: list[str],
    with_stats: bool,
) -> None:
    stats = {"samples": {"totalQueryableSamples": 3, "peakSamples": 3}} if with_stats else None
    data: dict[str, Any] = {
        "resultType": "vector",
        "result": [
            {"metric": dict(ls), "value": [format_time(at_ms), format_value(v)]} for ls, v in rows
        ],
    }
    if stats is not None:
        data["stats"] = stats
    cache = LabelJson()
    got = answer_json("vector", vector_json(rows, at_ms, cache), stats, warnings, infos)
    assert got == _envelope(data, warnings, infos)
    # The second answer comes from the cache and is the same.
    assert answer_json("vector", vector_json(rows, at_ms, cache), stats, warnings, infos) == got


@given(
    st.lists(
        st.tuples(_LABELS, st.lists(st.tuples(_MS, _FLOATS), max_size=6)),
        max_size=5,
    )
)
def test_matrix_answer_is_what_json_dumps_wrote(
    series: list[tuple[Labels, list[tuple[int, float]]]],
) -> None:
    matrix = [
        (
            ls,
            np.array([t for t, _ in points], np.int64),
            np.array([v for _, v in points], np.float64),
        )
        for ls, points in series
    ]
    data = {
        "resultType": "matrix",
        "result": [
            {
                "metric": dict(ls),
                "values": [[format_time(t), format_value(v)] for t, v in points],
            }
            for ls, points in series
        ],
    }
    got = answer_json("matrix", matrix_json(matrix, LabelJson()), None, [], [])
    assert got == _envelope(data, [], [])


@given(_MS, _FLOATS, _TEXT)
def test_scalar_and_string_answers_are_what_json_dumps_wrote(
    at_ms: int, value: float, text: str
) -> None:
    scalar = {"resultType": "scalar", "result": [format_time(at_ms), format_value(value)]}
    got = answer_json("scalar", point_json(at_ms, format_value(value)), None, [], [])
    assert got == _envelope(scalar, [], [])
    string = {"resultType": "string", "result": [format_time(at_ms), text]}
    assert answer_json("string", point_json(at_ms, text), None, [], []) == _envelope(string, [], [])


@given(_MS)
def test_times_are_written_as_format_time_would(ms: int) -> None:
    assert time_json(ms) == json.dumps(format_time(ms))


@given(st.lists(_FLOATS, max_size=20))
def test_many_values_are_formatted_one_by_one(values: list[float]) -> None:
    assert format_values(np.array(values, np.float64)) == [format_value(v) for v in values]


def test_label_cache_starts_again_when_full() -> None:
    """Bounded by characters: past the bound it empties and keeps only the newest entry."""
    cache = LabelJson(max_chars=100)
    sets = [(("__name__", f"metric_{i:02}"), ("job", "api")) for i in range(10)]
    texts = [cache(ls) for ls in sets]
    assert texts[0] == '{"__name__":"metric_00","job":"api"}'
    assert 0 < len(cache) <= 100 // len(texts[0])
    # What fell out is encoded again, the same.
    assert cache(sets[0]) == texts[0]
