"""Targets see who scrapes them: ``Spyglass/<version>`` in the User-Agent, as Prometheus
sends ``Prometheus/<version>``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version

import pytest

from spyglass.core.config import load_config
from spyglass.ingest.exposition import parse
from spyglass.ingest.scrape import ScrapeLoop, build_targets
from spyglass.ingest.scrape._http import make_client
from spyglass.storage.memory import MemoryStore


@pytest.fixture
def seen() -> Iterator[tuple[str, list[str]]]:
    """A loopback target's address and the User-Agent of each request it got."""
    agents: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            agents.append(self.headers.get("User-Agent", ""))
            body = b"# TYPE x gauge\nx 1\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # type: ignore[override]
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{srv.server_address[1]}", agents
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def test_scrapes_carry_the_installed_version(seen: tuple[str, list[str]]) -> None:
    address, agents = seen
    sc = load_config(
        f"scrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ['{address}']\n"
    ).scrape_configs[0]
    (target,), _, _ = build_targets(sc, sc.static_configs)

    async def run() -> str:
        client = make_client(sc)
        try:
            result = await ScrapeLoop(target, sc, client, MemoryStore(), parse).scrape_once()
        finally:
            await client.aclose()
        return result.error

    assert asyncio.run(run()) == ""
    installed = version("spyglass")
    assert installed != "0.0.0"
    assert agents == [f"Spyglass/{installed}"]
