"""Built-in health checks: SQLAlchemy, Redis, an HTTP dependency, disk, CPU and memory.

Each factory returns a ``HealthCheck`` to pass to ``Health.add``. Client libraries are imported
only when the check runs, so the SDK does not depend on them.
"""

from __future__ import annotations

import inspect
import shutil
import uuid
from typing import Any

from spyglass.sdk._health import (
    DEFAULT_TIMEOUT_S,
    HealthCheck,
    Outcome,
    Status,
    in_daemon_thread,
)


def _threshold(
    value: float, warn: float, fail: float, what: str, details: dict[str, Any]
) -> Outcome:
    if value >= fail:
        return Outcome(Status.UNHEALTHY, f"{what} {value:.1f}% >= {fail:g}%", details)
    if value >= warn:
        return Outcome(Status.DEGRADED, f"{what} {value:.1f}% >= {warn:g}%", details)
    return Outcome(Status.HEALTHY, f"{what} {value:.1f}%", details)


def sqlalchemy_check(
    engine: Any,
    name: str = "database",
    *,
    critical: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> HealthCheck:
    """``SELECT 1`` on a SQLAlchemy Engine or AsyncEngine; details carry the pool's numbers.

    A pooled connection the server has closed since its last use (the database restarted, or
    dropped idle connections) is not an outage: SQLAlchemy invalidates it on the error, and the
    check asks once more on a fresh connection before it reports anything.
    """

    async def check() -> Outcome:
        from sqlalchemy import text  # noqa: PLC0415 - optional dependency
        from sqlalchemy.exc import DBAPIError  # noqa: PLC0415

        def select_one() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        sync_engine = getattr(engine, "sync_engine", None)
        for attempt in (1, 2):
            try:
                if sync_engine is not None:  # AsyncEngine
                    async with engine.connect() as conn:
                        await conn.execute(text("SELECT 1"))
                else:
                    await in_daemon_thread(select_one)
                break
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        pool = (sync_engine or engine).pool
        return Outcome(details=_pool_stats(pool))

    return HealthCheck(name, check, critical, timeout_s)


def _pool_stats(pool: Any) -> dict[str, Any]:
    stats: dict[str, Any] = {"pool": type(pool).__name__}
    for key in ("size", "checkedin", "checkedout", "overflow"):
        getter = getattr(pool, key, None)
        if callable(getter):
            try:
                stats[key] = int(getter())
            except Exception:  # noqa: BLE001, S112 - some pool classes lack the numbers
                continue
    return stats


def redis_check(
    client: Any,
    name: str = "redis",
    *,
    critical: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    key_prefix: str = "spyglass:health:",
) -> HealthCheck:
    """PING, then SET and GET of a short-lived key; ``client`` is redis.Redis or redis.asyncio."""

    async def check() -> Outcome:
        key = key_prefix + uuid.uuid4().hex
        token = uuid.uuid4().hex

        async def call(method: str, *args: Any, **kwargs: Any) -> Any:
            fn = getattr(client, method)
            if inspect.iscoroutinefunction(fn):
                return await fn(*args, **kwargs)
            value = await in_daemon_thread(lambda: fn(*args, **kwargs))
            return await value if inspect.isawaitable(value) else value

        if not await call("ping"):
            return Outcome(Status.UNHEALTHY, "PING failed")
        await call("set", key, token, ex=10)
        got = await call("get", key)
        await call("delete", key)
        if isinstance(got, bytes):
            got = got.decode("utf-8", "replace")
        if got != token:
            return Outcome(Status.UNHEALTHY, "GET did not return what SET stored")
        return Outcome()

    return HealthCheck(name, check, critical, timeout_s)


def http_check(
    url: str,
    name: str | None = None,
    *,
    expected_status: int | tuple[int, ...] = 200,
    critical: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> HealthCheck:
    """GET ``url`` with httpx; healthy when the status is the expected one (non-critical)."""
    expected = (expected_status,) if isinstance(expected_status, int) else expected_status

    async def check() -> Outcome:
        import httpx  # noqa: PLC0415 - optional dependency

        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(url)
        details = {"url": url, "status_code": response.status_code}
        if response.status_code not in expected:
            return Outcome(Status.UNHEALTHY, f"HTTP {response.status_code}", details)
        return Outcome(details=details)

    return HealthCheck(name or f"http:{url}", check, critical, timeout_s)


def disk_check(
    path: str = "/",
    name: str = "disk",
    *,
    warn_percent: float = 80.0,
    fail_percent: float = 95.0,
    critical: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> HealthCheck:
    """Used share of the filesystem holding ``path``: degraded at warn, failing at fail."""

    def check() -> Outcome:
        usage = shutil.disk_usage(path)
        percent = 100.0 * usage.used / usage.total if usage.total else 100.0
        details = {"path": path, "used_percent": round(percent, 2), "free_bytes": usage.free}
        return _threshold(percent, warn_percent, fail_percent, "disk used", details)

    return HealthCheck(name, check, critical, timeout_s)


def cpu_check(
    name: str = "cpu",
    *,
    warn_percent: float = 85.0,
    fail_percent: float = 95.0,
    critical: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> HealthCheck:
    """System CPU use since the previous call (psutil): degraded at warn, failing at fail."""

    def check() -> Outcome:
        import psutil  # noqa: PLC0415 - optional dependency

        # interval=None compares with the previous call instead of sleeping in the check.
        percent = float(psutil.cpu_percent(interval=None))
        return _threshold(percent, warn_percent, fail_percent, "cpu", {"percent": percent})

    return HealthCheck(name, check, critical, timeout_s)


def memory_check(
    name: str = "memory",
    *,
    warn_percent: float = 85.0,
    fail_percent: float = 95.0,
    critical: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> HealthCheck:
    """Used share of system memory (psutil): degraded at warn, failing at fail."""

    def check() -> Outcome:
        import psutil  # noqa: PLC0415 - optional dependency

        mem = psutil.virtual_memory()
        details = {"percent": float(mem.percent), "available_bytes": int(mem.available)}
        return _threshold(float(mem.percent), warn_percent, fail_percent, "memory", details)

    return HealthCheck(name, check, critical, timeout_s)


__all__ = [
    "cpu_check",
    "disk_check",
    "http_check",
    "memory_check",
    "redis_check",
    "sqlalchemy_check",
]
