"""Silences: the API v2 against the real Alertmanager, and ``mutes`` in process.

Side by side, in one run, on the same requests: ``--silences`` silences POSTed one by one to
Spyglass and to Alertmanager (Debian's package), then ``GET /api/v2/silences`` (all of them) and
``GET /api/v2/silences?filter=...`` repeated ``--lists`` times. It prints each side's median
latency and the ratio. Spyglass writes each silence to its state store (fsynced SQLite) before
answering; Alertmanager keeps them in memory and snapshots every 15 minutes, so creation is
expected to cost Spyglass more.

Then, in process (Alertmanager has no API that asks its silencer alone): ``Silences.mutes`` for
``--alerts`` label sets against the same silences, once cold (every label set new) and once
warm (answered from the version-keyed cache), in microseconds per alert.

    scripts/bench silences [--silences 1000] [--lists 20] [--alerts 5000]

Nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from tests.support.servers import Server, alertmanager, spyglass

from spyglass.alerting import SilenceDraft, Silences, format_api_time
from spyglass.server.api._silence_json import decode_postable_silence
from spyglass.storage.state import open_state_store

AM_BIN = "/usr/bin/prometheus-alertmanager"
AM_CONFIG = "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n"


def silence(i: int, now_ms: int) -> dict[str, object]:
    """The i-th silence: an alert name shared by ten silences, and an instance regex."""
    return {
        "matchers": [
            {"name": "alertname", "value": f"Alert{i % 100}", "isRegex": False},
            {"name": "instance", "value": f"host-{i}|host-{i + 1}", "isRegex": True},
        ],
        "startsAt": format_api_time(now_ms),
        "endsAt": format_api_time(now_ms + 3_600_000),
        "createdBy": "bench",
        "comment": f"silence {i}",
    }


def timed(call: Callable[[], httpx.Response]) -> float:
    start = time.perf_counter()
    r = call()
    elapsed = time.perf_counter() - start
    r.raise_for_status()
    return elapsed


def run_api(server: Server, n: int, lists: int) -> dict[str, float]:
    now = time.time_ns() // 1_000_000
    with httpx.Client(base_url=server.url + "/api/v2", timeout=60) as c:
        create = [timed(lambda i=i: c.post("/silences", json=silence(i, now))) for i in range(n)]
        listing = [timed(lambda: c.get("/silences")) for _ in range(lists)]
        filtered = [
            timed(lambda: c.get("/silences", params={"filter": 'alertname="Alert7"'}))
            for _ in range(lists)
        ]
    return {
        "POST /silences": statistics.median(create),
        "GET /silences": statistics.median(listing),
        "GET /silences?filter": statistics.median(filtered),
    }


def run_mutes(n: int, alerts: int) -> tuple[float, float]:
    now = time.time_ns() // 1_000_000
    with tempfile.TemporaryDirectory() as d, open_state_store("", d) as store:
        silences = Silences(store)
        for i in range(n):
            draft = decode_postable_silence(json.dumps(silence(i, now)).encode())
            assert isinstance(draft, SilenceDraft), draft
            silences.set(draft)
        label_sets = [
            {"alertname": f"Alert{j % 100}", "instance": f"host-{j}", "job": "node"}
            for j in range(alerts)
        ]
        out = []
        for _ in range(2):
            start = time.perf_counter()
            for labels in label_sets:
                silences.mutes(labels, now)
            out.append((time.perf_counter() - start) / alerts * 1e6)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--silences", type=int, default=1000)
    parser.add_argument("--lists", type=int, default=20)
    parser.add_argument("--alerts", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with spyglass(root / "spyglass" / "data") as ours:
            spy = run_api(ours, args.silences, args.lists)
        with alertmanager(AM_BIN, root / "alertmanager", AM_CONFIG) as theirs:
            am = run_api(theirs, args.silences, args.lists)
    print(f"{args.silences} silences; medians in ms (Spyglass / Alertmanager = ratio)")
    for what, ours_s in spy.items():
        print(f"  {what:22} {ours_s * 1e3:8.2f} {am[what] * 1e3:8.2f}  x{ours_s / am[what]:.2f}")
    cold, warm = run_mutes(args.silences, args.alerts)
    print(f"mutes, {args.alerts} alerts: cold {cold:.1f} us/alert, warm {warm:.1f} us/alert")


if __name__ == "__main__":
    main()
