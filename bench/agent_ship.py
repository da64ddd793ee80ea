"""Shipping a log file to a real ``spyglass serve``: ``spyglass agent`` (Promtail config, Loki
push) against syslog-ng 3.38 (``file()`` source, ``elasticsearch-http()`` to ``/_bulk``), side by
side in one run, on the same file and the same server.

Each round writes ``--lines`` realistic JSON log lines (~200 bytes) to a fresh file, starts the
shipper, and times until the shipper counts them all acknowledged by the server (the agent's
``promtail_sent_entries_total``, syslog-ng's ``written`` plus ``dropped`` counters from
``syslog-ng-ctl stats``, polled every 0.2 s); it prints lines/s and the shipper's CPU seconds
per 100k lines (user + system from /proc). Afterwards the server's own count
(``sum(count_over_time(...))``) is checked to hold every line; syslog-ng's drops are shown.
The agent runs two pipelines: none (lines as they are) and Promtail's usual one for JSON
(``json`` with four expressions, ``labels``, ``timestamp``). syslog-ng ships lines as they are
(``flags(no-parse)``).

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
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
from tests.support.servers import free_port, spyglass, stop_process

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


def agent_sent(port: int) -> int:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    except httpx.HTTPError:
        return 0
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("promtail_sent_entries_total{")
    )


def syslog_ng_done(ctl: Path) -> int:
    """Lines syslog-ng is done with: written (acknowledged) or dropped."""
    out = subprocess.run(
        [shutil.which("syslog-ng-ctl") or "/usr/sbin/syslog-ng-ctl", "stats", "-c", str(ctl)],
        capture_output=True, text=True, check=False, timeout=30,
    ).stdout  # fmt: skip
    return sum(
        int(line.rsplit(";", 1)[1])
        for line in out.splitlines()
        if line.startswith("dst.http;") and (";written;" in line or ";dropped;" in line)
    )


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


def run_agent(work: Path, url: str, log: Path, job: str, stages: str, port: int) -> list[str]:
    cfg = work / f"{job}.yaml"
    cfg.write_text(
        f"""
server: {{http_listen_address: 127.0.0.1, http_listen_port: {port}}}
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
options {{ stats-freq(0); }};
source s {{ file("{log}" follow-freq(0.1) flags(no-parse)); }};
destination d {{ elasticsearch-http(url("{url}/_bulk") index("{job}") type("")
                                    batch-lines(1000) workers(4) timeout(30)); }};
# flow-control: without it a full destination queue drops lines (syslog-ng's "dropped").
log {{ source(s); destination(d); flags(flow-control); }};
"""
    )
    binary = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"
    return [binary, "--foreground", "--no-caps", "--stderr", f"--cfgfile={cfg}",
            f"--persist-file={work}/{job}.persist", f"--pidfile={work}/{job}.pid",
            f"--control={work}/{job}.ctl"]  # fmt: skip


def measure(
    cmd: list[str], work: Path, acknowledged: Callable[[], int], n: int
) -> tuple[float, float]:
    started = time.monotonic()
    with process(cmd, work / "shipper.log") as p:
        while acknowledged() < n and time.monotonic() - started < 600:
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
    ap.add_argument(
        "--shippers",
        default="syslog-ng,agent,agent-json",
        help="which shippers, in this order each round (syslog-ng, agent, agent-json)",
    )
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as d, spyglass(Path(d) / "data") as sg:
        results: dict[str, list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            names = {"syslog-ng": "syslog-ng", "agent": "agent, no stages",
                     "agent-json": "agent, json pipeline"}  # fmt: skip
            for name in [names[s.strip()] for s in args.shippers.split(",")]:
                job = f"j{abs(hash((name, r))) % 10**8}"
                work = Path(d) / job
                work.mkdir()
                log = work / "app.log"
                write_lines(log, args.lines, rng)
                acknowledged: Callable[[], int]
                if name == "syslog-ng":
                    cmd = run_syslog_ng(work, sg.url, log, job)
                    selector = f'{{index="{job}"}}'
                    ctl = work / f"{job}.ctl"
                    acknowledged = lambda ctl=ctl: syslog_ng_done(ctl)  # noqa: E731
                else:
                    stages = PIPELINE if "json" in name else ""
                    port = free_port()
                    cmd = run_agent(work, sg.url, log, job, stages, port)
                    selector = f'{{job="{job}"}}'
                    acknowledged = lambda port=port: agent_sent(port)  # noqa: E731
                rate, cpu = measure(cmd, work, acknowledged, args.lines)
                stored = count(sg.url, selector)
                if stored != args.lines:
                    print(f"  the server counts {stored} lines of {args.lines}; the shipper said:")
                    print((work / "shipper.log").read_text()[-1500:])
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
