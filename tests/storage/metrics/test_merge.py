"""join_columns: the older part of a range (ClickHouse's) joined with the head's as columns gives
each series exactly what the per-series join of ``MetricsStore.select`` gives (older samples,
then the head's), whichever series each side holds; the head's order, ``in_order`` flag and label
index survive when every older series is in the head, and the answer is in fingerprint order
otherwise."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.labels import Labels
from spyglass.storage.metrics._merge import join_columns
from spyglass.storage.ports import SeriesColumns

HEAD_START = 1_000

# Per series (fingerprint 0..7): older sample count, head sample count; the head in any order.
series_draw = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 4), st.integers(0, 4)),
    max_size=8,
    unique_by=lambda r: r[0],
)


def labels(fp: int) -> Labels:
    return (("__name__", "m"), ("id", f"<s{fp}>"))


def per_series(
    older: dict[int, tuple[list[int], list[float]]],
    head: list[tuple[int, list[int], list[float]]],
) -> dict[Labels, tuple[list[int], list[float]]]:
    """What select's loop makes: for each series, older samples then the head's."""
    out: dict[Labels, tuple[list[int], list[float]]] = {}
    for fp in sorted(older.keys() | {h[0] for h in head}):
        o_ts, o_v = older.get(fp, ([], []))
        h_ts, h_v = next(((t, v) for f, t, v in head if f == fp), ([], []))
        out[labels(fp)] = (o_ts + h_ts, o_v + h_v)
    return out


@settings(max_examples=300, deadline=None)
@given(drawn=series_draw, in_order=st.booleans(), data=st.data())
def test_join_columns_equals_the_per_series_join(
    drawn: list[tuple[int, int, int]], in_order: bool, data: st.DataObject
) -> None:
    older: dict[int, tuple[list[int], list[float]]] = {}
    head: list[tuple[int, list[int], list[float]]] = []
    for fp, n_old, n_new in drawn:
        if n_old:
            older[fp] = (
                list(range(HEAD_START - n_old, HEAD_START)),
                [float(fp * 100 + k) for k in range(n_old)],
            )
        if n_new:
            head.append(
                (
                    fp,
                    list(range(HEAD_START, HEAD_START + n_new)),
                    [float(-fp * 100 - k) for k in range(n_new)],
                )
            )
    head = data.draw(st.permutations(head))
    o_fps = sorted(older)
    fps = np.array([fp for fp in o_fps for _ in older[fp][0]], np.uint64)
    ts = np.array([t for fp in o_fps for t in older[fp][0]], np.int64)
    vals = np.array([v for fp in o_fps for v in older[fp][1]], np.float64)
    offsets = np.zeros(len(head) + 1, np.int64)
    np.cumsum([len(h[1]) for h in head], out=offsets[1:])
    numbers = np.arange(len(head), dtype=np.int64)
    cols = SeriesColumns(
        [labels(h[0]) for h in head],
        np.array([t for h in head for t in h[1]], np.int64),
        np.array([v for h in head for v in h[2]], np.float64),
        offsets,
        in_order=in_order,
        numbers=numbers,
    )
    head_fps = np.array([h[0] for h in head], np.uint64)

    got = join_columns((fps, ts, vals, {fp: labels(fp) for fp in o_fps}), cols, head_fps)

    o = got.offsets.tolist()
    assert o[0] == 0
    assert o[-1] == len(got.timestamps) == len(got.values)
    assert all(b > a for a, b in itertools.pairwise(o))  # no series without samples
    as_dict = {
        ls: (got.timestamps[o[i] : o[i + 1]].tolist(), got.values[o[i] : o[i + 1]].tolist())
        for i, ls in enumerate(got.labels)
    }
    assert len(as_dict) == len(got.labels)
    assert as_dict == per_series(older, head)
    if set(older) <= {h[0] for h in head}:
        assert got.labels == cols.labels
        assert got.in_order == in_order
        assert got.numbers is numbers
    else:
        want = sorted(older.keys() | {h[0] for h in head})
        assert got.labels == [labels(fp) for fp in want]
        assert not got.in_order
        assert got.numbers is None
