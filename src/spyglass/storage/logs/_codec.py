"""The logs WAL codec: binary encoding of one ``LogBatch`` as a write-ahead-log record.

Layout, little-endian, columns rather than records so that numbers cost a numpy copy::

    u8  version (1)
    u32 records, u32 streams, u32 strings
    records * i64 timestamp (ns), records * i64 observed (ns), records * u32 stream index,
    records * u32 severity number, records * u32 metadata pairs, records * u32 resource pairs
    streams * u32 label pairs
    strings * u32 byte length
    the strings' UTF-8 bytes, back to back

Strings come in this order: each stream's label names and values; then per record its line,
severity text, trace id, span id, metadata names and values, resource names and values. A
batch's records usually share a few streams, so each stream's labels are written once per
record. Lone surrogates survive (``surrogatepass``): what was acknowledged is replayed as it was.

A batch of ``LogColumns`` (plain lines) is written in the same layout straight from its arrays:
its lines' bytes are already back to back, and its other strings are empty. A record in which
every record is a plain line is read back as columns, so a replay costs no object per line
either.
"""

from __future__ import annotations

import struct
from itertools import accumulate, pairwise

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import ParseError
from spyglass.core.labels import Labels
from spyglass.core.logs import LogBatch, LogColumns, LogRecord, valid_lines
from spyglass.storage._record_columns import RecordColumns
from spyglass.storage.wal import StandaloneRecords

VERSION = 1
_HEAD = struct.Struct("<BIII")


def encode_batch(batch: LogBatch) -> bytes:
    """The record payload for ``batch``."""
    if batch.columns is not None:
        return _encode_columns(batch.columns)
    records = batch.records
    n = len(records)
    streams: dict[Labels, int] = {}
    stream_idx = np.empty(n, np.uint32)
    for i, r in enumerate(records):
        stream_idx[i] = streams.setdefault(r.stream, len(streams))
    strings: list[str] = []
    for labels in streams:
        for name, value in labels:
            strings.append(name)
            strings.append(value)
    for r in records:
        strings += (r.line, r.severity_text, r.trace_id, r.span_id)
        for kv in r.metadata.items():
            strings += kv
        for kv in r.resource.items():
            strings += kv
    raw = [s.encode("utf-8", "surrogatepass") for s in strings]
    parts = [
        _HEAD.pack(VERSION, n, len(streams), len(raw)),
        np.fromiter((r.timestamp_ns for r in records), "<i8", n).tobytes(),
        np.fromiter((r.observed_ns for r in records), "<i8", n).tobytes(),
        stream_idx.astype("<u4").tobytes(),
        np.fromiter((r.severity_number for r in records), "<u4", n).tobytes(),
        np.fromiter((len(r.metadata) for r in records), "<u4", n).tobytes(),
        np.fromiter((len(r.resource) for r in records), "<u4", n).tobytes(),
        np.fromiter((len(s) for s in streams), "<u4", len(streams)).tobytes(),
        np.fromiter(map(len, raw), "<u4", len(raw)).tobytes(),
        b"".join(raw),
    ]
    return b"".join(parts)


def _encode_columns(columns: LogColumns) -> bytes:
    n = len(columns)
    label_strings = [
        text.encode("utf-8", "surrogatepass")
        for labels in columns.streams
        for pair in labels
        for text in pair
    ]
    # Per record its line and three empty strings (severity text, trace id, span id).
    lengths = np.zeros((n, 4), "<u4")
    lengths[:, 0] = np.diff(columns.offsets)
    zeros = np.zeros(n, "<u4").tobytes()
    parts = [
        _HEAD.pack(VERSION, n, len(columns.streams), len(label_strings) + 4 * n),
        columns.timestamps.astype("<i8").tobytes(),
        np.zeros(n, "<i8").tobytes(),
        columns.stream_index.astype("<u4").tobytes(),
        zeros,
        zeros,
        zeros,
        np.fromiter((len(s) for s in columns.streams), "<u4", len(columns.streams)).tobytes(),
        np.fromiter(map(len, label_strings), "<u4", len(label_strings)).tobytes(),
        lengths.tobytes(),
        *label_strings,
        columns.lines_data,
    ]
    return b"".join(parts)


def decode_batch(payload: bytes) -> LogBatch:
    """The batch encoded in ``payload``; ``ParseError`` when it is not a valid record."""
    if len(payload) < _HEAD.size:
        raise ParseError("WAL record truncated in its header")
    version, n, n_streams, n_strings = _HEAD.unpack_from(payload)
    if version != VERSION:
        raise ParseError(f"unknown logs WAL record version {version}")
    reader = RecordColumns(payload, _HEAD.size)
    column = reader.column
    ts_array = column("<i8", n)
    observed_array = column("<i8", n)
    stream_array = column("<u4", n)
    severity_array = column("<u4", n)
    meta_array = column("<u4", n)
    res_array = column("<u4", n)
    labels_array = column("<u4", n_streams)
    lengths_array = column("<u4", n_strings)
    pos = reader.pos
    if n and not (
        observed_array.any() or severity_array.any() or meta_array.any() or res_array.any()
    ):
        plain = _plain(payload, pos, ts_array, stream_array, labels_array, lengths_array)
        if plain is not None:
            return LogBatch(columns=plain)
    ts = ts_array.tolist()
    observed = observed_array.tolist()
    stream_idx = stream_array.tolist()
    severity = severity_array.tolist()
    n_meta = meta_array.tolist()
    n_res = res_array.tolist()
    n_labels = labels_array.tolist()
    lengths = lengths_array.tolist()
    ends = list(accumulate(lengths, initial=pos))
    if ends[-1] != len(payload):
        raise ParseError(
            f"WAL record has {len(payload) - ends[-1]} bytes more or less than its strings"
        )
    try:
        strings = [payload[a:b].decode("utf-8", "surrogatepass") for a, b in pairwise(ends)]
    except UnicodeDecodeError as exc:
        raise ParseError("WAL record has invalid UTF-8") from exc
    need = 2 * sum(n_labels) + 4 * n + 2 * (sum(n_meta) + sum(n_res))
    if need != n_strings:
        raise ParseError(f"WAL record holds {n_strings} strings, its counts need {need}")
    k = 0
    stream_list: list[Labels] = []
    for count in n_labels:
        stream_list.append(
            tuple(
                zip(strings[k : k + 2 * count : 2], strings[k + 1 : k + 2 * count : 2], strict=True)
            )
        )
        k += 2 * count
    out = []
    for i in range(n):
        if stream_idx[i] >= n_streams:
            raise ParseError(f"WAL record refers to stream {stream_idx[i]} of {n_streams}")
        line, sev_text, trace, span = strings[k : k + 4]
        k += 4
        m = 2 * n_meta[i]
        metadata = dict(zip(strings[k : k + m : 2], strings[k + 1 : k + m : 2], strict=True))
        k += m
        m = 2 * n_res[i]
        resource = dict(zip(strings[k : k + m : 2], strings[k + 1 : k + m : 2], strict=True))
        k += m
        out.append(
            LogRecord(
                ts[i],
                line,
                stream_list[stream_idx[i]],
                metadata or _EMPTY,
                observed[i],
                sev_text,
                severity[i],
                trace,
                span,
                resource or _EMPTY,
            )
        )
    return LogBatch(tuple(out))


def _plain(  # noqa: PLR0917 - the record's parts as decode_batch has read them
    payload: bytes,
    pos: int,
    ts: npt.NDArray[np.int64],
    stream_idx: npt.NDArray[np.uint32],
    n_labels: npt.NDArray[np.uint32],
    lengths: npt.NDArray[np.uint32],
) -> LogColumns | None:
    """The record as columns when every record in it is a plain line (no side strings either),
    the strings add up and the lines are valid UTF-8; ``None`` otherwise (``decode_batch``
    then reads it record by record, and says what is wrong with it)."""
    n = len(ts)
    label_count = 2 * int(n_labels.sum(dtype=np.int64))
    if len(lengths) != label_count + 4 * n or int(stream_idx.max()) >= len(n_labels):
        return None
    per_record = lengths[label_count:].reshape(n, 4)
    if per_record[:, 1:].any():
        return None
    label_ends = list(accumulate(lengths[:label_count].tolist(), initial=pos))
    sizes = per_record[:, 0].astype(np.int64)
    start = label_ends[-1]
    if start + int(sizes.sum()) != len(payload):
        return None
    data = payload[start:]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if not valid_lines(data, offsets):
        return None  # lone surrogates, kept by the record path
    try:
        strings = [payload[a:b].decode("utf-8", "surrogatepass") for a, b in pairwise(label_ends)]
    except UnicodeDecodeError:
        return None
    streams = []
    k = 0
    for count in n_labels.tolist():
        pairs = strings[k : k + 2 * count]
        streams.append(tuple(zip(pairs[::2], pairs[1::2], strict=True)))
        k += 2 * count
    return LogColumns(
        tuple(streams), stream_idx.astype(np.uint32), ts.astype(np.int64), data, offsets
    )


_EMPTY = LogRecord(0, "", ()).metadata  # the shared read-only empty map


class LogsCodec(StandaloneRecords[LogBatch]):
    """The WAL's ``RecordCodec`` for ``LogBatch``: every record stands alone."""

    def __init__(self) -> None:
        super().__init__(encode_batch, decode_batch)


__all__ = ["VERSION", "LogsCodec", "decode_batch", "encode_batch"]
