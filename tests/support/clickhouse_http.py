"""A ClickHouse HTTP endpoint backed by chDB, for testing the ClickHouse server backend.

No ClickHouse server can be installed on the test machines (Debian's package is years old), so
this serves ClickHouse's HTTP interface the way clickhouse-connect uses it (query in the URL or
body, ``param_*`` bindings in the URL or, when they are too long for it, with the query in a
``multipart/form-data`` body, ``FORMAT`` clauses, ``INSERT ... FORMAT`` with the data as body,
errors as ``Code: N. DB::Exception`` with ``X-ClickHouse-Exception-Code``) and runs every
statement in a real ClickHouse engine: chDB. The backend under test therefore goes through
clickhouse-connect's real client code, over real HTTP, into the same SQL engine a server runs.

    python -m tests.support.clickhouse_http --port N --path DIR
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import re
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<table>[^\s(]+)\s*(?P<cols>\([^)]*\))?\s*(?:SETTINGS\s+.*?)?"
    r"FORMAT\s+(?P<fmt>\w+)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_FORMAT = re.compile(r"\sFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_CODE = re.compile(r"Code: (\d+)")
# Sent by clients as URL parameters but meaningless to an embedded engine.
_CLIENT_ONLY = {"query", "database", "session_id", "session_timeout", "query_id", "compress",
                "decompress", "default_format", "enable_http_compression", "wait_end_of_query",
                "send_progress_in_http_headers", "http_headers_progress_interval_ms",
                "cancel_http_readonly_queries_on_client_close", "date_time_input_format",
                "date_time_output_format", "user", "password", "quota_key"}  # fmt: skip


class _Engine:
    def __init__(self, path: Path) -> None:
        from chdb import session  # noqa: PLC0415 - heavy; only the shim process loads it

        self.session = session.Session(str(path))
        self.lock = threading.Lock()
        self.tmp = Path(tempfile.mkdtemp(prefix="ch-http-"))

    def run(self, sql: str, params: dict[str, str], body: bytes, default_format: str) -> bytes:
        with self.lock:
            m = _INSERT.match(sql)
            if m and body:
                data = self.tmp / "insert.bin"
                data.write_bytes(body)
                cols = m.group("cols") or ""
                sql = (
                    f"INSERT INTO {m.group('table')} {cols} "
                    f"SELECT * FROM file('{data}', '{m.group('fmt')}')"
                )
                self.session.query(sql, "TabSeparated", params=params)
                return b""
            fm = _FORMAT.search(sql)
            fmt = fm.group(1) if fm else default_format
            if fm:
                sql = sql[: fm.start()]
            result: Any = self.session.query(sql, fmt, params=params)
            return bytes(result.bytes()) if result is not None else b""


def _form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a ``multipart/form-data`` body (query and bindings, as ClickHouse reads)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode()
    return fields


class _Handler(BaseHTTPRequestHandler):
    engine: _Engine

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        del format, args

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length) if length else b"")

    def _handle(self, body: bytes) -> None:
        url = urlsplit(self.path)
        args = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path in ("/ping", "/") and "query" not in args and not body:
            self._reply(200, b"Ok.\n")
            return
        content_type = self.headers.get("Content-Type") or ""
        if content_type.startswith("multipart/form-data") and body:
            args.update(_form_fields(content_type, body))
            body = b""
        sql = args.get("query")
        if sql is None:
            sql, body = body.decode(), b""
        params = {k[6:]: v for k, v in args.items() if k.startswith("param_")}
        try:
            out = self.engine.run(sql, params, body, args.get("default_format", "TabSeparated"))
        except Exception as exc:  # noqa: BLE001 - every engine error goes back as ClickHouse's
            text = str(exc)
            code = _CODE.search(text)
            self._reply(
                500, text.encode(), {"X-ClickHouse-Exception-Code": code.group(1) if code else "1"}
            )
            return
        self._reply(200, out)

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-ClickHouse-Summary", "{}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


def serve(port: int, path: Path) -> None:
    """Serve until killed."""
    _Handler.engine = _Engine(path)
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", type=Path, required=True)
    a = parser.parse_args()
    serve(a.port, a.path)
