"""Traffic for the demo service: browsing, checkouts, missing items and the odd crash."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class TrafficStats:
    """Responses by status code (0: no response)."""

    codes: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.codes.values())


async def generate_traffic(
    base_url: str,
    *,
    rate_per_s: float = 20.0,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    seed: int | None = None,
) -> TrafficStats:
    """Send about ``rate_per_s`` requests a second until ``duration_s`` passes or ``stop`` is set.

    The mix: mostly item views (some for items that do not exist), checkouts (some slow, some
    failing inside the app) and rarely a route that raises.
    """
    rng = random.Random(seed)
    stats = TrafficStats()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration_s if duration_s is not None else None
    pending: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:

        async def one() -> None:
            roll = rng.random()
            try:
                if roll < 0.6:
                    r = await client.get(f"/items/{rng.randint(1, 110)}")
                elif roll < 0.75:
                    r = await client.get("/items")
                elif roll < 0.98:
                    r = await client.post("/checkout")
                else:
                    r = await client.get("/boom")
                stats.codes[r.status_code] += 1
            except httpx.HTTPError:
                stats.codes[0] += 1

        while not stop.is_set() and (deadline is None or loop.time() < deadline):
            task = asyncio.create_task(one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=rng.expovariate(rate_per_s))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    return stats


__all__ = ["TrafficStats", "generate_traffic"]
