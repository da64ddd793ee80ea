"""The notification log: entries per group and integration in the state store, read back by the
next run, answered from memory once loaded, forgotten after the retention."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from spyglass.alerting import Entry, ManualClock, NotificationLog, ReceiverKey
from spyglass.storage.state import SqlStateStore, open_state_store

HOOK = ReceiverKey("team", "webhook", 0)
HOUR = 3600_000


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[ManualClock, SqlStateStore]]:
    clock = ManualClock(1_900_000_000_000)
    store = open_state_store("", tmp_path, clock=clock.now_ms)
    yield clock, store
    store.close()


def test_an_entry_written_by_one_run_is_read_by_the_next(
    db: tuple[ManualClock, SqlStateStore],
) -> None:
    clock, store = db
    now = clock.now

    async def go() -> tuple[Entry | None, Entry | None, Entry | None]:
        first = NotificationLog(store)
        await first.log('{}:{a="1"}', HOOK, ["f1", "f2"], ["r1"], now)
        second = NotificationLog(store)
        assert await second.load() == 1
        other = ReceiverKey("team", "webhook", 1)
        return (
            await second.query('{}:{a="1"}', HOOK, now),
            await second.query('{}:{a="1"}', other, now),
            await NotificationLog(store).query(
                '{}:{a="1"}', HOOK, now
            ),  # not loaded: from the store
        )

    loaded, other, direct = asyncio.run(go())
    assert loaded == Entry(frozenset({"f1", "f2"}), frozenset({"r1"}), now)
    assert other is None
    assert direct == loaded


def test_entries_are_forgotten_after_the_retention(db: tuple[ManualClock, SqlStateStore]) -> None:
    clock, store = db

    async def go() -> list[Entry | None]:
        log = NotificationLog(store, retention_ms=120 * HOUR)
        await log.load()
        await log.log("g", HOOK, ["f"], [], clock.now)
        got = [await log.query("g", HOOK, clock.now + 120 * HOUR - 1)]
        got.append(await log.query("g", HOOK, clock.now + 120 * HOUR))
        clock.advance(120 * HOUR)
        got.append(await NotificationLog(store).query("g", HOOK, clock.now))
        return got

    kept, forgotten, expired_in_store = asyncio.run(go())
    assert kept is not None
    assert forgotten is None
    assert expired_in_store is None
