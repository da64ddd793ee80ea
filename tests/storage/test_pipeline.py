"""A signal's write path built from its description alone, beside metrics on one backend.

"Notes" is a signal made up here (a batch of timestamped strings, one table, a JSON codec): it
gets a WAL directory, durability, replay, flushing, a pending limit and self-metrics without a
line of storage code written for it. That is the promise of ``storage.signals``: adding a signal
is adding a description.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from tests.storage.fakes import DAY

from spyglass.core.errors import Overloaded, ParseError, Unavailable
from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.samples import SampleBatch
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.storage.backends import Backend
from spyglass.storage.metrics import MetricsCodec, MetricsStore
from spyglass.storage.pipeline import SignalPipeline, pipeline_collectors, wal_dir
from spyglass.storage.schema import DAY_MS, Table, Ttl
from spyglass.storage.signals import Signal
from spyglass.storage.wal import Wal

NOW_MS = 1_760_000_000_000
RETENTION = 10 * 365 * DAY


@dataclass(frozen=True)
class Notes:
    timestamps: list[int]
    texts: list[str]

    def __len__(self) -> int:
        return len(self.texts)


class _NotesEncoder:
    def encode(self, batch: Notes, max_bytes: int) -> bytes:
        payload = json.dumps([batch.timestamps, batch.texts]).encode()
        if len(payload) > max_bytes:
            raise Unavailable("too large")
        return payload


class _NotesReader:
    lost_bytes = 0

    def read(self, payload: bytes) -> Notes:
        try:
            ts, texts = json.loads(payload)
        except ValueError as exc:
            raise ParseError(str(exc)) from None
        return Notes(ts, texts)

    def complete(self, seq: int, batch: Notes) -> Notes:
        return batch


class NotesCodec:
    def segment_encoder(self) -> _NotesEncoder:
        return _NotesEncoder()

    def reader(self) -> _NotesReader:
        return _NotesReader()


NOTES_TABLE = Table(
    "test_notes",
    ("timestamp_ms Int64", "text String"),
    "MergeTree",
    "timestamp_ms",
    partition_by=f"intDiv(timestamp_ms, {DAY_MS})",
    ttl=Ttl("toDateTime(intDiv(timestamp_ms, 1000))"),
)


def notes_inserter(backend: Backend):  # type: ignore[no-untyped-def]
    def insert(batches: list[Notes]) -> int:
        ts = [t for b in batches for t in b.timestamps]
        texts = [x for b in batches for x in b.texts]
        backend.insert(
            "test_notes", pa.table({"timestamp_ms": np.array(ts, np.int64), "text": texts})
        )
        return len(ts)

    return insert


NOTES: Signal[Notes] = Signal(
    name="notes",
    tables=(NOTES_TABLE,),
    retention_setting="",
    unit="notes",
    codec=NotesCodec,
    inserter=notes_inserter,
)


def stored_notes(backend: Backend) -> list[str]:
    rows = backend.query_arrow("SELECT text FROM test_notes ORDER BY timestamp_ms").to_pylist()
    return [r["text"] for r in rows]


def sample_batch(value: float) -> SampleBatch:
    ls = labels_of({"__name__": "up", "job": "x"})
    fp = fingerprint(ls)
    return SampleBatch(
        {fp: ls}, np.array([fp], np.uint64), np.array([NOW_MS], np.int64), np.array([value])
    )


@pytest.fixture
def fresh(backend: Backend) -> Backend:
    backend.command("DROP TABLE IF EXISTS test_notes SYNC")
    return backend


def test_a_described_signal_is_durable_replayed_and_flushed(fresh: Backend, data_dir: Path) -> None:
    async def first_life() -> None:
        pipe = SignalPipeline(
            NOTES, fresh, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000
        )
        await pipe.start()
        await pipe.append(Notes([NOW_MS, NOW_MS + 1], ["a", "b"]))
        assert [n.texts for n in pipe.pending.snapshot()] == [["a", "b"]]
        # Gone without a flush, as after kill -9: only the WAL has the notes.
        pipe.wal.close()

    asyncio.run(first_life())
    assert stored_notes(fresh) == []
    assert list((data_dir / "wal" / "notes").glob("*.seg"))

    async def second_life() -> None:
        pipe = SignalPipeline(NOTES, fresh, data_dir, retention_ms=RETENTION)
        await pipe.start()
        assert pipe.stats().replayed_items == 2
        await pipe.append(Notes([NOW_MS + 2], ["c"]))
        await pipe.close()  # flushes everything

    asyncio.run(second_life())
    assert stored_notes(fresh) == ["a", "b", "c"]


def test_each_signal_has_its_own_wal_and_pending_limit(fresh: Backend, data_dir: Path) -> None:
    """A flood of one signal is refused when its buffer is full; metrics go on being accepted."""

    async def go() -> None:
        notes = SignalPipeline(
            NOTES, fresh, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000,
            max_pending_items=3,
        )  # fmt: skip
        metrics = MetricsStore(fresh, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000)
        await notes.start()
        await metrics.start()
        await notes.append(Notes([NOW_MS] * 3, ["x", "y", "z"]))
        with pytest.raises(Unavailable, match="3 notes wait for storage"):
            await notes.append(Notes([NOW_MS], ["refused"]))
        await metrics.append(sample_batch(1.0))
        [series] = metrics.select([Matcher("__name__", MatchOp.EQUAL, "up")], NOW_MS, NOW_MS)
        assert series.values.tolist() == [1.0]
        assert wal_dir(data_dir, "notes") != wal_dir(data_dir, "metrics")
        assert notes.wal.stats().records_written == 1
        assert metrics.wal.stats().records_written == 1
        await metrics.close()
        await notes.close()

    asyncio.run(go())
    assert stored_notes(fresh) == ["x", "y", "z"]


def test_a_signal_that_counts_bytes_is_bounded_in_bytes(fresh: Backend, data_dir: Path) -> None:
    """With ``nbytes`` in its description a signal refuses (``Overloaded``, an ``Unavailable``)
    a batch that would take what waits (pending, or on its way into the WAL) past
    ``max_pending_bytes``; a batch bigger than the limit goes in when nothing waits; what was
    accepted is stored, and ``spyglass_storage_pending_bytes`` shows what waits."""
    sized = replace(NOTES, nbytes=lambda b: sum(len(t) for t in b.texts))

    async def go() -> str:
        notes = SignalPipeline(
            sized, fresh, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000,
            max_pending_bytes=10,
        )  # fmt: skip
        await notes.start()
        try:
            await notes.append(Notes([NOW_MS], ["aaaaaa"]))
            with pytest.raises(Overloaded, match="6 bytes of notes wait for storage"):
                await notes.append(Notes([NOW_MS + 1], ["bbbbb"]))
            await notes.append(Notes([NOW_MS + 2], ["ccc"]))
            assert notes.stats().pending_bytes == 9
            m = SelfMetrics()
            for c in pipeline_collectors([notes]):
                m.add(c)
            body = m.render(None)[0].decode()
            await asyncio.to_thread(notes.flush_now)
            # Two at once: the second sees the first on its way into the WAL.
            results = await asyncio.gather(
                notes.append(Notes([NOW_MS + 3], ["dddddd"])),
                notes.append(Notes([NOW_MS + 4], ["eeeeee"])),
                return_exceptions=True,
            )
            assert [type(r).__name__ for r in results] == ["NoneType", "Overloaded"]
            await asyncio.to_thread(notes.flush_now)
            await notes.append(Notes([NOW_MS + 5], ["f" * 20]))
        finally:
            await notes.close()
        return body

    body = asyncio.run(go())
    assert 'spyglass_storage_pending_bytes{signal="notes"} 9.0' in body
    assert stored_notes(fresh) == ["aaaaaa", "ccc", "dddddd", "f" * 20]


def test_a_full_buffer_is_reported_before_a_batch_is_made(fresh: Backend, data_dir: Path) -> None:
    """``check_room`` lets a receiver refuse a request before decoding it: it raises
    ``Overloaded`` once nothing more fits, and passes again when a flush has made room."""
    sized = replace(NOTES, nbytes=lambda b: sum(len(t) for t in b.texts))

    async def go() -> None:
        notes = SignalPipeline(
            sized, fresh, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000,
            max_pending_bytes=10,
        )  # fmt: skip
        await notes.start()
        try:
            notes.check_room()
            await notes.append(Notes([NOW_MS], ["a" * 10]))
            with pytest.raises(Overloaded):
                notes.check_room()
            await asyncio.to_thread(notes.flush_now)
            notes.check_room(11)  # bigger than the limit: let in when nothing waits, as append
        finally:
            await notes.close()

    asyncio.run(go())


def test_self_metrics_carry_the_signal(fresh: Backend, data_dir: Path) -> None:
    async def go() -> str:
        notes = SignalPipeline(
            NOTES, fresh, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000
        )
        metrics = MetricsStore(fresh, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000)
        await notes.start()
        await metrics.start()
        await notes.append(Notes([NOW_MS, NOW_MS], ["x", "y"]))
        await metrics.append(sample_batch(1.0))
        m = SelfMetrics()
        for c in pipeline_collectors([metrics.pipeline, notes]):
            m.add(c)
        for c in metrics.collectors():
            m.add(c)
        body = m.render(None)[0].decode()
        await metrics.close()
        await notes.close()
        return body

    body = asyncio.run(go())
    assert 'spyglass_storage_flushes_total{signal="notes"} 0.0' in body
    assert 'spyglass_wal_segments{signal="metrics"} 1.0' in body
    # Each append was alone, so each took an fsync of its own.
    assert 'spyglass_wal_records_written_total{signal="notes"} 1.0' in body
    assert 'spyglass_wal_fsyncs_total{signal="metrics"} 1.0' in body
    assert "spyglass_storage_notes_appended_total 2.0" in body
    assert "spyglass_storage_samples_appended_total 1.0" in body
    assert "spyglass_storage_pending_samples 1.0" in body
    assert "spyglass_storage_series_created_total 0.0" in body
    assert body.count("# TYPE spyglass_wal_bytes gauge") == 1  # one family, a sample per signal
    assert "spyglass_storage_pending_bytes" not in body  # neither signal counts bytes


def test_a_data_dir_with_the_old_wal_layout_opens_and_replays(
    fresh: Backend, data_dir: Path
) -> None:
    """Before signals had directories, metrics' WAL was <data_dir>/wal itself: its unflushed
    records are moved to <data_dir>/wal/metrics and replayed, nothing lost."""
    old = data_dir / "wal"

    async def old_process() -> None:
        wal = Wal(old, MetricsCodec())
        list(wal.replay())
        wal.start()
        await wal.append(sample_batch(41.0))
        await wal.append(sample_batch(42.0))
        wal.close()  # never flushed: both records wait in the WAL

    asyncio.run(old_process())
    assert len(list(old.glob("*.seg"))) == 1

    async def new_process() -> list[float]:
        store = MetricsStore(fresh, data_dir, retention_ms=RETENTION)
        await store.start()
        assert store.stats().replayed_samples == 2
        store.flush_now()
        [series] = store.select([Matcher("__name__", MatchOp.EQUAL, "up")], NOW_MS, NOW_MS)
        await store.close()
        return series.values.tolist()

    assert asyncio.run(new_process()) == [42.0]  # the later write wins, as before
    assert not list(old.glob("*.seg"))
    assert not (old / "checkpoint").exists()
    assert (old / "metrics").is_dir()


def test_two_wal_layouts_at_once_are_refused_not_merged(fresh: Backend, data_dir: Path) -> None:
    for d in (data_dir / "wal", data_dir / "wal" / "metrics"):
        d.mkdir(parents=True, exist_ok=True)
        (d / "00000000000000000001.seg").write_bytes(b"")
    with pytest.raises(Unavailable, match="both"):
        MetricsStore(fresh, data_dir)
