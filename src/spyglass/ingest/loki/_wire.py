"""A columnar reading of Loki's protobuf ``PushRequest``: timestamps and lines without a Python
object per entry.

Reading entries through upb costs a message object, a ``Timestamp`` object, a line ``bytes``, a
decoded ``str`` and a ``LogRecord`` per line: most of a push's decode. This module reads the
wire format itself for the shape Promtail, Grafana Alloy and the Go ``logproto`` marshalling
write (fields in number order, zero values left out, as proto3 encoders do):

- the request is a sequence of ``streams`` (field 1);
- a ``StreamAdapter`` holds ``labels`` (1), ``entries`` (2) and ``hash`` (3, a varint);
- an ``EntryAdapter`` holds a ``timestamp`` (1: ``seconds`` varint, ``nanos`` varint) and a
  ``line`` (2), and no structured metadata.

Python walks the entry headers (a couple of byte reads each), numpy decodes every timestamp
and finds every line in one pass, and the lines' bytes are joined once. Anything else (structured
metadata, another field or order, a field written twice, a malformed length, a timestamp out
of range, a line that is not valid UTF-8) makes ``scan`` return ``None`` and the decoder reads
the request with upb as before, which also reports the errors and replaces bad UTF-8: what
``scan`` accepts, upb reads to the same entries.
"""

from __future__ import annotations

import numpy as np

from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels
from spyglass.core.logs import valid_lines
from spyglass.ingest._protowire import varint, varints
from spyglass.ingest.loki._labels import stream_labels
from spyglass.ingest.loki._push import ColumnPush

_STREAM_TAG = 0x0A  # PushRequest.streams
_LABELS, _ENTRY, _HASH = 0x0A, 0x12, 0x18  # StreamAdapter fields
_TIMESTAMP, _LINE = 0x0A, 0x12  # EntryAdapter fields
_SECONDS, _NANOS = 0x08, 0x10  # Timestamp fields
_PAD = 16  # zero bytes after the body, so fixed-width reads near its end stay inside
_MAX_TS = 2**63 - 1
# Seconds until the year 3058 and every valid nanos fit 5 varint bytes; longer ones (negative
# numbers are 10) are left to upb.
_TS_VARINT = 5


def scan(raw: bytes) -> ColumnPush | None:
    """The streams and entries of the uncompressed ``PushRequest`` ``raw``, or ``None`` when
    it is not in the shape this module reads (module docstring)."""
    walked = _entries(raw)
    if walked is None:
        return None
    label_spans, counts, starts, lengths = walked
    n = len(starts)
    buf = np.frombuffer(raw + bytes(_PAD), np.uint8)
    start = np.array(starts, np.int64)
    end = start + np.array(lengths, np.int64)
    decoded = _timestamps(buf, start, end)
    if decoded is None:
        return None
    timestamps, line_at = decoded
    # The line: its tag, a length running exactly to the entry's end; or nothing (empty line).
    has_line = line_at < end
    if np.any(buf[line_at[has_line]] != _LINE):
        return None
    line_start = line_at.copy()
    line_end = line_at.copy()
    if has_line.any():
        at = line_at[has_line] + 1
        sized = varints(buf, at, 5)
        if sized is None:
            return None
        line_start[has_line] = at + sized[1]
        line_end[has_line] = line_start[has_line] + sized[0].astype(np.int64)
        if np.any(line_end[has_line] != end[has_line]):
            return None  # structured metadata or anything else after the line
    sizes = line_end - line_start
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    data = b"".join([raw[a:b] for a, b in zip(line_start.tolist(), line_end.tolist(), strict=True)])
    if not valid_lines(data, offsets):
        return None
    labels: list[Labels | BadInput] = []
    texts: list[str] = []
    for a, b in label_spans:
        text = raw[a:b].decode("utf-8", "replace")
        texts.append(text)
        labels.append(stream_labels(text))
    return ColumnPush(labels, texts, counts, timestamps, data, offsets)


def _entries(raw: bytes) -> tuple[list[tuple[int, int]], list[int], list[int], list[int]] | None:
    """Each stream's labels span and entry count, and every entry's payload start and length."""
    label_spans: list[tuple[int, int]] = []
    counts: list[int] = []
    starts: list[int] = []
    lengths: list[int] = []
    add_start, add_length = starts.append, lengths.append
    size = len(raw)
    padded = raw + bytes(_PAD)  # reads of a length's bytes past the end stay inside
    pos = 0
    while pos < size:
        if padded[pos] != _STREAM_TAG:
            return None
        length, pos = varint(raw, pos + 1)
        stream_end = pos + length
        if length < 0 or stream_end > size:
            return None
        labels: tuple[int, int] | None = None
        first = len(starts)
        while pos < stream_end:
            tag = padded[pos]
            # Inline one- and two-byte lengths (entries shorter than 16 KiB): a call per entry
            # would be most of this loop. An entry running past the stream leaves ``pos``
            # past its end, which is checked once after the loop.
            length = padded[pos + 1]
            if length < 0x80:
                pos += 2
            elif padded[pos + 2] < 0x80:
                length = (length & 0x7F) | (padded[pos + 2] << 7)
                pos += 3
            else:
                length, pos = varint(raw, pos + 1)
                if length < 0:
                    return None
            if tag == _ENTRY:
                add_start(pos)
                add_length(length)
                pos += length
            elif tag == _LABELS and labels is None and len(starts) == first:
                labels = (pos, pos + length)
                pos += length
            elif tag != _HASH:  # hash is a varint: what was read as a length was its value
                return None
        if pos != stream_end:
            return None
        label_spans.append(labels or (0, 0))
        counts.append(len(starts) - first)
    return label_spans, counts, starts, lengths


def _timestamps(
    buf: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Every entry's timestamp in nanoseconds and where its next field begins."""
    n = len(start)
    timestamps = np.zeros(n, np.int64)
    has_ts = (start < end) & (buf[start] == _TIMESTAMP)
    next_at = start.copy()
    if not has_ts.any():
        return timestamps, next_at
    at = start[has_ts]
    ts_len = buf[at + 1].astype(np.int64)
    if np.any(ts_len >= 0x80):
        return None
    ts_start = at + 2
    ts_end = ts_start + ts_len
    if np.any(ts_end > end[has_ts]):
        return None
    # seconds, then nanos, each left out when zero.
    has_s = (ts_start < ts_end) & (buf[ts_start] == _SECONDS)
    seconds = np.zeros(len(at), np.uint64)
    pos = ts_start.copy()
    if has_s.any():
        got = varints(buf, ts_start[has_s] + 1, _TS_VARINT)
        if got is None:
            return None
        seconds[has_s] = got[0]
        pos[has_s] = ts_start[has_s] + 1 + got[1]
    has_n = (pos < ts_end) & (buf[pos] == _NANOS)
    nanos = np.zeros(len(at), np.uint64)
    if has_n.any():
        got = varints(buf, pos[has_n] + 1, _TS_VARINT)
        if got is None:
            return None
        nanos[has_n] = got[0]
        pos[has_n] = pos[has_n] + 1 + got[1]
    if np.any(pos != ts_end):
        return None
    # Negative seconds or nanos out of [0, 1e9) (upb reads them; the slow path judges), and
    # seconds past 2262 (nanoseconds beyond int64).
    if np.any(seconds > np.uint64(_MAX_TS // 1_000_000_000 - 1)) or np.any(
        nanos >= np.uint64(1_000_000_000)
    ):
        return None
    timestamps[has_ts] = seconds.astype(np.int64) * 1_000_000_000 + nanos.astype(np.int64)
    next_at[has_ts] = ts_end
    return timestamps, next_at


__all__ = ["scan"]
