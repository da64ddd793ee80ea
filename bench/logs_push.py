"""Log push ingest through a real ``spyglass serve``: lines/s and server CPU per line over
Loki's push API (JSON and Promtail's snappy protobuf) and Elasticsearch ``_bulk``, the way
shippers send them, in two batch shapes, optionally beside another checkout's Spyglass.

Requests are built before the clock starts: realistic JSON log lines of a web service (~200
bytes: level, route, status, duration, user and request ids), ``--batch`` lines per request
(Promtail's default batch is 1 MiB, about 5,000 such lines), ``--senders`` requests in flight.
Shapes (``--shapes``): ``promtail``, every request one stream (``--streams`` streams in turn),
as one Promtail tailing a few files sends them; ``many``, every request ``--many-streams``
streams of equal share, as an agent shipping many pods' logs sends them.

For each round, shape, protocol and server (``--baseline-src DIR`` starts a second Spyglass
from another checkout's ``src``; the two take turns, first one then the other, alternating each
round) the script prints lines/s from the first request to the last acknowledgement (every
acknowledgement means the lines are fsynced in the WAL), the server's CPU µs per line over
that time, and over the time until ClickHouse holds them all (``stored``), and the load
average. Each run starts once the server is idle (ClickHouse's merges of the run before
done, or after a minute), so its CPU is its own. Every round sends new timestamps, so nothing
is a duplicate of an earlier round; an untimed push of ``--warmup-lines`` per protocol to each
server comes first.

    scripts/bench logs_push [--lines 100000] [--rounds 3] [--shapes promtail,many]
        [--protocols json,protobuf,es] [--baseline-src /work/main/src] [--py-spy FILE]

Nothing here asserts; it reports. No Loki is installable here to compare with; the issue's goal
is 100,000 lines/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import cramjam
import httpx
import numpy as np
from tests.support.servers import Server, spyglass

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


def loki_json(streams: list[dict[str, str]], batch: list[tuple[int, str]]) -> bytes:
    """One JSON push of ``batch``, its lines dealt to ``streams`` in equal runs."""
    out = []
    for k, part in enumerate(_split(batch, len(streams))):
        values = [[str(ts), line] for ts, line in part]
        out.append({"stream": streams[k], "values": values})
    return json.dumps({"streams": out}).encode()


def loki_proto(streams: list[dict[str, str]], batch: list[tuple[int, str]]) -> bytes:
    """The same as Promtail's snappy protobuf."""
    req = PushRequest()
    for k, part in enumerate(_split(batch, len(streams))):
        s = req.streams.add()
        s.labels = ("{" + ", ".join(f'{n}="{v}"' for n, v in streams[k].items()) + "}").encode()
        for ts, line in part:
            e = s.entries.add()
            e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 1_000_000_000)
            e.line = line.encode()
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


def es_bulk(streams: list[dict[str, str]], batch: list[tuple[int, str]]) -> bytes:
    """The same as Elasticsearch ``_bulk`` NDJSON, the stream's service as ``service.name``."""
    out = []
    for k, part in enumerate(_split(batch, len(streams))):
        for ts, line in part:
            doc = json.loads(line)
            doc["@timestamp"] = ts // 1_000_000
            doc["service"] = {"name": streams[k]["service_name"]}
            out.append('{"create":{"_index":"logs"}}')
            out.append(json.dumps(doc))
    return ("\n".join(out) + "\n").encode()


def _split(batch: list[tuple[int, str]], parts: int) -> list[list[tuple[int, str]]]:
    size = -(-len(batch) // parts)
    return [batch[i : i + size] for i in range(0, len(batch), size)]


PROTOCOLS = {
    "json": ("/loki/api/v1/push", {"Content-Type": "application/json"}, loki_json),
    "protobuf": ("/loki/api/v1/push", {"Content-Type": "application/x-protobuf"}, loki_proto),
    "es": ("/_bulk", {"Content-Type": "application/x-ndjson"}, es_bulk),
}


def _all_429(r: httpx.Response) -> bool:
    if b'"status":429' not in r.content:
        return False
    items = r.json().get("items", [])
    return bool(items) and all(next(iter(i.values()))["status"] == 429 for i in items)


async def send(url: str, headers: dict[str, str], bodies: list[bytes], senders: int) -> float:
    """Send every body, ``senders`` at a time; seconds from the first to the last reply."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            for attempt in range(60):
                r = await client.post(url, content=body, headers=headers)
                if r.status_code == 200 and _all_429(r):
                    # Elasticsearch's "slow down": every item 429, retried as Beats do.
                    await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
                    continue
                if r.status_code != 503:
                    break
                # The store refuses while too much waits for ClickHouse: back off as Promtail does.
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
            if r.status_code not in (200, 204):
                raise RuntimeError(f"{r.status_code}: {r.text[:200]}")
            if r.status_code == 200 and r.json().get("errors"):
                raise RuntimeError(r.text[:200])

    async with httpx.AsyncClient(timeout=120) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(senders)))
        return time.perf_counter() - began


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads: chDB's too)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pending(server: Server) -> float:
    """Log records the server has acknowledged but not yet inserted into ClickHouse."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("spyglass_storage_pending_records "):
            return float(line.rsplit(" ", 1)[1])
    raise RuntimeError("spyglass_storage_pending_records is not in /metrics")


def settle(server: Server, timeout_s: float = 60.0) -> None:
    """Wait until the server is nearly idle (under a tenth of a core over half a second), so
    ClickHouse's merges of an earlier run are not counted in the next one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(server.pid)
        time.sleep(0.5)
        if cpu_seconds(server.pid) - before < 0.05:
            return


def measure(server: Server, url: str, headers: dict[str, str], bodies: list[bytes], n: int,
            senders: int) -> dict[str, float]:  # fmt: skip
    """Push ``bodies`` (``n`` lines) and wait until ClickHouse holds them: the figures."""
    settle(server)
    cpu0 = cpu_seconds(server.pid)
    began = time.perf_counter()
    acked_s = asyncio.run(send(url, headers, bodies, senders))
    cpu_acked = cpu_seconds(server.pid) - cpu0
    while pending(server) > 0:
        time.sleep(0.2)
    stored_s = time.perf_counter() - began
    cpu_stored = cpu_seconds(server.pid) - cpu0
    return {
        "lines/s": n / acked_s,
        "stored/s": n / stored_s,
        "cpu_acked": cpu_acked / n * 1e6,
        "cpu_stored": cpu_stored / n * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--many-streams", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup-lines", type=int, default=20_000)
    parser.add_argument("--shapes", default="promtail,many")
    parser.add_argument("--protocols", default="json,protobuf")
    parser.add_argument("--baseline-src", default=None)
    parser.add_argument(
        "--py-spy",
        default=None,
        help="record the server's stacks to this file (.svg: a flame graph; else collapsed stacks)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    labels = [{"service_name": f"svc-{k}", "env": "prod"} for k in range(args.streams)]
    many = [
        {"service_name": f"svc-{k % 10}", "env": "prod", "pod": f"pod-{k}"}
        for k in range(args.many_streams)
    ]
    protocols = args.protocols.split(",")
    shapes = args.shapes.split(",")
    print(
        f"{args.lines:,} lines a run, {args.batch:,} per request, {args.senders} in flight; "
        f"shapes {shapes}, protocols {protocols}, {args.rounds} rounds"
    )
    results: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp, contextlib.ExitStack() as st:
        servers = {"spyglass": st.enter_context(spyglass(Path(tmp) / "s" / "data"))}
        if args.baseline_src:
            servers["baseline"] = st.enter_context(
                spyglass(Path(tmp) / "b" / "data", source=args.baseline_src)
            )
        spy = None
        if args.py_spy:
            fmt = "flamegraph" if args.py_spy.endswith(".svg") else "raw"
            pid = str(servers["spyglass"].pid)
            spy = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "-o",
                    args.py_spy,
                    "-p",
                    pid,
                    "--nonblocking",
                    "-r",
                    "50",
                    "--threads",
                    "-f",
                    fmt,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        start_ns = time.time_ns() - 1800 * 10**9
        # A first push to each server, not timed: chDB's start-up work (first parts, caches)
        # would otherwise land on whichever protocol is measured first.
        warm = lines(args.warmup_lines, start_ns, rng)
        start_ns += args.warmup_lines * 1000 + 10**9
        for server in servers.values():
            for proto in protocols:
                path, headers, encode = PROTOCOLS[proto]
                bodies = [
                    encode([labels[0]], warm[i : i + args.batch])
                    for i in range(0, len(warm), args.batch)
                ]
                measure(server, server.url + path, headers, bodies, len(warm), args.senders)
        for rnd in range(args.rounds):
            order = list(servers) if rnd % 2 == 0 else list(reversed(servers))
            for shape in shapes:
                per_request = [labels[0]] if shape == "promtail" else many
                for proto in protocols:
                    data = lines(args.lines, start_ns, rng)
                    start_ns += args.lines * 1000 + 10**9
                    path, headers, encode = PROTOCOLS[proto]
                    bodies = [
                        encode(
                            [labels[(i // args.batch) % len(labels)]]
                            if shape == "promtail"
                            else per_request,
                            data[i : i + args.batch],
                        )
                        for i in range(0, len(data), args.batch)
                    ]
                    for name in order:
                        server = servers[name]
                        got = measure(
                            server, server.url + path, headers, bodies, args.lines, args.senders
                        )
                        results.setdefault((shape, proto, name), []).append(got)
                        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
                        print(
                            f"round {rnd + 1} {shape:8} {proto:8} {name:8} "
                            f"{got['lines/s']:>9,.0f} lines/s acked {got['stored/s']:>9,.0f} "
                            f"stored  CPU {got['cpu_acked']:5.1f} µs/line acked "
                            f"{got['cpu_stored']:5.1f} stored  load {load}",
                            flush=True,
                        )
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        for name, server in servers.items():
            print(f"{name} peak RSS {server.peak_rss_bytes() / 2**20:,.0f} MiB")
    print("\nmedians over rounds:")
    for (shape, proto, name), runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        line = (
            f"{shape:8} {proto:8} {name:8} {med['lines/s']:>9,.0f} lines/s acked "
            f"{med['stored/s']:>9,.0f} stored  CPU {med['cpu_acked']:5.1f} / "
            f"{med['cpu_stored']:5.1f} µs/line"
        )
        if name == "spyglass" and (shape, proto, "baseline") in results:
            base = results[(shape, proto, "baseline")]
            b = statistics.median(r["lines/s"] for r in base)
            c = statistics.median(r["cpu_stored"] for r in base)
            line += f"  (x{med['lines/s'] / b:.2f} lines/s, x{med['cpu_stored'] / c:.2f} CPU)"
        print(line)


if __name__ == "__main__":
    main()
