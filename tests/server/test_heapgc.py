"""HeapGC freezes what survives a full collection, still collects cycles made later, thaws now
and then, and leaves the collector as it found it when stopped."""

from __future__ import annotations

import asyncio
import gc
import weakref

from spyglass.server.heapgc import HeapGC


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle nobody else holds, and a weak reference to watch it go."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def _metrics(heap: HeapGC) -> dict[str, float]:
    return {s.name: s.value for m in heap.collectors()[0].collect() for s in m.samples}


def test_survivors_of_a_full_collection_are_frozen_and_new_cycles_still_go() -> None:
    asyncio.run(_test_survivors_of_a_full_collection_are_frozen_and_new_cycles_still_go())


async def _test_survivors_of_a_full_collection_are_frozen_and_new_cycles_still_go() -> None:
    heap = HeapGC()
    await heap.start()
    try:
        kept = _Node()  # alive through the full pass: frozen with the rest
        gc.collect()
        assert gc.get_freeze_count() > 0
        assert heap.freezes == 1
        frozen = gc.get_freeze_count()
        # A cycle made after the freeze is young: the next collection frees it.
        ref = _cycle()
        gc.collect()
        assert ref() is None
        assert gc.get_freeze_count() >= frozen
        assert _metrics(heap)["spyglass_gc_freezes_total"] == 2
        assert _metrics(heap)["spyglass_gc_frozen_objects"] == gc.get_freeze_count()
        del kept
    finally:
        await heap.stop()
    assert gc.get_freeze_count() == 0
    assert heap._on_collect not in gc.callbacks
    gc.collect()
    assert heap.freezes == 2  # unhooked: no more freezing


def test_young_collections_do_not_freeze() -> None:
    asyncio.run(_test_young_collections_do_not_freeze())


async def _test_young_collections_do_not_freeze() -> None:
    heap = HeapGC()
    await heap.start()
    try:
        gc.collect(0)
        gc.collect(1)
        assert heap.freezes == 0
        assert gc.get_freeze_count() == 0
    finally:
        await heap.stop()


def test_thawing_lets_a_full_pass_free_a_cycle_that_died_frozen() -> None:
    asyncio.run(_test_thawing_lets_a_full_pass_free_a_cycle_that_died_frozen())


async def _test_thawing_lets_a_full_pass_free_a_cycle_that_died_frozen() -> None:
    heap = HeapGC(thaw_s=0.05)
    await heap.start()
    try:
        gc.collect(0)
        ref = _cycle()
        gc.collect()  # the cycle is unreachable now: freed, not frozen
        assert ref() is None
        # A cycle alive at the full pass is frozen; dropped later, only a thaw lets it go.
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        watch = weakref.ref(a)
        gc.collect()
        del a, b
        gc.collect()
        still_there = watch() is not None  # frozen: the full pass skipped it
        for _ in range(100):
            await asyncio.sleep(0.01)
            if gc.get_freeze_count() == 0:
                break
        assert gc.get_freeze_count() == 0  # thawed by the timer
        gc.collect()
        assert still_there
        assert watch() is None
    finally:
        await heap.stop()
