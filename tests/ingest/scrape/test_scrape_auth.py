"""Credentials reach the target: a loopback stdlib server checks the Authorization header."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from spyglass.core.config import load_config
from spyglass.ingest.exposition import parse
from spyglass.ingest.scrape import ScrapeLoop, ScrapeResult, build_targets
from spyglass.ingest.scrape._http import make_client
from spyglass.storage.memory import MemoryStore

BASIC = "Basic " + base64.b64encode(b"prom:pa55").decode()
BEARER = "Bearer t0ken"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") not in (BASIC, BEARER):
            self.send_response(401)
            self.end_headers()
            return
        body = b"# TYPE secret_value gauge\nsecret_value 42\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # type: ignore[override]
        pass


@pytest.fixture
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def scrape_with(address: str, auth: str) -> ScrapeResult:
    sc = load_config(f"""\
scrape_configs:
  - job_name: secure
    static_configs:
      - targets: ['{address}']
{auth}""").scrape_configs[0]
    (target,), _, _ = build_targets(sc, sc.static_configs)

    async def run() -> ScrapeResult:
        client = make_client(sc)
        try:
            return await ScrapeLoop(target, sc, client, MemoryStore(), parse).scrape_once()
        finally:
            await client.aclose()

    return asyncio.run(run())


def up_of(result: ScrapeResult) -> float:
    for fp, value in zip(result.batch.fingerprints, result.batch.values, strict=True):
        if dict(result.batch.series[int(fp)])["__name__"] == "up":
            return float(value)
    raise AssertionError("no up sample")


def test_basic_auth_is_accepted(server: str, tmp_path: Path) -> None:
    (tmp_path / "password").write_text("pa55\n")
    result = scrape_with(
        server,
        f"    basic_auth:\n      username: prom\n      password_file: {tmp_path / 'password'}\n",
    )
    assert result.error == ""
    assert up_of(result) == 1.0


def test_bearer_token_is_accepted(server: str) -> None:
    result = scrape_with(server, "    authorization:\n      credentials: t0ken\n")
    assert result.error == ""
    assert up_of(result) == 1.0


def test_wrong_credentials_mark_the_target_down(server: str) -> None:
    result = scrape_with(server, "    basic_auth:\n      username: prom\n      password: nope\n")
    assert result.error == "server returned HTTP status 401 Unauthorized"
    assert up_of(result) == 0.0


def test_no_credentials_mark_the_target_down(server: str) -> None:
    assert scrape_with(server, "").error == "server returned HTTP status 401 Unauthorized"
