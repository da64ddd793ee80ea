"""remote_write ingest: Spyglass against Prometheus (Debian's package) on the same data, same run.

Both servers receive the identical pre-encoded remote_write 1.0 requests: 10k series with
realistic labels, one sample per series every 15 s, sent the way Prometheus' own queue manager
sends them (series sharded over concurrent senders, each shard in time order, 2,000 samples per
request). The script prints, per server:

- ingest rate: samples / wall-clock seconds from the first request to the last acknowledgement;
- peak RSS of the server process (VmHWM);
- bytes on disk per sample once the data is in its compact form (Prometheus: a TSDB snapshot,
  which compacts the head into a block; Spyglass: the samples table after OPTIMIZE, read from the
  data dir) and, for reference, the raw directory size right after ingest (WAL included);

and the Spyglass/Prometheus ratio of each.

    .venv/bin/python bench/remote_write_ingest.py [--series 10000] [--minutes 60] [--senders 8]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.servers import have_prometheus, prometheus, spyglass, stop

from spyglass.core.labels import Labels, labels_of
from spyglass.ingest.remote_write import encode_write_request
from spyglass.storage.backends import ChdbBackend

INTERVAL_MS = 15_000
SAMPLES_PER_REQUEST = 2_000
HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def make_series(n: int) -> list[Labels]:
    """Label sets like a fleet of web services and hosts: counters, gauges, histogram buckets."""
    rng = random.Random(42)
    routes = [f"/api/v1/{r}" for r in ("users", "orders", "items", "search", "login", "cart")]
    out: list[Labels] = []
    i = 0
    while len(out) < n:
        inst = f"10.0.{i // 250}.{i % 250}:8000"
        job = rng.choice(["api", "worker", "gateway", "billing"])
        for route in routes:
            for code in ("200", "404", "500"):
                out.append(
                    labels_of(
                        {
                            "__name__": "http_requests_total",
                            "job": job,
                            "instance": inst,
                            "method": "GET",
                            "route": route,
                            "status_code": code,
                        }
                    )
                )
            for le in ("0.05", "0.1", "0.5", "1", "+Inf"):
                out.append(
                    labels_of(
                        {
                            "__name__": "http_request_duration_seconds_bucket",
                            "job": job,
                            "instance": inst,
                            "route": route,
                            "le": le,
                        }
                    )
                )
        for mode in ("user", "system", "idle", "iowait"):
            out.append(
                labels_of(
                    {
                        "__name__": "node_cpu_seconds_total",
                        "instance": inst,
                        "job": "node",
                        "mode": mode,
                    }
                )
            )
        out.append(
            labels_of(
                {"__name__": "node_memory_MemAvailable_bytes", "instance": inst, "job": "node"}
            )
        )
        i += 1
    return out[:n]


def make_requests(
    series: list[Labels], points: int, senders: int, end_ms: int
) -> list[list[bytes]]:
    """Per sender, its requests in time order. Values: counters grow, gauges wander."""
    rng = random.Random(7)
    start_ms = end_ms - (points - 1) * INTERVAL_MS
    shards: list[list[int]] = [[] for _ in range(senders)]
    for idx in range(len(series)):
        shards[idx % senders].append(idx)
    values = [float(rng.randint(0, 1000)) for _ in series]
    gauge = [labels_get_name(ls).endswith("_bytes") for ls in series]
    per_request = max(1, SAMPLES_PER_REQUEST)
    out: list[list[bytes]] = []
    for shard in shards:
        bodies: list[bytes] = []
        pending: list[tuple[Labels, list[tuple[int, float]]]] = []
        count = 0
        for p in range(points):
            for idx in shard:
                ts = start_ms + p * INTERVAL_MS + rng.randint(-50, 50)
                if gauge[idx]:
                    values[idx] = float(int(8e9 + rng.randint(-(10**7), 10**7)))
                else:
                    values[idx] += float(rng.randint(0, 20))
                pending.append((series[idx], [(ts, values[idx])]))
                count += 1
                if count == per_request:
                    bodies.append(encode_write_request(pending))
                    pending, count = [], 0
        if pending:
            bodies.append(encode_write_request(pending))
        out.append(bodies)
    return out


def labels_get_name(ls: Labels) -> str:
    return next(v for k, v in ls if k == "__name__")


async def send_all(url: str, shards: list[list[bytes]]) -> float:
    """Send every shard's requests concurrently (each shard in order); seconds taken."""
    async with httpx.AsyncClient(timeout=60.0) as client:

        async def run(bodies: list[bytes]) -> None:
            for body in bodies:
                for attempt in range(10):
                    r = await client.post(url, content=body, headers=HEADERS)
                    if r.status_code < 300:
                        break
                    if r.status_code < 500:
                        raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
                    await asyncio.sleep(0.1 * (attempt + 1))

        started = time.perf_counter()
        await asyncio.gather(*(run(b) for b in shards))
        return time.perf_counter() - started


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def compacted_bytes(data_dir: Path) -> int:
    """Bytes of the metric tables' parts after merging them, like a Prometheus block."""
    backend = ChdbBackend(data_dir / "clickhouse")
    try:
        for table in ("metric_samples", "metric_series", "metric_metadata"):
            backend.command(f"OPTIMIZE TABLE {table} FINAL")
        t = backend.query_arrow(
            "SELECT sum(bytes_on_disk) AS b FROM system.parts "
            "WHERE active AND database = currentDatabase() AND table LIKE 'metric_%'"
        )
        return int(t.column("b")[0].as_py())
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=60, help="history length at 15 s")
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")

    points = args.minutes * 60_000 // INTERVAL_MS
    series = make_series(args.series)
    end_ms = int(time.time() * 1000) - 60_000
    print(f"encoding {len(series)} series x {points} points ...", flush=True)
    shards = make_requests(series, points, args.senders, end_ms)
    total = len(series) * points
    print(f"{total:,} samples in {sum(len(s) for s in shards):,} requests", flush=True)

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        root = Path(tmp)
        with prometheus(
            root / "prom",
            "global:\n  scrape_interval: 1h\n",
            "--web.enable-remote-write-receiver",
            "--web.enable-admin-api",
        ) as prom:
            secs = asyncio.run(send_all(prom.url + "/api/v1/write", shards))
            raw = dir_bytes(root / "prom" / "tsdb")
            snap = httpx.post(prom.url + "/api/v1/admin/tsdb/snapshot", timeout=300).json()
            snap_dir = root / "prom" / "tsdb" / "snapshots" / snap["data"]["name"]
            results["prometheus"] = {
                "samples_per_s": total / secs,
                "rss": prom.peak_rss_bytes(),
                "bytes_per_sample": dir_bytes(snap_dir) / total,
                "raw_bytes_per_sample": raw / total,
            }
        data_dir = root / "spyglass" / "data"
        with spyglass(data_dir) as sg:
            secs = asyncio.run(send_all(sg.url + "/api/v1/write", shards))
            raw = dir_bytes(data_dir)
            rss = sg.peak_rss_bytes()
            assert stop(sg) == 0  # SIGTERM: flush everything, then compact offline below
        results["spyglass"] = {
            "samples_per_s": total / secs,
            "rss": rss,
            "bytes_per_sample": compacted_bytes(data_dir) / total,
            "raw_bytes_per_sample": raw / total,
        }

    p, s = results["prometheus"], results["spyglass"]
    print()
    print(f"{'':24}{'prometheus':>14}{'spyglass':>14}{'ratio s/p':>12}")
    for key, label, fmt in (
        ("samples_per_s", "ingest samples/s", "{:,.0f}"),
        ("rss", "peak RSS MiB", "{:,.1f}"),
        ("bytes_per_sample", "disk bytes/sample", "{:.3f}"),
        ("raw_bytes_per_sample", "raw dir bytes/sample", "{:.3f}"),
    ):
        pv, sv = p[key], s[key]
        if key == "rss":
            pv, sv = pv / 2**20, sv / 2**20
        print(f"{label:24}{fmt.format(pv):>14}{fmt.format(sv):>14}{sv / pv:>12.2f}")


if __name__ == "__main__":
    main()
