"""The write-ahead log: durability, group commit, rotation, checkpoint and torn tails."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import Unavailable
from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.samples import SampleBatch
from spyglass.storage import wal as wal_module
from spyglass.storage.metrics import MetricsCodec
from spyglass.storage.wal import Wal


def one(i: int) -> SampleBatch:
    ls = labels_of({"__name__": "x", "i": str(i % 7)})
    fp = fingerprint(ls)
    return SampleBatch(
        {fp: ls}, np.array([fp], np.uint64), np.array([i], np.int64), np.array([float(i)])
    )


def values(replayed: list[tuple[int, SampleBatch]]) -> list[float]:
    return [float(b.values[0]) for _, b in replayed]


def test_appended_records_replay_in_order_after_reopen(tmp_path: Path) -> None:
    seen: list[int] = []

    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec(), on_durable=lambda seq, b: seen.append(seq))
        assert list(wal.replay()) == []
        wal.start()
        seqs = [await wal.append(one(i)) for i in range(5)]
        assert seqs == [1, 2, 3, 4, 5]
        wal.close()

    asyncio.run(go())
    assert seen == [1, 2, 3, 4, 5]
    again = Wal(tmp_path, MetricsCodec())
    replayed = list(again.replay())
    assert [s for s, _ in replayed] == [1, 2, 3, 4, 5]
    assert values(replayed) == [0.0, 1.0, 2.0, 3.0, 4.0]
    again.start()  # continues numbering after the replayed records
    assert again.stats().last_seq == 5
    again.close()


def test_concurrent_appends_share_fsyncs(tmp_path: Path) -> None:
    """Group commit: 200 concurrent appends are all durable with fewer fsyncs than records."""

    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        list(wal.replay())
        wal.start()
        seqs = await asyncio.gather(*(wal.append(one(i)) for i in range(200)))
        assert sorted(seqs) == list(range(1, 201))
        st = wal.stats()
        assert st.records_written == 200
        assert st.fsyncs < 200
        wal.close()

    asyncio.run(go())
    assert len(list(Wal(tmp_path, MetricsCodec()).replay())) == 200


def test_segments_rotate_and_checkpoint_deletes_covered_ones(tmp_path: Path) -> None:
    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec(), segment_bytes=200)
        list(wal.replay())
        wal.start()
        for i in range(10):
            await wal.append(one(i))
        before = wal.stats().segments
        assert before > 3
        wal.checkpoint(6)
        st = wal.stats()
        assert st.checkpoint_seq == 6
        assert st.segments < before
        wal.close()

    asyncio.run(go())
    reopened = Wal(tmp_path, MetricsCodec())
    replayed = list(reopened.replay())
    # Only records after the checkpoint come back; segments wholly at or below it are gone.
    assert [s for s, _ in replayed] == [7, 8, 9, 10]
    # Each comes back with its labels, though a record only carries labels new to its segment.
    for i, (_, b) in zip(range(6, 10), replayed, strict=True):
        assert b.series == one(i).series
    firsts = sorted(int(p.stem) for p in tmp_path.glob("*.seg"))
    assert firsts[0] <= 7


def test_checkpoint_of_everything_leaves_no_segments_after_close(tmp_path: Path) -> None:
    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        list(wal.replay())
        wal.start()
        last = 0
        for i in range(3):
            last = await wal.append(one(i))
        wal.checkpoint(last)
        wal.close()
        assert wal.stats().segments == 0

    asyncio.run(go())
    assert list(tmp_path.glob("*.seg")) == []
    assert list(Wal(tmp_path, MetricsCodec()).replay()) == []


@pytest.mark.parametrize("cut_from_end", [1, 5, 17, 30])
def test_torn_tail_is_cut_and_earlier_records_survive(tmp_path: Path, cut_from_end: int) -> None:
    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        list(wal.replay())
        wal.start()
        for i in range(4):
            await wal.append(one(i))
        wal.close()

    asyncio.run(go())
    [seg] = list(tmp_path.glob("*.seg"))
    data = seg.read_bytes()
    seg.write_bytes(data[:-cut_from_end])
    wal = Wal(tmp_path, MetricsCodec())
    replayed = list(wal.replay())
    assert values(replayed) == [0.0, 1.0, 2.0]
    assert wal.stats().torn_bytes_dropped > 0
    wal.close()
    # The cut is persisted: the next open finds a clean segment.
    again = Wal(tmp_path, MetricsCodec())
    assert values(list(again.replay())) == [0.0, 1.0, 2.0]
    assert again.stats().torn_bytes_dropped == 0


def test_flipped_bit_is_detected_by_crc(tmp_path: Path) -> None:
    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        list(wal.replay())
        wal.start()
        for i in range(3):
            await wal.append(one(i))
        wal.close()

    asyncio.run(go())
    [seg] = list(tmp_path.glob("*.seg"))
    data = bytearray(seg.read_bytes())
    data[-3] ^= 0x10  # inside the last record's payload
    seg.write_bytes(bytes(data))
    assert values(list(Wal(tmp_path, MetricsCodec()).replay())) == [0.0, 1.0]


def test_a_second_wal_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    first = Wal(tmp_path, MetricsCodec())
    list(first.replay())  # replay and start take the lock
    with pytest.raises(Unavailable, match="in use"):
        list(Wal(tmp_path, MetricsCodec()).replay())
    with pytest.raises(Unavailable, match="in use"):
        Wal(tmp_path, MetricsCodec()).start()
    first.close()
    second = Wal(tmp_path, MetricsCodec())  # released by close
    second.start()
    second.close()


def test_append_needs_start_and_fails_after_close(tmp_path: Path) -> None:
    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        with pytest.raises(Unavailable):
            await wal.append(one(0))
        list(wal.replay())
        wal.start()
        wal.close()
        with pytest.raises(Unavailable):
            await wal.append(one(0))

    asyncio.run(go())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=3))
def test_replay_of_garbage_segments_never_fails(blobs: list[bytes]) -> None:
    """Foreign or corrupt segment files are skipped or cut, never an exception."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, blob in enumerate(blobs):
            (Path(tmp) / f"{i + 1:020d}.seg").write_bytes(blob)
        wal = Wal(tmp, MetricsCodec())
        assert list(wal.replay()) == []
        wal.start()
        wal.close()


@pytest.mark.parametrize("written_before_failure", [0, 10])
def test_a_failed_write_is_reported_and_the_log_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written_before_failure: int
) -> None:
    """Disk full for a moment: that append fails, the partial frame is cut, later ones work."""
    real = wal_module._write_all
    calls = {"n": 0}

    def flaky_write(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            real(fd, data[:written_before_failure])  # a torn frame, then the error
            raise OSError(28, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(wal_module, "_write_all", flaky_write)

    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        list(wal.replay())
        wal.start()
        assert await wal.append(one(0)) == 1
        with pytest.raises(Unavailable, match="No space"):
            await wal.append(one(1))
        await wal.append(one(2))
        wal.close()

    asyncio.run(go())
    reopened = Wal(tmp_path, MetricsCodec())
    assert values(list(reopened.replay())) == [0.0, 2.0]
    assert reopened.stats().torn_bytes_dropped == 0


def test_start_without_replay_of_an_existing_log_is_refused(tmp_path: Path) -> None:
    """Sequence numbers must continue after the old records, which only replay finds."""

    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        wal.start()  # an empty directory needs no replay
        await wal.append(one(0))
        wal.close()

    asyncio.run(go())
    again = Wal(tmp_path, MetricsCodec())
    with pytest.raises(RuntimeError, match="replay"):
        again.start()
    assert values(list(again.replay())) == [0.0]
    again.start()
    again.close()


def test_labels_are_written_once_per_segment(tmp_path: Path) -> None:
    """Repeating a series costs its samples, not its labels again; replay restores them."""
    big = labels_of({"__name__": "x", "long": "v" * 500})
    fp = fingerprint(big)

    def rec(i: int) -> SampleBatch:
        return SampleBatch(
            {fp: big}, np.array([fp], np.uint64), np.array([i], np.int64), np.array([1.0])
        )

    async def go() -> None:
        wal = Wal(tmp_path, MetricsCodec())
        list(wal.replay())
        wal.start()
        await wal.append(rec(0))
        first = wal.stats().bytes_on_disk
        for i in range(1, 11):
            await wal.append(rec(i))
        assert wal.stats().bytes_on_disk - first < 10 * 100  # no 500-byte label set each time
        wal.checkpoint(3)  # the record that carried the labels is now below the checkpoint
        wal.close()

    asyncio.run(go())
    replayed = list(Wal(tmp_path, MetricsCodec()).replay())
    assert [s for s, _ in replayed] == list(range(4, 12))
    assert all(b.series == {fp: big} for _, b in replayed)


SETS = [labels_of({"__name__": "m", "i": str(i), "pad": "p" * (i * 10)}) for i in range(6)]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=4), min_size=1, max_size=12),
    st.integers(60, 600),
    st.integers(0, 12),
    st.booleans(),
)
def test_replay_restores_every_record_after_any_checkpoint(
    records: list[list[int]], segment_bytes: int, checkpoint: int, together: bool
) -> None:
    """Whatever the segment size and checkpoint, replay returns each later record whole."""
    batches = []
    for k, idx in enumerate(records):
        sets = [SETS[i] for i in idx]
        batches.append(
            SampleBatch(
                {fingerprint(ls): ls for ls in sets},
                np.array([fingerprint(ls) for ls in sets], np.uint64),
                np.full(len(sets), k, np.int64),
                np.arange(len(sets), dtype=np.float64),
            )
        )

    async def write(directory: Path) -> None:
        wal = Wal(directory, MetricsCodec(), segment_bytes=segment_bytes)
        list(wal.replay())
        wal.start()
        if together:  # one group commit: records share a segment decision
            await asyncio.gather(*(wal.append(b) for b in batches))
        else:
            for b in batches:
                await wal.append(b)
        wal.checkpoint(min(checkpoint, len(batches)))
        wal.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(write(Path(tmp)))
        wal = Wal(tmp, MetricsCodec())
        replayed = list(wal.replay())
        wal.close()
    want = list(range(min(checkpoint, len(batches)) + 1, len(batches) + 1))
    assert [s for s, _ in replayed] == want
    for seq, b in replayed:
        orig = batches[seq - 1]
        assert dict(b.series) == dict(orig.series)
        assert b.fingerprints.tolist() == orig.fingerprints.tolist()
        assert b.values.tolist() == orig.values.tolist()


def test_replay_progress_names_segments_as_prometheus_walreplay_does(tmp_path: Path) -> None:
    """``replay_progress`` is 0/0/0 for an empty log; for a log left with segments it reports
    the first and last segment's numbers (their file names) and, while replaying, the number of
    the segment being read, then the last once done."""
    empty = Wal(tmp_path / "empty", MetricsCodec())
    assert empty.replay_progress() == wal_module.ReplayProgress(0, 0, 0)
    list(empty.replay())
    assert empty.replay_progress() == wal_module.ReplayProgress(0, 0, 0)
    empty.close()

    async def fill() -> None:
        wal = Wal(tmp_path / "full", MetricsCodec(), segment_bytes=200)
        list(wal.replay())
        wal.start()
        for i in range(10):
            await wal.append(one(i))
        wal.close()

    asyncio.run(fill())
    numbers = sorted(int(p.stem) for p in (tmp_path / "full").glob("*.seg"))
    assert len(numbers) > 3
    reopened = Wal(tmp_path / "full", MetricsCodec())
    replay = reopened.replay()
    next(replay)  # the first record: reading the first segment
    assert reopened.replay_progress() == wal_module.ReplayProgress(
        numbers[0], numbers[-1], numbers[0]
    )
    assert len(list(replay)) == 9
    assert reopened.replay_progress() == wal_module.ReplayProgress(
        numbers[0], numbers[-1], numbers[-1]
    )
    reopened.close()
