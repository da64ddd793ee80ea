"""Load generator for the spans crash test: appends batches forever, printing each acknowledged id.

Run as ``python crash_writer.py DATA_DIR BASE_NS FIRST_ID``. Batch ``i`` is trace ``i`` (its id
``i`` in hex, 32 digits): a root span and ``SPANS - 1`` children of service ``crash`` starting
at ``BASE_NS + i * 1000``, as ``Span``s for even ``i`` and as ``SpanColumns`` for odd. An id is
printed only after ``await store.append()`` returned, i.e. after the WAL fsync. Several
appenders run at once and the store flushes every 30 ms, so inserts and checkpoints happen
during the kill.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spyglass.core.spans import Span, SpanBatch
from spyglass.ingest.otlp._traces_wire import scan
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.traces import SpanStore

SPANS = 5
RESOURCE = {"service.name": "crash"}


def make(i: int, base: int) -> SpanBatch:
    if i % 2:
        return _as_columns(i, base)
    trace = f"{i + 1:032x}"
    return SpanBatch(
        tuple(
            Span(trace, f"{k + 1:016x}", f"op {k}", base + i * 1000 + k, 10, "crash",
                 parent_span_id="" if k == 0 else f"{1:016x}", resource=RESOURCE)
            for k in range(SPANS)
        )
    )  # fmt: skip


def _as_columns(i: int, base: int) -> SpanBatch:
    """The same spans read from an OTLP body into columns (a version 2 WAL record), so replay
    meets both record versions and flushes of both batch kinds."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "crash"
    scope = rs.scope_spans.add()
    for k in range(SPANS):
        start = base + i * 1000 + k
        scope.spans.add(
            trace_id=(i + 1).to_bytes(16, "big"),
            span_id=(k + 1).to_bytes(8, "big"),
            parent_span_id=b"" if k == 0 else (1).to_bytes(8, "big"),
            name=f"op {k}",
            start_time_unix_nano=start,
            end_time_unix_nano=start + 10,
        )
    scanned = scan(req.SerializeToString())
    assert scanned is not None
    return SpanBatch(columns=scanned.columns)


async def main(data_dir: Path, base: int, first_id: int) -> None:
    backend = ChdbBackend(data_dir / "chdb")
    store = SpanStore(
        backend, data_dir, flush_interval_ms=30, flush_max_spans=100, wal_segment_bytes=16 * 1024
    )
    await store.start()
    print("ready", flush=True)
    ids = itertools.count(first_id)

    async def appender() -> None:
        while True:
            i = next(ids)
            await store.append(make(i, base))
            print(i, flush=True)

    await asyncio.gather(*(appender() for _ in range(4)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
