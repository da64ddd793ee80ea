"""Every acknowledged error event survives ``kill -9`` mid-load and is counted into its issue
exactly once: stored and readable, and the issues' counts equal the events stored (none lost
between the WAL append and the issue update, none counted twice by the replay)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.support.crash import run_and_kill

from spyglass.core.error_issues import IssueQuery
from spyglass.errors import ErrorTracker
from spyglass.storage import ErrorEventQuery
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.errors import ErrorStore, SqlIssueStore
from spyglass.storage.state import open_state_store

WRITER = Path(__file__).with_name("crash_writer.py")
EVENTS = 5
ACKS_BEFORE_KILL = 60


class NoAlerts:
    def send(self, alerts: object) -> None:
        del alerts


def test_acknowledged_error_events_survive_sigkill_counted_once(tmp_path: Path) -> None:
    """Killed twice: the second run replays (and counts) the first run's WAL, then is killed
    mid-load too."""
    base = time.time_ns() - 3600 * 10**9
    acked = run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 0)
    acked += run_and_kill(WRITER, ACKS_BEFORE_KILL, tmp_path, base, 100_000)

    async def check() -> None:
        backend = ChdbBackend(tmp_path / "chdb")
        state = open_state_store("", tmp_path)
        store = ErrorStore(backend, tmp_path)
        issues = SqlIssueStore(state)
        tracker = ErrorTracker(
            store,
            issues,
            NoAlerts(),
            external_url="http://h",
            retention_ms=15 * 86_400_000,
        )
        try:
            await store.start()
            await tracker.start()
            for flushed in (False, True):
                stored = store.error_events(ErrorEventQuery(limit=10_000))
                ids = [e.event_id for e in stored]
                assert len(ids) == len(set(ids))
                missing = [
                    i for i in acked if any(f"{i * EVENTS + k:032x}" not in ids for k in range(5))
                ]
                assert missing == [], f"acknowledged events lost: {missing[:10]}"
                counted = sum(i.count for i in issues.search(IssueQuery()).issues)
                assert counted == len(ids), "issues count each stored event once"
                if not flushed:
                    await asyncio.to_thread(store.flush_now)
            assert issues.search(IssueQuery()).total == 3
        finally:
            await tracker.stop()
            await store.close()
            state.close()
            backend.close()

    asyncio.run(check())
