"""remote_write ingest: Spyglass against Prometheus (Debian's package) on the same data, same run.

Both servers receive the identical pre-encoded remote_write 1.0 requests: ``--series`` series
with realistic labels, one sample per series every 15 s (bench/_data.py), in time-major rounds.
Two load shapes (``--shape``, both by default):

- ``short``: 240 points per series (one hour), 500 series x 4 samples per request, 8 writers
  (the shape this benchmark always had);
- ``long``: 6 hours of points (1,440 per series), 500 series x 40 samples per request, 4
  writers: what a Prometheus catching up, or a large remote_write queue, sends;
- ``otlp`` (not by default): the short shape as OTLP/HTTP exports (one gauge data point per
  series and scrape, labels as attributes), Spyglass only (and ``--baseline-src``): Debian's
  Prometheus 2.42 has no OTLP receiver.

Per server and shape the script prints:

- ingest rate: samples / wall-clock seconds from the first request to the last acknowledgement;
- CPU per sample: the server process's CPU time (user + system, every thread) over the load,
  and until it settles (CPU below a tenth of a core, at most 30 s after the last
  acknowledgement: Spyglass inserts into ClickHouse after acknowledging, so its work is not done
  when the load is);
- peak RSS (VmHWM) and settled RSS (VmRSS once settled);
- bytes on disk per sample once the data is in its compact form (Prometheus: a TSDB snapshot,
  which compacts the head into a block; Spyglass: the metric tables after OPTIMIZE, read from
  the data dir) and, for reference, the raw directory size right after ingest (WAL included);

and the Spyglass/Prometheus ratio of each. ``--baseline-src DIR`` also runs another checkout's
Spyglass (its ``src`` folder) on the same data in the same run, to compare two versions.
``--repeat N`` runs every server N times per shape (fresh data each time) and reports medians.
``--py-spy FILE`` records the (first) Spyglass server under the load with py-spy, as collapsed
stacks (``FILE.<shape>.txt``); that round's figures carry py-spy's overhead. ``--threads``
prints each Spyglass server's CPU by thread name from the load's start until it settles (the
event loop, decode workers, the WAL writer, chDB's own threads), since py-spy sees only the
Python ones.

    scripts/bench remote_write_ingest [--shape short,long] [--series 10000] [--repeat 1]
        [--baseline-src ../old/src] [--py-spy /tmp/ingest] [--threads]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from bench._data import (
    INTERVAL_MS,
    OTLP_HEADERS,
    encode_otlp_rounds,
    encode_rounds,
    make_dataset,
    send_rounds,
)
from tests.support.servers import Server, have_prometheus, prometheus, spyglass, stop

from spyglass.storage.backends import ChdbBackend

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Shape:
    """One load: points per series, scrapes per request, series per request, writers, and
    whether it goes over OTLP/HTTP (Spyglass only: Prometheus 2.42 has no OTLP receiver)."""

    points: int
    points_per_round: int
    series_per_request: int
    senders: int
    otlp: bool = False


SHAPES = {
    "short": Shape(points=240, points_per_round=4, series_per_request=500, senders=8),
    "long": Shape(points=6 * 3600_000 // INTERVAL_MS, points_per_round=40,
                  series_per_request=500, senders=4),
    "otlp": Shape(points=240, points_per_round=4, series_per_request=500, senders=8, otlp=True),
}  # fmt: skip


def dir_bytes(path: Path) -> int:
    """Bytes of the files under ``path``; ClickHouse may merge parts away while this walks."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process (all threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def thread_cpu(pid: int) -> dict[str, tuple[float, float]]:
    """User and system CPU seconds so far of the process's threads, summed by thread name
    (threads that ended are not counted: the load's own threads live as long as the server)."""
    out: dict[str, tuple[float, float]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            user, system = out.get(name, (0.0, 0.0))
            out[name] = (user + int(fields[11]) / _TICK, system + int(fields[12]) / _TICK)
    return out


def print_threads(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], total: int
) -> None:
    """CPU µs per sample by thread name between two ``thread_cpu`` readings, and the share of
    it spent in the kernel."""
    spent = {
        n: (u - before.get(n, (0.0, 0.0))[0], s - before.get(n, (0.0, 0.0))[1])
        for n, (u, s) in after.items()
    }
    whole = sum(u + s for u, s in spent.values()) or 1.0
    for name, (user, system) in sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:8]:
        cpu = user + system
        print(f"    {name:18} {cpu / total * 1e6:7.3f} us/sample {cpu / whole:6.1%} "
              f"(system {system / (cpu or 1.0):.0%})")  # fmt: skip


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def settle(pid: int, limit_s: float = 30.0) -> float:
    """Wait until the process uses under a tenth of a core (at most ``limit_s``); its CPU time."""
    deadline = time.monotonic() + limit_s
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - last < 0.1:
            return now
        last = now
    return last


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


def load(
    server: Server,
    rounds: list[list[bytes]],
    shape: Shape,
    total: int,
    profile: Path | None,
    threads: bool = False,
) -> dict[str, float]:
    """Send the rounds to ``server``; rate, CPU and memory figures."""
    spy = None
    if profile is not None:
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.pid),
             "--format", "raw", "--rate", "50", "--nonblocking", "--output", str(profile)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
    by_thread = thread_cpu(server.pid) if threads else {}
    cpu0 = cpu_seconds(server.pid)
    if shape.otlp:
        secs = send_rounds(server.url + "/v1/metrics", rounds, shape.senders, OTLP_HEADERS)
    else:
        secs = send_rounds(server.url + "/api/v1/write", rounds, shape.senders)
    cpu_load = cpu_seconds(server.pid) - cpu0
    cpu_settled = settle(server.pid) - cpu0
    if threads:
        print(f"  CPU by thread of {server.url}:")
        print_threads(by_thread, thread_cpu(server.pid), total)
    if spy is not None:
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        spy.wait(timeout=60)
    return {
        "samples_per_s": total / secs,
        "cpu_us_load": cpu_load / total * 1e6,
        "cpu_us_settled": cpu_settled / total * 1e6,
        "rss": server.peak_rss_bytes(),
        "settled_rss": rss_bytes(server.pid),
    }


def run_prometheus(
    root: Path, rounds: list[list[bytes]], shape: Shape, total: int
) -> dict[str, float]:
    with prometheus(
        root / "prom",
        "global:\n  scrape_interval: 1h\n",
        "--web.enable-remote-write-receiver",
        "--web.enable-admin-api",
    ) as prom:
        out = load(prom, rounds, shape, total, None)
        out["raw_bytes_per_sample"] = dir_bytes(root / "prom" / "tsdb") / total
        snap = httpx.post(prom.url + "/api/v1/admin/tsdb/snapshot", timeout=300).json()
        snap_dir = root / "prom" / "tsdb" / "snapshots" / snap["data"]["name"]
        out["bytes_per_sample"] = dir_bytes(snap_dir) / total
    shutil.rmtree(root / "prom", ignore_errors=True)
    return out


def run_spyglass(
    root: Path,
    source: str | None,
    rounds: list[list[bytes]],
    shape: Shape,
    total: int,
    profile: Path | None,
    threads: bool = False,
) -> dict[str, float]:
    data_dir = root / "data"
    with spyglass(data_dir, source=source) as sg:
        out = load(sg, rounds, shape, total, profile, threads)
        out["raw_bytes_per_sample"] = dir_bytes(data_dir) / total
        assert stop(sg) == 0  # SIGTERM: flush everything, then compact offline below
    out["bytes_per_sample"] = compacted_bytes(data_dir) / total
    shutil.rmtree(root, ignore_errors=True)
    return out


ROWS = (
    ("samples_per_s", "ingest samples/s", "{:,.0f}", 1.0),
    ("cpu_us_load", "CPU us/sample, load", "{:.3f}", 1.0),
    ("cpu_us_settled", "CPU us/sample, settled", "{:.3f}", 1.0),
    ("rss", "peak RSS MiB", "{:,.1f}", 2**-20),
    ("settled_rss", "settled RSS MiB", "{:,.1f}", 2**-20),
    ("bytes_per_sample", "disk bytes/sample", "{:.3f}", 1.0),
    ("raw_bytes_per_sample", "raw dir bytes/sample", "{:.3f}", 1.0),
)


def report(title: str, results: dict[str, list[dict[str, float]]]) -> None:
    med: Callable[[str, str], float] = lambda name, key: statistics.median(  # noqa: E731
        r[key] for r in results[name]
    )
    names = list(results)
    print(f"\n{title} (median of {len(results[names[0]])}; load average "
          f"{os.getloadavg()[0]:.1f})")  # fmt: skip
    head = "".join(f"{n:>14}" for n in names)
    ratios = "".join(f"{'s/' + n[0]:>10}" for n in names if n != "spyglass")
    print(f"{'':24}{head}{ratios}")
    for key, label, fmt, scale in ROWS:
        vals = {n: med(n, key) * scale for n in names}
        line = f"{label:24}" + "".join(f"{fmt.format(vals[n]):>14}" for n in names)
        for n in names:
            if n != "spyglass":
                line += f"{vals['spyglass'] / vals[n]:>10.2f}" if vals[n] else f"{'-':>10}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="short,long", help="short, long, otlp (comma-separated)")
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=float, help="history length of the long shape")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline-src", help="another checkout's src folder to compare with")
    parser.add_argument("--py-spy", help="record Spyglass with py-spy into FILE.<shape>.txt")
    parser.add_argument("--skip-prometheus", action="store_true")
    parser.add_argument("--threads", action="store_true", help="Spyglass's CPU by thread name")
    args = parser.parse_args()
    if not args.skip_prometheus and not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")
    print(f"load average {os.getloadavg()}", flush=True)

    for name in args.shape.split(","):
        shape = SHAPES[name]
        if name == "long" and args.hours:
            shape = Shape(int(args.hours * 3600_000 // INTERVAL_MS), shape.points_per_round,
                          shape.series_per_request, shape.senders)  # fmt: skip
        data = make_dataset(args.series, shape.points)
        print(f"{name}: encoding {len(data.series)} series x {shape.points} points ...", flush=True)
        encode = encode_otlp_rounds if shape.otlp else encode_rounds
        rounds = encode(data, shape.points_per_round, shape.series_per_request)
        total = data.samples
        del data
        print(f"{total:,} samples in {sum(len(r) for r in rounds):,} requests", flush=True)
        versions: list[tuple[str, str | None]] = [("spyglass", None)]
        if args.baseline_src:
            versions.append(("baseline", args.baseline_src))
        results: dict[str, list[dict[str, float]]] = {"prometheus": []} | {
            v: [] for v, _ in versions
        }
        if args.skip_prometheus or shape.otlp:
            del results["prometheus"]
        for i in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
                root = Path(tmp)
                if "prometheus" in results:
                    results["prometheus"].append(run_prometheus(root, rounds, shape, total))
                    print(f"  round {i + 1} prometheus done", flush=True)
                for v, source in versions:
                    spy = Path(f"{args.py_spy}.{name}.txt") if args.py_spy and i == 0 else None
                    spy = spy if v == "spyglass" else None
                    results[v].append(
                        run_spyglass(root / v, source, rounds, shape, total, spy, args.threads)
                    )
                    print(f"  round {i + 1} {v}: {results[v][-1]['samples_per_s']:,.0f}/s",
                          flush=True)  # fmt: skip
        report(f"{name}: {total:,} samples, {shape.points} points per series, "
               f"{shape.series_per_request} series x {shape.points_per_round} samples per "
               f"request, {shape.senders} writers", results)  # fmt: skip


if __name__ == "__main__":
    main()
