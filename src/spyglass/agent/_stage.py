"""What every pipeline stage is: a small protocol, and the base of the one-entry-at-a-time ones.

A stage takes an entry and gives back the entries that go on to the next stage: usually the
same one (edited in place), none (dropped) or, for ``multiline``, entries it held back until a
new first line or a timeout. ``tick`` lets held entries out when time passes with no new line.
Entries that leave without going on (dropped, or folded into another entry) are appended to
``gone``, so the agent can stop waiting for their push before it moves the file position.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from spyglass.agent._entry import Entry


class Stage(Protocol):
    """One step of a ``pipeline_stages`` list."""

    def feed(self, entry: Entry, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """The entries that continue after ``entry`` went through this stage."""
        ...

    def tick(self, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """Entries this stage held and now lets out (``multiline`` after ``max_wait_time``)."""
        ...


class Drops:
    """Dropped entries counted by reason (Promtail's ``drop_counter_reason``)."""

    def __init__(self) -> None:
        self.by_reason: Counter[str] = Counter()

    def add(self, reason: str) -> None:
        """One more entry dropped for ``reason``."""
        self.by_reason[reason] += 1


class EntryStage:
    """A stage that edits one entry at a time: ``apply`` returns False to drop the entry."""

    def apply(self, entry: Entry, now_ns: int) -> bool:
        """Edit ``entry``; False drops it."""
        raise NotImplementedError

    def feed(self, entry: Entry, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """``[entry]``, or nothing when ``apply`` drops it."""
        if self.apply(entry, now_ns):
            return [entry]
        gone.append(entry)
        return []

    def tick(self, now_ns: int, gone: list[Entry]) -> list[Entry]:
        """Nothing: this kind of stage never holds entries."""
        del now_ns, gone
        return []


__all__ = ["Drops", "EntryStage", "Stage"]
