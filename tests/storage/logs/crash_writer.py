"""Load generator for the logs crash test: appends batches forever, printing each acknowledged id.

Run as ``python crash_writer.py DATA_DIR BASE_NS FIRST_ID``. Batch ``i`` holds ``LINES`` records
of stream ``{job="crash"}`` at ``BASE_NS + i * 1000 + k`` with line ``"<i> <k>"``. An id is printed
only after ``await store.append()`` returned, i.e. after the WAL fsync. Several appenders run at
once and the store flushes every 30 ms, so inserts and checkpoints happen during the kill.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

from spyglass.core.logs import LogBatch, LogRecord
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.logs import LogStore

LINES = 20
STREAM = (("job", "crash"),)


def make(i: int, base: int) -> LogBatch:
    return LogBatch.of(LogRecord(base + i * 1000 + k, f"{i} {k}", STREAM) for k in range(LINES))


async def main(data_dir: Path, base: int, first_id: int) -> None:
    backend = ChdbBackend(data_dir / "chdb")
    store = LogStore(
        backend, data_dir, flush_interval_ms=30, flush_max_records=400, wal_segment_bytes=16 * 1024
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
