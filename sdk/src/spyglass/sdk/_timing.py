"""Time and count any function or block: ``@timed("checkout")`` or ``with timed(...)``.

Each name gets a histogram ``<name>_duration_seconds`` and a counter ``<name>_total``, both
labelled with the caller's labels plus ``outcome`` (``success`` or ``error``). Metrics are
created on first use, in the registry given, else the registry of the latest ``instrument()``
call, else prometheus_client's global one; so a decorator at import time works before the app
is instrumented. Recording never raises into the timed code.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

_log = logging.getLogger("spyglass.sdk")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_default: list[CollectorRegistry] = []
# (id(registry), metric name) -> (registry, collector); the registry is kept so its id stays its.
_metrics: dict[tuple[int, str], tuple[CollectorRegistry, Any]] = {}


def set_default_registry(registry: CollectorRegistry) -> None:
    """Make ``registry`` where helpers record when not given one (``instrument()`` calls it)."""
    with _lock:
        _default[:] = [registry]


def _registry(given: CollectorRegistry | None) -> CollectorRegistry:
    if given is not None:
        return given
    return _default[0] if _default else REGISTRY


def _collector(
    registry: CollectorRegistry, kind: type[Any], name: str, doc: str, labels: tuple[str, ...]
) -> Any:
    key = (id(registry), name)
    with _lock:
        found = _metrics.get(key)
        if found is not None:
            return found[1]
        metric = kind(name, doc, labels, registry=registry)
        _metrics[key] = (registry, metric)
        return metric


class Timed:
    """Decorator (sync or async functions) and context manager (``with`` / ``async with``).

    Use a fresh ``timed(...)`` per ``with`` block when blocks of one object may overlap in
    concurrent tasks; as a decorator one object serves any number of concurrent calls.
    """

    def __init__(
        self,
        duration_name: str,
        count_name: str,
        labels: dict[str, str] | None,
        registry: CollectorRegistry | None,
        doc: str,
    ) -> None:
        for metric_name in (duration_name, count_name):
            if not _NAME.fullmatch(metric_name):
                raise ValueError(f"not a valid metric name: {metric_name!r}")
        self.duration_name = duration_name
        self.count_name = count_name
        self.labels = {str(k): str(v) for k, v in (labels or {}).items()}
        if "outcome" in self.labels:
            raise ValueError("the label 'outcome' is set by timed() itself")
        self.registry = registry
        self.doc = doc
        self._starts: list[float] = []

    def record(self, seconds: float, outcome: str) -> None:
        """Record one timed call (``outcome`` is ``success`` or ``error``); never raises."""
        try:
            registry = _registry(self.registry)
            names = (*sorted(self.labels), "outcome")
            values = [self.labels[k] for k in names[:-1]]
            hist = _collector(registry, Histogram, self.duration_name, self.doc, names)
            count = _collector(registry, Counter, self.count_name, self.doc, names)
            hist.labels(*values, outcome).observe(seconds)
            count.labels(*values, outcome).inc()
        except Exception:  # noqa: BLE001 - metrics must not break the code they measure
            _log.warning("spyglass.sdk: recording %s failed", self.duration_name, exc_info=True)

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                outcome = "error"
                try:
                    result = await func(*args, **kwargs)
                    outcome = "success"
                    return result
                finally:
                    self.record(time.perf_counter() - start, outcome)

            return cast(F, timed_async)

        @functools.wraps(func)
        def timed_sync(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            outcome = "error"
            try:
                result = func(*args, **kwargs)
                outcome = "success"
                return result
            finally:
                self.record(time.perf_counter() - start, outcome)

        return cast(F, timed_sync)

    def __enter__(self) -> Timed:
        self._starts.append(time.perf_counter())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        start = self._starts.pop() if self._starts else time.perf_counter()
        self.record(time.perf_counter() - start, "success" if exc_type is None else "error")

    async def __aenter__(self) -> Timed:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def timed(
    name: str, labels: dict[str, str] | None = None, *, registry: CollectorRegistry | None = None
) -> Timed:
    """Time and count a function or block as ``<name>_duration_seconds`` / ``<name>_total``."""
    return Timed(
        f"{name}_duration_seconds", f"{name}_total", labels, registry, f"Timed block {name}."
    )


def track_external_call(
    service: str, operation: str = "call", *, registry: CollectorRegistry | None = None
) -> Timed:
    """Time and count calls to an external API as ``external_call_duration_seconds`` /
    ``external_calls_total`` labelled ``service``, ``operation`` and ``outcome``."""
    return Timed(
        "external_call_duration_seconds",
        "external_calls_total",
        {"service": service, "operation": operation},
        registry,
        "Calls to external services.",
    )


__all__ = ["Timed", "set_default_registry", "timed", "track_external_call"]
