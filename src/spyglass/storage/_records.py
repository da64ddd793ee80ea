"""Binary encoding of one ``SampleBatch``: the payload of a write-ahead-log record.

Layout, little-endian::

    u8  version (1)
    u32 samples, u32 series, u32 metadata entries
    samples * u64 fingerprints, samples * i64 timestamps (ms), samples * f64 values (raw bits,
        so staleness markers survive)
    series   * (u64 fingerprint, u16 label count, label count * (str name, str value))
    metadata * (str family, str type, str help, str unit)

where ``str`` is a u32 byte length and UTF-8 bytes. The sample columns are numpy's own bytes, so
encoding and decoding cost a copy, not a loop per sample.

A record may describe only some of the series its samples use (``describe``): the WAL writes a
series' labels once per segment, in the first record there that uses it, because labels are most
of a scrape's bytes. ``decode_batch(..., partial=True)`` accepts such records; the WAL's replay
supplies the missing labels from earlier records of the segment.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Mapping

import numpy as np

from spyglass.core.errors import ParseError
from spyglass.core.labels import Labels
from spyglass.core.samples import MetricMetadata, SampleBatch

VERSION = 1
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


class _Reader:
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
    r = _Reader(payload)
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


__all__ = ["VERSION", "decode_batch", "encode_batch"]
