"""A loopback webhook receiver that records what Alertmanager (or Spyglass) posts to it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.support.servers import LoopbackHTTP, QuietHandler


@dataclass(frozen=True)
class Received:
    """One POST: when it arrived (``time.monotonic``), its path, raw body and parsed JSON."""

    at: float
    path: str
    raw: bytes
    body: Any


class WebhookSink:
    """An HTTP server on 127.0.0.1 answering 200 to every POST and keeping it; use as a context
    manager. ``status`` changes the answer (to make deliveries fail)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        lock = threading.Lock()
        sink = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    sink.received.append(
                        Received(time.monotonic(), self.path, raw, json.loads(raw))
                    )
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http = LoopbackHTTP(Handler)
        self.url = self.http.base_url

    def __enter__(self) -> WebhookSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[Received]:
        """Wait until at least ``count`` posts arrived; all of them."""
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)


__all__ = ["Received", "WebhookSink"]
