"""PromQL latency: Spyglass against Prometheus (Debian's package) on the same data, same run.

Both servers receive the same 10k-series dataset (bench/_data.py, 15 s interval) over remote_write,
then answer the same ~20 dashboard and alert queries through their HTTP APIs: instant, range over
1 h (step 15 s) and range over 6 h (step 30 s). Each query runs ``--repeat`` times per server,
alternating; the table shows median latencies and the Spyglass/Prometheus ratio, and the summary
gives the median ratio per mode and the worst query. It also reports queries whose answers differ
(series count), so a fast wrong answer cannot pass for a win. ``--baseline-src DIR`` also runs
another checkout's Spyglass (its ``src`` folder) on the same data, its queries alternating with
the others, and adds its latency and the Spyglass/baseline ratio. It ends with each server's peak
and settled RSS and what a Spyglass head holds (``spyglass_head_*`` in its ``/metrics``).

    scripts/bench promql_queries [--series 10000] [--hours 7] [--repeat 5]
        [--baseline-src ../old/src] [--spyglass-args=--query-push-down] [--match REGEX]

``--spyglass-args`` passes options to the Spyglass under test only (so ``--baseline-src`` on the
same checkout compares a setting on and off); ``--match`` runs only the queries it matches.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench._data import INTERVAL_MS, make_dataset
from bench._side_by_side import NAMES, load, rss_bytes, start_servers, timed_query
from tests.support.servers import Server, have_prometheus

QUERIES = [
    "sum(rate(http_requests_total[5m]))",
    "sum by (job) (rate(http_requests_total[5m]))",
    'sum by (route) (rate(http_requests_total{status_code="500"}[5m]))'
    " / sum by (route) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.99, sum by (le) "
    '(rate(http_request_duration_seconds_bucket{job="api"}[5m])))',
    "topk(5, sum by (instance) (rate(http_requests_total[5m])))",
    'increase(http_requests_total{route="/login"}[1h])',
    'avg by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))',
    '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))',
    "node_memory_MemAvailable_bytes / 1024 / 1024",
    "max_over_time(node_memory_MemAvailable_bytes[10m])",
    "sum by (job) (rate(http_request_duration_seconds_sum[5m]))"
    " / sum by (job) (rate(http_request_duration_seconds_count[5m]))",
    "count by (job) (http_requests_total)",
    "absent(nonexistent_metric)",
    "sum by (job) (irate(http_requests_total[1m]))",
    "avg_over_time(node_memory_MemAvailable_bytes[5m])",
    "delta(node_memory_MemAvailable_bytes[15m])",
    "sum(rate(http_requests_total[5m] offset 1h))",
    'bottomk(3, avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))',
    "sum by (status_code) (increase(http_requests_total[10m]))",
    # The fixed cost of a query: selectors of nothing, as most alert rules are when all is well.
    "up",
    "up == 0",
]
MODES = (("instant", 0, 0), ("range 1h", 3_600_000, 15_000), ("range 6h", 6 * 3_600_000, 30_000))


def run_query(
    client: httpx.Client, server: Server, query: str, mode: tuple[str, int, int], end_ms: int
) -> tuple[float, int]:
    """Seconds the query took over HTTP, and how many series came back."""
    name, span, step = mode
    if name == "instant":
        return timed_query(client, server, "/api/v1/query", {"query": query, "time": end_ms / 1000})
    params = {
        "query": query,
        "start": (end_ms - span) / 1000,
        "end": end_ms / 1000,
        "step": step / 1000,
    }
    return timed_query(client, server, "/api/v1/query_range", params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=int, default=7, help="history (6 h range + 1 h offset)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-src", help="another checkout's src folder to compare with")
    parser.add_argument(
        "--spyglass-args",
        default="",
        help="extra options for the Spyglass under test only, e.g. --query-push-down",
    )
    parser.add_argument("--match", default="", help="run only the queries matching this regex")
    args = parser.parse_args()
    queries = [q for q in QUERIES if re.search(args.match, q)]
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")

    points = args.hours * 3_600_000 // INTERVAL_MS
    data = make_dataset(args.series, points)
    print(f"{len(data.series)} series x {points} points; encoding ...", flush=True)
    # Query at a whole step past the last scrape, like a dashboard refreshed "now".
    end_ms = (data.end_ms // 30_000 + 1) * 30_000
    # mode, query, median seconds by server key, series count by server key
    rows: list[tuple[str, str, dict[str, float], dict[str, int]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers = start_servers(
            stack, Path(tmp), args.baseline_src, tuple(args.spyglass_args.split())
        )
        load(servers, data)
        memory: dict[str, dict[str, int]] = {k: {} for k in servers}
        time.sleep(10)  # let flushes and compactions settle
        for key, server in servers.items():
            memory[key]["loaded"] = rss_bytes(server.pid)
        with httpx.Client() as client:
            for mode in MODES:
                for q in queries:
                    times: dict[str, list[float]] = {k: [] for k in servers}
                    counts: dict[str, int] = {}
                    for i in range(args.repeat + 1):  # the first run warms caches, not timed
                        for key, server in servers.items():
                            took, n = run_query(client, server, q, mode, end_ms)
                            counts[key] = n
                            if i:
                                times[key].append(took)
                    medians = {k: statistics.median(v) for k, v in times.items()}
                    rows.append((mode[0], q, medians, counts))
                    print(f"{mode[0]:9} {medians['s'] / medians['p']:6.2f}x  {q}", flush=True)
            for key, server in servers.items():
                memory[key]["queried"] = rss_bytes(server.pid)
                memory[key]["peak"] = server.peak_rss_bytes()
            head = {k: head_figures(client, servers[k]) for k in servers if k != "p"}

    has_b = bool(args.baseline_src)
    print()
    extra = f" {'baseline':>10} {'s/b':>6}" if has_b else ""
    print(f"{'mode':9} {'prometheus':>11} {'spyglass':>10} {'ratio':>7}{extra}  series  query")
    for mode_name, q, t, n in rows:
        same = "" if len(set(n.values())) == 1 else f"  DIFFERENT ANSWER ({n} series)"
        line = f"{mode_name:9} {t['p'] * 1000:9.1f}ms {t['s'] * 1000:8.1f}ms {t['s'] / t['p']:7.2f}"
        if has_b:
            line += f" {t['b'] * 1000:8.1f}ms {t['s'] / t['b']:6.2f}"
        print(f"{line}  {n['s']:6}  {q}{same}")
    print()
    for mode_name, _, _ in MODES:
        ratios = [t["s"] / t["p"] for m, _, t, _ in rows if m == mode_name]
        line = (
            f"{mode_name:9} median ratio {statistics.median(ratios):.2f}, worst {max(ratios):.2f}"
        )
        if has_b:
            vs_b = [t["s"] / t["b"] for m, _, t, _ in rows if m == mode_name]
            line += f"; against the baseline: median {statistics.median(vs_b):.2f}"
        print(line)
    differing = sum(1 for *_, n in rows if len(set(n.values())) != 1)
    print(f"queries with a different number of series: {differing}")
    print()
    for key, m in memory.items():
        print(
            f"{NAMES[key]:12} RSS MiB: peak {m['peak'] / 2**20:,.0f}, after loading "
            f"{m['loaded'] / 2**20:,.0f}, after the queries {m['queried'] / 2**20:,.0f}"
        )
    for key, h in head.items():
        if h.get("spyglass_head_samples"):
            print(
                f"{NAMES[key]:12} head: {h['spyglass_head_series']:,.0f} series, "
                f"{h['spyglass_head_samples']:,.0f} samples, "
                f"{h['spyglass_head_bytes'] / 2**20:,.1f} MiB, "
                f"{h['spyglass_head_bytes'] / h['spyglass_head_samples']:.1f} bytes per sample"
            )
        else:
            print(f"{NAMES[key]:12} head: none")


def head_figures(client: httpx.Client, server: Server) -> dict[str, float]:
    """The ``spyglass_head_*`` gauges of a Spyglass's ``/metrics`` (none from older versions)."""
    out: dict[str, float] = {}
    for line in client.get(server.url + "/metrics", timeout=30).text.splitlines():
        if line.startswith("spyglass_head_"):
            name, _, value = line.partition(" ")
            out[name] = float(value)
    return out


if __name__ == "__main__":
    main()
