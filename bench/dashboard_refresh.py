"""A dashboard refreshing every 30 s: the same range queries re-issued as time moves on.

Prometheus (Debian's package), Spyglass and, with ``--baseline-src DIR``, another checkout's
Spyglass (e.g. the commit before the range query cache) receive the same dataset
(bench/_data.py) over remote_write, up to a minute ago. Then, ``--refreshes`` times, every
``--interval`` seconds of real time, as a live dashboard: the scrapes that fell due since are
written to every server, and each of bench/promql_queries.py's queries is asked as a range over
the last 1 h (step 15 s) and 6 h (step 30 s) ending now, aligned to the step as Grafana aligns
ranges. The first round is the first load (Spyglass's cache empty), the others are refreshes.

It prints, per mode, the median over queries of each server's latency for the first load and
the median over refreshes, and the ratios; and it checks every answer: the series count must
match Prometheus', and Spyglass's answer must equal the baseline's exactly (same JSON), since
the cache must not change a single value. Spyglass's ``spyglass_rollup_cache_*`` counters
close the report.

    scripts/bench dashboard_refresh [--series 2000] [--hours 7] [--refreshes 4]
        [--interval 30] [--baseline-src ../old/src]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench._data import INTERVAL_MS, Dataset, encode_rounds, make_dataset, send_rounds
from bench.promql_queries import NAMES, QUERIES
from tests.support.servers import Server, have_prometheus, prometheus, spyglass

MODES = (("range 1h", 3_600_000, 15_000), ("range 6h", 6 * 3_600_000, 30_000))


def columns(data: Dataset, a: int, b: int) -> Dataset:
    """Scrapes ``a`` to ``b - 1`` of every series."""
    return Dataset(data.series, data.timestamps[:, a:b], data.values[:, a:b])


def ask(
    client: httpx.Client, server: Server, query: str, start_ms: int, end_ms: int, step_ms: int
) -> tuple[float, Any]:
    """Seconds the range query took over HTTP, and its result."""
    params = {"query": query, "step": step_ms / 1000}
    params |= {"start": start_ms / 1000, "end": end_ms / 1000}
    started = time.perf_counter()
    r = client.get(server.url + "/api/v1/query_range", params=params, timeout=300)
    took = time.perf_counter() - started
    body: dict[str, Any] = r.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{server.url} {query}: {body}")
    return took, body["data"]["result"]


def cache_figures(client: httpx.Client, server: Server) -> dict[str, float]:
    """The ``spyglass_rollup_cache_*`` samples of a Spyglass's ``/metrics``."""
    out: dict[str, float] = {}
    for line in client.get(server.url + "/metrics", timeout=30).text.splitlines():
        if line.startswith("spyglass_rollup_cache_"):
            name, _, value = line.partition(" ")
            out[name] = float(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2_000)
    parser.add_argument("--hours", type=int, default=7, help="history (6 h range + 1 h offset)")
    parser.add_argument("--refreshes", type=int, default=4)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between refreshes")
    parser.add_argument("--baseline-src", help="another checkout's src folder to compare with")
    args = parser.parse_args()
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")

    history = args.hours * 3_600_000 // INTERVAL_MS
    ahead = int((args.refreshes + 2) * args.interval * 1000 // INTERVAL_MS) + 20
    last_due = int(time.time() * 1000) - 60_000
    data = make_dataset(args.series, history + ahead, end_ms=last_due + ahead * INTERVAL_MS)
    base = data.timestamps.min(axis=0)  # each scrape's earliest timestamp
    print(f"{len(data.series)} series x {history} points; encoding ...", flush=True)
    sent = history
    first = encode_rounds(columns(data, 0, history))
    # mode -> query -> server -> [first load, refresh 1, ...] seconds
    times: dict[str, dict[str, dict[str, list[float]]]] = {}
    counts_differ: list[str] = []
    values_differ: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        servers: dict[str, Server] = {
            "p": stack.enter_context(
                prometheus(
                    root / "prom",
                    "global:\n  scrape_interval: 1h\n",
                    "--web.enable-remote-write-receiver",
                    "--storage.tsdb.retention.time=30d",
                )
            ),
            "s": stack.enter_context(spyglass(root / "spyglass" / "data")),
        }
        if args.baseline_src:
            servers["b"] = stack.enter_context(
                spyglass(root / "baseline" / "data", source=args.baseline_src)
            )
        for key, server in servers.items():
            secs = send_rounds(server.url + "/api/v1/write", first)
            print(f"loaded {len(data.series) * history:,} samples into {NAMES[key]} in {secs:.0f}s")
        time.sleep(10)  # let flushes and compactions settle
        next_at = time.time()
        with httpx.Client() as client:
            for rnd in range(args.refreshes + 1):
                time.sleep(max(0.0, next_at - time.time()))
                began = time.time()
                next_at = began + args.interval
                now_ms = int(time.time() * 1000)
                due = int((base <= now_ms - 1_000).sum())
                if due > sent:
                    fresh = encode_rounds(columns(data, sent, due))
                    for server in servers.values():
                        send_rounds(server.url + "/api/v1/write", fresh)
                    sent = due
                label = "first load" if rnd == 0 else f"refresh {rnd}"
                for mode, span, step in MODES:
                    end = now_ms // step * step
                    start = end - span
                    for q in QUERIES:
                        results: dict[str, Any] = {}
                        for key, server in servers.items():
                            took, results[key] = ask(client, server, q, start, end, step)
                            times.setdefault(mode, {}).setdefault(q, {}).setdefault(key, [])
                            times[mode][q][key].append(took)
                        n = {k: len(v) for k, v in results.items()}
                        if len(set(n.values())) != 1:
                            counts_differ.append(f"{label} {mode} {q}: {n}")
                        if "b" in results and results["b"] != results["s"]:
                            values_differ.append(f"{label} {mode} {q}")
                print(f"{label}: done in {time.time() - began:.1f}s", flush=True)
            cache = cache_figures(client, servers["s"])

    keys = list(servers)
    print()
    print(f"{'mode':9} {'':10} " + " ".join(f"{NAMES[k]:>12}" for k in keys) + "   s/p    s/b")
    for mode, _, _ in MODES:
        for phase, pick in (("first load", slice(0, 1)), ("refresh", slice(1, None))):
            # Per query, the median of its runs in this phase; then the median over queries.
            med = {
                k: statistics.median(statistics.median(times[mode][q][k][pick]) for q in QUERIES)
                for k in keys
            }
            ratios = {
                k: statistics.median(
                    statistics.median(times[mode][q]["s"][pick])
                    / statistics.median(times[mode][q][k][pick])
                    for q in QUERIES
                )
                for k in keys
                if k != "s"
            }
            line = f"{mode:9} {phase:10} " + " ".join(f"{med[k] * 1000:10.1f}ms" for k in keys)
            line += f" {ratios['p']:6.2f}"
            if "b" in ratios:
                line += f" {ratios['b']:6.2f}"
            print(line)
    print("(ratios: median over queries of the per-query ratio)")
    print(f"answers with a different number of series than Prometheus': {len(counts_differ)}")
    for line in counts_differ[:10]:
        print("  ", line)
    if args.baseline_src:
        print(f"answers that differ from the baseline's: {len(values_differ)}")
        for line in values_differ[:10]:
            print("  ", line)
    print()
    for name, value in sorted(cache.items()):
        print(f"{name} {value:,.0f}")


if __name__ == "__main__":
    main()
