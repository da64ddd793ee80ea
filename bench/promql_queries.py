"""PromQL latency: Spyglass against Prometheus (Debian's package) on the same data, same run.

Both servers receive the same 10k-series dataset (bench/_data.py, 15 s interval) over remote_write,
then answer the same ~20 dashboard and alert queries through their HTTP APIs: instant, range over
1 h (step 15 s) and range over 6 h (step 30 s). Each query runs ``--repeat`` times per server,
alternating; the table shows median latencies and the Spyglass/Prometheus ratio, and the summary
gives the median latency and ratio per mode, the worst query and the trivial queries' latencies.
Every Spyglass answer is compared with Prometheus' (the same series, timestamps and values to
1e-9), so a fast wrong answer cannot pass for a win. ``--baseline-src DIR`` also runs
another checkout's Spyglass (its ``src`` folder) on the same data, its queries alternating with
the others, and adds its latency and the Spyglass/baseline ratio. It ends with each server's peak
and settled RSS, what a Spyglass head holds (``spyglass_head_*`` in its ``/metrics``) and
what it keeps of reads before the head's start (``spyglass_older_reads_*``).

    scripts/bench promql_queries [--series 10000] [--hours 7] [--repeat 5]
        [--baseline-src ../old/src] [--spyglass-args=--query-push-down] [--match REGEX]
        [--modes instant,1h,6h] [--points-per-round 4] [--nocache]

The same range query asked again is answered from Spyglass's range cache (its past steps do not
change here); ``--nocache`` measures the evaluation instead, as Prometheus always does.

At 100k series, ``--series 100000 --hours 2 --modes instant,1h --points-per-round 40`` loads
48 M samples in a few minutes and within a few GB: the dataset is encoded one round at a time.

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
from typing import Any

import httpx
from bench._data import INTERVAL_MS, make_dataset
from bench._side_by_side import (
    NAMES,
    answer_difference,
    load,
    rss_bytes,
    start_servers,
    timed_answer,
)
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
    # The fixed cost of a query: selectors of nothing, as most alert rules are when all is well,
    # a constant, and one series.
    "up",
    "up == 0",
    "vector(1)",
    'node_memory_MemAvailable_bytes{instance="10.0.0.0:8000"}',
]
# The queries whose time is mostly the fixed cost of a request, summarised apart.
TRIVIAL = {
    "up",
    "up == 0",
    "absent(nonexistent_metric)",
    "vector(1)",
    'node_memory_MemAvailable_bytes{instance="10.0.0.0:8000"}',
}
MODES = (("instant", 0, 0), ("range 1h", 3_600_000, 15_000), ("range 6h", 6 * 3_600_000, 30_000))
MODE_KEYS = {"instant": "instant", "1h": "range 1h", "6h": "range 6h"}


def run_query(
    client: httpx.Client,
    server: Server,
    query: str,
    mode: tuple[str, int, int],
    end_ms: int,
    nocache: bool = False,
) -> tuple[float, dict[str, Any]]:
    """Seconds the query took over HTTP, and its answer; ``nocache`` asks a Spyglass to
    evaluate every step of a range (Prometheus ignores the parameter)."""
    name, span, step = mode
    if name == "instant":
        return timed_answer(
            client, server, "/api/v1/query", {"query": query, "time": end_ms / 1000}
        )
    params = {
        "query": query,
        "start": (end_ms - span) / 1000,
        "end": end_ms / 1000,
        "step": step / 1000,
    }
    if nocache:
        params["nocache"] = 1
    return timed_answer(client, server, "/api/v1/query_range", params)


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
    parser.add_argument(
        "--modes",
        default="instant,1h,6h",
        help="which of instant, 1h and 6h to run (comma-separated)",
    )
    parser.add_argument(
        "--nocache",
        action="store_true",
        help="range queries with nocache=1: Spyglass computes every step (no range cache)",
    )
    parser.add_argument(
        "--points-per-round",
        type=int,
        default=4,
        help="consecutive scrapes per remote_write request (40 keeps 100k series quick to load)",
    )
    args = parser.parse_args()
    queries = [q for q in QUERIES if re.search(args.match, q)]
    wanted = {MODE_KEYS[m.strip()] for m in args.modes.split(",") if m.strip()}
    modes = [m for m in MODES if m[0] in wanted]
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")

    points = args.hours * 3_600_000 // INTERVAL_MS
    data = make_dataset(args.series, points)
    print(f"{len(data.series)} series x {points} points; encoding ...", flush=True)
    # Query at a whole step past the last scrape, like a dashboard refreshed "now".
    end_ms = (data.end_ms // 30_000 + 1) * 30_000
    # mode, query, median seconds by server key, series count by server key, how each
    # Spyglass's answer differs from Prometheus' ("" when it does not)
    rows: list[tuple[str, str, dict[str, float], dict[str, int], dict[str, str]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers = start_servers(
            stack, Path(tmp), args.baseline_src, tuple(args.spyglass_args.split())
        )
        load(servers, data, args.points_per_round)
        del data  # gigabytes at 100k series; the queries need only end_ms
        memory: dict[str, dict[str, int]] = {k: {} for k in servers}
        time.sleep(10)  # let flushes and compactions settle
        for key, server in servers.items():
            memory[key]["loaded"] = rss_bytes(server.pid)
        with httpx.Client() as client:
            for mode in modes:
                for q in queries:
                    times: dict[str, list[float]] = {k: [] for k in servers}
                    answers: dict[str, dict[str, Any]] = {}
                    for i in range(args.repeat + 1):  # the first run warms caches, not timed
                        for key, server in servers.items():
                            took, answers[key] = run_query(
                                client, server, q, mode, end_ms, args.nocache
                            )
                            if i:
                                times[key].append(took)
                    medians = {k: statistics.median(v) for k, v in times.items()}
                    # Every Spyglass's answer against Prometheus', values to 1e-9.
                    diff = {
                        k: answer_difference(answers["p"], answers[k]) for k in servers if k != "p"
                    }
                    counts = {k: _series_count(a) for k, a in answers.items()}
                    rows.append((mode[0], q, medians, counts, diff))
                    flag = "" if not any(diff.values()) else f"  DIFFERENT: {diff}"
                    print(f"{mode[0]:9} {medians['s'] / medians['p']:6.2f}x  {q}{flag}", flush=True)
            for key, server in servers.items():
                memory[key]["queried"] = rss_bytes(server.pid)
                memory[key]["peak"] = server.peak_rss_bytes()
            head = {k: head_figures(client, servers[k]) for k in servers if k != "p"}

    has_b = bool(args.baseline_src)
    print()
    extra = f" {'baseline':>10} {'s/b':>6}" if has_b else ""
    print(f"{'mode':9} {'prometheus':>11} {'spyglass':>10} {'ratio':>7}{extra}  series  query")
    for mode_name, q, t, n, diff in rows:
        same = "" if not any(diff.values()) else f"  DIFFERENT ANSWER ({diff})"
        line = f"{mode_name:9} {t['p'] * 1000:9.1f}ms {t['s'] * 1000:8.1f}ms {t['s'] / t['p']:7.2f}"
        if has_b:
            line += f" {t['b'] * 1000:8.1f}ms {t['s'] / t['b']:6.2f}"
        print(f"{line}  {n['s']:6}  {q}{same}")
    print()
    for mode_name, _, _ in modes:
        picked = [(q, t) for m, q, t, _, _ in rows if m == mode_name]
        ratios = [t["s"] / t["p"] for _, t in picked]
        worst_q = max(picked, key=lambda qt: qt[1]["s"] / qt[1]["p"])[0]
        line = (
            f"{mode_name:9} median latency {_median_ms(picked, 'p')} against "
            f"{_median_ms(picked, 's')}, median ratio {statistics.median(ratios):.2f}, "
            f"worst {max(ratios):.2f} ({worst_q}), over 2x: {sum(r > 2 for r in ratios)}"
        )
        if has_b:
            vs_b = [t["s"] / t["b"] for _, t in picked]
            line += f"; against the baseline: median {statistics.median(vs_b):.2f}"
        print(line)
        trivial = [(q, t) for q, t in picked if q in TRIVIAL]
        if trivial:
            print(
                f"{'':9} trivial queries (ms, Prometheus/Spyglass): "
                + ", ".join(f"{q} {t['p'] * 1000:.1f}/{t['s'] * 1000:.1f}" for q, t in trivial)
            )
    differing = sum(1 for *_, diff in rows if any(diff.values()))
    print(f"queries answered differently from Prometheus (values to 1e-9): {differing}")
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
        if "spyglass_older_reads_bytes" in h:
            print(
                f"{NAMES[key]:12} reads before the head kept: "
                f"{h['spyglass_older_reads_selectors']:,.0f} selectors, "
                f"{h['spyglass_older_reads_bytes'] / 2**20:,.1f} MiB"
            )


def _series_count(data: dict[str, Any]) -> int:
    return len(data["result"]) if data["resultType"] in ("vector", "matrix") else 1


def _median_ms(picked: list[tuple[str, dict[str, float]]], key: str) -> str:
    return f"{statistics.median(t[key] for _, t in picked) * 1000:.1f} ms"


def head_figures(client: httpx.Client, server: Server) -> dict[str, float]:
    """The ``spyglass_head_*`` and ``spyglass_older_reads_*`` gauges of a Spyglass's
    ``/metrics`` (none from older versions)."""
    out: dict[str, float] = {}
    for line in client.get(server.url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(("spyglass_head_", "spyglass_older_reads_")):
            name, _, value = line.partition(" ")
            out[name] = float(value)
    return out


if __name__ == "__main__":
    main()
