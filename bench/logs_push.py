"""Log push ingest through a real ``spyglass serve``: lines/s over Loki's push API (JSON and
Promtail's snappy protobuf) and Elasticsearch ``_bulk``, the way shippers send them.

Requests are built before the clock starts: ``--lines`` realistic JSON log lines of a web service
(~200 bytes: level, route, status, duration, user and request ids) over ``--streams`` streams,
``--batch`` lines per request (Promtail's default batch is 1 MiB, about 5,000 such lines), and
``--senders`` requests in flight. For each protocol the script prints lines/s from the first
request to the last acknowledgement (every acknowledgement means the lines are fsynced in the
WAL) and the server's peak RSS. Each protocol gets a fresh server and data dir.

    scripts/bench logs_push [--lines 200000] [--batch 5000] [--senders 4] [--streams 8]

Nothing here asserts; it reports. No Loki is installable here to compare with; the issue's goal
is 100,000 lines/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import cramjam
import httpx
import numpy as np
from tests.support.servers import spyglass

from spyglass.ingest.loki import PushRequest

ROUTES = ["/api/v1/orders", "/api/v1/users/{id}", "/login", "/health", "/api/v1/cart"]


def lines(n: int, start_ns: int, rng: np.random.Generator) -> list[tuple[int, str]]:
    """``n`` JSON log lines, one microsecond apart."""
    status = rng.choice([200, 200, 200, 201, 404, 500], n)
    out = []
    for i in range(n):
        level = "error" if status[i] >= 500 else "info"
        out.append(
            (
                start_ns + i * 1000,
                json.dumps(
                    {
                        "level": level,
                        "msg": "request finished",
                        "route": ROUTES[i % len(ROUTES)],
                        "status": int(status[i]),
                        "duration_ms": round(float(rng.gamma(2.0, 20.0)), 2),
                        "user_id": f"u{int(rng.integers(0, 5000))}",
                        "request_id": f"{int(rng.integers(0, 2**62)):016x}",
                    }
                ),
            )
        )
    return out


def loki_json(stream: dict[str, str], batch: list[tuple[int, str]]) -> bytes:
    values = [[str(ts), line] for ts, line in batch]
    return json.dumps({"streams": [{"stream": stream, "values": values}]}).encode()


def loki_proto(stream: dict[str, str], batch: list[tuple[int, str]]) -> bytes:
    req = PushRequest()
    s = req.streams.add()
    s.labels = ("{" + ", ".join(f'{k}="{v}"' for k, v in stream.items()) + "}").encode()
    for ts, line in batch:
        e = s.entries.add()
        e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 1_000_000_000)
        e.line = line.encode()
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def es_bulk(stream: dict[str, str], batch: list[tuple[int, str]]) -> bytes:
    out = []
    for ts, line in batch:
        doc = json.loads(line)
        doc["@timestamp"] = ts // 1_000_000
        doc["service"] = {"name": stream["service_name"]}
        out.append('{"create":{"_index":"logs"}}')
        out.append(json.dumps(doc))
    return ("\n".join(out) + "\n").encode()


PROTOCOLS = {
    "loki json": ("/loki/api/v1/push", {"Content-Type": "application/json"}, loki_json),
    "loki protobuf": ("/loki/api/v1/push", {"Content-Type": "application/x-protobuf"}, loki_proto),
    "es _bulk": ("/_bulk", {"Content-Type": "application/x-ndjson"}, es_bulk),
}


async def send(url: str, headers: dict[str, str], bodies: list[bytes], senders: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            r = await client.post(url, content=body, headers=headers)
            if r.status_code not in (200, 204):
                raise RuntimeError(f"{r.status_code}: {r.text[:200]}")
            if r.status_code == 200 and r.json().get("errors"):
                raise RuntimeError(r.text[:200])

    async with httpx.AsyncClient(timeout=120) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(senders)))
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--streams", type=int, default=8)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    now = time.time_ns() - 60 * 10**9
    data = lines(args.lines, now, rng)
    streams = [{"service_name": f"svc-{k}", "env": "prod"} for k in range(args.streams)]
    print(f"{args.lines:,} lines, {args.batch:,} per request, {args.senders} in flight")
    for name, (path, headers, encode) in PROTOCOLS.items():
        bodies = [
            encode(streams[(i // args.batch) % len(streams)], data[i : i + args.batch])
            for i in range(0, len(data), args.batch)
        ]
        mb = sum(map(len, bodies)) / 2**20
        with (
            tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
            spyglass(Path(tmp) / "data") as sg,
        ):
            seconds = asyncio.run(send(sg.url + path, headers, bodies, args.senders))
            rss = sg.peak_rss_bytes() / 2**20
        print(
            f"{name:14} {args.lines / seconds:>10,.0f} lines/s  {mb / seconds:6.1f} MiB/s of "
            f"bodies  peak RSS {rss:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
