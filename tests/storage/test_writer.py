"""The pending buffer and batch writer, without ClickHouse."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from spyglass.core.errors import Unavailable
from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.samples import SampleBatch
from spyglass.storage.writer import BatchWriter, PendingBuffer, dedup_last

DAY = 86_400_000


def batch(n: int, t0: int = 0, name: str = "x") -> SampleBatch:
    ls = labels_of({"__name__": name})
    fp = fingerprint(ls)
    return SampleBatch(
        {fp: ls},
        np.full(n, fp, np.uint64),
        np.arange(t0, t0 + n, dtype=np.int64),
        np.ones(n),
    )


class RecordingBackend:
    def __init__(self) -> None:
        self.inserts: list[tuple[str, pa.Table]] = []
        self.fail = False

    def command(self, sql: str, params: Any = None) -> None:
        pass

    def query_arrow(self, sql: str, params: Any = None) -> pa.Table:
        raise AssertionError("the writer never reads")

    def insert(self, table: str, data: pa.Table) -> None:
        if self.fail:
            raise Unavailable("down")
        self.inserts.append((table, data))

    def close(self) -> None:
        pass


def test_take_moves_a_prefix_and_restore_puts_it_back_in_front() -> None:
    buf = PendingBuffer()
    for seq in (1, 2, 3):
        buf.add(seq, batch(2))
    assert buf.samples == 6
    taken = buf.take(4)
    assert [s for s, _ in taken] == [1, 2]
    assert buf.samples == 6  # in-flight samples still count as waiting
    assert len(buf.snapshot()) == 3
    buf.add(4, batch(1))
    buf.restore()
    assert [s for s, _ in buf.take()] == [1, 2, 3, 4]
    buf.done()
    assert buf.samples == 0
    assert buf.snapshot() == []


def test_take_always_takes_at_least_one_batch() -> None:
    buf = PendingBuffer()
    buf.add(1, batch(10))
    assert len(buf.take(3)) == 1


def test_flush_goes_in_chunks_and_checkpoints_each() -> None:
    backend = RecordingBackend()
    buf = PendingBuffer()
    checkpoints: list[int] = []
    writer = BatchWriter(backend, buf, checkpoints.append, flush_max_samples=1)
    for seq in range(1, 6):
        buf.add(seq, batch(2, t0=seq * 10))
    assert writer.flush() == 10
    assert checkpoints == [2, 4, 5]  # chunks of at most 4 * flush_max_samples samples
    samples = [t for name, t in backend.inserts if name == "metric_samples"]
    assert [t.num_rows for t in samples] == [4, 4, 2]
    assert writer.counters.flushes == 3


def test_series_rows_are_written_once_per_series_and_day() -> None:
    backend = RecordingBackend()
    buf = PendingBuffer()
    writer = BatchWriter(backend, buf, lambda seq: None)
    buf.add(1, batch(3, t0=5 * DAY))
    writer.flush()
    buf.add(2, batch(3, t0=5 * DAY + 100))
    writer.flush()
    buf.add(3, batch(1, t0=6 * DAY))
    writer.flush()
    series = [t for name, t in backend.inserts if name == "metric_series"]
    assert [t.num_rows for t in series] == [1, 1]
    assert [str(t.column("date")[0]) for t in series] == ["1970-01-06", "1970-01-07"]
    assert writer.counters.series_created == 2


def test_failed_chunk_keeps_data_and_counts_the_failure() -> None:
    backend = RecordingBackend()
    buf = PendingBuffer()
    checkpoints: list[int] = []
    writer = BatchWriter(backend, buf, checkpoints.append)
    buf.add(1, batch(2))
    backend.fail = True
    with pytest.raises(Unavailable):
        writer.flush()
    assert (buf.samples, checkpoints, writer.counters.flush_failures) == (2, [], 1)
    backend.fail = False
    assert writer.flush() == 2
    assert checkpoints == [1]


def test_dedup_keeps_the_last_of_equal_series_and_time() -> None:
    fps = np.array([2, 1, 2, 1, 2], np.uint64)
    ts = np.array([10, 10, 10, 5, 20], np.int64)
    vals = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    f, t, v = dedup_last(fps, ts, vals)
    assert f.tolist() == [1, 1, 2, 2]
    assert t.tolist() == [5, 10, 10, 20]
    assert v.tolist() == [4.0, 2.0, 3.0, 5.0]


def test_flush_takes_what_was_pending_and_ends_despite_new_arrivals() -> None:
    """A batch arriving during a flush waits for the next one, so busy ingest cannot pin it."""
    backend = RecordingBackend()
    buf = PendingBuffer()
    seqs = iter(range(100, 10_000))

    def checkpoint(seq: int) -> None:
        buf.add(next(seqs), batch(4, t0=seq))  # a new batch lands after every insert

    writer = BatchWriter(backend, buf, checkpoint, flush_max_samples=1)
    for seq in range(1, 4):
        buf.add(seq, batch(4, t0=seq * 10))
    assert writer.flush() == 12  # the three batches, one chunk each
    assert buf.samples == 12  # three arrivals wait
