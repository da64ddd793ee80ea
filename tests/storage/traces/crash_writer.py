"""Load generator for the spans crash test: appends batches forever, printing each acknowledged id.

Run as ``python crash_writer.py DATA_DIR BASE_NS FIRST_ID``. Batch ``i`` is trace ``i`` (its id
``i`` in hex, 32 digits): a root span and ``SPANS - 1`` children of service ``crash`` starting
at ``BASE_NS + i * 1000``. An id is printed only after ``await store.append()`` returned, i.e.
after the WAL fsync. Several appenders run at once and the store flushes every 30 ms, so
inserts and checkpoints happen during the kill.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

from spyglass.core.spans import Span, SpanBatch
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.traces import SpanStore

SPANS = 5
RESOURCE = {"service.name": "crash"}


def make(i: int, base: int) -> SpanBatch:
    trace = f"{i + 1:032x}"
    return SpanBatch(
        tuple(
            Span(trace, f"{k + 1:016x}", f"op {k}", base + i * 1000 + k, 10, "crash",
                 parent_span_id="" if k == 0 else f"{1:016x}", resource=RESOURCE)
            for k in range(SPANS)
        )
    )  # fmt: skip


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
