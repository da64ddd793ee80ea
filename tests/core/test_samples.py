"""Sample batches and staleness markers."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.labels import labels_of
from spyglass.core.samples import (
    STALE_NAN,
    BatchBuilder,
    SampleBatch,
    is_stale,
    run_starts,
    series_order,
    stale_mask,
)


def test_stale_marker_is_a_nan_told_apart_by_bits() -> None:
    assert math.isnan(STALE_NAN)
    assert is_stale(STALE_NAN)
    assert not is_stale(float("nan"))
    assert not is_stale(1.0)
    mask = stale_mask(np.array([1.0, float("nan"), STALE_NAN]))
    assert mask.tolist() == [False, False, True]


def test_builder_shares_fingerprints_and_concat_keeps_order() -> None:
    b = BatchBuilder()
    up = labels_of({"__name__": "up", "job": "a"})
    b.add(up, 1000, 1.0)
    b.add(up, 2000, 0.0)
    b.add(labels_of({"__name__": "up", "job": "b"}), 1000, 1.0)
    first = b.build()
    assert len(first) == 3
    assert len(first.series) == 2
    assert first.fingerprints[0] == first.fingerprints[1] != first.fingerprints[2]
    both = SampleBatch.concat([first, first])
    assert both.timestamps.tolist() == [1000, 2000, 1000] * 2
    assert len(SampleBatch.concat([])) == 0


@given(st.lists(st.integers(0, 5), max_size=30))
def test_run_starts_name_every_series_once_per_run(fps: list[int]) -> None:
    starts = run_starts(np.array(fps, np.uint64))
    assert set(starts) == set(fps)
    assert len(starts) == sum(1 for i, f in enumerate(fps) if i == 0 or fps[i - 1] != f)


# Runs of a few series as batches hold them, with fingerprints that use all 64 bits.
fingerprints = st.lists(
    st.tuples(st.sampled_from([0, 1, 7, 2**63, 2**64 - 1]), st.integers(1, 4)), max_size=30
).map(lambda runs: [fp for fp, n in runs for _ in range(n)])


@given(fingerprints)
def test_series_order_sorts_samples_as_a_stable_sort_does(fps: list[int]) -> None:
    """Moving whole runs gives the permutation a stable sort of every sample gives, so each
    series keeps its write order; ``None`` only when the samples are sorted already."""
    array = np.array(fps, np.uint64)
    order = series_order(array)
    stable = np.argsort(array, kind="stable").tolist()
    if order is None:
        assert stable == list(range(len(fps)))
    else:
        assert order.tolist() == stable
