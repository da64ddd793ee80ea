"""The active log streams, and the limit on how many there may be (``--logs-max-streams``).

A flood of distinct label sets (a request id or a timestamp put in a label) makes a stream per
line; every query over them then pays per stream. Loki bounds this with
``max_global_streams_per_user`` (5,000 by default): a push's entries for a stream that would be
created past the limit are refused with 429 "Maximum active stream limit exceeded ...", the
entries of existing streams and of the new ones still within it are stored. Spyglass does the
same, once, for every log ingest protocol (Loki push, OTLP logs over HTTP and gRPC,
Elasticsearch ``_bulk``): each hands its decoded ``LogBatch`` to ``ActiveStreams.split`` before
appending it, and answers what was refused in its own shape.

A stream is its label set (``Labels``), as the logs signal keys streams. Loki counts the streams
its ingesters hold in memory; Spyglass has no such memory, so *active* means a line arrived for
the stream within the last hour (``window_ns``). At start-up the registry is seeded with the
streams the store holds a line stamped within the last hour (the ``log_streams`` index and the
WAL's replayed batches), so a restart does not reset the limit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from spyglass.core.labels import Labels
from spyglass.core.logs import LogBatch
from spyglass.ingest.loki import format_stream_labels

HOUR_NS = 3_600 * 1_000_000_000
# The reason Loki counts these refusals under (loki_discarded_samples_total{reason=...}).
STREAM_LIMIT = "stream_limit"
# Loki's tenant when multi-tenancy is off, which its message names.
_TENANT = "fake"


def stream_limit_message(stream: Labels) -> str:
    """Loki's message for a stream refused by the limit (its ingester's wording)."""
    return (
        "Maximum active stream limit exceeded when trying to create stream "
        f"{format_stream_labels(stream)}, reduce the number of active streams (reduce labels "
        "or reduce label values), or contact your Loki administrator to see if the limit can "
        f"be increased, user: '{_TENANT}'"
    )


@dataclass(frozen=True, slots=True)
class StreamSplit:
    """A batch split by the stream limit: what to store, and what was refused.

    ``kept[i]`` says whether record ``i`` of the batch as sent is in ``batch`` (``None``:
    all are), for protocols that answer per record (Elasticsearch ``_bulk``'s items).
    """

    batch: LogBatch
    refused_streams: tuple[Labels, ...] = ()
    refused_lines: int = 0
    kept: tuple[bool, ...] | None = None

    def message(self) -> str:
        """Loki's message for the first refused stream (``""`` when none was refused)."""
        return stream_limit_message(self.refused_streams[0]) if self.refused_streams else ""

    def partial_success(self, rejected: int, message: str) -> tuple[int, str]:
        """An OTLP export's ``rejected_log_records`` and ``error_message``: the ``rejected``
        records the decoder refused (for ``message``) plus those of streams past the limit."""
        if not self.refused_lines:
            return rejected, message
        limit = self.message()
        return rejected + self.refused_lines, f"{message}; {limit}" if message else limit


def _distinct_streams(batch: LogBatch) -> list[Labels]:
    """The batch's streams in order of first record. A push's records share their stream's
    tuple: look the object up before hashing its labels (a tuple's hash is computed anew on
    every lookup)."""
    by_object: dict[int, Labels] = {}
    for r in batch.records:
        if id(r.stream) not in by_object:
            by_object[id(r.stream)] = r.stream
    return list(dict.fromkeys(by_object.values()))


class ActiveStreams:
    """Streams that received a line within ``window_ns``, at most ``limit`` of them.

    With ``limit`` 0 nothing is tracked: with no bound, a flood would make the registry itself
    grow without one (``/metrics`` then shows 0 active streams).

    Kept in order of last line, so the expired ones are at the front and are dropped in
    constant time each. Safe to call from the event loop and worker threads alike.
    """

    def __init__(
        self,
        limit: int,
        *,
        window_ns: int = HOUR_NS,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.limit = limit
        self.window_ns = window_ns
        self.clock = clock
        self.refused_lines = 0
        self._seen: OrderedDict[Labels, int] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._seen)

    def seed(self, streams: Iterable[Labels], seen_ns: int) -> None:
        """Count ``streams`` as active since ``seen_ns`` (start-up: what the store knows).
        The limit does not apply: they exist already."""
        if not self.limit:
            return
        with self._lock:
            for stream in streams:
                if stream not in self._seen or self._seen[stream] < seen_ns:
                    self._seen[stream] = seen_ns
                    self._seen.move_to_end(stream)
            # Seeded out of time order: keep the front the oldest.
            if self._seen:
                ordered = sorted(self._seen.items(), key=lambda kv: kv[1])
                self._seen = OrderedDict(ordered)

    def admit(self, streams: Sequence[Labels]) -> list[Labels]:
        """Mark ``streams`` (distinct, in push order) as having a line now; the ones that would
        be new past the limit are not marked and are returned."""
        if not self.limit:
            return []
        refused: list[Labels] = []
        now = self.clock()
        with self._lock:
            self._expire(now)
            seen = self._seen
            for stream in streams:
                if stream in seen:
                    seen[stream] = now
                    seen.move_to_end(stream)
                elif len(seen) >= self.limit:
                    refused.append(stream)
                else:
                    seen[stream] = now
        return refused

    def split(self, batch: LogBatch) -> StreamSplit:
        """``batch`` without the lines of streams refused by the limit."""
        columns = batch.columns
        if columns is not None:
            streams: Sequence[Labels] = columns.streams
        else:
            streams = _distinct_streams(batch)
        refused = self.admit(streams)
        if not refused:
            return StreamSplit(batch)
        gone = set(refused)
        kept = tuple(r.stream not in gone for r in batch.records)
        records = tuple(r for r, k in zip(batch.records, kept, strict=True) if k)
        lines = len(kept) - len(records)
        with self._lock:
            self.refused_lines += lines
        return StreamSplit(LogBatch(records), tuple(refused), lines, kept)

    def _expire(self, now: int) -> None:
        oldest = now - self.window_ns
        seen = self._seen
        while seen:
            stream, last = next(iter(seen.items()))
            if last >= oldest:
                break
            del seen[stream]


__all__ = ["HOUR_NS", "STREAM_LIMIT", "ActiveStreams", "StreamSplit", "stream_limit_message"]
