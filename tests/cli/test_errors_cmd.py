"""``spyglass errors`` when things go wrong: the server's own message and exit code 1, and a
server that cannot be reached named. (A real server's list, show, resolve and ignore are in
tests/server/test_errors_e2e.py.)"""

from __future__ import annotations

import json

from tests.support.servers import LoopbackHTTP, QuietHandler, free_port
from typer.testing import CliRunner

from spyglass.cli._app import app


class NoIssue(QuietHandler):
    def _answer(self) -> None:
        body = json.dumps({"error": "no issue 5"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer()


def test_the_servers_refusal_is_printed_and_exits_1() -> None:
    http = LoopbackHTTP(NoIssue)
    try:
        for args in (["show", "5"], ["resolve", "5", "--next-release"], ["ignore", "5"]):
            result = CliRunner().invoke(app, ["errors", *args, "--url", http.base_url])
            assert result.exit_code == 1
            assert "error: 404: no issue 5" in result.output
    finally:
        http.close()


def test_an_unreachable_server_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["errors", "--url", url])
    assert result.exit_code == 1
    assert f"error: cannot reach {url}" in result.output
