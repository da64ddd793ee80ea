"""HTTPS scrapes honour tls_config: ca_file, server_name and insecure_skip_verify."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.support.required import need_tool

from spyglass.core.config import load_config
from spyglass.ingest.exposition import parse
from spyglass.ingest.scrape import ScrapeLoop, ScrapeResult, build_targets
from spyglass.ingest.scrape._http import make_client
from spyglass.storage.memory import MemoryStore


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"tls_ok 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # type: ignore[override]
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    openssl = need_tool(
        "openssl", "install Debian's openssl package (it makes the test certificate)"
    )
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=scrape.example",
            "-addext",
            "subjectAltName=DNS:scrape.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{srv.server_address[1]}", cert
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def scrape(address: str, tls: str) -> ScrapeResult:
    sc = load_config(f"""\
scrape_configs:
  - job_name: tls
    scheme: https
    static_configs:
      - targets: ['{address}']
    tls_config:
{tls}""").scrape_configs[0]
    (target,), _, _ = build_targets(sc, sc.static_configs)

    async def run() -> ScrapeResult:
        client = make_client(sc)
        try:
            return await ScrapeLoop(target, sc, client, MemoryStore(), parse).scrape_once()
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_ca_file_and_server_name_verify_the_target(https_server: tuple[str, Path]) -> None:
    address, cert = https_server
    result = scrape(address, f"      ca_file: {cert}\n      server_name: scrape.example\n")
    assert result.error == ""


def test_certificate_for_another_name_fails(https_server: tuple[str, Path]) -> None:
    address, cert = https_server
    result = scrape(address, f"      ca_file: {cert}\n")
    assert result.error.startswith(f'Get "https://{address}/metrics"')


def test_unknown_ca_fails_unless_verification_is_skipped(https_server: tuple[str, Path]) -> None:
    address, _ = https_server
    assert scrape(address, "      server_name: scrape.example\n").error
    assert scrape(address, "      insecure_skip_verify: true\n").error == ""
