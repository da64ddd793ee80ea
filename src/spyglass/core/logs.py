"""Log records and batches: what every log ingest protocol produces and storage consumes.

A ``LogRecord`` is one log line as Loki and OpenTelemetry both see it: a timestamp in
nanoseconds, the line itself, the *stream* labels LogQL selects on (``{service_name="api"}``),
and everything else a shipper sends beside the line: Loki's structured metadata, OpenTelemetry's
severity, trace and span ids, resource and log attributes. Wire formats (Loki push, OTLP logs,
Elasticsearch ``_bulk``, the agent's file tailing) convert to these; storage writes them to the
logs table and reads them back for LogQL.

Stream labels follow ``core.labels``: sorted ``(name, value)`` pairs with no empty values. The
attribute maps are plain ``str -> str`` mappings (OTLP's typed values arrive stringified, as the
OpenTelemetry Collector's ClickHouse exporter stores them).

A batch holds its records as ``LogRecord`` objects, or, for plain lines (a stream, a timestamp
and a line, nothing else: what Promtail pushes), as ``LogColumns``: a label set per stream and
arrays of timestamps and line bytes, without a Python object per line. The Loki push decoder
builds columns; the WAL codec and the insert read them as they are; anything else that reads
``records`` gets the records made from them once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels

_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


def _no_attributes() -> Mapping[str, str]:
    # One shared read-only empty map: records without side data cost no dict each.
    return _NO_ATTRIBUTES


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log line with its stream and its side data.

    - ``timestamp_ns``: when the event happened (Loki's entry timestamp, OTLP ``time_unix_nano``,
      or the observed time when a sender gives none);
    - ``observed_ns``: when a collector first saw it (OTLP ``observed_time_unix_nano``; 0 when
      unknown);
    - ``metadata``: Loki's structured metadata; OTLP log attributes land here too, so LogQL
      filters on them the way Loki 3 does;
    - ``resource``: OTLP resource attributes (``service.name``, ``host.name``, ...);
    - ``trace_id``/``span_id``: lower-case hex, ``""`` when absent;
    - ``severity_number``: OpenTelemetry's 1-24 scale, 0 when unknown.
    """

    timestamp_ns: int
    line: str
    stream: Labels
    metadata: Mapping[str, str] = field(default_factory=_no_attributes)
    observed_ns: int = 0
    severity_text: str = ""
    severity_number: int = 0
    trace_id: str = ""
    span_id: str = ""
    resource: Mapping[str, str] = field(default_factory=_no_attributes)


@dataclass(frozen=True, slots=True, eq=False)
class LogColumns:
    """Plain log lines, column by column: line ``i`` is ``lines_data[offsets[i]:offsets[i + 1]]``
    (valid UTF-8), stamped ``timestamps[i]``, in stream ``streams[stream_index[i]]``; nothing
    else (no metadata, severity, trace or resource).
    """

    streams: tuple[Labels, ...]
    stream_index: npt.NDArray[np.uint32]
    timestamps: npt.NDArray[np.int64]
    lines_data: bytes
    offsets: npt.NDArray[np.int64]  # len(timestamps) + 1 offsets, from 0 to len(lines_data)

    def __len__(self) -> int:
        return len(self.timestamps)

    def line(self, i: int) -> str:
        """Line ``i``."""
        return self.lines_data[int(self.offsets[i]) : int(self.offsets[i + 1])].decode("utf-8")

    def lines(self) -> list[str]:
        """Every line, in order."""
        data = self.lines_data
        bounds = self.offsets.tolist()
        if data.isascii():
            # Byte offsets are character offsets: one decode, then slices of the str.
            text = data.decode("ascii")
            return [text[a:b] for a, b in pairwise(bounds)]
        return [data[a:b].decode("utf-8") for a, b in pairwise(bounds)]

    @classmethod
    def concat(cls, parts: Sequence[LogColumns]) -> LogColumns:
        """One set of columns holding every line of ``parts``, in order (equal streams of
        different parts become one)."""
        if len(parts) == 1:
            return parts[0]
        ids: dict[Labels, int] = {}
        indexes = []
        offsets = [np.zeros(1, np.int64)]
        base = 0
        for part in parts:
            remap = np.array([ids.setdefault(st, len(ids)) for st in part.streams], np.uint32)
            indexes.append(remap[part.stream_index] if len(part) else part.stream_index)
            offsets.append(part.offsets[1:] + base)
            base += len(part.lines_data)
        return cls(
            tuple(ids),
            np.concatenate(indexes).astype(np.uint32),
            np.concatenate([p.timestamps for p in parts]).astype(np.int64),
            b"".join(p.lines_data for p in parts),
            np.concatenate(offsets),
        )

    @property
    def nbytes(self) -> int:
        """The memory the columns hold: the lines' bytes and the arrays."""
        arrays = self.stream_index.nbytes + self.timestamps.nbytes + self.offsets.nbytes
        return len(self.lines_data) + arrays + _STREAM_BYTES * len(self.streams)

    def records(self) -> tuple[LogRecord, ...]:
        """The lines as ``LogRecord``s."""
        streams = self.streams
        return tuple(
            LogRecord(ts, line, streams[k])
            for ts, line, k in zip(
                self.timestamps.tolist(), self.lines(), self.stream_index.tolist(), strict=True
            )
        )


# Rough CPython sizes: a record object with its line's str header, an attribute (two strs and
# a dict slot, short text), a stream's label tuples. They only need the right order of
# magnitude: they bound memory, they do not bill it, and a loop over each attribute's text
# would cost more than the rest of the estimate.
_RECORD_BYTES = 200
_ATTRIBUTE_BYTES = 150
_STREAM_BYTES = 500


def _records_bytes(records: Sequence[LogRecord]) -> int:
    total = 0
    shared: set[int] = set()  # a resource is usually one object for a push's records: once
    for r in records:
        total += _RECORD_BYTES + len(r.line) + len(r.trace_id) + len(r.span_id)
        total += _ATTRIBUTE_BYTES * len(r.metadata)
        resource = r.resource
        if resource and id(resource) not in shared:
            shared.add(id(resource))
            total += _ATTRIBUTE_BYTES * len(resource)
    return total


def valid_lines(data: bytes, offsets: npt.NDArray[np.int64]) -> bool:
    """Whether every line of ``data`` (``LogColumns``' layout) is valid UTF-8 on its own."""
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    # The whole is valid; each line is too when every line begins on a character (a line
    # ending mid-character would leave the next beginning with a continuation byte).
    starts = offsets[:-1][np.diff(offsets) > 0]
    head = np.frombuffer(data, np.uint8)[starts]
    return not np.any((head & 0xC0) == 0x80)


class LogBatch:
    """Log records accepted together (one push request), in the order they were sent.

    Built from records, or from ``LogColumns`` (``columns`` is then set and ``records`` is made
    from them on first use)."""

    __slots__ = ("_nbytes", "_records", "columns")

    def __init__(
        self, records: tuple[LogRecord, ...] = (), *, columns: LogColumns | None = None
    ) -> None:
        self._records: tuple[LogRecord, ...] | None = records if columns is None else None
        self.columns = columns
        self._nbytes = -1

    @property
    def records(self) -> tuple[LogRecord, ...]:
        """The records, in order."""
        records = self._records
        if records is None:
            assert self.columns is not None
            # Two threads may both build them; either tuple is the same records.
            records = self._records = self.columns.records()
        return records

    def __len__(self) -> int:
        if self.columns is not None:
            return len(self.columns)
        return len(self.records)

    @property
    def nbytes(self) -> int:
        """Roughly the memory the batch holds (what bounds the log store's pending buffer):
        its columns' bytes, or for records their text plus a fixed cost per record and per
        attribute (a resource shared by the push's records once). Records a column batch made
        for a reader are not counted: they are a cache, dropped with it."""
        if self._nbytes < 0:
            if self.columns is not None:
                self._nbytes = self.columns.nbytes
            else:
                self._nbytes = _records_bytes(self.records)
        return self._nbytes

    def __iter__(self) -> Iterator[LogRecord]:
        return iter(self.records)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogBatch):
            return NotImplemented
        return self.records == other.records

    __hash__: Any = None  # mutable cache inside: not a dict key

    def __repr__(self) -> str:
        return f"LogBatch({len(self)} records{', columns' if self.columns is not None else ''})"

    @classmethod
    def of(cls, records: Iterable[LogRecord]) -> LogBatch:
        """A batch of ``records``, in order."""
        return cls(tuple(records))

    @classmethod
    def concat(cls, batches: Sequence[LogBatch]) -> LogBatch:
        """One batch holding every record of ``batches``, in order."""
        if len(batches) == 1:
            return batches[0]
        return cls(tuple(record for batch in batches for record in batch.records))


__all__ = ["LogBatch", "LogColumns", "LogRecord", "valid_lines"]
