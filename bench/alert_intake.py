"""Alert intake: an Alertmanager API v2 server taking 5,000 alerts, Spyglass against Alertmanager.

The same alerts go to each target's ``POST /api/v2/alerts`` twice, each time as new alerts (a
``delivery`` label tells the two apart): first in batches of 64 one request after another, as a
Prometheus notifier sends them, then in one request holding all of them. After each delivery
``GET /api/v2/alerts`` is polled until every alert sent so far is listed. Per target and
delivery the script prints requests/s and alerts/s of the POSTs, the time until all alerts were
listed, the CPU seconds the server used and its resident memory (now and peak).

Targets: the real Alertmanager (Debian's ``prometheus-alertmanager``, alone: minimal config,
``--cluster.listen-address=``), a Spyglass server it starts (with ``--alertmanager-config-file``
when that option exists; ``--spyglass-src DIR`` runs another checkout's), or any server running
(``--url``, and ``--pid`` to read its CPU and memory). A target whose ``POST /api/v2/alerts``
answers 404 is skipped with a message.

    scripts/bench alert_intake [--alerts 5000] [--batch 64]
        [--target alertmanager --target spyglass] [--spyglass-src ../other/src]
        [--url http://127.0.0.1:9093 --pid 1234]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import alertmanager, spyglass

ALERTMANAGER_BIN = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
MINIMAL_CONFIG = """\
route:
  receiver: blackhole
  group_by: [alertname, job]
receivers:
  - name: blackhole
"""
ALERT_NAMES = (
    "HighErrorRate",
    "HighLatency",
    "InstanceDown",
    "HighCPU",
    "LowMemory",
    "DiskFilling",
    "CertificateExpiring",
    "QueueBacklog",
)
JOBS = ("api", "worker", "gateway", "billing", "node")
SEVERITIES = ("info", "warning", "critical")


def make_alerts(n: int, delivery: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """``n`` distinct firing alerts as Prometheus posts them (labels, annotations, ``startsAt``,
    ``endsAt`` four evaluation intervals ahead, ``generatorURL``)."""
    now = now or datetime.now(UTC)
    starts = (now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    ends = (now + timedelta(minutes=4)).isoformat().replace("+00:00", "Z")
    out = []
    for i in range(n):
        name = ALERT_NAMES[i % len(ALERT_NAMES)]
        job = JOBS[(i // len(ALERT_NAMES)) % len(JOBS)]
        instance = f"10.0.{i // 250 % 250}.{i % 250}:8000"
        out.append(
            {
                "labels": {
                    "alertname": name,
                    "job": job,
                    "instance": instance,
                    "severity": SEVERITIES[i % len(SEVERITIES)],
                    "team": f"{job}-team",
                    "delivery": delivery,
                },
                "annotations": {
                    "summary": f"{name} on {instance}",
                    "description": f"{job} at {instance} has been in {name} for 10 minutes.",
                    "runbook_url": f"https://runbooks.example/{name}",
                },
                "startsAt": starts,
                "endsAt": ends,
                "generatorURL": f"http://prometheus.example:9090/graph?g0.expr={name}&g0.tab=1",
            }
        )
    return out


@dataclass
class Target:
    """A server to send to: its URL and, when known, its process id (for CPU and memory)."""

    name: str
    url: str
    pid: int | None


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU seconds of a process, from /proc (NaN when unknown)."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_bytes(pid: int | None, field: str) -> float:
    """``VmRSS`` or ``VmHWM`` of a process in bytes (NaN when unknown)."""
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024.0
    return float("nan")


def post_alerts(client: httpx.Client, url: str, alerts: list[dict[str, Any]]) -> httpx.Response:
    return client.post(url + "/api/v2/alerts", json=alerts, timeout=300)


def listed(client: httpx.Client, url: str) -> int:
    r = client.get(url + "/api/v2/alerts", timeout=300)
    r.raise_for_status()
    return len(r.json())


def deliver(
    client: httpx.Client, target: Target, alerts: list[dict[str, Any]], batch: int, expect: int
) -> dict[str, float]:
    """POST ``alerts`` in requests of ``batch``, then wait until ``expect`` alerts are listed."""
    cpu0 = cpu_seconds(target.pid)
    requests = 0
    started = time.perf_counter()
    for i in range(0, len(alerts), batch):
        r = post_alerts(client, target.url, alerts[i : i + batch])
        if r.status_code != 200:
            raise RuntimeError(f"{target.url}: {r.status_code} {r.text[:300]}")
        requests += 1
    posted = time.perf_counter() - started
    polls = 0
    while True:
        polls += 1
        if listed(client, target.url) >= expect:
            break
        if time.perf_counter() - started > 300:
            raise RuntimeError(f"{target.name}: alerts not all listed after 300 s")
        time.sleep(0.05)
    total = time.perf_counter() - started
    return {
        "requests": requests,
        "requests_per_s": requests / posted,
        "alerts_per_s": len(alerts) / posted,
        "post_s": posted,
        "listed_s": total,
        "polls": polls,
        "cpu_s": cpu_seconds(target.pid) - cpu0,
        "rss": memory_bytes(target.pid, "VmRSS"),
        "peak_rss": memory_bytes(target.pid, "VmHWM"),
    }


def run_target(target: Target, n: int, batch: int) -> dict[str, dict[str, float]] | None:
    """Both deliveries against one target; ``None`` when it has no ``POST /api/v2/alerts``."""
    with httpx.Client() as client:
        probe = post_alerts(client, target.url, [])
        if probe.status_code == 404:
            print(f"{target.name}: POST /api/v2/alerts answers 404: skipped", flush=True)
            return None
        if probe.status_code != 200:
            raise RuntimeError(f"{target.name}: empty POST got {probe.status_code} {probe.text}")
        before = listed(client, target.url)
        out = {}
        for label, size in ((f"batches of {batch}", batch), ("one request", n)):
            alerts = make_alerts(n, delivery=label)
            before += n
            out[label] = deliver(client, target, alerts, size, before)
            print(f"{target.name}: {label}: {out[label]['listed_s']:.2f}s", flush=True)
        return out


def spyglass_has_option(option: str, source: str | None) -> bool:
    """Whether ``spyglass serve`` (this checkout's, or ``source``'s) knows ``option``."""
    env = {**os.environ, "COLUMNS": "200"}
    if source:
        env["PYTHONPATH"] = source
    help_text = subprocess.run(
        [sys.executable, "-m", "spyglass", "serve", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    ).stdout
    return option in help_text


@contextlib.contextmanager
def started_target(name: str, root: Path, source: str | None = None) -> Iterator[Target]:
    if name == "alertmanager":
        with alertmanager(ALERTMANAGER_BIN, root / "am", MINIMAL_CONFIG) as am:
            yield Target(name, am.url, am.pid)
        return
    config = root / "alertmanager.yml"
    config.write_text(MINIMAL_CONFIG)
    args: list[str] = []
    if spyglass_has_option("--alertmanager-config-file", source):
        args = ["--alertmanager-config-file", str(config)]
    else:
        print("spyglass serve has no --alertmanager-config-file yet: started without it")
    with spyglass(root / "spyglass" / "data", *args, source=source) as sg:
        yield Target(name, sg.url, sg.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=64, help="alerts per request (Prometheus: 64)")
    parser.add_argument(
        "--target",
        action="append",
        choices=("alertmanager", "spyglass"),
        help="servers to start (default both)",
    )
    parser.add_argument("--url", help="a server already running, instead of starting one")
    parser.add_argument("--pid", type=int, help="that server's process id, for CPU and memory")
    parser.add_argument("--spyglass-src", help="run another checkout's Spyglass (its src folder)")
    args = parser.parse_args()

    results: dict[str, dict[str, dict[str, float]]] = {}
    if args.url:
        got = run_target(Target(args.url, args.url.rstrip("/"), args.pid), args.alerts, args.batch)
        if got is not None:
            results[args.url] = got
    else:
        names = args.target or ["alertmanager", "spyglass"]
        if "alertmanager" in names and not Path(ALERTMANAGER_BIN).is_file():
            sys.exit("prometheus-alertmanager not found: apt-get install prometheus-alertmanager")
        for name in names:
            with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
                with started_target(name, Path(tmp), args.spyglass_src) as target:
                    got = run_target(target, args.alerts, args.batch)
                if got is not None:
                    results[name] = got
    report(results, args.alerts)


def report(results: dict[str, dict[str, dict[str, float]]], n: int) -> None:
    if not results:
        return
    names = list(results)
    ratio = "spyglass" in results and "alertmanager" in results
    print()
    print(f"{n:,} alerts per delivery")
    head = "".join(f"{name:>16}" for name in names) + (f"{'s/am':>8}" if ratio else "")
    for delivery in next(iter(results.values())):
        print(f"\n{delivery:30}{head}")
        for key, label, scale, fmt in (
            ("requests", "requests", 1, "{:,.0f}"),
            ("requests_per_s", "requests/s", 1, "{:,.1f}"),
            ("alerts_per_s", "alerts/s", 1, "{:,.0f}"),
            ("post_s", "POSTs done, s", 1, "{:.3f}"),
            ("listed_s", "all listed, s", 1, "{:.3f}"),
            ("cpu_s", "server CPU, s", 1, "{:.2f}"),
            ("rss", "RSS after, MiB", 1 / 2**20, "{:,.1f}"),
            ("peak_rss", "peak RSS, MiB", 1 / 2**20, "{:,.1f}"),
        ):
            vals = {name: results[name][delivery][key] * scale for name in names}
            line = f"{label:30}" + "".join(f"{fmt.format(vals[name]):>16}" for name in names)
            if ratio:
                line += f"{vals['spyglass'] / vals['alertmanager']:>8.2f}"
            print(line)


if __name__ == "__main__":
    main()
