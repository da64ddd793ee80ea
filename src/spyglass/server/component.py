"""Components: the running parts of Spyglass, and the assembly that starts and stops them.

A component (an ingest protocol, the scrape manager, a signal's storage, an API, later the rule
evaluator, the router, a UI section) starts, stops, offers HTTP routes and offers collectors for
``/metrics``; one that reads config files also reloads. The server mounts whatever list the
composition root (``runtime.py``) hands it, so adding a domain adds a component and never edits
the server. ``Part`` makes a component out of plain callables, which is what most parts need.

``Assembly`` starts components in list order and stops them in reverse (an
``AsyncExitStack``), so what starts first (storage) stops last, after everything feeding it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from prometheus_client.registry import Collector
from starlette.routing import BaseRoute

from spyglass.core.config import Config

log = logging.getLogger("spyglass")


class Component(Protocol):
    """A running part of Spyglass."""

    @property
    def name(self) -> str:
        """Short name used in logs (``storage``, ``scrape``, ``otlp-grpc``...)."""
        ...

    def start(self) -> Awaitable[None]:
        """Begin work; raising aborts start-up (components started before are stopped)."""
        ...

    def stop(self) -> Awaitable[None]:
        """End work; called once, in reverse start order, also after a failed start-up."""
        ...

    def routes(self) -> Sequence[BaseRoute]:
        """HTTP routes the component serves."""
        ...

    def collectors(self) -> Sequence[Collector]:
        """prometheus_client collectors for its statistics on ``/metrics``."""
        ...


@runtime_checkable
class Reloadable(Protocol):
    """A component that reads config files and applies them again on reload."""

    def reload(self, config: Config) -> Awaitable[None]:
        """Apply ``config`` (and re-read its own files); on error raise and keep the old state."""
        ...


async def _nothing() -> None:
    return None


def _no_routes() -> Sequence[BaseRoute]:
    return ()


def _no_collectors() -> Sequence[Collector]:
    return ()


@dataclass(frozen=True)
class Part:
    """A component made of callables; every one is optional."""

    name: str
    start: Callable[[], Awaitable[None]] = _nothing
    stop: Callable[[], Awaitable[None]] = _nothing
    routes: Callable[[], Sequence[BaseRoute]] = _no_routes
    collectors: Callable[[], Sequence[Collector]] = _no_collectors


@dataclass(frozen=True)
class ReloadablePart(Part):
    """A ``Part`` that also reloads."""

    reload: Callable[[Config], Awaitable[None]] = lambda config: _nothing()


class Assembly:
    """Components started in order and stopped in reverse."""

    def __init__(self, components: Sequence[Component]) -> None:
        self.components = list(components)
        self._stack: contextlib.AsyncExitStack | None = None

    def routes(self) -> list[BaseRoute]:
        """Every component's routes, in component order."""
        return [r for c in self.components for r in c.routes()]

    def collectors(self) -> list[Collector]:
        """Every component's collectors."""
        return [x for c in self.components for x in c.collectors()]

    def reloadable(self) -> list[Reloadable]:
        """The components that reload config."""
        return [c for c in self.components if isinstance(c, Reloadable)]

    async def start(self) -> None:
        """Start each component; if one fails, stop those already started and raise."""
        if self._stack is not None:
            return
        stack = contextlib.AsyncExitStack()
        self._stack = stack
        try:
            for c in self.components:
                log.debug("starting %s", c.name)
                await c.start()
                stack.push_async_callback(self._stop_one, c)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the started components in reverse order (idempotent)."""
        stack, self._stack = self._stack, contextlib.AsyncExitStack()
        if stack is not None:
            await stack.aclose()

    @staticmethod
    async def _stop_one(c: Component) -> None:
        log.debug("stopping %s", c.name)
        try:
            await c.stop()
        except Exception:  # one component's failure must not keep the rest running
            log.exception("stopping %s failed", c.name)


__all__ = ["Assembly", "Component", "Part", "Reloadable", "ReloadablePart"]
