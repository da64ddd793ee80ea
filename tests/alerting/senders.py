"""What the notifier tests share: a config read as a user writes it, a notification, a recorder.

Configs go through ``load_alertmanager_config`` so ``global:`` defaults are handed down exactly
as for a user's file; ``Recorder`` is a real HTTP server on loopback that keeps every request.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from hypothesis import strategies as st
from tests.support.servers import LoopbackHTTP, QuietHandler

from spyglass.alerting import Notification, SenderEnv, load_alertmanager_config
from spyglass.core.alerts import Alert
from spyglass.core.template import TemplateSet

TEMPLATES = TemplateSet.load()


def integration(yaml_text: str, key: str) -> Any:
    """The first entry of ``key`` of the receiver ``team`` in ``yaml_text``."""
    cfg = load_alertmanager_config(yaml_text)
    receiver = cfg.receiver("team")
    assert receiver is not None
    return receiver.configs(key)[0]


def env() -> SenderEnv:
    return SenderEnv(templates=TEMPLATES, external_url="http://spyglass.example:9093")


def notification(*, resolved: bool = False, summary: str = "disk almost full") -> Notification:
    """Group ``{alertname="DiskFull"}`` with two alerts of instance ``db1`` and ``db2``."""
    ends = 50_000 if resolved else 0
    alerts = tuple(
        Alert(
            (("alertname", "DiskFull"), ("instance", name), ("severity", "critical")),
            annotations=(("summary", summary),),
            starts_at_ms=1_000,
            ends_at_ms=ends,
            generator_url=f"http://prometheus.example/graph?g0.expr={name}",
        )
        for name in ("db1", "db2")
    )
    return Notification(
        receiver="team",
        group_key='{}:{alertname="DiskFull"}',
        group_labels=(("alertname", "DiskFull"),),
        alerts=alerts,
        now_ms=60_000,
        external_url="http://spyglass.example:9093",
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    content_type: str = "text/plain"


@dataclass
class Recorder:
    """A loopback HTTP server recording each request and answering with ``answer``."""

    answer: Answer = field(default_factory=Answer)
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        recorder = self
        lock = threading.Lock()

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with lock:
                    recorder.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    answer = recorder.answer
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

        self._handler: type[BaseHTTPRequestHandler] = Handler
        self._server = LoopbackHTTP(Handler)
        self.url = self._server.base_url

    def close(self) -> None:
        self._server.close()


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON document, small: what a hostile or broken service could answer."""
    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=10,
    )
