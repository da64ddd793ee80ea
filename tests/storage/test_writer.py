"""The pending buffer and batch writer, without ClickHouse."""

from __future__ import annotations

import pytest
from tests.storage.fakes import RecordingBackend, batch

from spyglass.core.errors import Unavailable
from spyglass.core.samples import SampleBatch
from spyglass.storage.metrics import MetricsInserter
from spyglass.storage.writer import BatchWriter, PendingBuffer


def test_take_moves_a_prefix_and_restore_puts_it_back_in_front() -> None:
    buf = PendingBuffer[SampleBatch]()
    for seq in (1, 2, 3):
        buf.add(seq, batch(2))
    assert buf.items == 6
    taken = buf.take(4)
    assert [s for s, _ in taken] == [1, 2]
    assert buf.items == 6  # in-flight samples still count as waiting
    assert len(buf.snapshot()) == 3
    buf.add(4, batch(1))
    buf.restore()
    assert [s for s, _ in buf.take()] == [1, 2, 3, 4]
    buf.done()
    assert buf.items == 0
    assert buf.snapshot() == []


def test_take_always_takes_at_least_one_batch() -> None:
    buf = PendingBuffer[SampleBatch]()
    buf.add(1, batch(10))
    assert len(buf.take(3)) == 1


def test_flush_goes_in_chunks_and_checkpoints_each() -> None:
    backend = RecordingBackend()
    buf = PendingBuffer[SampleBatch]()
    checkpoints: list[int] = []
    writer = BatchWriter(MetricsInserter(backend), buf, checkpoints.append, flush_max_items=1)
    for seq in range(1, 6):
        buf.add(seq, batch(2, t0=seq * 10))
    assert writer.flush() == 10
    assert checkpoints == [2, 4, 5]  # chunks of at most 4 * flush_max_samples samples
    samples = [t for name, t in backend.inserts if name == "metric_samples"]
    assert [t.num_rows for t in samples] == [4, 4, 2]
    assert writer.counters.flushes == 3


def test_failed_chunk_keeps_data_and_counts_the_failure() -> None:
    backend = RecordingBackend()
    buf = PendingBuffer[SampleBatch]()
    checkpoints: list[int] = []
    writer = BatchWriter(MetricsInserter(backend), buf, checkpoints.append)
    buf.add(1, batch(2))
    backend.fail = True
    with pytest.raises(Unavailable):
        writer.flush()
    assert (buf.items, checkpoints, writer.counters.flush_failures) == (2, [], 1)
    backend.fail = False
    assert writer.flush() == 2
    assert checkpoints == [1]


def test_flush_takes_what_was_pending_and_ends_despite_new_arrivals() -> None:
    """A batch arriving during a flush waits for the next one, so busy ingest cannot pin it."""
    backend = RecordingBackend()
    buf = PendingBuffer[SampleBatch]()
    seqs = iter(range(100, 10_000))

    def checkpoint(seq: int) -> None:
        buf.add(next(seqs), batch(4, t0=seq))  # a new batch lands after every insert

    writer = BatchWriter(MetricsInserter(backend), buf, checkpoint, flush_max_items=1)
    for seq in range(1, 4):
        buf.add(seq, batch(4, t0=seq * 10))
    assert writer.flush() == 12  # the three batches, one chunk each
    assert buf.items == 12  # three arrivals wait


def test_the_buffer_counts_bytes_through_take_restore_and_done() -> None:
    """With a size function the buffer counts bytes as it counts items: in-flight bytes still
    wait until the flush succeeds, and come back in front when it fails."""
    buf = PendingBuffer[SampleBatch](lambda b: 100 * len(b))
    buf.add(1, batch(2))
    buf.add(2, batch(3))
    assert buf.bytes == 500
    buf.take(2)
    assert buf.bytes == 500
    buf.restore()
    assert buf.bytes == 500
    buf.take(2)
    buf.done()
    assert buf.bytes == 300
    assert PendingBuffer[SampleBatch]().size_of(batch(5)) == 0
