"""Short garbage-collector pauses for a process that holds a large, long-lived heap.

CPython's full collection (generation 2) walks every container object the process holds: the
modules, the metrics head's series, the caches. With 100k series a full pass took 1-2 s on the
benchmark machine, and one came every few heavy queries (the objects a query keeps alive
while it runs are promoted and count towards the next full pass), stalling whatever ran then:
an ``up`` that Prometheus answers in 3 ms waited behind it.

Almost everything that survives a full pass lives long. ``HeapGC`` freezes it (``gc.freeze``)
at the end of each full pass, so the next pass walks only what was made since, and comes later
(CPython starts one when the objects promoted since the last pass reach a quarter of those
that survived it, frozen ones included). Freezing then is exact: a full pass has just
collected every unreachable cycle and emptied the younger generations, so what is frozen was
alive (bar what a finalizer run by that pass made and dropped). What freezing gives up is a
cycle among frozen objects that becomes garbage later (reference counting still frees
everything else); so every ``thaw_s`` (an hour) the frozen objects are thawed
(``gc.unfreeze``) and the next full pass looks at everything once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute

# How long objects stay frozen before a full pass looks at them again.
THAW_S = 3600.0


class HeapGC:
    """The component (``component.Component``) that freezes survivors of full collections."""

    name = "heap-gc"

    def __init__(self, thaw_s: float = THAW_S) -> None:
        self.thaw_s = thaw_s
        self.freezes = 0
        self._task: asyncio.Task[None] | None = None

    def _on_collect(self, phase: str, info: dict[str, Any]) -> None:
        # Runs inside the collector, in whichever thread triggered it: only the O(1) freeze.
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()
            self.freezes += 1

    async def start(self) -> None:
        """Hook the collector: from its next full pass on, the survivors are frozen."""
        if self._on_collect not in gc.callbacks:
            gc.callbacks.append(self._on_collect)
        self._task = asyncio.create_task(self._thaw_now_and_then())

    async def stop(self) -> None:
        """Unhook the collector and thaw everything."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_collect)
        gc.unfreeze()

    async def _thaw_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(self.thaw_s)
            gc.unfreeze()  # the next full pass walks everything, then freezes again

    def routes(self) -> Sequence[BaseRoute]:
        """No routes."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """``spyglass_gc_frozen_objects`` and ``spyglass_gc_freezes_total``."""
        return (_Stats(self),)


class _Stats(Collector):
    def __init__(self, owner: HeapGC) -> None:
        self.owner = owner

    def collect(self) -> list[Any]:
        frozen = GaugeMetricFamily(
            "spyglass_gc_frozen_objects",
            "Objects the garbage collector's full passes skip (frozen after the last one).",
        )
        frozen.add_metric([], gc.get_freeze_count())
        freezes = CounterMetricFamily(
            "spyglass_gc_freezes", "Full garbage collections whose survivors were frozen."
        )
        freezes.add_metric([], self.owner.freezes)
        return [frozen, freezes]


__all__ = ["THAW_S", "HeapGC"]
