"""``join_columns``: a range that straddles the head's start, joined from its two parts as columns.

``MetricsStore.select_columns`` reads the part before the head's start from ClickHouse and the
pending buffer (columns sorted by series and time) and the rest from the head (``SeriesColumns``).
Every stored sample is older than every head sample, so a series' answer is its stored samples
followed by its head samples. Joining them per series made a ``SeriesData`` and two
concatenations for each of 10k series (10-50 ms of a 6 h range query); here the layout of the
answer is computed for all series at once and the samples are moved with one gather.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels
from spyglass.storage.ports import SeriesColumns


def join_columns(
    older: tuple[
        npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.float64], dict[int, Labels]
    ],
    head: SeriesColumns,
    head_fps: npt.NDArray[np.uint64],
) -> SeriesColumns:
    """The older samples (``older``: fingerprints, timestamps, values sorted by series and time,
    every one before the head's first, and the series' labels) joined with ``head``, whose
    series ``i`` has fingerprint ``head_fps[i]``.

    When every older series is also in the head (the usual case: series live longer than the
    range) the answer keeps the head's order, and with it ``in_order`` and the label index; a
    series only ClickHouse knows breaks that order, so the answer is then in fingerprint order,
    as ``MetricsStore.select``'s.
    """
    fps, ts, vals, labels_by_fp = older
    if not len(fps):
        return head
    n_head = len(head.labels)
    bounds = np.flatnonzero(fps[1:] != fps[:-1]) + 1
    o_starts = np.concatenate([[0], bounds]).astype(np.int64)
    o_counts = np.diff(np.concatenate([o_starts, [len(fps)]])).astype(np.int64)
    o_keys = fps[o_starts]  # sorted, distinct
    h_starts = head.offsets[:-1]
    h_counts = np.diff(head.offsets)
    # Where each head series' older run is, if it has one.
    at = np.searchsorted(o_keys, head_fps)
    at_c = np.minimum(at, len(o_keys) - 1)
    has_old = o_keys[at_c] == head_fps
    in_head = np.zeros(len(o_keys), bool)
    in_head[at_c[has_old]] = True
    if in_head.all():
        # Head order: each head series with its older run (or none) in front.
        old_start = np.where(has_old, o_starts[at_c], 0)
        old_count = np.where(has_old, o_counts[at_c], 0)
        labels = head.labels
        new_start, new_count = h_starts, h_counts
        in_order, index, numbers = head.in_order, head.index, head.numbers
    else:
        # Fingerprint order over the union: head series first, then older-only ones, sorted.
        only_old = np.flatnonzero(~in_head)
        keys = np.concatenate([head_fps, o_keys[only_old]])
        order = np.argsort(keys, kind="stable")
        is_head = order < n_head
        # One spare entry at the end, so the head-side lookups of older-only series (whose
        # results ``where`` discards) index something even when the head found nothing.
        h_idx = np.where(is_head, order, n_head)
        head_at = np.append(at_c, 0)[h_idx]
        o_idx = np.where(is_head, head_at, np.append(only_old, 0)[np.maximum(order - n_head, 0)])
        has = ~is_head | np.append(has_old, False)[h_idx]
        old_start = np.where(has, o_starts[o_idx], 0)
        old_count = np.where(has, o_counts[o_idx], 0)
        new_start = np.append(h_starts, 0)[h_idx]
        new_count = np.append(h_counts, 0)[h_idx]
        old_labels = [labels_by_fp[fp] for fp in o_keys[only_old].tolist()]
        labels = [head.labels[k] if k < n_head else old_labels[k - n_head] for k in order.tolist()]
        in_order, index, numbers = False, None, None
    # Two segments per answer series, older then head, in the source [older | head] laid end
    # to end; one gather moves every sample to its place.
    seg_start = np.column_stack([old_start, new_start + len(ts)]).ravel()
    seg_count = np.column_stack([old_count, new_count]).ravel()
    seg_out = np.zeros(len(seg_count) + 1, np.int64)
    np.cumsum(seg_count, out=seg_out[1:])
    gather = np.arange(int(seg_out[-1]), dtype=np.int64) + np.repeat(
        seg_start - seg_out[:-1], seg_count
    )
    offsets = seg_out[::2].copy()
    out_ts = np.concatenate([ts, head.timestamps])[gather]
    out_vals = np.concatenate([vals, head.values])[gather]
    return SeriesColumns(
        labels,
        out_ts.astype(np.int64, copy=False),
        out_vals.astype(np.float64, copy=False),
        offsets,
        in_order=in_order,
        index=index,
        numbers=numbers,
    )


__all__ = ["join_columns"]
