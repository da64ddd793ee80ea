"""The router's clock: what time it is and how to wait, one object tests can replace.

Every timing decision of the router (group waits and intervals, resolve timeouts, retry backoff,
the notification log's repeat interval) reads ``now_ms`` and waits with ``sleep``, so unit tests
drive hours of routing in microseconds with a ``ManualClock`` and assert exact times.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock milliseconds and an awaitable wait."""

    def now_ms(self) -> int:
        """Milliseconds since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real time and ``asyncio.sleep``."""

    def now_ms(self) -> int:
        """``time.time()`` in milliseconds."""
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to; ``sleep`` moves it by the time slept."""

    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        """The current fake time."""
        return self.now

    def advance(self, ms: int) -> None:
        """Move time forward by ``ms``."""
        self.now += ms

    async def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` and yield to the event loop once."""
        self.now += max(0, round(seconds * 1000))
        await asyncio.sleep(0)


__all__ = ["Clock", "ManualClock", "SystemClock"]
