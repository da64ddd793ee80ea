"""Logs at scale: millions of JSON lines pushed into a real ``spyglass serve`` over Loki's
protobuf push API, then searched, beside ``grep``/``rg`` on the same NDJSON file in one run.

1. ``--lines`` (default 10,000,000) JSON access-log lines of a web service (timestamp, level,
   service, method, route, status, duration_ms, user_id, request_id, msg), made deterministically
   from ``--seed`` and written as NDJSON (kept in ``--cache`` and reused when it exists). Ten of
   them, all of service ``api``, carry the rare token ``NEEDLE``.
2. The lines are encoded before the clock starts as Promtail sends them: snappy protobuf
   ``PushRequest``s of about 1 MiB of lines each, grouped by stream (labels ``service``,
   ``level``, ``env``), spread evenly over the last ``--hours``. ``--senders`` requests are in
   flight at once. Printed: lines/s from the first request to the last acknowledgement (each
   means the lines are fsynced in the WAL), lines/s until all are in ClickHouse, and the
   server's CPU seconds (user + system) per million lines for both.
3. Each query over the whole range through ``/loki/api/v1/query_range``, ``--rounds`` times
   (the first round cold, ``--settle`` seconds after loading), with its answer checked against
   what the generator knows:

   - needle:   ``{service="api"} |= "<NEEDLE>"`` (limit 100)  beside ``grep -c`` and ``rg -c``
   - by level: ``sum by (level) (count_over_time({service=~".+"}[1m]))`` at step 1m; the
     totals per level are checked (windows of 1m at 1m steps count each line once)
   - 5xx:      ``{service="api"} | json | status >= 500`` (limit 100)  beside
     ``rg -c '"status":5'``

    scripts/bench logs_scale [--lines 10000000] [--senders 4] [--rounds 3] [--baseline-src DIR]

``--baseline-src`` loads and asks a second Spyglass from another checkout's ``src`` (the commit
before a change) in the same run, after the first. Nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cramjam
import httpx
import numpy as np
from tests.support.servers import Server, spyglass

from spyglass.ingest.loki import PushRequest

NEEDLE = "needle-5c1f9e2a"
NEEDLES = 10
SERVICES = ("api", "web", "auth", "payments", "search", "worker")
SERVICE_WEIGHTS = (0.40, 0.20, 0.10, 0.10, 0.15, 0.05)
ROUTES = (
    ("GET", "/api/v1/orders"),
    ("GET", "/api/v1/orders/{id}"),
    ("POST", "/api/v1/orders"),
    ("GET", "/api/v1/users/{id}"),
    ("PUT", "/api/v1/users/{id}"),
    ("POST", "/login"),
    ("GET", "/search"),
    ("GET", "/health"),
)
STATUSES = (200, 201, 204, 301, 400, 401, 404, 429, 500, 502, 503)
STATUS_WEIGHTS = (0.70, 0.05, 0.03, 0.02, 0.04, 0.03, 0.06, 0.02, 0.03, 0.01, 0.01)
MESSAGES = {
    "info": "request finished",
    "warn": "request finished slowly",
    "error": "request failed",
    "debug": "cache lookup",
}
LEVELS = ("info", "warn", "error", "debug")
BATCH_BYTES = 1 << 20  # Promtail's default batch size
CHUNK = 200_000
S = 10**9


def _level_of(status: np.ndarray, slow: np.ndarray, debug: np.ndarray) -> np.ndarray:
    level = np.where(status >= 500, 2, np.where(slow, 1, np.where(debug, 3, 0)))
    return level.astype(np.int64)


def generate(path: Path, n: int, seed: int) -> dict[str, Any]:
    """Write ``n`` lines to ``path``; returns what the queries must find (counts per level and
    service, needles, 5xx lines of ``api``)."""
    rng = np.random.default_rng(seed)
    base_s = 1_796_601_600  # 2026-12-07T00:00:00Z: the line text's clock, fixed for the file
    needle_at = {(k * n) // NEEDLES + (n // (2 * NEEDLES)) for k in range(NEEDLES)}
    level_counts = dict.fromkeys(LEVELS, 0)
    api_5xx = 0
    stamps: dict[int, str] = {}
    tmp = path.with_suffix(".part")
    with tmp.open("w") as out:
        for first in range(0, n, CHUNK):
            m = min(CHUNK, n - first)
            svc = rng.choice(len(SERVICES), m, p=SERVICE_WEIGHTS)
            route = rng.integers(0, len(ROUTES), m)
            status = np.asarray(STATUSES)[rng.choice(len(STATUSES), m, p=STATUS_WEIGHTS)]
            duration = np.round(rng.lognormal(3.0, 1.0, m), 1)
            slow = duration > 400
            debug = rng.random(m) < 0.05
            user = rng.integers(0, 50_000, m)
            request = rng.integers(0, 2**62, m, dtype=np.int64)
            here = [i - first for i in sorted(needle_at) if first <= i < first + m]
            svc[here], status[here] = 0, 500
            levels = _level_of(status, slow, debug)
            for i in range(m):
                idx = first + i
                level = LEVELS[levels[i]]
                msg = (
                    f"payment provider refused token {NEEDLE}"
                    if idx in needle_at
                    else MESSAGES[level]
                )
                level_counts[level] += 1
                if svc[i] == 0 and status[i] >= 500:
                    api_5xx += 1
                method, path_ = ROUTES[route[i]]
                sec, ms = divmod(idx * 7, 1000)  # the text's clock: 7 ms a line
                stamp = stamps.get(sec)
                if stamp is None:
                    stamps.clear()
                    stamp = stamps[sec] = time.strftime(
                        "%Y-%m-%dT%H:%M:%S", time.gmtime(base_s + sec)
                    )
                out.write(
                    f'{{"ts":"{stamp}.{ms:03d}Z","level":"{level}","service":"{SERVICES[svc[i]]}",'
                    f'"method":"{method}","route":"{path_}","status":{status[i]},'
                    f'"duration_ms":{duration[i]},"user_id":"u{user[i]}",'
                    f'"request_id":"{request[i]:016x}","msg":"{msg}"}}\n'
                )
    tmp.rename(path)
    meta = {"lines": n, "seed": seed, "levels": level_counts, "api_5xx": api_5xx}
    meta["needles"] = NEEDLES
    path.with_suffix(".json").write_text(json.dumps(meta))
    return meta


def dataset(cache: Path, n: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The NDJSON file of ``n`` lines (made once, then reused) and its facts."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"lines-{n}-{seed}.ndjson"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return path, json.loads(meta_path.read_text())
    started = time.perf_counter()
    meta = generate(path, n, seed)
    size = path.stat().st_size
    print(f"wrote {n:,} lines ({size / 2**20:,.0f} MiB) in {time.perf_counter() - started:.0f}s")
    return path, meta


def _stream_key(line: str) -> tuple[str, str]:
    # The generator writes level then service at fixed places: no JSON parse needed.
    level = line[line.index('"level":"') + 9 : line.index('","service"')]
    service = line[line.index('"service":"') + 11 : line.index('","method"')]
    return service, level


def encode_bodies(path: Path, out: Path, n: int, start_ns: int, span_ns: int) -> int:
    """Snappy protobuf push bodies of ~1 MiB of lines each, written length-prefixed to ``out``;
    line ``i`` is stamped ``start_ns + i * span_ns // n``. Returns the number of bodies."""
    bodies = 0

    def flush(batch: dict[tuple[str, str], list[tuple[int, bytes]]], f: Any) -> None:
        req = PushRequest()
        for (service, level), entries in batch.items():
            s = req.streams.add()
            s.labels = f'{{env="prod", level="{level}", service="{service}"}}'.encode()
            for ts, line in entries:
                e = s.entries.add()
                e.timestamp.seconds, e.timestamp.nanos = divmod(ts, S)
                e.line = line
        body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
        f.write(struct.pack("<I", len(body)))
        f.write(body)

    with path.open("rb") as src, out.open("wb") as f:
        batch: dict[tuple[str, str], list[tuple[int, bytes]]] = {}
        size = 0
        for i, raw in enumerate(src):
            line = raw.rstrip(b"\n")
            key = _stream_key(line.decode())
            batch.setdefault(key, []).append((start_ns + i * span_ns // n, line))
            size += len(line)
            if size >= BATCH_BYTES:
                flush(batch, f)
                bodies += 1
                batch, size = {}, 0
        if batch:
            flush(batch, f)
            bodies += 1
    return bodies


def read_bodies(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while head := f.read(4):
            (size,) = struct.unpack("<I", head)
            yield f.read(size)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(server: Server, name: str) -> float:
    """A gauge's value from the server's ``/metrics``; raises when it is not there."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    raise RuntimeError(f"{name} is not in {server.url}/metrics")


async def push(server: Server, bodies: Path, senders: int) -> tuple[float, int]:
    """Send every body, ``senders`` at a time; seconds from the first to the last reply, and
    how many times a push was refused with 503 (and retried)."""
    it = read_bodies(bodies)
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
    refused = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal refused
        for body in it:
            for attempt in range(60):
                r = await client.post(
                    server.url + "/loki/api/v1/push", content=body, headers=headers
                )
                if r.status_code != 503:
                    break
                refused += 1
                # The store refuses while too much waits for ClickHouse: back off as Promtail does.
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
            if r.status_code != 204:
                raise RuntimeError(f"push: {r.status_code}: {r.text[:300]}")

    async with httpx.AsyncClient(timeout=300) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(senders)))
        return time.perf_counter() - began, refused


def load(server: Server, bodies: Path, n: int, senders: int) -> dict[str, float]:
    """Push the bodies; figures of the load and of the flush after it."""
    cpu0 = cpu_seconds(server.pid)
    began = time.perf_counter()
    pushed_s, refused = asyncio.run(push(server, bodies, senders))
    cpu_pushed = cpu_seconds(server.pid) - cpu0
    while metric(server, "spyglass_storage_pending_records") > 0:
        time.sleep(0.5)
    stored_s = time.perf_counter() - began
    cpu_stored = cpu_seconds(server.pid) - cpu0
    return {
        "acked lines/s": n / pushed_s,
        "stored lines/s": n / stored_s,
        "CPU s per 1M lines (acked)": cpu_pushed / n * 1e6,
        "CPU s per 1M lines (stored)": cpu_stored / n * 1e6,
        "peak RSS MiB": server.peak_rss_bytes() / 2**20,
        "pushes refused (503, retried)": refused,
    }


def loki_query(
    client: httpx.Client, server: Server, params: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    """Seconds one query_range took over HTTP, and its data; raises on an error answer."""
    began = time.perf_counter()
    r = client.get(server.url + "/loki/api/v1/query_range", params=params, timeout=600)
    took = time.perf_counter() - began
    if r.status_code != 200:
        raise RuntimeError(f"{params['query']}: {r.status_code} {r.text[:300]}")
    data: dict[str, Any] = r.json()["data"]
    return took, data


def check_needle(data: dict[str, Any], meta: dict[str, Any]) -> str:
    found = sum(len(s["values"]) for s in data["result"])
    ok = found == meta["needles"] and all(
        NEEDLE in v[1] for s in data["result"] for v in s["values"]
    )
    return f"{found} lines{'' if ok else ' WRONG'}"


def check_levels(data: dict[str, Any], meta: dict[str, Any]) -> str:
    totals = {
        s["metric"].get("level", ""): sum(int(v[1]) for v in s["values"]) for s in data["result"]
    }
    ok = totals == meta["levels"]
    return (
        f"{sum(totals.values()):,} lines in {len(totals)} levels{'' if ok else f' WRONG {totals}'}"
    )


def check_5xx(data: dict[str, Any], meta: dict[str, Any]) -> str:
    values = [json.loads(v[1]) for s in data["result"] for v in s["values"]]
    ok = len(values) == min(100, meta["api_5xx"]) and all(
        v["status"] >= 500 and v["service"] == "api" for v in values
    )
    return f"{len(values)} lines{'' if ok else ' WRONG'}"


def questions(start_ns: int, end_ns: int) -> list[tuple[str, dict[str, Any], Any]]:
    common = {"start": str(start_ns), "end": str(end_ns)}
    return [
        (
            "needle",
            {**common, "query": f'{{service="api"}} |= "{NEEDLE}"', "limit": "100"},
            check_needle,
        ),
        (
            "by level",
            {
                **common,
                "query": 'sum by (level) (count_over_time({service=~".+"}[1m]))',
                "step": "60",
            },
            check_levels,
        ),
        (
            "5xx",
            {**common, "query": '{service="api"} | json | status >= 500', "limit": "100"},
            check_5xx,
        ),
    ]


def tool_times(path: Path, rounds: int) -> dict[str, tuple[float, str]]:
    """Median seconds (and answer) of grep and rg on the file, the page cache warmed first."""
    commands = {"grep -c needle": ["grep", "-c", NEEDLE, str(path)]}
    if shutil.which("rg"):
        commands["rg -c needle"] = ["rg", "-c", NEEDLE, str(path)]
        commands["rg -c 5xx"] = ["rg", "-c", '"status":5', str(path)]
    else:
        print("rg (ripgrep) not installed: apt-get install ripgrep to compare with it")
    out = {}
    for name, cmd in commands.items():
        subprocess.run(cmd, capture_output=True, check=False)
        times = []
        answer = ""
        for _ in range(rounds):
            began = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - began)
            answer = p.stdout.strip()
        out[name] = (statistics.median(times), answer)
    return out


def ask(
    server: Server, start_ns: int, end_ns: int, meta: dict[str, Any], rounds: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    with httpx.Client() as client:
        for name, params, check in questions(start_ns, end_ns):
            times = []
            for r in range(rounds):
                took, data = loki_query(client, server, params)
                times.append(took)
                if r == 0:
                    print(f"  {name}: {check(data, meta)}", flush=True)
            out[name] = times
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "spyglass-logs-scale"))
    parser.add_argument("--baseline-src", default=None)
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds between load and queries"
    )
    parser.add_argument("--spyglass-args", default="", help="options for the Spyglass under test")
    args = parser.parse_args()
    n = args.lines
    path, meta = dataset(Path(args.cache), n, args.seed)
    size = path.stat().st_size
    print(f"{n:,} lines, {size / 2**20:,.0f} MiB of NDJSON, load average {os.getloadavg()}")

    tools = tool_times(path, args.rounds)
    for name, (secs, answer) in tools.items():
        print(f"{name:16} {secs * 1000:9.1f} ms  (answer {answer})")

    servers: dict[str, str | None] = {"spyglass": None}
    if args.baseline_src:
        servers["baseline"] = args.baseline_src
    results: dict[str, tuple[dict[str, float], dict[str, list[float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        end_ns = (time.time_ns() // (60 * S)) * 60 * S - 60 * S
        span_ns = int(args.hours * 3600 * S)
        start_ns = end_ns - span_ns
        bodies = Path(tmp) / "bodies.bin"
        began = time.perf_counter()
        count = encode_bodies(path, bodies, n, start_ns, span_ns)
        print(
            f"encoded {count:,} push bodies ({bodies.stat().st_size / 2**20:,.0f} MiB) in "
            f"{time.perf_counter() - began:.0f}s",
            flush=True,
        )
        for name, src in servers.items():
            extra = tuple(args.spyglass_args.split()) if name == "spyglass" else ()
            with contextlib.ExitStack() as stack:
                server = stack.enter_context(
                    spyglass(Path(tmp) / name / "data", *extra, source=src)
                )
                print(f"{name}: loading (load average {os.getloadavg()[0]:.1f})", flush=True)
                figures = load(server, bodies, n, args.senders)
                for k, v in figures.items():
                    print(f"  {k:28} {v:12,.1f}", flush=True)
                # Right after a load ClickHouse merges the many parts the flushes made; the
                # queries wait that long so they measure reading, not competing with merges.
                time.sleep(args.settle)
                print(f"{name}: asking (load average {os.getloadavg()[0]:.1f})", flush=True)
                # The range covers every line: Loki's end is inclusive, its start too.
                times = ask(server, start_ns, end_ns + 60 * S, meta, args.rounds)
                results[name] = (figures, times)
                for q, ts in times.items():
                    print(f"  {q:10} {', '.join(f'{t:.3f}' for t in ts)} s", flush=True)
            shutil.rmtree(Path(tmp) / name, ignore_errors=True)
    print(f"\nload average at the end {os.getloadavg()}")
    header = f"{'':22}" + "".join(f"{k:>14}" for k in results)
    print(header)
    for q in ("needle", "by level", "5xx"):
        row = f"{q + ' median s':22}" + "".join(
            f"{statistics.median(results[k][1][q]):14.3f}" for k in results
        )
        cold = f"{q + ' first s':22}" + "".join(f"{results[k][1][q][0]:14.3f}" for k in results)
        print(row)
        print(cold)
    needle = statistics.median(results["spyglass"][1]["needle"])
    for tool, (secs, _) in tools.items():
        if "needle" in tool:
            print(f"needle / {tool}: {needle / secs:.2f}")
    if "rg -c 5xx" in tools:
        five = statistics.median(results["spyglass"][1]["5xx"])
        print(f"5xx (limit 100) / rg -c 5xx: {five / tools['rg -c 5xx'][0]:.2f}")
    if "baseline" in results:
        for q in ("needle", "by level", "5xx"):
            a = statistics.median(results["spyglass"][1][q])
            b = statistics.median(results["baseline"][1][q])
            print(f"{q} spyglass/baseline: {a / b:.2f}")
        a_rate = results["spyglass"][0]["acked lines/s"]
        b_rate = results["baseline"][0]["acked lines/s"]
        print(f"acked lines/s spyglass/baseline: {a_rate / b_rate:.2f}")


if __name__ == "__main__":
    main()
