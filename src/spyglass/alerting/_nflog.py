"""The notification log: what each integration was last told about each aggregation group.

One entry per (group key, receiver, integration name, integration index), as Alertmanager's
nflog keeps them: the fingerprints of the firing and of the resolved alerts of the last
successful notification and when it happened. The dedup stage compares a flush with the entry
to decide whether to send; a successful send replaces the entry. Entries live in the
control-plane ``StateStore`` and expire after the retention (Alertmanager's default: 120h), so a
restarted Spyglass neither repeats nor forgets a notification.

``load`` reads every entry once at start; from then on queries are answered from memory and
writes go to memory and the store, so no database round trip stands between a flush and its
delivery (a busy SQLite file delayed first notifications by a second). Nodes sharing a
PostgreSQL store therefore do not see each other's sends; the router is not clustered either.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spyglass.storage.ports import StateStore

KIND = "alertmanager.nflog"
DEFAULT_RETENTION_MS = 120 * 3600_000
_PAGE = 500


@dataclass(frozen=True, slots=True)
class ReceiverKey:
    """One integration of a receiver: Alertmanager's ``nflogpb.Receiver``."""

    receiver: str
    integration: str
    index: int

    def __str__(self) -> str:
        return f"{self.receiver}/{self.integration}/{self.index}"


@dataclass(frozen=True, slots=True)
class Entry:
    """The last successful notification of one group to one integration."""

    firing: frozenset[str]
    resolved: frozenset[str]
    timestamp_ms: int


class NotificationLog:
    """Entries in a ``StateStore`` (synchronous calls run in a worker thread)."""

    def __init__(self, store: StateStore, *, retention_ms: int = DEFAULT_RETENTION_MS) -> None:
        self.store = store
        self.retention_ms = retention_ms
        self._cache: dict[str, Entry] | None = None

    async def load(self) -> int:
        """Read every unexpired entry into memory; how many there were."""
        self._cache = await asyncio.to_thread(self._read_all)
        return len(self._cache)

    def _read_all(self) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        after = ""
        while True:
            page = self.store.scan(KIND, start_after=after, limit=_PAGE)
            out.update((doc.key, _entry(doc.value)) for doc in page)
            if len(page) < _PAGE:
                return out
            after = page[-1].key

    async def query(self, group_key: str, receiver: ReceiverKey, now_ms: int) -> Entry | None:
        """The entry of ``group_key`` for ``receiver``, if it has one that has not expired."""
        key = _key(group_key, receiver)
        if self._cache is not None:
            entry = self._cache.get(key)
            if entry is not None and entry.timestamp_ms + self.retention_ms <= now_ms:
                del self._cache[key]
                return None
            return entry
        doc = await asyncio.to_thread(self.store.get, KIND, key)
        return None if doc is None else _entry(doc.value)

    async def log(
        self,
        group_key: str,
        receiver: ReceiverKey,
        firing: Iterable[str],
        resolved: Iterable[str],
        now_ms: int,
    ) -> None:
        """Record a successful notification at ``now_ms``."""
        key = _key(group_key, receiver)
        entry = Entry(frozenset(firing), frozenset(resolved), now_ms)
        if self._cache is not None:
            self._cache[key] = entry
        value = {
            "groupKey": group_key,
            "receiver": str(receiver),
            "firing": sorted(entry.firing),
            "resolved": sorted(entry.resolved),
            "timestampMs": now_ms,
        }
        await asyncio.to_thread(
            self.store.put,
            KIND,
            key,
            value,
            expires_ms=now_ms + self.retention_ms,
        )


def _entry(value: dict[str, Any]) -> Entry:
    return Entry(
        frozenset(map(str, value["firing"])),
        frozenset(map(str, value["resolved"])),
        int(value["timestampMs"]),
    )


def _key(group_key: str, receiver: ReceiverKey) -> str:
    # Group keys hold any label text and may be long; the store's keys are bounded, so the key is
    # a digest and the readable parts live in the value.
    raw = f"{group_key}\x00{receiver}".encode()
    return hashlib.sha256(raw).hexdigest()


__all__ = ["DEFAULT_RETENTION_MS", "KIND", "Entry", "NotificationLog", "ReceiverKey"]
