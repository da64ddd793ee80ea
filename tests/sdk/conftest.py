"""Real servers for the SDK tests: uvicorn in a thread, an OTLP/HTTP trace receiver, Redis and
PostgreSQL (Debian's packages; the PostgreSQL helper lives in tests/support/postgres.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import uvicorn
from tests.support.otlp import OtlpReceiver
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.required import need_tool
from tests.support.servers import free_port, stop_process

from spyglass.sdk._health import CHECK_THREAD_NAME
from spyglass.sdk._logging import ADOPTED_LOGGERS


class UvicornThread:
    """A real uvicorn server on 127.0.0.1 serving ``app`` from a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="auto"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


class RedisServer:
    """Debian's redis-server on a free loopback port, no persistence."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout_s=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    need_tool(
        "redis-server",
        "install Debian's redis-server package (scripts/test does it when run as root)",
    )
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


def run(coro: Any) -> Any:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coro)


def get_root_once(home: Any, **options: Any) -> Any:
    """The response to one ``GET /`` of a Starlette app whose only route is ``home``,
    instrumented with ``options`` (no stdlib logging set-up, no library instrumentations
    unless they say otherwise) and shut down afterwards."""
    from starlette.applications import Starlette  # noqa: PLC0415
    from starlette.routing import Route  # noqa: PLC0415
    from starlette.testclient import TestClient  # noqa: PLC0415

    from spyglass.sdk import instrument  # noqa: PLC0415

    app = Starlette(routes=[Route("/", home)])
    options = {"logging": False, "instrument_libraries": False, **options}
    inst = instrument(app, service="s", **options)
    try:
        with TestClient(app) as client:
            return client.get("/")
    finally:
        inst.shutdown()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """instrument() reconfigures logging process-wide; give the next test what it had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    servers = {name: logging.getLogger(name) for name in ADOPTED_LOGGERS}
    server_state = {n: (list(lg.handlers), lg.propagate) for n, lg in servers.items()}
    try:
        yield
    finally:
        for name, (saved, propagate) in server_state.items():
            servers[name].handlers[:] = saved
            servers[name].propagate = propagate
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in handlers:
            root.addHandler(h)
        root.setLevel(level)
        structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _check_threads_finish() -> Iterator[None]:
    """A test waits for the check threads it started: a sync check that outlived its timeout
    (a driver retrying a stopped Redis with backoff, say) must not run on into the next test."""
    yield
    deadline = time.monotonic() + 20
    for thread in threading.enumerate():
        if thread.name == CHECK_THREAD_NAME:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    left = [t for t in threading.enumerate() if t.name == CHECK_THREAD_NAME and t.is_alive()]
    assert not left, f"{len(left)} health check thread(s) still running 20 s after the test"
