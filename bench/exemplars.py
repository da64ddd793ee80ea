"""Exemplars and span metrics: remote_write with exemplars into Prometheus 2.42
(``--enable-feature=exemplar-storage``) and Spyglass side by side, ``/api/v1/query_exemplars``
latency on both, and span metrics' cost per span in process.

Each request carries ``--series`` series of one latency histogram (buckets by route), one sample
each, and an exemplar (trace and span id) on every ``--every``-th series, as an instrumented
service's histograms carry them; ``--requests`` rounds 15 s apart, ``--writers`` in flight
(default 1: Prometheus refuses a series' samples out of order).
Prometheus and Spyglass (and with ``--baseline-src`` another checkout's Spyglass, which may skip
exemplars) get the same bodies in turn, and a second Spyglass the same samples without exemplars
(what storing them costs); each figure is samples/s and exemplars/s from the first
request to the last acknowledgement. Then each answers ``query_exemplars`` for the histogram over
the whole range (``--queries`` times; the median). Last, ``SpanMetrics`` counts ``--spans``
spans (50 operations of 5 services, batches of 512) and one collection: spans/s and the
collection's time. No Tempo is installable here to compare span metrics with.

    scripts/bench exemplars [--requests 120] [--series 500] [--every 5] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.support.servers import Server, prometheus, spyglass

from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import labels_of
from spyglass.core.spans import Span, SpanBatch
from spyglass.ingest.remote_write import encode_write_request
from spyglass.storage.memory import MemoryStore
from spyglass.traces import SpanMetrics

HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
LES = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]


def bodies(requests: int, series: int, every: int, end_ms: int) -> tuple[list[bytes], int]:
    """The request bodies, oldest first, and how many exemplars they carry."""
    names = [
        labels_of(
            {
                "__name__": "http_request_duration_seconds_bucket",
                "job": "api",
                "route": f"/r{i // len(LES)}",
                "le": LES[i % len(LES)],
            }
        )
        for i in range(series)
    ]
    out, count = [], 0
    for r in range(requests):
        t = end_ms - (requests - r) * 15_000
        samples = [(labels, [(t, float(r * 10 + i % 7))]) for i, labels in enumerate(names)]
        ids = [
            (("span_id", f"{r:08x}{i:08x}"), ("trace_id", f"{r:016x}{i:016x}"))
            for i in range(series)
        ]
        chosen = [i for i in range(series) if every and i % every == 0]
        exemplars = [Exemplar(names[i], ids[i], 0.042, t) for i in chosen]
        count += len(exemplars)
        out.append(encode_write_request(samples, exemplars=exemplars))
    return out, count


async def push(url: str, payloads: list[bytes], writers: int) -> float:
    queue = list(reversed(payloads))
    async with httpx.AsyncClient(timeout=120) as client:

        async def writer() -> None:
            while queue:
                body = queue.pop()
                r = await client.post(url + "/api/v1/write", content=body, headers=HEADERS)
                r.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        return time.perf_counter() - start


def query_latency(server: Server, queries: int, end_ms: int) -> tuple[float, int]:
    params = {
        "query": "http_request_duration_seconds_bucket",
        "start": str(end_ms / 1000 - 86_400),
        "end": str(end_ms / 1000 + 60),
    }
    times, found = [], 0
    with httpx.Client(timeout=120) as client:
        for _ in range(queries):
            t0 = time.perf_counter()
            r = client.get(server.url + "/api/v1/query_exemplars", params=params)
            times.append(time.perf_counter() - t0)
            data = r.json().get("data") or []
            found = sum(len(d["exemplars"]) for d in data)
    return statistics.median(times), found


def span_metrics(n: int) -> tuple[float, float, int]:
    store = MemoryStore()
    metrics = SpanMetrics(store)
    spans = [
        Span(
            trace_id=f"{i:032x}",
            span_id=f"{i:016x}",
            name=f"op-{i % 50}",
            start_ns=0,
            duration_ns=(i * 7919) % 2_000_000_000,
            service_name=f"svc-{i % 5}",
            kind="Server" if i % 2 else "Client",
            status_code="Error" if i % 17 == 0 else "Unset",
        )
        for i in range(512)
    ]
    batch = SpanBatch(tuple(spans))
    rounds = max(1, n // len(spans))
    t0 = time.perf_counter()
    for _ in range(rounds):
        metrics(batch)
    spent = time.perf_counter() - t0
    t0 = time.perf_counter()
    asyncio.run(metrics.flush())
    collect = time.perf_counter() - t0
    return rounds * len(spans) / spent, collect, metrics.registry.active_series


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=120)
    ap.add_argument("--series", type=int, default=500)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--writers", type=int, default=1)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--spans", type=int, default=200_000)
    ap.add_argument("--baseline-src")
    args = ap.parse_args()
    end_ms = int(time.time() * 1000)
    payloads, n_exemplars = bodies(args.requests, args.series, args.every, end_ms)
    n_samples = args.requests * args.series
    print(f"load average {os.getloadavg()[0]:.1f}; {n_samples} samples, {n_exemplars} exemplars")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        servers = {
            "prometheus": stack.enter_context(
                prometheus(
                    root / "prom",
                    "global:\n  scrape_interval: 1h\n",
                    "--web.enable-remote-write-receiver",
                    "--enable-feature=exemplar-storage",
                )
            ),
            "spyglass": stack.enter_context(spyglass(root / "s" / "data")),
            # the same samples without exemplars: what storing them costs
            "no-exempl.": stack.enter_context(spyglass(root / "n" / "data")),
        }
        if args.baseline_src:
            servers["baseline"] = stack.enter_context(
                spyglass(root / "b" / "data", source=args.baseline_src)
            )
        print(f"{'server':<12}{'samples/s':>12}{'exemplars/s':>13}{'query ms':>10}{'found':>8}")
        plain, _ = bodies(args.requests, args.series, 0, end_ms)
        for name, server in servers.items():
            sent = plain if name == "no-exempl." else payloads
            spent = asyncio.run(push(server.url, sent, args.writers))
            latency, found = query_latency(server, args.queries, end_ms)
            print(
                f"{name:<12}{n_samples / spent:>12,.0f}{n_exemplars / spent:>13,.0f}"
                f"{latency * 1000:>10.1f}{found:>8}"
            )
    per_s, collect_s, active = span_metrics(args.spans)
    print(
        f"span metrics: {per_s:,.0f} spans/s in process; a collection of {active} series "
        f"took {collect_s * 1000:.1f} ms; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
