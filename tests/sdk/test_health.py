"""Health endpoints flip when real dependencies stop; broken checks never break the endpoint."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.sdk.conftest import PostgresServer, RedisServer, UvicornThread, run
from tests.support.servers import LoopbackHTTP, QuietHandler

from spyglass.sdk import (
    Health,
    HealthCheck,
    Outcome,
    Status,
    cpu_check,
    disk_check,
    http_check,
    instrument,
    memory_check,
    redis_check,
    sqlalchemy_check,
)


class Dependency:
    """A loopback HTTP server standing in for an external API; ``stop()`` takes it down."""

    def __init__(self) -> None:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._http = LoopbackHTTP(Handler)
        self.url = self._http.base_url + "/status"
        self.running = True

    def stop(self) -> None:
        if self.running:
            self._http.close()
            self.running = False


def starlette_app(health: Health) -> tuple[Starlette, Any]:
    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("home")

    app = Starlette(routes=[Route("/", home)])
    inst = instrument(app, service="deps", health=health, tracing=False, logging=False)
    return app, inst


def test_health_flips_when_http_dependency_and_redis_stop(redis_server: RedisServer) -> None:
    dependency = Dependency()
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=1)
    health = Health(ttl_s=0.0)
    health.add(http_check(dependency.url, "payments-api", timeout_s=1.0))  # non-critical
    health.add(redis_check(client, timeout_s=1.5))  # critical
    app, _inst = starlette_app(health)
    try:
        with UvicornThread(app) as server, httpx.Client(base_url=server.url) as c:
            doc = c.get("/health").json()
            assert doc["status"] == "healthy", doc
            assert set(doc["checks"]) == {"payments-api", "redis"}
            assert doc["checks"]["redis"]["status"] == "healthy"
            assert doc["checks"]["payments-api"]["details"]["status_code"] == 200
            assert c.get("/health/ready").status_code == 200

            dependency.stop()
            r = c.get("/health")
            doc = r.json()
            assert r.status_code == 200
            assert doc["status"] == "degraded"
            assert doc["checks"]["payments-api"]["status"] == "degraded"
            assert doc["checks"]["payments-api"]["message"]
            assert doc["checks"]["redis"]["status"] == "healthy"
            assert c.get("/health/ready").status_code == 200

            redis_server.stop()
            r = c.get("/health")
            doc = r.json()
            assert r.status_code == 503
            assert doc["status"] == "unhealthy"
            assert doc["checks"]["redis"]["status"] == "unhealthy"
            assert doc["checks"]["redis"]["critical"] is True
            ready = c.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unhealthy"
            # Liveness is about the process, not its dependencies; the app still serves.
            assert c.get("/health/live").status_code == 200
            assert c.get("/").text == "home"
    finally:
        dependency.stop()
        client.close()


@pytest.mark.parametrize("kind", ["Engine", "AsyncEngine"])
def test_database_check_flips_when_postgresql_stops_and_recovers_when_it_is_back(
    postgres_server: PostgresServer, kind: str
) -> None:
    engine: Any
    if kind == "AsyncEngine":
        url = postgres_server.url.replace("+psycopg", "+psycopg_async")
        engine = create_async_engine(url, pool_size=2, max_overflow=0)
    else:
        engine = create_engine(postgres_server.url, pool_size=2, max_overflow=0)
    health = Health(ttl_s=0.0)
    health.add(sqlalchemy_check(engine, timeout_s=5.0))
    app, _inst = starlette_app(health)
    try:
        with (
            UvicornThread(app) as server,
            httpx.Client(base_url=server.url, timeout=30) as c,
        ):
            doc = c.get("/health").json()
            assert doc["status"] == "healthy", doc
            database = doc["checks"]["database"]
            assert database["status"] == "healthy"
            # The pool's numbers after SELECT 1 gave its connection back.
            assert database["details"] == {
                "pool": "AsyncAdaptedQueuePool" if kind == "AsyncEngine" else "QueuePool",
                "size": 2, "checkedin": 1, "checkedout": 0, "overflow": -1,
            }  # fmt: skip

            postgres_server.stop()
            r = c.get("/health")
            doc = r.json()
            assert r.status_code == 503
            assert doc["checks"]["database"]["status"] == "unhealthy"
            assert doc["checks"]["database"]["message"]
            assert c.get("/health/ready").status_code == 503

            postgres_server.start()
            r = c.get("/health")
            assert r.status_code == 200, r.json()
            assert r.json()["checks"]["database"]["status"] == "healthy"
            assert c.get("/health/ready").status_code == 200

            # A restart between two probes: the pool still holds the connection PostgreSQL
            # closed. The database is up, so the next report must say so, not fail on it.
            postgres_server.stop()
            postgres_server.start()
            r = c.get("/health")
            assert r.status_code == 200, r.json()
            assert r.json()["checks"]["database"]["status"] == "healthy"
    finally:
        if kind == "AsyncEngine":
            run(engine.dispose())
        else:
            engine.dispose()


def test_broken_checks_never_break_the_endpoint() -> None:
    health = Health(ttl_s=0.0)

    @health.check("raises")
    def raises() -> None:
        raise RuntimeError("database exploded")

    @health.check("hangs", critical=False, timeout_s=0.2)
    async def hangs() -> None:
        await asyncio.sleep(30)

    @health.check("sync-hangs", critical=False, timeout_s=0.2)
    def sync_hangs() -> None:
        time.sleep(1)

    @health.check("odd-return", critical=False)
    def odd_return() -> object:
        return object()

    @health.check("returns-false", critical=False)
    async def returns_false() -> bool:
        return False

    @health.check("degrades", critical=False)
    def degrades() -> Outcome:
        return Outcome(Status.DEGRADED, "slow replica", {"lag_s": 12.5, "obj": object()})

    app, _inst = starlette_app(health)
    with UvicornThread(app) as server, httpx.Client(base_url=server.url) as c:
        r = c.get("/health")
        assert r.status_code == 503
        doc = r.json()
        checks = doc["checks"]
        assert doc["status"] == "unhealthy"
        assert checks["raises"]["status"] == "unhealthy"
        assert "database exploded" in checks["raises"]["message"]
        assert checks["hangs"]["status"] == "degraded"
        assert "timed out" in checks["hangs"]["message"]
        assert checks["sync-hangs"]["status"] == "degraded"
        assert checks["odd-return"]["status"] == "healthy"
        assert checks["returns-false"]["status"] == "degraded"
        assert checks["degrades"]["details"]["lag_s"] == 12.5
        assert all(isinstance(v["duration_ms"], float) for v in checks.values())
        assert c.get("/").text == "home"


def test_report_is_cached_for_the_ttl() -> None:
    calls = []
    health = Health(ttl_s=60.0)

    @health.check("counted")
    def counted() -> None:
        calls.append(1)

    async def three_reports() -> list[Any]:
        first = await health.report()
        second = await health.report()
        fresh = await health.report(fresh=True)
        return [first, second, fresh]

    first, second, fresh = asyncio.run(three_reports())
    assert first is second
    assert fresh is not first
    assert len(calls) == 2


def test_concurrent_probes_share_one_run() -> None:
    calls = []
    health = Health(ttl_s=0.0)

    @health.check("slow")
    async def slow() -> None:
        calls.append(1)
        await asyncio.sleep(0.05)

    async def many() -> list[Any]:
        return await asyncio.gather(*(health.report() for _ in range(10)))

    reports = asyncio.run(many())
    assert len(calls) == 1
    assert all(r is reports[0] for r in reports)


def test_builtin_sqlalchemy_and_resource_checks() -> None:
    engine = create_engine("sqlite://")
    health = Health(ttl_s=0.0)
    health.add(sqlalchemy_check(engine))
    health.add(disk_check("/", warn_percent=100.0, fail_percent=100.0))
    health.add(cpu_check(warn_percent=100.1, fail_percent=100.1))
    health.add(memory_check(warn_percent=100.1, fail_percent=100.1))
    report = asyncio.run(health.report())
    by_name = {c.name: c for c in report.checks}
    assert report.status is Status.HEALTHY, report
    assert by_name["database"].details["pool"]
    assert 0 <= by_name["memory"].details["percent"] <= 100
    assert by_name["disk"].details["free_bytes"] > 0

    strict = Health(ttl_s=0.0)
    strict.add(disk_check("/", warn_percent=0.0, fail_percent=100.1))
    strict.add(memory_check(warn_percent=0.0, fail_percent=0.0, critical=True))
    report = asyncio.run(strict.report())
    by_name = {c.name: c for c in report.checks}
    assert by_name["disk"].status is Status.DEGRADED
    assert by_name["memory"].status is Status.UNHEALTHY
    assert report.status is Status.UNHEALTHY
    engine.dispose()


def test_sqlalchemy_check_fails_when_the_database_is_unreachable(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    health = Health(ttl_s=0.0)
    health.add(sqlalchemy_check(engine))
    report = asyncio.run(health.report())
    assert report.status is Status.UNHEALTHY
    assert "OperationalError" in report.checks[0].message
    engine.dispose()


def test_check_objects_replace_by_name() -> None:
    health = Health()
    health.add(HealthCheck("x", lambda: False))
    health.add(HealthCheck("x", lambda: True))
    assert [c.name for c in health.checks] == ["x"]
    assert asyncio.run(health.report()).status is Status.HEALTHY


@pytest.mark.parametrize("critical", [True, False])
def test_failing_check_status_depends_on_criticality(critical: bool) -> None:
    health = Health()
    health.add(HealthCheck("dep", lambda: False, critical=critical))
    status = asyncio.run(health.report()).status
    assert status is (Status.UNHEALTHY if critical else Status.DEGRADED)


def test_redis_check_with_the_asyncio_client(redis_server: RedisServer) -> None:
    async def run() -> tuple[Status, Status]:
        client = redis.asyncio.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=1)
        health = Health(ttl_s=0.0)
        health.add(redis_check(client, timeout_s=1.5))
        try:
            before = (await health.report()).status
            redis_server.stop()
            after = (await health.report()).status
        finally:
            await client.aclose()
        return before, after

    assert asyncio.run(run()) == (Status.HEALTHY, Status.UNHEALTHY)


def test_a_hung_sync_check_is_not_restarted_and_does_not_block_shutdown() -> None:
    release = threading.Event()
    starts = []
    health = Health(ttl_s=0.0)

    @health.check("stuck-driver", timeout_s=0.1)
    def stuck() -> None:
        starts.append(1)
        release.wait(30)

    async def three() -> list[Any]:
        return [await health.report() for _ in range(3)]

    try:
        # asyncio.run returns although the check's thread is still blocked: it is a daemon
        # thread, not the default executor that asyncio.run would wait for.
        reports = asyncio.run(three())
    finally:
        release.set()
    assert len(starts) == 1
    messages = [r.checks[0].message for r in reports]
    assert messages[0] == "timed out after 0.1s"
    assert all("previous run" in m for m in messages[1:])
    assert all(r.status is Status.UNHEALTHY for r in reports)
