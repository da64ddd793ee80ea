"""Load generator for the errors crash test: ingests events forever through an ``ErrorTracker``,
printing each acknowledged id.

Run as ``python crash_writer.py DATA_DIR BASE_NS FIRST_ID``. Request ``i`` holds ``EVENTS``
events with ids ``i * EVENTS + k``, raised from one of ``ISSUES`` places (``k % ISSUES``), at
``BASE_NS + i``. An id is printed only after ``tracker.ingest`` returned, i.e. after the WAL
fsync and the issue store's commit. Several requests run at once and the store flushes every
30 ms, so inserts, checkpoints and issue updates happen during the kill.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

from spyglass.core.alerts import Alert
from spyglass.core.error_events import ErrorBatch, ErrorEvent, Exception_, Frame
from spyglass.errors import ErrorTracker
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.errors import ErrorStore, SqlIssueStore
from spyglass.storage.state import open_state_store

EVENTS = 5
ISSUES = 3
RETENTION_MS = 15 * 86_400_000


def make(i: int, base: int) -> ErrorBatch:
    return ErrorBatch(
        tuple(
            ErrorEvent(
                project_id=1,
                event_id=f"{i * EVENTS + k:032x}",
                timestamp_ns=base + i,
                received_ns=base + i,
                exceptions=(Exception_("E", "x", frames=(Frame(f"place{k % ISSUES}", "app"),)),),
            )
            for k in range(EVENTS)
        )
    )


class NoAlerts:
    def send(self, alerts: Sequence[Alert]) -> None:
        del alerts


async def main(data_dir: Path, base: int, first_id: int) -> None:
    backend = ChdbBackend(data_dir / "chdb")
    state = open_state_store("", data_dir)
    store = ErrorStore(backend, data_dir, flush_interval_ms=30, flush_max_events=50)
    tracker = ErrorTracker(
        store,
        SqlIssueStore(state),
        NoAlerts(),
        external_url="http://h",
        retention_ms=RETENTION_MS,
        clock=lambda: base,
    )
    await store.start()
    await tracker.start()
    print("ready", flush=True)
    ids = itertools.count(first_id)

    async def sender() -> None:
        while True:
            i = next(ids)
            await tracker.ingest(make(i, base))
            print(i, flush=True)

    await asyncio.gather(*(sender() for _ in range(4)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
