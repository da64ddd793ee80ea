"""Notification history: every delivery the router attempted, kept to look back at.

The notification log (``_nflog``) remembers only the last successful send per group and
integration, which is what dedup needs; people asking "who was told what, when, and did it
work" need every attempt. Each attempt that ends (sent, or failed after its retries) appends
one entry to the state store's ``notifications`` journal, so the history survives a restart and
every node sharing the store writes to the same one; the newest entries are also kept in memory
for the page and the API. Entries older than the retention are trimmed.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from spyglass.storage.ports import JournalEntry, StateStore

JOURNAL = "notifications"
RETENTION_MS = 120 * 3_600_000  # as the notification log keeps its entries
KEEP_IN_MEMORY = 1_000
_PAGE = 1_000
_NAMES_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Delivery:
    """One ended delivery attempt of a flush to one integration of a receiver."""

    time_ms: int
    receiver: str
    integration: str
    index: int
    group_key: str
    firing: int
    resolved: int
    alertnames: tuple[str, ...]
    ok: bool
    error: str = ""

    def value(self) -> dict[str, object]:
        """The journal entry's JSON object."""
        return {
            "receiver": self.receiver,
            "integration": self.integration,
            "index": self.index,
            "groupKey": self.group_key,
            "firing": self.firing,
            "resolved": self.resolved,
            "alertnames": list(self.alertnames),
            "ok": self.ok,
            "error": self.error,
        }


def delivery(
    time_ms: int,
    *,
    receiver: str,
    integration: str,
    index: int,
    group_key: str,
    alertnames: Sequence[str],
    firing: int,
    resolved: int,
    error: str = "",
) -> Delivery:
    """A ``Delivery``: the distinct alert names (the first few), failed when ``error`` is set."""
    names = tuple(dict.fromkeys(alertnames))[:_NAMES_SHOWN]
    return Delivery(
        time_ms, receiver, integration, index, group_key, firing, resolved, names, not error, error
    )


class NotificationHistory:
    """The ``notifications`` journal, with the newest entries in memory."""

    def __init__(self, state: StateStore) -> None:
        self.state = state
        self._recent: deque[Delivery] = deque(maxlen=KEEP_IN_MEMORY)
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read the journal's newest entries into memory (at start)."""
        after = 0
        while True:
            page = self.state.read(JOURNAL, after_id=after, limit=_PAGE)
            with self._lock:
                self._recent.extend(_decode(e) for e in page)
            if len(page) < _PAGE:
                return
            after = page[-1].id

    def record(self, entry: Delivery) -> None:
        """Append one delivery (blocking: callers on the event loop use a thread)."""
        self.state.append(JOURNAL, entry.value(), time_ms=entry.time_ms)
        with self._lock:
            self._recent.append(entry)

    def recent(self, limit: int = 100) -> list[Delivery]:
        """The newest ``limit`` deliveries, newest first."""
        with self._lock:
            items = list(self._recent)
        return items[::-1][:limit]

    def trim(self, now_ms: int) -> int:
        """Forget entries older than the retention; how many went from the journal."""
        return self.state.trim(JOURNAL, now_ms - RETENTION_MS)


def _decode(entry: JournalEntry) -> Delivery:
    v = entry.value
    return Delivery(
        time_ms=entry.time_ms,
        receiver=str(v.get("receiver", "")),
        integration=str(v.get("integration", "")),
        index=int(v.get("index", 0)),
        group_key=str(v.get("groupKey", "")),
        firing=int(v.get("firing", 0)),
        resolved=int(v.get("resolved", 0)),
        alertnames=tuple(str(n) for n in v.get("alertnames", [])),
        ok=bool(v.get("ok", False)),
        error=str(v.get("error", "")),
    )


__all__ = ["JOURNAL", "Delivery", "NotificationHistory", "delivery"]
