"""The logs signal's insert: one flush of ``LogBatch``es into ``otel_logs`` and ``log_streams``.

Every record becomes one row; ``WriteOrder`` numbers the rows in the order they were written
(a nanosecond clock that never goes back, one tick per row), so a read can order records with
equal timestamps as they were pushed, across flushes and restarts. ``log_streams`` gets a row per
stream and hour not yet known to have one: the stream index LogQL's selectors read first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import pyarrow as pa

from spyglass.core.labels import Labels, fingerprint
from spyglass.core.logs import LogBatch
from spyglass.storage._backend import Backend
from spyglass.storage.schema import HOUR_MS, LOG_STREAMS, LOGS

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
        records = LogBatch.concat(batches).records
        n = len(records)
        if not n:
            return 0
        # Records share a few streams and resources: build those columns once per distinct
        # value and spread them with ``take`` (a per-row Python map costs microseconds each).
        stream_ids: dict[Labels, int] = {}
        stream_idx = np.fromiter(
            (stream_ids.setdefault(r.stream, len(stream_ids)) for r in records), np.int64, n
        )
        streams = list(stream_ids)
        stream_fps = np.array([self.fingerprint(st) for st in streams], np.uint64)
        fps = stream_fps[stream_idx]
        ts = np.fromiter((r.timestamp_ns for r in records), np.int64, n)
        hours = np.clip(ts // HOUR_MS // 1_000_000 * 3_600, 0, MAX_HOUR_S)
        new_streams: dict[tuple[int, int], Labels] = {}
        for key in set(zip(stream_idx.tolist(), hours.tolist(), strict=True)):
            pair = (int(stream_fps[key[0]]), key[1])
            if pair not in self._seen:
                new_streams[pair] = streams[key[0]]
        resource_ids: dict[int, int] = {}
        resources: list[Mapping[str, str]] = []
        resource_idx = np.empty(n, np.int64)
        for i, r in enumerate(records):
            k = resource_ids.get(id(r.resource))
            if k is None:
                k = resource_ids[id(r.resource)] = len(resources)
                resources.append(r.resource)
            resource_idx[i] = k
        # The service is the stream's label, else its resource's service.name.
        services = [
            service_of(streams[si], resources[ri])
            for si, ri in zip(stream_idx.tolist(), resource_idx.tolist(), strict=True)
        ]
        start = max(self.clock(), self._last_order + 1)
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
                    np.fromiter((min(r.severity_number, 255) for r in records), np.uint8, n)
                ),
                "ServiceName": _strings(services),
                "Body": _strings([r.line for r in records]),
                "ResourceAttributes": _maps([list(m.items()) for m in resources]).take(
                    pa.array(resource_idx)
                ),
                "LogAttributes": _maps([list(r.metadata.items()) for r in records]),
                "StreamLabels": _maps([list(st) for st in streams]).take(pa.array(stream_idx)),
                "StreamFingerprint": pa.array(fps),
                "WriteOrder": pa.array(np.arange(start, start + n, dtype=np.uint64)),
            }
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
        return n

    def _remember(self, pairs: list[tuple[int, int]]) -> None:
        self.streams_created += len(pairs)
        newest = max((h for _, h in pairs), default=0)
        if newest > self._newest_hour:
            self._newest_hour = newest
            self._seen = {p for p in self._seen if p[1] >= newest - 3_600}
        self._seen.update(p for p in pairs if p[1] >= self._newest_hour - 3_600)


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
