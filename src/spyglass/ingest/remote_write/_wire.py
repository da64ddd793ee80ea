"""A columnar reading of a remote_write 1.0 ``WriteRequest``: every sample without a Python step
per sample.

Reading samples through upb costs a Python object and two attribute reads per sample, which was
most of the decoder's time (and a third of the server's under a 6 h remote_write load). This
module reads the protobuf wire format itself, with numpy, for the shape every real sender writes
(Prometheus' and the Go ``prompb`` marshalling, which write fields in number order):

- the request is a sequence of ``timeseries`` (field 1) and ``metadata`` (field 3) entries;
- a ``TimeSeries`` holds its ``labels`` (field 1) first, then ``samples`` (2), ``exemplars`` (3)
  and ``histograms`` (4);
- a ``Sample`` holds ``value`` (1, a double) then ``timestamp`` (2, a varint), either of them left
  out when it is zero (proto3), as real encoders do.

The series entries are placed by one upb parse that hands over each entry's bytes (their
lengths give the positions; a request with metadata, or lengths written in more bytes than they
need, is walked entry by entry in Python instead). The fields of all series are walked side by
side (one numpy step per field position, so a request of 500 series x 40 samples takes some 50
steps), the samples are then decoded in one pass. Anything else (another field order, an
unknown field, a field written twice, a malformed length) makes ``scan`` return ``None`` and
the decoder reads the request with upb as before, which also reports the errors: what ``scan``
accepts, upb reads to the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError
from numpy.lib.stride_tricks import sliding_window_view

from spyglass.ingest._protowire import MAX_VARINT as _MAX_VARINT
from spyglass.ingest._protowire import varint as _varint
from spyglass.ingest._protowire import varints as _varints
from spyglass.ingest.remote_write._schema import EntriesWriteRequest

_SERIES_TAG = 0x0A  # WriteRequest.timeseries, length-delimited
_METADATA_TAG = 0x1A  # WriteRequest.metadata
_LABEL, _SAMPLE, _EXEMPLAR, _HISTOGRAM = 0x0A, 0x12, 0x1A, 0x22  # TimeSeries fields
_VALUE_TAG, _TIMESTAMP_TAG = 0x09, 0x10  # Sample: double field 1, varint field 2
_KNOWN_TAG = np.zeros(256, bool)
_KNOWN_TAG[[_LABEL, _SAMPLE, _EXEMPLAR, _HISTOGRAM]] = True
_PAD = 16  # zero bytes after the body, so fixed-width reads near its end stay inside
# Below this many series still walking, a numpy step costs more than walking those series'
# remaining fields in Python (one sender's single long series, a few series with extra labels).
_VECTOR_MIN = 32


@dataclass(frozen=True, slots=True)
class Scan:
    """A request's series and samples, columnar.

    ``keys[i]`` are the raw bytes of series ``i``'s label fields (tags and lengths included, so
    equal keys mean equal label lists); ``counts[i]`` its number of samples, which are the
    ``counts[i]`` entries of ``timestamps``/``values`` after those of the series before it.
    Exemplar ``j`` is the message at ``raw[exemplar_starts[j]:exemplar_ends[j]]`` of series
    ``exemplar_series[j]``, in request order.
    """

    keys: list[bytes]
    counts: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    exemplars: int
    histograms: int
    has_metadata: bool
    exemplar_series: npt.NDArray[np.int64]
    exemplar_starts: npt.NDArray[np.int64]
    exemplar_ends: npt.NDArray[np.int64]


def scan(raw: bytes) -> Scan | None:
    """The series and samples of the uncompressed ``WriteRequest`` ``raw``, or ``None`` when it
    is not in the shape this module reads (module docstring)."""
    spans = _entry_spans(raw) or _series_spans(raw)
    if spans is None:
        return None
    starts, ends, has_metadata = spans
    buf = np.frombuffer(raw + bytes(_PAD), np.uint8)
    fields = _fields(raw, buf, starts.copy(), ends)  # it moves the positions it is given
    if fields is None:
        return None
    series, step, tag, payload, end = fields
    n_series = len(starts)
    # Labels must be each series' first fields, so that their bytes are one slice.
    is_label = tag == _LABEL
    n_labels = np.bincount(series[is_label], minlength=n_series)
    if np.any(step[is_label] >= n_labels[series[is_label]]):
        return None
    label_end = starts.copy()
    last_label = is_label & (step == n_labels[series] - 1)
    label_end[series[last_label]] = end[last_label]
    is_sample = tag == _SAMPLE
    order = np.argsort(series[is_sample], kind="stable")  # series order, each in field order
    decoded = _samples(buf, payload[is_sample][order], end[is_sample][order])
    if decoded is None:
        return None
    ts, vals = decoded
    is_exemplar = tag == _EXEMPLAR
    # Request order: by series, and within a series in field order.
    by_series = np.argsort(series[is_exemplar], kind="stable")
    return Scan(
        keys=[raw[s:e] for s, e in zip(starts.tolist(), label_end.tolist(), strict=True)],
        counts=np.bincount(series[is_sample], minlength=n_series).astype(np.int64),
        timestamps=ts,
        values=vals,
        exemplars=int(np.count_nonzero(is_exemplar)),
        histograms=int(np.count_nonzero(tag == _HISTOGRAM)),
        has_metadata=has_metadata,
        exemplar_series=series[is_exemplar][by_series].astype(np.int64),
        exemplar_starts=payload[is_exemplar][by_series].astype(np.int64),
        exemplar_ends=end[is_exemplar][by_series].astype(np.int64),
    )


# Payload starts and ends of a request's ``timeseries`` entries, and whether it has metadata.
_Spans = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], bool]


def _entry_spans(raw: bytes) -> _Spans | None:
    """``_series_spans`` for a request of series entries alone, from one upb parse: the entries'
    lengths place them, a header of a tag byte and the length's varint before each. ``None``
    when the entries do not then cover the request exactly (metadata, an unknown field, a
    length written in more bytes than it needs) or upb refuses it."""
    msg = EntriesWriteRequest()
    try:
        msg.ParseFromString(raw)
    except DecodeError:
        return None
    if len(msg.metadata):
        return None
    entries = msg.timeseries
    lengths = np.fromiter(map(len, entries), np.int64, len(entries))
    # The shortest varint of a length: one byte per seven bits.
    heads = 2 + sum((lengths >> (7 * k) > 0).astype(np.int64) for k in range(1, 5))
    ends = np.cumsum(heads + lengths)
    if (int(ends[-1]) if len(ends) else 0) != len(raw):
        return None
    return ends - lengths, ends, False


def _series_spans(raw: bytes) -> _Spans | None:
    """Payload start and end of every ``timeseries`` entry, and whether metadata follows, one
    entry at a time (requests ``_entry_spans`` does not place)."""
    starts: list[int] = []
    ends: list[int] = []
    has_metadata = False
    pos, size = 0, len(raw)
    while pos < size:
        tag = raw[pos]
        if tag not in (_SERIES_TAG, _METADATA_TAG):
            return None
        # Inline one- and two-byte lengths (series shorter than 16 KiB): a call per series
        # was most of this loop.
        length = raw[pos + 1] if pos + 1 < size else 0x80
        if length < 0x80:
            pos += 2
        elif pos + 2 < size and raw[pos + 2] < 0x80:
            length = (length & 0x7F) | (raw[pos + 2] << 7)
            pos += 3
        else:
            length, pos = _varint(raw, pos + 1)
        if length < 0 or pos + length > size:
            return None
        if tag == _SERIES_TAG:
            starts.append(pos)
            ends.append(pos + length)
        else:
            has_metadata = True
        pos += length
    return np.array(starts, np.int64), np.array(ends, np.int64), has_metadata


# Fields of a request's series, one entry each: series index, position of the field within its
# series, tag, payload start and end.
_Part = tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.uint8],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]


def _fields(
    raw: bytes, buf: npt.NDArray[np.uint8], cur: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> _Part | None:
    """Every field of every series, walking all series one field position at a time."""
    parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.int64],
                      npt.NDArray[np.int64]]] = []  # fmt: skip
    keep = cur < ends
    active = np.flatnonzero(keep)
    at, limit = cur[keep], ends[keep]
    # Each step carries the still-walking series' positions and ends along (no scatter into
    # and gather from ``cur``): a small request's time is mostly numpy's per-call cost, so the
    # tags and bounds are checked once at the end, over every field at once. A series that
    # meets a bad tag or length walks on through garbage (every step moves forward) or stops
    # past its end; either way the check refuses the request.
    while len(active) >= _VECTOR_MIN:
        tag = buf[at]
        length = buf[at + 1]
        if length.max() < 0x80:  # the usual case: every field shorter than 128 bytes
            start = at + 2
        else:
            lengths = _varints(buf, at + 1, 5)
            if lengths is None:
                return None
            start = at + 1 + lengths[1]
            length = lengths[0].astype(np.int64)
        end = start + length
        parts.append((active, tag, start, end))
        keep = end < limit
        active, at, limit = active[keep], end[keep], limit[keep]
    step = len(parts)
    columns: list[list[npt.NDArray[Any]]] = [
        [p[0] for p in parts],
        [np.repeat(np.arange(step, dtype=np.int64), [len(p[0]) for p in parts])],
        [p[1] for p in parts],
        [p[2] for p in parts],
        [p[3] for p in parts],
    ]
    if len(active):
        cur[active] = at
        rest = _walk(raw, cur, ends, active, step)
        if rest is None:
            return None
        more: tuple[npt.NDArray[Any], ...] = rest
        for column, part in zip(columns, more, strict=True):
            column.append(part)
    if not columns[0]:  # no series has a field
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0, np.uint8), empty, empty
    series, steps, tags, starts, stops = (np.concatenate(c) for c in columns)
    found: _Part = (series, steps, tags, starts, stops)
    # Only the four length-delimited fields of TimeSeries, each with a one-byte tag, each
    # inside its series.
    if not _KNOWN_TAG[tags].all() or np.any(stops > ends[series]):
        return None
    return found


def _walk(
    raw: bytes,
    cur: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    active: npt.NDArray[np.int64],
    step: int,
) -> _Part | None:
    """The remaining fields of the few series still ``active``, one by one in Python."""
    series: list[int] = []
    steps: list[int] = []
    tags: list[int] = []
    starts: list[int] = []
    stops: list[int] = []
    for s in active.tolist():
        pos, end, k = int(cur[s]), int(ends[s]), step
        while pos < end:
            tag = raw[pos]
            if tag not in (_LABEL, _SAMPLE, _EXEMPLAR, _HISTOGRAM):
                return None
            length, start = _varint(raw, pos + 1)
            if length < 0 or start + length > end:
                return None
            series.append(s)
            steps.append(k)
            tags.append(tag)
            starts.append(start)
            pos = start + length
            stops.append(pos)
            k += 1
    return (
        np.array(series, np.int64),
        np.array(steps, np.int64),
        np.array(tags, np.uint8),
        np.array(starts, np.int64),
        np.array(stops, np.int64),
    )


def _samples(
    buf: npt.NDArray[np.uint8], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """Decode ``Sample`` messages from their payload spans: ``value`` then ``timestamp``, either
    left out when zero; ``None`` for any other layout."""
    if len(start):
        alike = _alike_samples(buf, start, end)
        if alike is not None:
            return alike
    n = len(start)
    length = end - start
    first = buf[start]
    has_value = (length >= 9) & (first == _VALUE_TAG)
    # Where the timestamp's tag would be: right after the value, or first.
    ts_tag_at = np.where(has_value, start + 9, start)
    has_ts = (ts_tag_at < end) & (buf[ts_tag_at] == _TIMESTAMP_TAG)
    # Every byte accounted for: an empty sample, a value alone (9 bytes), or a timestamp after
    # an optional value, its varint running exactly to the end (checked below).
    empty = length == 0
    value_only = has_value & (length == 9)
    if not np.all(empty | value_only | has_ts):
        return None
    values = np.zeros(n, np.float64)
    if has_value.any():
        at = start[has_value] + 1
        values[has_value] = sliding_window_view(buf, 8)[at].copy().view("<f8").reshape(-1)
    timestamps = np.zeros(n, np.int64)
    if has_ts.any():
        at = ts_tag_at[has_ts] + 1
        decoded = _varints(buf, at, _MAX_VARINT)
        if decoded is None:
            return None
        ts, size = decoded
        if np.any(at + size != end[has_ts]):
            return None
        timestamps[has_ts] = ts.view(np.int64)
    return timestamps, values


def _alike_samples(
    buf: npt.NDArray[np.uint8], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """``_samples`` for the usual request, in a few numpy steps: every sample a timestamp, after
    a value or alone (a zero value is left out), the timestamps' varints of one width of at most
    eight bytes (millisecond timestamps of one era all take six); ``None`` when the samples are
    not all like that, and ``_samples`` reads them.

    What it accepts ``_samples`` reads to the same numbers: the same tags, every varint byte
    but the last with its continuation bit set, the varint running exactly to the sample's end.
    """
    has_value = buf[start] == _VALUE_TAG
    # The timestamp's first byte: after the value's tag and 8 bytes and its own tag, or its tag.
    at = start + 1 + 9 * has_value.astype(np.int64)
    width = int(end[0] - at[0])
    if not 1 <= width <= 8 or np.any(end - at != width):
        return None
    if np.any(buf[at - 1] != _TIMESTAMP_TAG):
        return None
    # The varint's bytes as one little-endian word each: continuation bits on all but the last.
    words = _words(buf, "<u8")[at]
    marks = _CONTINUATION[width - 1]
    if np.any(words & marks[0] != marks[1]):
        return None
    timestamps = words & np.uint64(0x7F)
    for k in range(1, width):
        # Byte k's seven bits move down k places, to bit 7k.
        timestamps |= (words >> np.uint64(k)) & np.uint64(0x7F << (7 * k))
    doubles = _words(buf, "<f8")
    if has_value.all():
        values = doubles[start + 1]
    else:
        values = np.zeros(len(start), np.float64)
        values[has_value] = doubles[start[has_value] + 1]
    return timestamps.view(np.int64), values.astype(np.float64, copy=False)


def _words(buf: npt.NDArray[np.uint8], dtype: str) -> npt.NDArray[Any]:
    """An 8-byte word (``<u8`` or ``<f8``) starting at every byte of ``buf``: a view, so that
    indexing it with positions gathers unaligned words in one step."""
    return np.ndarray((len(buf) - 7,), dtype, buf, 0, (1,))


# Per varint width w: the continuation bits of its w bytes, and the value they must have (all
# set but the last).
_CONTINUATION = [
    (np.uint64(int("80" * w, 16)), np.uint64(int("00" + "80" * (w - 1), 16))) for w in range(1, 9)
]

__all__ = ["Scan", "scan"]
