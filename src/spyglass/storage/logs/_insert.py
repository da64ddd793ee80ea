"""The logs signal's insert: one flush of ``LogBatch``es into ``otel_logs`` and ``log_streams``.

Every record becomes one row (a batch of ``LogColumns`` goes to Arrow from its arrays, with no
Python step per line); ``WriteOrder`` numbers the rows in the order they were written
(a nanosecond clock that never goes back, one tick per row), so a read can order records with
equal timestamps as they were pushed, across flushes and restarts. ``log_streams`` gets a row per
stream and hour not yet known to have one: the stream index LogQL's selectors read first.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from spyglass.core.labels import Labels, fingerprint
from spyglass.core.logs import LogBatch, LogColumns, LogRecord
from spyglass.storage._backend import Backend
from spyglass.storage._interning import by_identity
from spyglass.storage.logs._sql import Query, keys_sql, newest_sql
from spyglass.storage.schema import HOUR_MS, LOG_STREAMS, LOGS

I64 = npt.NDArray[np.int64]

SERVICE_LABEL = "service_name"
_MAP = pa.map_(pa.string(), pa.string())
_NS = pa.timestamp("ns")
# DateTime64(9) ends in 2262 and DateTime (the streams' hour) in 2106; ingest refuses records
# outside, this only keeps a bad record from failing every retry of a flush.
MAX_HOUR_S = 4_294_963_200


def service_of(stream: Labels, resource: Mapping[str, str] | None = None) -> str:
    """The ServiceName column of a record: its stream's ``service_name`` label, else the
    resource's ``service.name`` (as the OpenTelemetry exporter fills it)."""
    for name, value in stream:
        if name == SERVICE_LABEL:
            return value
    if resource:
        return resource.get("service.name", "")
    return ""


class LogsInserter:
    """Inserts chunks of log batches on ``backend``; counts the stream rows it creates."""

    def __init__(self, backend: Backend, clock: Callable[[], int] = time.time_ns) -> None:
        self.backend = backend
        self.clock = clock
        self.streams_created = 0
        self._last_order = 0
        self._fps: dict[Labels, int] = {}
        self._seen: set[tuple[int, int]] = set()  # (fingerprint, hour) with a log_streams row
        self._newest_hour = 0
        self._newest: dict[int, int] = {}  # fingerprint -> newest timestamp stored (this run)

    @property
    def written_order(self) -> int:
        """The ``WriteOrder`` of the last row inserted (0 before the first insert); every later
        row gets a larger one."""
        return self._last_order

    def seed_order(self, stored: int) -> None:
        """Continue after ``stored``, the largest ``WriteOrder`` already in the table (a
        restart: the clock is usually past it anyway, but ``written_order`` must know it)."""
        self._last_order = max(self._last_order, stored)

    def fingerprint(self, stream: Labels) -> int:
        """The stream's fingerprint (cached: a few streams carry most records)."""
        fp = self._fps.get(stream)
        if fp is None:
            if len(self._fps) > 100_000:
                self._fps.clear()
            fp = self._fps[stream] = fingerprint(stream)
        return fp

    def __call__(self, batches: list[LogBatch]) -> int:
        """Insert ``batches``; returns the records stored. Raises if an insert fails (then
        nothing is remembered, so a retry writes the stream rows again)."""
        rows = _rows_of(batches)
        if rows is None:
            return 0
        streams, stream_idx, ts, table = rows.streams, rows.stream_idx, rows.ts, rows.table
        taken = len(ts)
        fresh = self._fresh(table.column("Body"), stream_idx, streams, ts)
        if fresh is not None:
            table = table.filter(pa.array(fresh))
            stream_idx, ts = stream_idx[fresh], ts[fresh]
            if not len(ts):
                return taken
        n = len(ts)
        stream_fps = np.array([self.fingerprint(st) for st in streams], np.uint64)
        fps = stream_fps[stream_idx]
        hours = np.clip(ts // HOUR_MS // 1_000_000 * 3_600, 0, MAX_HOUR_S)
        new_streams: dict[tuple[int, int], Labels] = {}
        for key in set(zip(stream_idx.tolist(), hours.tolist(), strict=True)):
            pair = (int(stream_fps[key[0]]), key[1])
            if pair not in self._seen:
                new_streams[pair] = streams[key[0]]
        start = max(self.clock(), self._last_order + 1)
        table = table.append_column("StreamFingerprint", pa.array(fps)).append_column(
            "WriteOrder", pa.array(np.arange(start, start + n, dtype=np.uint64))
        )
        if new_streams:
            keys = list(new_streams)
            self.backend.insert(
                LOG_STREAMS,
                pa.table(
                    {
                        "hour": pa.array(np.array([h for _, h in keys], np.uint32)),
                        "fingerprint": pa.array(np.array([fp for fp, _ in keys], np.uint64)),
                        "service_name": _strings([service_of(new_streams[k]) for k in keys]),
                        "labels": _maps([list(new_streams[k]) for k in keys]),
                    }
                ),
            )
        self.backend.insert(LOGS, table)
        self._last_order = start + n - 1
        self._remember(list(new_streams))
        for si, newest in enumerate(_newest_per_stream(stream_idx, ts, len(streams))):
            if newest >= 0:
                fp = int(stream_fps[si])
                self._newest[fp] = max(self._newest.get(fp, newest), newest)
        return taken

    def _fresh(
        self, body: pa.ChunkedArray, stream_idx: I64, streams: list[Labels], ts: I64
    ) -> npt.NDArray[np.bool_] | None:
        """Which records to insert, ``None`` for all: a record equal to one before it in the
        flush or to a stored one (same stream, timestamp and line: Loki's duplicate rule) is
        left out, so the table holds each record once and counting its rows counts records.

        Only a record not newer than its stream's newest stored one can be stored already (a
        client's retry, a WAL replay after a crash); in-order ingest has none and costs a sort.
        Streams not seen since start are asked for their newest stored timestamp once, from
        the flush's oldest record on: a new stream, or one whose lines all come after what is
        stored, has no suspect record at all.
        """
        n = len(ts)
        keep = np.ones(n, dtype=bool)
        # Duplicates inside the flush: equal (stream, timestamp) neighbours, then their lines.
        order = np.lexsort((ts, stream_idx))
        same = (stream_idx[order][1:] == stream_idx[order][:-1]) & (ts[order][1:] == ts[order][:-1])
        if same.any():
            ties = np.flatnonzero(same)
            # In push order, so the first of equal records is the one kept.
            candidates = np.unique(order[np.concatenate([ties, ties + 1])]).tolist()
            seen: set[tuple[int, int, str]] = set()
            for i, line in zip(candidates, _lines(body, candidates), strict=True):
                key = (int(stream_idx[i]), int(ts[i]), line)
                if key in seen:
                    keep[i] = False
                seen.add(key)
        fps = [self.fingerprint(st) for st in streams]
        unknown = [fp for fp in fps if fp not in self._newest]
        if unknown:
            self._learn_newest(unknown, int(ts.min()))
        newest = np.array([self._newest.get(fp, _UNKNOWN) for fp in fps], np.int64)
        suspect = ts <= newest[stream_idx]
        if suspect.any():
            idx = np.flatnonzero(suspect & keep)
            if len(idx):
                stored = self.stored_keys(
                    sorted({fps[int(stream_idx[i])] for i in idx}), ts[idx].tolist()
                )
                # Only records whose stream and timestamp are stored have their line compared
                # (every record of a stream is suspect on its first flush since start).
                stamps = {(fp, t) for fp, t, _ in stored}
                hits = [
                    i
                    for i, k, t in zip(
                        idx.tolist(), stream_idx[idx].tolist(), ts[idx].tolist(), strict=True
                    )
                    if (fps[k], t) in stamps
                ]
                for i, line in zip(hits, _lines(body, hits), strict=True):
                    if (fps[int(stream_idx[i])], int(ts[i]), line) in stored:
                        keep[i] = False
        return None if keep.all() else keep

    def _learn_newest(self, fps: list[int], since_ns: int) -> None:
        """Remember the newest stored timestamp of each stream of ``fps`` as far as a flush
        whose oldest record is at ``since_ns`` needs it: a stream with nothing stored from then
        on gets ``since_ns - 1``, older than every record of the flush."""
        q = Query()
        rows = self.backend.query_arrow(newest_sql(q, fps, since_ns), q.params).to_pylist()
        found = {int(row["fp"]): int(row["newest"]) for row in rows}
        for fp in fps:
            self._newest[fp] = found.get(fp, since_ns - 1)

    def stored_keys(self, fps: list[int], stamps: list[int]) -> set[tuple[int, int, str]]:
        """(fingerprint, timestamp, line) of the stored records of ``fps`` stamped at one of
        ``stamps``."""
        q = Query()
        sql = keys_sql(q, fps, stamps, written_order=2**64 - 1)
        rows = self.backend.query_arrow(sql, q.params).to_pylist()
        return {(row["fp"], row["ts"], row["line"]) for row in rows}

    def _remember(self, pairs: list[tuple[int, int]]) -> None:
        self.streams_created += len(pairs)
        newest = max((h for _, h in pairs), default=0)
        if newest > self._newest_hour:
            self._newest_hour = newest
            self._seen = {p for p in self._seen if p[1] >= newest - 3_600}
        self._seen.update(p for p in pairs if p[1] >= self._newest_hour - 3_600)


@dataclass(frozen=True, slots=True)
class _Rows:
    """A flush's rows before the columns that need every stream of the flush: the distinct
    streams, each row's index among them and timestamp, and the other columns."""

    streams: list[Labels]
    stream_idx: I64
    ts: I64
    table: pa.Table


def _rows_of(batches: list[LogBatch]) -> _Rows | None:
    """The rows of ``batches`` in order: runs of column batches and runs of record batches each
    made into columns at once, then put together."""
    parts: list[_Rows] = []
    for columnar, run in itertools.groupby(
        (b for b in batches if len(b)), key=lambda b: b.columns is not None
    ):
        group = list(run)
        if columnar:
            parts.append(_column_rows(LogColumns.concat([b.columns for b in group if b.columns])))
        else:
            parts.append(_record_rows(LogBatch.concat(group).records))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    ids: dict[Labels, int] = {}
    indexes = []
    for part in parts:
        remap = np.array([ids.setdefault(st, len(ids)) for st in part.streams], np.int64)
        indexes.append(remap[part.stream_idx])
    return _Rows(
        list(ids),
        np.concatenate(indexes),
        np.concatenate([p.ts for p in parts]),
        pa.concat_tables([p.table for p in parts]).combine_chunks(),
    )


def _column_rows(columns: LogColumns) -> _Rows:
    """Rows of plain lines: their own arrays, and the columns they leave empty."""
    n = len(columns)
    streams = list(columns.streams)
    stream_idx = columns.stream_index.astype(np.int64)
    zeros = pa.array(np.zeros(n, np.int64))
    if len(columns.lines_data) < 2**31:
        body = pa.StringArray.from_buffers(
            n, pa.py_buffer(columns.offsets.astype(np.int32)), pa.py_buffer(columns.lines_data)
        )
    else:
        body = pa.array(columns.lines(), pa.string())
    empty = pa.array([""], pa.string()).take(zeros)
    no_map = _maps([[]]).take(zeros)
    table = pa.table(
        {
            "Timestamp": pa.array(columns.timestamps, _NS),
            "ObservedTimestamp": pa.array(np.zeros(n, np.int64), _NS),
            "TraceId": empty,
            "SpanId": empty,
            "SeverityText": empty,
            "SeverityNumber": pa.array(np.zeros(n, np.uint8)),
            "ServiceName": _strings([service_of(st) for st in streams]).take(pa.array(stream_idx)),
            "Body": body,
            "ResourceAttributes": no_map,
            "LogAttributes": no_map,
        }
    )
    return _Rows(streams, stream_idx, columns.timestamps.astype(np.int64), table)


def _record_rows(records: Sequence[LogRecord]) -> _Rows:
    """Rows of ``LogRecord``s."""
    # Records share a few streams and resources: build those columns once per distinct
    # value and spread them with ``take`` (a per-row Python map costs microseconds each).
    stream_ids: dict[Labels, int] = {}
    # Records of one push share their stream's tuple: look the object up before hashing
    # its labels (a tuple's hash is computed anew on every lookup).
    by_object: dict[int, int] = {}
    n = len(records)
    stream_idx = np.empty(n, np.int64)
    for i, r in enumerate(records):
        k = by_object.get(id(r.stream))
        if k is None:
            k = by_object[id(r.stream)] = stream_ids.setdefault(r.stream, len(stream_ids))
        stream_idx[i] = k
    streams = list(stream_ids)
    ts = np.fromiter((r.timestamp_ns for r in records), np.int64, n)
    resources, resource_idx = by_identity((r.resource for r in records), n)
    # The service is the stream's label, else its resource's service.name: once per
    # distinct (stream, resource) pair.
    pairs, pair_idx = np.unique(stream_idx * len(resources) + resource_idx, return_inverse=True)
    services = _strings(
        [
            service_of(streams[p // len(resources)], resources[p % len(resources)])
            for p in pairs.tolist()
        ]
    ).take(pa.array(pair_idx.reshape(-1)))
    # Metadata too: records without any share one empty map.
    metas, meta_idx = by_identity((r.metadata for r in records), n)
    table = pa.table(
        {
            "Timestamp": pa.array(ts, _NS),
            "ObservedTimestamp": pa.array(
                np.fromiter((r.observed_ns for r in records), np.int64, n), _NS
            ),
            "TraceId": _strings([r.trace_id for r in records]),
            "SpanId": _strings([r.span_id for r in records]),
            "SeverityText": _strings([r.severity_text for r in records]),
            "SeverityNumber": pa.array(
                np.clip(
                    np.fromiter((r.severity_number for r in records), np.int64, n), 0, 255
                ).astype(np.uint8)
            ),
            "ServiceName": services,
            "Body": _strings([r.line for r in records]),
            "ResourceAttributes": _maps([list(m.items()) for m in resources]).take(
                pa.array(resource_idx)
            ),
            "LogAttributes": _maps([list(m.items()) for m in metas]).take(pa.array(meta_idx)),
        }
    )
    return _Rows(streams, stream_idx, ts, table)


_UNKNOWN = 2**63 - 1  # a stream's newest stored timestamp when not known: every record suspect


def _newest_per_stream(stream_idx: I64, ts: I64, streams: int) -> list[int]:
    """The largest timestamp of each stream index (-1 for one without records)."""
    newest = np.full(streams, -1, np.int64)
    np.maximum.at(newest, stream_idx, ts)
    return [int(v) for v in newest]


def _lines(body: pa.ChunkedArray, rows: list[int]) -> list[str]:
    """The bodies of ``rows``, in one step (an element at a time costs microseconds each)."""
    if not rows:
        return []
    return [str(v) for v in body.take(pa.array(rows, pa.int64())).to_pylist()]


def _clean(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _strings(values: list[str]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowException, UnicodeError):
        # Text that is not valid Unicode (lone surrogates) would fail every retry and block
        # all later flushes; store it with replacement characters instead.
        return pa.array([_clean(v) for v in values], pa.string())


def _maps(values: list[list[tuple[str, str]]]) -> pa.Array:
    try:
        return pa.array(values, _MAP)
    except (pa.ArrowException, UnicodeError):
        return pa.array([[(_clean(k), _clean(v)) for k, v in m] for m in values], _MAP)


__all__ = ["SERVICE_LABEL", "LogsInserter", "service_of"]
