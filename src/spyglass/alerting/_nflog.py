"""The notification log: what each integration was last told about each aggregation group.

One entry per (group key, receiver, integration name, integration index), as Alertmanager's
nflog keeps them: the fingerprints of the firing and of the resolved alerts of the last
successful notification and when it happened. The dedup stage compares a flush with the entry
to decide whether to send; a successful send replaces the entry. Entries live in the
control-plane ``StateStore`` and expire after the retention (Alertmanager's default: 120h), so a
restarted Spyglass, or another node sharing the store, neither repeats nor forgets a
notification.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from spyglass.storage.ports import StateStore

KIND = "alertmanager.nflog"
DEFAULT_RETENTION_MS = 120 * 3600_000


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

    async def query(self, group_key: str, receiver: ReceiverKey) -> Entry | None:
        """The entry of ``group_key`` for ``receiver``, if it has one that has not expired."""
        doc = await asyncio.to_thread(self.store.get, KIND, _key(group_key, receiver))
        if doc is None:
            return None
        v = doc.value
        return Entry(frozenset(v["firing"]), frozenset(v["resolved"]), int(v["timestampMs"]))

    async def log(
        self,
        group_key: str,
        receiver: ReceiverKey,
        firing: Iterable[str],
        resolved: Iterable[str],
        now_ms: int,
    ) -> None:
        """Record a successful notification at ``now_ms``."""
        value = {
            "groupKey": group_key,
            "receiver": str(receiver),
            "firing": sorted(firing),
            "resolved": sorted(resolved),
            "timestampMs": now_ms,
        }
        await asyncio.to_thread(
            self.store.put,
            KIND,
            _key(group_key, receiver),
            value,
            expires_ms=now_ms + self.retention_ms,
        )


def _key(group_key: str, receiver: ReceiverKey) -> str:
    # Group keys hold any label text and may be long; the store's keys are bounded, so the key is
    # a digest and the readable parts live in the value.
    raw = f"{group_key}\x00{receiver}".encode()
    return hashlib.sha256(raw).hexdigest()


__all__ = ["DEFAULT_RETENTION_MS", "KIND", "Entry", "NotificationLog", "ReceiverKey"]
