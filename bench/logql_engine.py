"""The LogQL engine in process against grep and jq on the same lines, side by side.

``--lines`` JSON access-log lines of a web service (levels, routes, statuses, durations, user
and trace ids, one rare needle token) go to ``MemoryLogStore`` and to an NDJSON file. Each
question is then answered by LogQL (``Engine.instant`` over the whole span) and by the usual
command-line floor on the file, ``--rounds`` times; the table shows medians and the ratio:

- needle:   ``count_over_time({...} |= "<token>" [span])``  vs  ``grep -c <token>``
- regex:    ``count_over_time({...} |~ "status\": 5[0-9]{2}" [span])``  vs  ``grep -cE``
- by level: ``sum by (level) (count_over_time({...} | json [span]))``  vs
  ``jq -r .level | sort | uniq -c``
- p99:      ``quantile_over_time(0.99, {...} | json | unwrap duration_ms [span]) by (env)``  vs
  ``jq .duration_ms | sort -n`` (then the 99th percentile)

This measures the engine and its pipeline stages over the in-memory test store (a Python
scan), not the ClickHouse store, which applies line filters in SQL.

    scripts/bench logql_engine [--lines 200000] [--rounds 3]

Nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from spyglass.core.labels import labels_of
from spyglass.core.logs import LogRecord
from spyglass.logs import Engine
from spyglass.storage import MemoryLogStore

S = 10**9
NEEDLE = "tok-7f3a9c"
ROUTES = ["/users", "/users/{id}", "/orders", "/orders/{id}", "/login", "/health", "/search"]


def make_lines(n: int, seed: int = 7) -> list[tuple[int, str]]:
    """``n`` (timestamp ns, JSON line) pairs one millisecond apart, one with the needle."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        level = rng.choices(["info", "warn", "error", "debug"], [80, 10, 5, 5])[0]
        status = 200 if level in ("info", "debug") else (429 if level == "warn" else 500)
        doc = {
            "ts": i,
            "level": level,
            "method": rng.choice(["GET", "GET", "POST", "PUT"]),
            "route": rng.choice(ROUTES),
            "status": status,
            "duration_ms": round(rng.lognormvariate(3, 1), 1),
            "user_id": f"u{rng.randrange(5000)}",
            "trace_id": f"{rng.getrandbits(128):032x}",
            "msg": "request failed" if level == "error" else "request handled",
        }
        if i == n // 2:
            doc["msg"] = f"payment declined {NEEDLE}"
        out.append((i * 1_000_000, json.dumps(doc)))
    return out


def median_time(fn: Callable[[], object], rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def shell(cmd: str) -> str:
    return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lines = make_lines(args.lines)
    stream = labels_of({"service_name": "api", "env": "prod"})
    store = MemoryLogStore()
    store.load(LogRecord(ts, line, stream) for ts, line in lines)
    engine = Engine(store)
    at = lines[-1][0] + 1
    span = f"{(at // S) + 1}s"
    sel = '{service_name="api"}'
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.ndjson"
        path.write_text("".join(line + "\n" for _, line in lines))
        q99 = "jq .duration_ms {f} | sort -n | awk '{{a[NR]=$1}} END {{print a[int(NR*0.99)]}}'"
        cases = [
            ("needle", f'count_over_time({sel} |= "{NEEDLE}" [{span}])', f"grep -c {NEEDLE} {{f}}"),
            (
                "regex",
                f'count_over_time({sel} |~ "status\\": 5[0-9]{{2}}" [{span}])',
                "grep -cE 'status\": 5[0-9]{{2}}' {f}",
            ),
            (
                "by level",
                f"sum by (level) (count_over_time({sel} | json [{span}]))",
                "jq -r .level {f} | sort | uniq -c",
            ),
            (
                "p99",
                f"quantile_over_time(0.99, {sel} | json | unwrap duration_ms [{span}]) by (env)",
                q99,
            ),
        ]
        print(f"{args.lines:,} lines, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
        print(f"{'question':<10} {'LogQL s':>9} {'tool s':>9} {'ratio':>7}  answers")
        for name, query, cmd in cases:
            q_time, q_result = median_time(lambda q=query: engine.instant(q, at), args.rounds)
            t_time, t_result = median_time(lambda c=cmd: shell(c.format(f=path)), args.rounds)
            values = sorted(v for _, _, v in q_result.vector)[:6]  # type: ignore[attr-defined]
            tool = " ".join(str(t_result).split())[:60]
            print(f"{name:<10} {q_time:>9.3f} {t_time:>9.3f} {q_time / t_time:>7.1f}  "
                  f"{values} | {tool}")  # fmt: skip
        print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
