"""A real ``spyglass serve`` filled, through the real ingest paths, with what the Errors, SLOs,
Incidents and Uptime pages show: Sentry envelopes over HTTP, counters over remote_write for a
Sloth spec given with ``--slo-files``, incidents through their API, and a probes file whose
targets are a loopback HTTP server (up) and a closed port (down).

The data, chosen so a person can check each figure by hand:

- errors: issue ``charge`` (``ZeroDivisionError`` whose message carries ``<script>``) seen 3
  times in release ``shop@1.0``/``production``, with an in-app frame and source lines, a
  library frame, breadcrumbs, a request, a user, tags (one value hostile markup) and a
  context; issue ``ship`` (``KeyError``) once in ``shop@2.0``/``staging``.
- SLO ``shop-checkout``: 99.9 % objective over 30 days; 1.5 % of requests failed for the last
  70 minutes (burn rate 15, above the 14.4 page threshold); its description is hostile markup.
- probes: ``site`` probes ``<loopback>/`` (up) and ``http://127.0.0.1:<closed>/`` (down) every
  2 seconds (a 2 s timeout); ``probe_ssl_earliest_cert_expiry`` of the up target is written
  over remote_write at now + 5 days (a loopback TLS target is not set up here), so its
  certificate shows as expiring.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import LoopbackHTTP, QuietHandler, Server, spyglass

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">'
ERROR_RATIO = 0.015
CERT_DAYS = 5

SLO_SPEC = f"""version: "prometheus/v1"
service: shop
slos:
  - name: checkout
    objective: 99.9
    description: {json.dumps("checkout works " + HOSTILE)}
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="checkout",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{job="checkout"}}[{{{{.window}}}}]))
    alerting:
      name: CheckoutBudgetBurn
      page_alert: {{labels: {{severity: page}}}}
      ticket_alert: {{labels: {{severity: ticket}}}}
"""


class Ok(QuietHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@dataclass
class OpsServer:
    """The server, and the probe targets it watches."""

    server: Server
    up_target: str
    down_target: str

    @property
    def url(self) -> str:
        return self.server.url


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _frames(line: int) -> list[dict[str, Any]]:
    return [
        {
            "filename": "site-packages/framework/app.py",
            "function": "dispatch",
            "module": "framework.app",
            "lineno": 88,
            "in_app": False,
            "context_line": "    return handler(request)",
        },
        {
            "filename": "shop/billing.py",
            "abs_path": "/srv/shop/billing.py",
            "function": "charge",
            "module": "shop.billing",
            "lineno": line,
            "in_app": True,
            "pre_context": ["def charge(order):", "    total = order.total"],
            "context_line": "    return total / (order.items - order.items)",
            "post_context": ["", "def refund(order):"],
            "vars": {"order": "<Order 42>"},
        },
    ]


def sentry_event(kind: str, n: int) -> dict[str, Any]:
    """One event of issue ``kind`` (``charge`` or ``ship``)."""
    event: dict[str, Any] = {
        "event_id": f"{n:032x}",
        "timestamp": time.time() - 60 * n,
        "platform": "python",
        "level": "error",
        "server_name": "web-1",
        "user": {"id": f"user-{n % 2}", "email": "ada@example.com"},
        "tags": {"route": "/orders/{id}", "customer": HOSTILE},
        "request": {"method": "POST", "url": "http://shop.test/orders/42"},
        "contexts": {"runtime": {"name": "CPython", "version": "3.11.2"}},
        "breadcrumbs": {"values": [{"category": "cart", "message": f"checkout {HOSTILE}"}]},
    }
    if kind == "charge":
        event.update(
            release="shop@1.0",
            environment="production",
            exception={
                "values": [
                    {
                        "type": "ZeroDivisionError",
                        "value": f"division by zero {HOSTILE}",
                        "module": "builtins",
                        "stacktrace": {"frames": _frames(12)},
                        "mechanism": {"type": "generic", "handled": False},
                    }
                ]
            },
        )
    else:
        event.update(
            release="shop@2.0",
            environment="staging",
            exception={
                "values": [
                    {
                        "type": "KeyError",
                        "value": "'address'",
                        "stacktrace": {"frames": _frames(30)},
                    }
                ]
            },
        )
    return event


def send_event(url: str, event: dict[str, Any]) -> None:
    """``event`` in a Sentry envelope, as an SDK posts it."""
    header = {"event_id": event["event_id"], "dsn": f"http://key@{url[7:]}/1"}
    payload = json.dumps(event).encode()
    body = b"\n".join(
        [
            json.dumps(header).encode(),
            json.dumps({"type": "event", "length": len(payload)}).encode(),
            payload,
        ]
    )
    r = httpx.post(
        f"{url}/api/1/envelope/",
        content=body,
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": "Sentry sentry_version=7, sentry_key=key, sentry_client=test/1",
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text


def write_metrics(url: str, probed: str) -> None:
    """70 minutes of checkout requests (1.5 % failing) and the up target's certificate."""
    now_ms = int(time.time() * 1000) - 5_000
    start = now_ms - 70 * 60_000
    ok, bad = [], []
    for i, t in enumerate(range(start, now_ms + 1, 15_000)):
        ok.append((t, float(i * 100 * (1 - ERROR_RATIO))))
        bad.append((t, float(i * 100 * ERROR_RATIO)))
    expiry = time.time() + CERT_DAYS * 86400 + 3600
    series = [
        ((("__name__", "http_requests_total"), ("code", "200"), ("job", "checkout")), ok),
        ((("__name__", "http_requests_total"), ("code", "500"), ("job", "checkout")), bad),
        (
            (
                ("__name__", "probe_ssl_earliest_cert_expiry"),
                ("instance", probed),
                ("job", "site"),
            ),
            [(t, expiry) for t in range(now_ms - 600_000, now_ms + 1, 15_000)],
        ),
    ]
    body = encode_write_request(series)
    r = httpx.post(url + "/api/v1/write", content=body, headers=RW_HEADERS, timeout=30)
    assert r.status_code == 204, r.text


@contextlib.contextmanager
def ops_server(folder: Path) -> Iterator[OpsServer]:
    """The server with every page's data in (probes may still be on their first runs)."""
    target = LoopbackHTTP(Ok)
    up = f"{target.base_url}/"
    down = f"http://127.0.0.1:{closed_port()}/"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "slos.yml").write_text(SLO_SPEC)
    (folder / "prometheus.yml").write_text("global:\n  evaluation_interval: 1s\n")
    (folder / "probes.yml").write_text(
        "modules:\n  http_2xx: {prober: http, timeout: 2s}\n"
        "probes:\n"
        f"  - {{name: site, module: http_2xx, interval: 2s, targets: ['{up}', '{down}']}}\n"
    )
    try:
        with spyglass(
            folder / "data",
            "--config-file", str(folder / "prometheus.yml"),
            "--slo-files", str(folder / "slos.yml"),
            "--probes-config-file", str(folder / "probes.yml"),
        ) as s:  # fmt: skip
            write_metrics(s.url, up)
            for n in (1, 2, 3):
                send_event(s.url, sentry_event("charge", n))
            send_event(s.url, sentry_event("ship", 4))
            yield OpsServer(s, up, down)
    finally:
        target.close()


__all__ = ["CERT_DAYS", "HOSTILE", "OpsServer", "ops_server", "send_event", "sentry_event"]
