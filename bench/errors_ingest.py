"""Sentry event ingest through a real ``spyglass serve``: events/s over the envelope endpoint,
one event an envelope, as Sentry SDKs send them.

The events are made by the real ``sentry_sdk`` (a capturing transport): exceptions raised from
``--places`` places with breadcrumbs, a user, tags and a release, each given a fresh event id,
before the clock starts. ``--senders`` requests are in flight. The script prints events/s from
the first request to the last acknowledgement (each means the event is fsynced in the WAL and
counted into its issue), the median and 99th percentile request latency, the server's peak RSS,
and checks the issues count every event once.

    scripts/bench errors_ingest [--events 3000] [--senders 8] [--places 20]

Nothing here asserts on time; it reports. No Sentry can run here to compare with (it needs
Kafka, ClickHouse, PostgreSQL, Redis and a dozen services); the Loki push of the same requests'
sizes on the same server, run right after, is the reference for what one request costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport
from tests.support.servers import spyglass

AUTH = {"X-Sentry-Auth": "Sentry sentry_key=bench, sentry_version=7, sentry_client=bench/1"}


class _Keep(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event" and item.payload.json is not None:
                self.events.append(item.payload.json)


def make_events(places: int) -> list[dict[str, Any]]:
    """One event per place, as the real SDK builds it."""
    keep = _Keep()
    sentry_sdk.init(dsn="http://bench@h/1", transport=keep, release="shop@1.0")
    sentry_sdk.set_user({"id": "user-1", "email": "a@example.com"})
    sentry_sdk.set_tag("route", "/api/v1/orders")
    for k in range(places):
        sentry_sdk.add_breadcrumb(category="http", message=f"GET /api/v1/orders/{k}")
        namespace: dict[str, Any] = {}
        # A function per place, so each groups into its own issue.
        exec(f"def place_{k}(x):\n    return x / 0\n", namespace)
        try:
            namespace[f"place_{k}"](k)
        except ZeroDivisionError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush()
    sentry_sdk.init()  # off again
    return keep.events


def envelope(event: dict[str, Any]) -> bytes:
    payload = json.dumps({**event, "event_id": uuid.uuid4().hex}).encode()
    header = json.dumps({"event_id": json.loads(payload)["event_id"]}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return header + b"\n" + item + b"\n" + payload + b"\n"


async def send(
    url: str, bodies: list[bytes], senders: int, headers: dict[str, str]
) -> tuple[float, list[float]]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            began = time.perf_counter()
            r = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - began)
            if r.status_code not in (200, 204):
                raise RuntimeError(f"{r.status_code}: {r.text[:200]}")

    async with httpx.AsyncClient(timeout=120) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(senders)))
        return time.perf_counter() - began, latencies


def report(name: str, n: int, seconds: float, latencies: list[float], rss: float) -> None:
    p50, p99 = np.percentile(np.array(latencies) * 1000, [50, 99])
    print(
        f"{name:18} {n / seconds:>8,.0f} requests/s  p50 {p50:6.1f} ms  p99 {p99:7.1f} ms  "
        f"peak RSS {rss:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3_000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--places", type=int, default=20)
    args = parser.parse_args()
    events = make_events(args.places)
    bodies = [envelope(events[i % len(events)]) for i in range(args.events)]
    size = sum(map(len, bodies)) / len(bodies)
    print(f"{args.events:,} envelopes of {size:,.0f} bytes, {args.senders} in flight")
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        spyglass(Path(tmp) / "data") as sg,
    ):
        seconds, latencies = asyncio.run(
            send(sg.url + "/api/1/envelope/", bodies, args.senders, AUTH)
        )
        rss = sg.peak_rss_bytes() / 2**20
        report("sentry envelope", args.events, seconds, latencies, rss)
        page = httpx.get(sg.url + "/api/errors/issues", params={"limit": "1000"}).json()
        counted = sum(i["count"] for i in page["issues"])
        print(f"{'':18} {page['total']} issues counting {counted:,} events (sent {args.events:,})")
        now = time.time_ns()
        lines = [
            json.dumps(
                {"streams": [{"stream": {"job": "bench"}, "values": [[str(now + i), b.decode()]]}]}
            ).encode()
            for i, b in enumerate(bodies)
        ]
        seconds, latencies = asyncio.run(
            send(
                sg.url + "/loki/api/v1/push",
                lines,
                args.senders,
                {"Content-Type": "application/json"},
            )
        )
        report("loki push (same)", args.events, seconds, latencies, sg.peak_rss_bytes() / 2**20)


if __name__ == "__main__":
    main()
