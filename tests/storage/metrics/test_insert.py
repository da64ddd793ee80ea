"""The metrics insert: series rows once per series and day, samples sorted and de-duplicated."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.storage.fakes import DAY, RecordingBackend, batch

from spyglass.core.samples import SampleBatch
from spyglass.storage.metrics import MetricsInserter
from spyglass.storage.metrics._insert import dedup_last
from spyglass.storage.writer import BatchWriter, PendingBuffer


def test_series_rows_are_written_once_per_series_and_day() -> None:
    backend = RecordingBackend()
    buf = PendingBuffer[SampleBatch]()
    inserter = MetricsInserter(backend)
    writer = BatchWriter(inserter, buf, lambda seq: None)
    buf.add(1, batch(3, t0=5 * DAY))
    writer.flush()
    buf.add(2, batch(3, t0=5 * DAY + 100))
    writer.flush()
    buf.add(3, batch(1, t0=6 * DAY))
    writer.flush()
    series = [t for name, t in backend.inserts if name == "metric_series"]
    assert [t.num_rows for t in series] == [1, 1]
    assert [str(t.column("date")[0]) for t in series] == ["1970-01-06", "1970-01-07"]
    assert inserter.series_created == 2


def test_dedup_keeps_the_last_of_equal_series_and_time() -> None:
    fps = np.array([2, 1, 2, 1, 2], np.uint64)
    ts = np.array([10, 10, 10, 5, 20], np.int64)
    vals = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    f, t, v = dedup_last(fps, ts, vals)
    assert f.tolist() == [1, 1, 2, 2]
    assert t.tolist() == [5, 10, 10, 20]
    assert v.tolist() == [4.0, 2.0, 3.0, 5.0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6), st.floats(-9, 9)), max_size=40))
def test_dedup_equals_a_dict_of_the_last_write(rows: list[tuple[int, int, float]]) -> None:
    """Sorted by (series, time), one sample per pair, the last written: whether the input is in
    time order per series (the fast path) or not (duplicates, samples out of order)."""
    last = {(fp, t): v for fp, t, v in rows}
    f, t, v = dedup_last(
        np.array([r[0] for r in rows], np.uint64),
        np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows], np.float64),
    )
    assert list(zip(f.tolist(), t.tolist(), v.tolist(), strict=True)) == [
        (fp, ts, val) for (fp, ts), val in sorted(last.items())
    ]
