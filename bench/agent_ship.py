"""Shipping a log file to a real ``spyglass serve``: ``spyglass agent`` (Promtail config, Loki
push) against syslog-ng 3.38 (``file()`` source, ``elasticsearch-http()`` to ``/_bulk``), side by
side in one run, on the same file and the same server.

Each round writes ``--lines`` realistic JSON log lines (~200 bytes) to a fresh file, starts the
shipper, and times until the server holds them all (``sum(count_over_time(...))`` through Loki's
query API, polled every 0.2 s); it prints lines/s and the shipper's CPU seconds per 100k lines
(user + system from /proc). The agent runs two pipelines: none (lines as they are) and Promtail's
usual one for JSON (``json`` with four expressions, ``labels``, ``timestamp``). syslog-ng ships
lines as they are (``flags(no-parse)``).

    scripts/bench agent_ship [--lines 100000] [--rounds 2]

Nothing here asserts; it reports. Promtail itself is not installable here.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
from tests.support.servers import spyglass, stop_process

ROUTES = ["/api/v1/orders", "/api/v1/users/{id}", "/login", "/health", "/api/v1/cart"]
PIPELINE = """
    pipeline_stages:
      - json: {expressions: {level: , status: , route: , ts: time}}
      - labels: {level: }
      - timestamp: {source: ts, format: RFC3339Nano}
"""


def write_lines(path: Path, n: int, rng: np.random.Generator) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    status = rng.choice([200, 200, 200, 201, 404, 500], n)
    with path.open("w") as f:
        for i in range(n):
            when = start + dt.timedelta(microseconds=i * 10)
            doc = {
                "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "level": "error" if status[i] >= 500 else "info",
                "msg": "request finished",
                "route": ROUTES[i % len(ROUTES)],
                "status": int(status[i]),
                "duration_ms": round(float(rng.gamma(2.0, 20.0)), 2),
                "user_id": f"u{int(rng.integers(0, 5000))}",
            }
            f.write(json.dumps(doc) + "\n")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count(url: str, selector: str) -> int:
    r = httpx.get(
        url + "/loki/api/v1/query",
        params={"query": f"sum(count_over_time({selector}[2h]))", "time": str(time.time_ns())},
        timeout=60,
    )
    result = r.json()["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


@contextlib.contextmanager
def process(cmd: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield p
    finally:
        stop_process(p, signal.SIGTERM)


def run_agent(work: Path, url: str, log: Path, job: str, stages: str) -> list[str]:
    cfg = work / f"{job}.yaml"
    cfg.write_text(
        f"""
server: {{disable: true}}
positions: {{filename: {work}/{job}-positions.yaml}}
clients: [{{url: '{url}/loki/api/v1/push'}}]
global: {{file_watch_config: {{min_poll_frequency: 100ms}}}}
scrape_configs:
  - job_name: {job}
    static_configs:
      - targets: [localhost]
        labels: {{job: {job}, __path__: '{log}'}}
{stages}"""
    )
    return [sys.executable, "-m", "spyglass", "agent", "--config.file", str(cfg)]


def run_syslog_ng(work: Path, url: str, log: Path, job: str) -> list[str]:
    cfg = work / f"{job}.conf"
    cfg.write_text(
        f"""@version: 3.38
@include "scl.conf"
options {{ stats-freq(0); log-fetch-limit(1000); }};
source s {{ file("{log}" follow-freq(0.1) flags(no-parse) log-iw-size(10000)); }};
destination d {{ elasticsearch-http(url("{url}/_bulk") index("{job}") type("")
                                    batch-lines(1000) workers(4) timeout(30)); }};
log {{ source(s); destination(d); }};
"""
    )
    binary = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"
    return [binary, "--foreground", "--no-caps", f"--cfgfile={cfg}",
            f"--persist-file={work}/{job}.persist", f"--pidfile={work}/{job}.pid",
            f"--control={work}/{job}.ctl"]  # fmt: skip


def measure(url: str, cmd: list[str], work: Path, selector: str, n: int) -> tuple[float, float]:
    started = time.monotonic()
    with process(cmd, work / "shipper.log") as p:
        while count(url, selector) < n:
            if p.poll() is not None:
                raise RuntimeError((work / "shipper.log").read_text()[-2000:])
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(p.pid)
    return n / elapsed, cpu / n * 100_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as d, spyglass(Path(d) / "data") as sg:
        results: dict[str, list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for name in ("agent, no stages", "agent, json pipeline", "syslog-ng"):
                job = f"j{abs(hash((name, r))) % 10**8}"
                work = Path(d) / job
                work.mkdir()
                log = work / "app.log"
                write_lines(log, args.lines, rng)
                if name == "syslog-ng":
                    cmd = run_syslog_ng(work, sg.url, log, job)
                    selector = f'{{index="{job}"}}'
                else:
                    stages = PIPELINE if "json" in name else ""
                    cmd = run_agent(work, sg.url, log, job, stages)
                    selector = f'{{job="{job}"}}'
                rate, cpu = measure(sg.url, cmd, work, selector, args.lines)
                results.setdefault(name, []).append((rate, cpu))
                load = os.getloadavg()[0]
                print(f"round {r + 1} {name:22s} {rate:10,.0f} lines/s  "
                      f"{cpu:6.2f} CPU s per 100k lines  load {load:.1f}")  # fmt: skip
        print()
        for name, got in results.items():
            rates = sorted(x for x, _ in got)
            cpus = sorted(c for _, c in got)
            print(f"{name:22s} median {rates[len(rates) // 2]:10,.0f} lines/s, "
                  f"{cpus[len(cpus) // 2]:.2f} CPU s per 100k lines")  # fmt: skip


if __name__ == "__main__":
    main()
