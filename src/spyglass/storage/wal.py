"""Write-ahead log: an acknowledged batch survives ``kill -9``.

One log per signal (``<data_dir>/wal/<signal>``), generic over the signal's batch type: a
``RecordCodec`` turns batches into record payloads and back. Files are segments named by the
sequence number of their first record (``00000000000000000042.seg``) and a ``checkpoint`` file
holding the highest sequence number known to be in ClickHouse. A record is framed as::

    u32 payload length | u32 CRC32 of (seq, payload) | u64 seq | payload (the codec's bytes)

Group commit: ``append`` hands the encoded record to one writer thread, which writes everything
queued so far, calls ``fsync`` once, and only then resolves each caller's future. Under load many
appends share one ``fsync``; alone, an append costs one.

A codec may keep state within a segment (metrics write a series' labels once per segment, in the
first record there that uses it, because labels are most of a scrape's bytes); each segment gets a
fresh encoder, so every segment replays on its own once older ones are deleted.

Recovery: ``replay`` reads every segment in order and yields the records past the checkpoint. A
record whose length runs past the end of the file or whose CRC does not match is a torn write (the
process died mid-``write``): the segment is cut there and the loss counted, never fatal. New
records always go to a fresh segment. ``checkpoint(seq)`` deletes segments whose records are all
at or below ``seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from spyglass.core.errors import ParseError, Unavailable

log = logging.getLogger(__name__)

_FRAME = struct.Struct("<IIQ")  # length, crc32, seq
_SEQ = struct.Struct("<Q")
MAX_RECORD_BYTES = 1 << 30  # a length beyond this is garbage, not a record
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
_SUFFIX = ".seg"

B = TypeVar("B")
B_contra = TypeVar("B_contra", contravariant=True)


class SegmentEncoder(Protocol[B_contra]):
    """Encodes the records of one segment; a new segment gets a new encoder."""

    def encode(self, batch: B_contra, max_bytes: int) -> bytes:
        """The payload of ``batch``; raises (and remembers nothing) if it cannot be encoded or
        would exceed ``max_bytes``."""
        ...


class RecordReader(Protocol[B]):
    """Decodes a log's records in order during one replay."""

    lost_bytes: int  # data the reader had to leave out (counted as torn)

    def read(self, payload: bytes) -> B:
        """Decode one record (``ParseError`` if it is not one); every record is read, also those
        already checkpointed, because later records may rely on what earlier ones said."""
        ...

    def complete(self, seq: int, batch: B) -> B:
        """``batch`` (read by ``read``) made whole for its consumer."""
        ...


class RecordCodec(Protocol[B]):
    """How one signal's batches become WAL records and back."""

    def segment_encoder(self) -> SegmentEncoder[B]:
        """A fresh encoder for a new segment."""
        ...

    def reader(self) -> RecordReader[B]:
        """A fresh reader for one replay."""
        ...


OnDurable = Callable[[int, B], None]


@dataclass(frozen=True, slots=True)
class WalStats:
    """Counters of the log."""

    bytes_on_disk: int
    segments: int
    records_written: int
    fsyncs: int
    torn_bytes_dropped: int
    last_seq: int
    checkpoint_seq: int


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """How far ``replay`` got, in Prometheus' ``/api/v1/status/walreplay`` terms: the numbers
    of the first (``min``) and last (``max``) segment found at start, and of the one being read
    (``current``, ``max`` once replay is done). A segment's number is the sequence number of its
    first record (its file name). All 0 for a log that had nothing to replay."""

    min: int
    max: int
    current: int


@dataclass(slots=True)
class _Segment:
    first_seq: int
    path: Path
    size: int


@dataclass(slots=True)
class _Item(Generic[B]):
    batch: B
    future: asyncio.Future[int]
    loop: asyncio.AbstractEventLoop


def frame(seq: int, payload: bytes) -> bytes:
    """One framed record."""
    seq_bytes = _SEQ.pack(seq)
    crc = zlib.crc32(payload, zlib.crc32(seq_bytes))
    return _FRAME.pack(len(payload), crc, seq) + payload


def read_frames(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Records ``(seq, payload)`` of a segment's bytes and the length of its valid prefix."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos + _FRAME.size <= len(data):
        length, crc, seq = _FRAME.unpack_from(data, pos)
        end = pos + _FRAME.size + length
        if length > MAX_RECORD_BYTES or end > len(data):
            break
        payload = data[pos + _FRAME.size : end]
        if zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq))) != crc:
            break
        out.append((seq, payload))
        pos = end
    return out, pos


class Wal(Generic[B]):
    """The write-ahead log in ``directory``, of batches that ``codec`` encodes.

    Use: construct, consume ``replay()``, ``start()``, then ``await append(batch)`` from the event
    loop, ``checkpoint(seq)`` from any thread, ``close()`` at shutdown. ``on_durable(seq, batch)``
    runs on the writer thread after each record is fsynced and before its caller resumes, so the
    caller's next step (the pending buffer) sees records in log order even if the caller is
    cancelled.
    """

    def __init__(
        self,
        directory: str | Path,
        codec: RecordCodec[B],
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        on_durable: OnDurable[B] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.codec = codec
        self.directory.mkdir(parents=True, exist_ok=True)
        # Taken by replay()/start(), so a log that is only constructed holds nothing.
        self._lock_fd: int | None = None
        self.segment_bytes = segment_bytes
        self.on_durable = on_durable
        self._lock = threading.Lock()
        self._segments: list[_Segment] = []
        self._checkpoint = self._read_checkpoint()
        self._last_seq = self._checkpoint
        self._records = 0
        self._fsyncs = 0
        self._torn = 0
        self._fd: int | None = None
        self._queue: queue.SimpleQueue[_Item[B] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failed: BaseException | None = None
        self._encoder: SegmentEncoder[B] = codec.segment_encoder()  # the active segment's
        self._replayed = False
        self._replay_at = 0  # the segment replay is reading
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            try:
                first = int(path.name.removesuffix(_SUFFIX))
            except ValueError:
                continue
            self._segments.append(_Segment(first, path, path.stat().st_size))
        self._replay_range = (
            (self._segments[0].first_seq, self._segments[-1].first_seq)
            if self._segments
            else (0, 0)
        )

    # -- recovery ---------------------------------------------------------------------------
    def replay(self) -> Iterator[tuple[int, B]]:
        """Records past the checkpoint, in order; cuts torn tails. Call before ``start``."""
        if self._thread is not None:
            raise RuntimeError("replay() must run before start()")
        self._take_lock()
        reader = self.codec.reader()
        for seg in list(self._segments):
            self._replay_at = seg.first_seq
            data = seg.path.read_bytes()
            records, valid = read_frames(data)
            if valid < len(data):
                # A torn write: keep the good prefix so the next open does not count it again.
                log.warning(
                    "WAL segment %s: cut %d bytes of torn or corrupt records after byte %d",
                    seg.path.name,
                    len(data) - valid,
                    valid,
                )
                self._torn += len(data) - valid
                with open(seg.path, "r+b") as f:
                    f.truncate(valid)
                    os.fsync(f.fileno())
                seg.size = valid
            for seq, payload in records:
                self._last_seq = max(self._last_seq, seq)
                try:
                    batch = reader.read(payload)
                except ParseError:
                    # CRC-valid but undecodable means a bug or a foreign file; skip, count it.
                    self._torn += len(payload)
                    continue
                if seq <= self._checkpoint:
                    continue
                lost = reader.lost_bytes
                batch = reader.complete(seq, batch)
                self._torn += reader.lost_bytes - lost
                yield seq, batch
        self._replayed = True
        self._drop_covered()

    # -- writing ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open a fresh segment and start the writer thread (after ``replay`` if the directory
        holds segments)."""
        if self._thread is not None:
            return
        if self._closed:
            raise Unavailable("write-ahead log is closed")
        if self._segments and not self._replayed:
            # Sequence numbers continue after the replayed records; without a replay they would
            # repeat old ones.
            raise RuntimeError("replay() the existing log before start()")
        self._take_lock()
        # Empty leftovers (created, then the process died) would collide with the new name.
        for seg in [s for s in self._segments if s.size == 0]:
            seg.path.unlink(missing_ok=True)
            self._segments.remove(seg)
        self._open_segment(self._last_seq + 1)
        self._thread = threading.Thread(target=self._run, name="spyglass-wal", daemon=True)
        self._thread.start()

    async def append(self, batch: B) -> int:
        """Write ``batch`` durably; returns its sequence number once fsynced."""
        if self._thread is None or self._closed:
            raise Unavailable("write-ahead log is not open")
        if self._failed is not None:
            raise Unavailable(f"write-ahead log failed: {self._failed}")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        # Encoding happens on the writer thread: a record may depend on the segment it lands in.
        self._queue.put(_Item(batch, fut, loop))
        # shield: a cancelled caller must not cancel the write others share.
        return await asyncio.shield(fut)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                group.append(nxt)
            self._write_group(group)
            if stop:
                return

    def _encode(self, group: list[_Item[B]]) -> tuple[list[_Item[B]], list[bytes]]:
        """Payloads for the group; items that cannot be encoded fail alone."""
        ok: list[_Item[B]] = []
        payloads: list[bytes] = []
        for it in group:
            try:
                payload = self._encoder.encode(it.batch, MAX_RECORD_BYTES)
            except Exception as exc:  # noqa: BLE001 - the caller hears about it
                err = exc if isinstance(exc, Unavailable) else Unavailable(f"WAL encode: {exc}")
                _resolve(it.loop, _set_exception, it.future, err)
                continue
            ok.append(it)
            payloads.append(payload)
        return ok, payloads

    def _write_group(self, group: list[_Item[B]]) -> None:
        try:
            if self._failed is not None:
                raise self._failed
            with self._lock:
                if self._segments and self._segments[-1].size >= self.segment_bytes:
                    self._open_segment(self._last_seq + 1)
                fd = self._fd
                active = self._segments[-1]
            group, payloads = self._encode(group)
            if not group:
                return
            # Only this thread writes, and checkpoints never delete the active segment, so the
            # write and fsync run without the lock: stats() and checkpoint() never wait on disk.
            seqs = list(range(self._last_seq + 1, self._last_seq + 1 + len(group)))
            data = b"".join(frame(s, p) for s, p in zip(seqs, payloads, strict=True))
            assert fd is not None
            _write_all(fd, data)
            os.fsync(fd)
            with self._lock:
                active.size += len(data)
                self._last_seq = seqs[-1]
                self._records += len(group)
                self._fsyncs += 1
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the callers
            self._recover(exc)
            err = Unavailable(f"write-ahead log write failed: {exc}")
            for it in group:
                _resolve(it.loop, _set_exception, it.future, err)
            return
        done: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int]]] = {}
        for seq, it in zip(seqs, group, strict=True):
            if self.on_durable is not None:
                try:
                    self.on_durable(seq, it.batch)
                except Exception:  # the writer thread must survive a faulty callback
                    log.exception("WAL on_durable callback failed for record %d", seq)
            done.setdefault(it.loop, []).append((it.future, seq))
        # One wake-up per event loop for the whole group: each call_soon_threadsafe writes to
        # the loop's self-pipe, which cost 4 % of the server's CPU when done per record.
        for loop, results in done.items():
            _resolve(loop, _set_results, results)

    def _recover(self, exc: BaseException) -> None:
        """After a failed write or fsync (disk full, I/O error): cut the partial frame and go on
        in a fresh segment, so a transient failure does not stop ingest.

        A failed fsync may have dropped dirty pages, so the old file is not written again. If
        even that fails, the log refuses appends until restart (replay cuts the tail).
        """
        log.error("WAL write failed: %s", exc)
        try:
            with self._lock:
                seg = self._segments[-1]
                if self._fd is not None:
                    os.ftruncate(self._fd, seg.size)
                self._open_segment(self._last_seq + 1)
        except Exception as again:  # noqa: BLE001
            self._failed = again

    def _open_segment(self, first_seq: int) -> None:
        if self._fd is not None:
            os.close(self._fd)
        if self._segments and self._segments[-1].first_seq == first_seq:
            # Reopening an empty segment (its first write failed): same name, same file.
            self._segments.pop()
        path = self.directory / f"{first_seq:020d}{_SUFFIX}"
        # A new segment must replay on its own, and a failed write may have left the old
        # encoder believing that something it encoded is on disk.
        self._encoder = self.codec.segment_encoder()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._segments.append(_Segment(first_seq, path, path.stat().st_size))
        fsync_directory(self.directory)

    # -- checkpoint -------------------------------------------------------------------------
    def checkpoint(self, seq: int) -> None:
        """Records up to ``seq`` are in ClickHouse: remember that and delete covered segments."""
        with self._lock:
            if seq <= self._checkpoint:
                return
            self._checkpoint = seq
            tmp = self.directory / "checkpoint.tmp"
            tmp.write_text(str(seq))
            tmp.replace(self.directory / "checkpoint")
        self._drop_covered()

    def _drop_covered(self) -> None:
        with self._lock:
            keep: list[_Segment] = []
            removed = False
            segs = self._segments
            for i, seg in enumerate(segs):
                last_in_seg = segs[i + 1].first_seq - 1 if i + 1 < len(segs) else None
                active = i == len(segs) - 1 and self._fd is not None
                if not active and (
                    (last_in_seg is not None and last_in_seg <= self._checkpoint)
                    or (last_in_seg is None and self._last_seq <= self._checkpoint)
                ):
                    seg.path.unlink(missing_ok=True)
                    removed = True
                else:
                    keep.append(seg)
            self._segments = keep
            if removed:
                fsync_directory(self.directory)

    def _read_checkpoint(self) -> int:
        try:
            return int((self.directory / "checkpoint").read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    # -- lifecycle --------------------------------------------------------------------------
    def close(self, *, keep_lock: bool = False) -> None:
        """Write what is queued, fsync, stop the writer thread, close the segment and (unless
        ``keep_lock``, for a last checkpoint after close) release the directory lock."""
        if self._closed:
            if not keep_lock:
                self.release()
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        self._drop_covered()
        if not keep_lock:
            self.release()

    def _take_lock(self) -> None:
        if self._lock_fd is None:
            self._lock_fd = lock_directory(self.directory)

    def release(self) -> None:
        """Give up the directory lock (after ``close(keep_lock=True)``)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def replay_progress(self) -> ReplayProgress:
        """The segments replay reads (those found when the log was opened), and where it is."""
        first, last = self._replay_range
        return ReplayProgress(first, last, last if self._replayed else self._replay_at)

    def stats(self) -> WalStats:
        """Current counters."""
        with self._lock:
            return WalStats(
                bytes_on_disk=sum(s.size for s in self._segments),
                segments=len(self._segments),
                records_written=self._records,
                fsyncs=self._fsyncs,
                torn_bytes_dropped=self._torn,
                last_seq=self._last_seq,
                checkpoint_seq=self._checkpoint,
            )


def lock_directory(directory: Path) -> int:
    """An exclusive lock on the directory: two processes appending to one WAL corrupt it."""
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise Unavailable(f"write-ahead log {directory} is in use by another process") from None
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _resolve(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: object) -> None:
    # The caller's loop may have closed meanwhile (shutdown); nobody is waiting then.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


def _set_result(fut: asyncio.Future[int], seq: int) -> None:
    if not fut.done():
        fut.set_result(seq)


def _set_results(results: list[tuple[asyncio.Future[int], int]]) -> None:
    for fut, seq in results:
        _set_result(fut, seq)


def _set_exception(fut: asyncio.Future[int], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


class StandaloneRecords(Generic[B]):
    """A ``RecordCodec`` whose records stand alone: each is one batch, encoded and decoded by a
    pair of functions, with nothing carried from one record to the next (logs, spans, error
    events and exemplars are written this way; metrics carry label sets between records)."""

    def __init__(self, encode: Callable[[B], bytes], decode: Callable[[bytes], B]) -> None:
        self._encode = encode
        self._decode = decode

    def segment_encoder(self) -> _StandaloneEncoder[B]:
        """An encoder (stateless: records do not refer to each other)."""
        return _StandaloneEncoder(self._encode)

    def reader(self) -> _StandaloneReader[B]:
        """A reader for one replay."""
        return _StandaloneReader(self._decode)


class _StandaloneEncoder(Generic[B]):
    __slots__ = ("_encode",)

    def __init__(self, encode: Callable[[B], bytes]) -> None:
        self._encode = encode

    def encode(self, batch: B, max_bytes: int) -> bytes:
        payload = self._encode(batch)
        if len(payload) > max_bytes:
            raise Unavailable(f"batch of {len(payload)} bytes exceeds the WAL record limit")
        return payload


class _StandaloneReader(Generic[B]):
    __slots__ = ("_decode", "lost_bytes")

    def __init__(self, decode: Callable[[bytes], B]) -> None:
        self._decode = decode
        self.lost_bytes = 0

    def read(self, payload: bytes) -> B:
        return self._decode(payload)

    def complete(self, seq: int, batch: B) -> B:
        del seq
        return batch


__all__ = [
    "DEFAULT_SEGMENT_BYTES",
    "MAX_RECORD_BYTES",
    "RecordCodec",
    "RecordReader",
    "ReplayProgress",
    "SegmentEncoder",
    "StandaloneRecords",
    "Wal",
    "WalStats",
    "frame",
    "fsync_directory",
    "lock_directory",
    "read_frames",
]
