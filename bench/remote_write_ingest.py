"""remote_write ingest: Spyglass against Prometheus (Debian's package) on the same data, same run.

Both servers receive the identical pre-encoded remote_write 1.0 requests: 10k series with
realistic labels, one sample per series every 15 s (bench/_data.py), 2,000 samples per request,
``--senders`` requests in flight. The script prints, per server:

- ingest rate: samples / wall-clock seconds from the first request to the last acknowledgement;
- peak RSS of the server process (VmHWM);
- bytes on disk per sample once the data is in its compact form (Prometheus: a TSDB snapshot,
  which compacts the head into a block; Spyglass: the samples table after OPTIMIZE, read from the
  data dir) and, for reference, the raw directory size right after ingest (WAL included);

and the Spyglass/Prometheus ratio of each. ``--baseline-src DIR`` also runs another checkout's
Spyglass (its ``src`` folder) on the same data in the same run, to compare two versions.

    scripts/bench remote_write_ingest [--series 10000] [--minutes 60] [--senders 8]
        [--baseline-src ../old/src]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx
from bench._data import INTERVAL_MS, encode_rounds, make_dataset, send_rounds
from tests.support.servers import have_prometheus, prometheus, spyglass, stop

from spyglass.storage.backends import ChdbBackend


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
    parser.add_argument("--baseline-src", help="another checkout's src folder to compare with")
    args = parser.parse_args()
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")

    points = args.minutes * 60_000 // INTERVAL_MS
    data = make_dataset(args.series, points)
    print(f"encoding {len(data.series)} series x {points} points ...", flush=True)
    rounds = encode_rounds(data)
    total = data.samples
    print(f"{total:,} samples in {sum(len(r) for r in rounds):,} requests", flush=True)

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        root = Path(tmp)
        with prometheus(
            root / "prom",
            "global:\n  scrape_interval: 1h\n",
            "--web.enable-remote-write-receiver",
            "--web.enable-admin-api",
        ) as prom:
            secs = send_rounds(prom.url + "/api/v1/write", rounds, args.senders)
            raw = dir_bytes(root / "prom" / "tsdb")
            snap = httpx.post(prom.url + "/api/v1/admin/tsdb/snapshot", timeout=300).json()
            snap_dir = root / "prom" / "tsdb" / "snapshots" / snap["data"]["name"]
            results["prometheus"] = {
                "samples_per_s": total / secs,
                "rss": prom.peak_rss_bytes(),
                "bytes_per_sample": dir_bytes(snap_dir) / total,
                "raw_bytes_per_sample": raw / total,
            }
        versions = [("spyglass", None)]
        if args.baseline_src:
            versions.append(("baseline", args.baseline_src))
        for name, source in versions:
            data_dir = root / name / "data"
            with spyglass(data_dir, source=source) as sg:
                secs = send_rounds(sg.url + "/api/v1/write", rounds, args.senders)
                raw = dir_bytes(data_dir)
                rss = sg.peak_rss_bytes()
                assert stop(sg) == 0  # SIGTERM: flush everything, then compact offline below
            results[name] = {
                "samples_per_s": total / secs,
                "rss": rss,
                "bytes_per_sample": compacted_bytes(data_dir) / total,
                "raw_bytes_per_sample": raw / total,
            }

    p, s = results["prometheus"], results["spyglass"]
    b = results.get("baseline")
    print()
    extra = f"{'baseline':>14}{'ratio s/b':>12}" if b else ""
    print(f"{'':24}{'prometheus':>14}{'spyglass':>14}{'ratio s/p':>12}{extra}")
    for key, label, fmt in (
        ("samples_per_s", "ingest samples/s", "{:,.0f}"),
        ("rss", "peak RSS MiB", "{:,.1f}"),
        ("bytes_per_sample", "disk bytes/sample", "{:.3f}"),
        ("raw_bytes_per_sample", "raw dir bytes/sample", "{:.3f}"),
    ):
        pv, sv = p[key], s[key]
        bv = b[key] if b else 0.0
        if key == "rss":
            pv, sv, bv = pv / 2**20, sv / 2**20, bv / 2**20
        line = f"{label:24}{fmt.format(pv):>14}{fmt.format(sv):>14}{sv / pv:>12.2f}"
        if b:
            line += f"{fmt.format(bv):>14}{sv / bv:>12.2f}"
        print(line)


if __name__ == "__main__":
    main()
