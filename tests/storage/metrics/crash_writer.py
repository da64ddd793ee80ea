"""Load generator for the crash test: appends batches forever, printing each acknowledged id.

Run as ``python crash_writer.py DATA_DIR BASE_MS FIRST_ID``. Batch ``i`` holds one sample for
each of ``SERIES`` series ``crash_test{s="k"}`` at ``BASE_MS + i * 1000`` with value
``i * 1000 + k``.
An id is printed only after ``await store.append()`` returned, i.e. after the WAL fsync.
Several appenders run at once so group commit and background flushes happen during the kill.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

import numpy as np

from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.samples import SampleBatch
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.metrics import MetricsStore

SERIES = 100
LABELS = [labels_of({"__name__": "crash_test", "s": str(k)}) for k in range(SERIES)]
FPS = np.array([fingerprint(ls) for ls in LABELS], dtype=np.uint64)


def make(i: int, base: int) -> SampleBatch:
    return SampleBatch(
        {int(fp): ls for fp, ls in zip(FPS, LABELS, strict=True)},
        FPS.copy(),
        np.full(SERIES, base + i * 1000, dtype=np.int64),
        np.arange(SERIES, dtype=np.float64) + i * 1000,
    )


async def main(data_dir: Path, base: int, first_id: int) -> None:
    backend = ChdbBackend(data_dir / "chdb")
    store = MetricsStore(
        backend,
        data_dir,
        flush_interval_ms=30,
        flush_max_samples=2_000,
        wal_segment_bytes=64 * 1024,
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
