"""The metrics WAL codec: binary encoding of one ``SampleBatch`` as a write-ahead-log record.

Layout, little-endian::

    u8  version (1)
    u32 samples, u32 series, u32 metadata entries
    samples * u64 fingerprints, samples * i64 timestamps (ms), samples * f64 values (raw bits,
        so staleness markers survive)
    series   * (u64 fingerprint, u16 label count, label count * (str name, str value))
    metadata * (str family, str type, str help, str unit)

where ``str`` is a u32 byte length and UTF-8 bytes. The sample columns are numpy's own bytes, so
encoding and decoding cost a copy, not a loop per sample.

A record may describe only some of the series its samples use (``describe``): ``MetricsCodec``
writes a series' labels once per segment, in the first record there that uses it, because labels
are most of a scrape's bytes. ``decode_batch(..., partial=True)`` accepts such records; the
codec's reader supplies the missing labels from earlier records.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Collection, Mapping

import numpy as np

from spyglass.core.errors import ParseError, Unavailable
from spyglass.core.labels import Labels
from spyglass.core.samples import MetricMetadata, SampleBatch

log = logging.getLogger(__name__)

VERSION = 1
LABEL_CACHE_ENTRIES = 100_000  # encoded label sets kept for reuse (~20 MB at most)
_HEAD = struct.Struct("<BIII")
_SERIES_HEAD = struct.Struct("<QH")
_U32 = struct.Struct("<I")


def encode_batch(
    batch: SampleBatch,
    cache: dict[int, bytes] | None = None,
    describe: Collection[int] | None = None,
) -> bytes:
    """The record payload for ``batch``.

    ``cache`` (fingerprint -> encoded series entry) skips re-encoding the labels of series seen
    before: scrapes send the same series every interval. The caller bounds its size.
    ``describe`` limits the labels written to those fingerprints (default: every series).
    """
    n = len(batch)
    parts: list[bytes] = [
        _HEAD.pack(
            VERSION, n, len(batch.series if describe is None else describe), len(batch.metadata)
        ),
        np.ascontiguousarray(batch.fingerprints, dtype="<u8").tobytes(),
        np.ascontiguousarray(batch.timestamps, dtype="<i8").tobytes(),
        np.ascontiguousarray(batch.values, dtype="<f8").tobytes(),
    ]
    series: Mapping[int, Labels] = batch.series
    if describe is not None:
        series = {fp: batch.series[fp] for fp in describe}
    # map() over the cache runs at C speed; only unseen series are encoded in Python.
    entries: list[bytes | None] = (
        list(map(cache.get, series)) if cache is not None else [None] * len(series)
    )
    if None in entries:
        for i, fp in enumerate(series):
            if entries[i] is None:
                labels = series[fp]
                one = [_SERIES_HEAD.pack(fp, len(labels))]
                for name, value in labels:
                    _str(one, name)
                    _str(one, value)
                entry = b"".join(one)
                entries[i] = entry
                if cache is not None:
                    cache[fp] = entry
    parts.extend(entries)  # type: ignore[arg-type]  # no None is left
    for family, md in batch.metadata.items():
        for text in (family, md.type, md.help, md.unit):
            _str(parts, text)
    return b"".join(parts)


def _str(parts: list[bytes], text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    parts.append(_U32.pack(len(raw)))
    parts.append(raw)


class _Bytes:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.buf):
            raise ParseError(f"WAL record truncated at byte {self.pos} (needs {n} more)")
        out = self.buf[self.pos : end]
        self.pos = end
        return out

    def text(self) -> str:
        (n,) = _U32.unpack(self.take(4))
        raw = self.take(n)
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise ParseError(f"WAL record has invalid UTF-8 at byte {self.pos - n}") from exc


def decode_batch(payload: bytes, *, partial: bool = False) -> SampleBatch:
    """The batch encoded in ``payload``; ``ParseError`` when it is not a valid record.

    Unless ``partial``, every sample's series must be described in the record itself.
    """
    r = _Bytes(payload)
    version, n, n_series, n_meta = _HEAD.unpack(r.take(_HEAD.size))
    if version != VERSION:
        raise ParseError(f"unknown WAL record version {version}")
    fps = np.frombuffer(r.take(8 * n), dtype="<u8").astype(np.uint64)
    ts = np.frombuffer(r.take(8 * n), dtype="<i8").astype(np.int64)
    vals = np.frombuffer(r.take(8 * n), dtype="<f8").astype(np.float64)
    series: dict[int, Labels] = {}
    for _ in range(n_series):
        fp, count = _SERIES_HEAD.unpack(r.take(_SERIES_HEAD.size))
        labels = tuple((r.text(), r.text()) for _ in range(count))
        series[fp] = labels
    metadata: dict[str, MetricMetadata] = {}
    for _ in range(n_meta):
        family = r.text()
        metadata[family] = MetricMetadata(r.text(), r.text(), r.text())
    if r.pos != len(payload):
        raise ParseError(f"WAL record has {len(payload) - r.pos} trailing bytes")
    if not partial and n and set(fps.tolist()).difference(series):
        raise ParseError("WAL record has samples of a series it does not describe")
    return SampleBatch(series, fps, ts, vals, metadata)


class MetricsCodec:
    """The WAL's ``RecordCodec`` for ``SampleBatch``: labels once per segment.

    The encoded label sets are cached across segments (bounded), since scrapes send the same
    series every interval. Encoders run on the WAL's single writer thread.
    """

    def __init__(self) -> None:
        self._label_cache: dict[int, bytes] = {}

    def segment_encoder(self) -> _SegmentEncoder:
        """An encoder that describes each series in the first record of the segment using it."""
        return _SegmentEncoder(self._label_cache)

    def reader(self) -> _Reader:
        """A reader for one replay: labels come from any earlier record."""
        return _Reader()


class _SegmentEncoder:
    __slots__ = ("cache", "described")

    def __init__(self, cache: dict[int, bytes]) -> None:
        self.cache = cache
        self.described: set[int] = set()  # series whose labels the segment already holds

    def encode(self, batch: SampleBatch, max_bytes: int) -> bytes:
        if len(self.cache) > LABEL_CACHE_ENTRIES:
            self.cache.clear()  # shared by every segment's encoder, all on one thread
        new = set(batch.series).difference(self.described)
        payload = encode_batch(batch, self.cache, new)
        if len(payload) > max_bytes:
            raise Unavailable(f"batch of {len(payload)} bytes exceeds the WAL record limit")
        self.described |= new  # only now: a refused record described nothing
        return payload


class _Reader:
    __slots__ = ("known", "lost_bytes")

    def __init__(self) -> None:
        self.known: dict[int, Labels] = {}  # labels from every record read so far
        self.lost_bytes = 0

    def read(self, payload: bytes) -> SampleBatch:
        batch = decode_batch(payload, partial=True)
        self.known.update(batch.series)
        return batch

    def complete(self, seq: int, batch: SampleBatch) -> SampleBatch:
        used = set(batch.fingerprints.tolist())
        missing = used.difference(self.known)
        fps, ts, vals = batch.fingerprints, batch.timestamps, batch.values
        if missing:
            # Only possible if the record that described them was lost to corruption.
            log.warning("WAL record %d: %d series without labels skipped", seq, len(missing))
            keep = ~np.isin(fps, np.array(sorted(missing), dtype=np.uint64))
            self.lost_bytes += int((~keep).sum()) * 24
            fps, ts, vals = fps[keep], ts[keep], vals[keep]
            used -= missing
        known = self.known
        return SampleBatch({fp: known[fp] for fp in used}, fps, ts, vals, batch.metadata)


__all__ = ["LABEL_CACHE_ENTRIES", "VERSION", "MetricsCodec", "decode_batch", "encode_batch"]
