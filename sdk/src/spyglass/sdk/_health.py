"""Health checks: a small registry of checks run concurrently, each with its own timeout.

A check is any sync or async callable. It passes by returning None/True (or an ``Outcome`` for
details or a degraded state), fails by returning False, raising, or running past its timeout.
A failing critical check makes the service unhealthy (readiness 503); a failing non-critical
check only degrades it. Results are cached for a short TTL so probes from several load
balancers cost one round of checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

_log = logging.getLogger("spyglass.sdk.health")

DEFAULT_TIMEOUT_S = 2.0
DEFAULT_TTL_S = 2.0
# The name of the thread each sync check runs in.
CHECK_THREAD_NAME = "spyglass-health-check"


class Status(enum.StrEnum):
    """Health of one check or of the whole service."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class Outcome:
    """What a check may return to say more than pass/fail."""

    status: Status = Status.HEALTHY
    message: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """One check's result in a report."""

    name: str
    status: Status
    critical: bool
    duration_ms: float
    message: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "status": self.status.value,
            "critical": self.critical,
            "duration_ms": round(self.duration_ms, 3),
            "message": self.message,
        }
        if self.details:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True)
class Report:
    """The overall status and every check's result."""

    status: Status
    checks: tuple[CheckResult, ...]
    duration_ms: float
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as served on ``/health``."""
        return {
            "status": self.status.value,
            "duration_ms": round(self.duration_ms, 3),
            "timestamp": self.timestamp,
            "checks": {c.name: c.to_dict() for c in self.checks},
        }


CheckFunc = Callable[[], Any]
F = TypeVar("F", bound=CheckFunc)


@dataclass(frozen=True)
class HealthCheck:
    """A named check: ``func`` (sync or async), whether it is critical, and its timeout."""

    name: str
    func: CheckFunc
    critical: bool = True
    timeout_s: float = DEFAULT_TIMEOUT_S
    _running: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    async def run(self) -> CheckResult:
        """Run the check; never raises (a raising or slow check is a failed result)."""
        start = time.perf_counter()
        try:
            value = await asyncio.wait_for(self._call(), timeout=self.timeout_s)
            outcome = _outcome(value)
        except TimeoutError:
            outcome = Outcome(Status.UNHEALTHY, f"timed out after {self.timeout_s:g}s")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a check failing is what checks are for
            outcome = Outcome(Status.UNHEALTHY, f"{type(exc).__name__}: {exc}"[:500])
        status = outcome.status
        if not self.critical and status is Status.UNHEALTHY:
            status = Status.DEGRADED
        return CheckResult(
            name=self.name,
            status=status,
            critical=self.critical,
            duration_ms=(time.perf_counter() - start) * 1000,
            message=outcome.message,
            details=_safe_details(outcome.details),
        )

    async def _call(self) -> Any:
        if inspect.iscoroutinefunction(self.func):
            return await self.func()
        if self._running.get("thread", False):
            raise RuntimeError("the previous run of this check has not finished")
        value = await in_daemon_thread(self.func, self._running)
        if inspect.isawaitable(value):
            value = await value
        return value


async def in_daemon_thread(func: Callable[[], Any], running: dict[str, bool] | None = None) -> Any:
    """Run blocking ``func`` in a daemon thread and await its result.

    Sync checks do blocking I/O (a DB driver, psutil), so they stay off the event loop. Not the
    default executor: a thread cannot be cancelled, and a check hung in a driver would keep
    ``asyncio.run`` (and so uvicorn) from ever finishing its shutdown. ``running`` marks the
    thread busy until it returns, so a hung check is not started again and again.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # the caller timed out and went away
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = func()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
        finally:
            if running is not None:
                running["thread"] = False
        # A closed loop raises RuntimeError: then nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    if running is not None:
        running["thread"] = True
    threading.Thread(target=run, name=CHECK_THREAD_NAME, daemon=True).start()
    return await future


def _outcome(value: Any) -> Outcome:
    if value is None or value is True:
        return Outcome()
    if value is False:
        return Outcome(Status.UNHEALTHY, "check returned False")
    if isinstance(value, Outcome):
        return value
    if isinstance(value, Status):
        return Outcome(value)
    if isinstance(value, Mapping):
        return Outcome(details=value)
    if isinstance(value, str):
        return Outcome(message=value)
    return Outcome(message=repr(value)[:200])


def _safe_details(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in details.items():
        out[str(k)] = v if isinstance(v, str | int | float | bool) or v is None else repr(v)
    return out


def overall(results: tuple[CheckResult, ...]) -> Status:
    """Unhealthy if a critical check is; degraded if any check is not healthy; else healthy."""
    if any(r.critical and r.status is Status.UNHEALTHY for r in results):
        return Status.UNHEALTHY
    if any(r.status is not Status.HEALTHY for r in results):
        return Status.DEGRADED
    return Status.HEALTHY


class Health:
    """A set of checks and a cached report of their last run."""

    def __init__(
        self, *, ttl_s: float = DEFAULT_TTL_S, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._checks: dict[str, HealthCheck] = {}
        self._cached: Report | None = None
        self._running: asyncio.Future[Report] | None = None

    @property
    def checks(self) -> tuple[HealthCheck, ...]:
        """The registered checks."""
        return tuple(self._checks.values())

    def add(self, check: HealthCheck) -> HealthCheck:
        """Register ``check`` (replacing one of the same name)."""
        self._checks[check.name] = check
        self._cached = None
        return check

    def check(
        self, name: str, *, critical: bool = True, timeout_s: float | None = None
    ) -> Callable[[F], F]:
        """Decorator registering a sync or async function as the check ``name``."""

        def register(func: F) -> F:
            self.add(HealthCheck(name, func, critical, timeout_s or self.timeout_s))
            return func

        return register

    async def report(self, *, fresh: bool = False) -> Report:
        """Run all checks concurrently (or return the report cached within the TTL)."""
        cached = self._cached
        if not fresh and cached is not None and time.time() - cached.timestamp < self.ttl_s:
            return cached
        # Concurrent probes share one run instead of each starting the checks again.
        running = self._running
        if running is not None and not running.done():
            return await asyncio.shield(running)
        future: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._running = future
        try:
            report = await self._run()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a lone waiter-less failure must not warn
            raise
        finally:
            self._running = None
        future.set_result(report)
        self._cached = report
        return report

    async def _run(self) -> Report:
        start = time.perf_counter()
        results = tuple(await asyncio.gather(*(c.run() for c in self._checks.values())))
        return Report(
            status=overall(results),
            checks=results,
            duration_ms=(time.perf_counter() - start) * 1000,
            timestamp=time.time(),
        )


__all__ = [
    "CHECK_THREAD_NAME",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_TTL_S",
    "CheckResult",
    "Health",
    "HealthCheck",
    "Outcome",
    "Report",
    "Status",
    "in_daemon_thread",
    "overall",
]
