"""CLI start-up: how long ``spyglass`` takes for commands that do little, against promtool.

In one run, on the same files and the same server, each command runs ``--rounds`` times as a
user runs it (a fresh ``python -m spyglass`` process, wall time until it exits), rounds
interleaved so load drifts hit every side alike:

- ``spyglass --help``, beside ``promtool --help``;
- ``spyglass check rules FILE`` on a two-rule file, beside ``promtool check rules FILE``;
- ``spyglass logs query`` and ``spyglass incident list`` against a real ``spyglass serve``
  holding one log line and one incident, beside ``promtool query instant`` against the same
  server's Prometheus API (a Go client's cost for one HTTP round trip);
- ``spyglass silence query`` against the same server holding one silence, beside ``amtool
  silence query`` against it (the same Alertmanager API call);
- ``python -c pass``: the interpreter's own start, the floor of any Python command.

``--baseline-src DIR`` runs another checkout's ``src`` too (the commit before a change). It
prints for each the median and minimum wall milliseconds and the median CPU milliseconds (user +
system of the process; on a loaded machine the wall time is mostly waiting for a core, the CPU
time is what the command costs), the baseline/current ratios, and the cumulative import time of
``spyglass.cli`` from ``python -X importtime`` (median of the rounds).

    scripts/bench cli_startup [--rounds 10] [--baseline-src /work/main/src]

Nothing here asserts; it reports, with the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.support.servers import Server, spyglass

REPO = Path(__file__).resolve().parents[1]
RULES = """\
groups:
  - name: api
    rules:
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total[5m]))
      - alert: HighErrorRate
        expr: job:errors:rate5m > 1
        for: 5m
        annotations:
          summary: "{{ $labels.job }} fails"
"""


@dataclass
class Timing:
    """Wall and CPU times of one command on one side, in seconds."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall_cpu: tuple[float, float]) -> None:
        self.seconds.append(wall_cpu[0])
        self.cpu.append(wall_cpu[1])

    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000

    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    def min_ms(self) -> float:
        return min(self.seconds) * 1000


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from start to exit and CPU seconds the process used; a failing command is a
    broken benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, timeout=120, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def import_time_us(env: dict[str, str]) -> int:
    """Cumulative microseconds of ``import spyglass.cli`` as ``-X importtime`` reports it."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import spyglass.cli"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| spyglass\.cli$", line)
        if m:
            return int(m.group(1))
    raise SystemExit("no spyglass.cli line in -X importtime's output")


def seed(server: Server) -> None:
    """One log line, one incident and one silence, so the queries print something."""
    now = time.time_ns()
    push = {"streams": [{"stream": {"app": "api", "level": "error"}, "values": [[str(now), "x"]]}]}
    httpx.post(f"{server.url}/loki/api/v1/push", json=push, timeout=30).raise_for_status()
    incident = {"title": "bench", "severity": "SEV3", "by": "bench"}
    r = httpx.post(f"{server.url}/api/spyglass/v1/incidents", json=incident, timeout=30)
    r.raise_for_status()
    matcher = {"name": "alertname", "value": "Bench", "isRegex": False, "isEqual": True}
    at = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + s)) for s in (0, 3600)]
    silence = {
        "matchers": [matcher],
        "startsAt": at[0],
        "endsAt": at[1],
        "createdBy": "bench",
        "comment": "bench",
    }
    r = httpx.post(f"{server.url}/api/v2/silences", json=silence, timeout=30)
    r.raise_for_status()


def main(argv: list[str] | None = None) -> dict[str, dict[str, Timing]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--baseline-src", type=Path, default=None)
    args = parser.parse_args(argv)

    sides = {"spyglass": REPO / "src"}
    if args.baseline_src is not None:
        sides["baseline"] = args.baseline_src.resolve()
    envs = {
        name: {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1", "COLUMNS": "120"}
        for name, src in sides.items()
    }
    promtool = shutil.which("promtool")
    amtool = shutil.which("amtool")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, spyglass(Path(tmp) / "data") as server:
        rules = Path(tmp) / "rules.yml"
        rules.write_text(RULES)
        seed(server)
        py = [sys.executable, "-m", "spyglass"]
        commands: dict[str, tuple[list[str], list[str] | None]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "--help": ([*py, "--help"], [promtool, "--help"] if promtool else None),
            "check rules": (
                [*py, "check", "rules", str(rules)],
                [promtool, "check", "rules", str(rules)] if promtool else None,
            ),
            "logs query": (
                [*py, "logs", "query", '{app="api"}', "--url", server.url],
                [promtool, "query", "instant", server.url, "up"] if promtool else None,
            ),
            "incident list": ([*py, "incident", "list", "--url", server.url], None),
            "silence query": (
                [*py, "silence", "query", "--url", server.url],
                [amtool, "silence", "query", "--alertmanager.url", server.url] if amtool else None,
            ),
        }
        results: dict[str, dict[str, Timing]] = {c: {} for c in commands}
        imports: dict[str, list[int]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, (ours, theirs) in commands.items():
                for side, env in envs.items():
                    if name == "python -c pass" and side != "spyglass":
                        continue
                    results[name].setdefault(side, Timing()).add(run_once(ours, env))
                if theirs is not None:
                    timing = results[name].setdefault(Path(theirs[0]).name, Timing())
                    timing.add(run_once(theirs, dict(os.environ)))
            for side, env in envs.items():
                imports[side].append(import_time_us(env))
    load_after = os.getloadavg()
    print_report(results, imports, load_before, load_after, args.rounds)
    return results


def print_report(
    results: dict[str, dict[str, Timing]],
    imports: dict[str, list[int]],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    rounds: int,
) -> None:
    print(f"{rounds} rounds; load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    print(
        f"{'command':<16}{'side':<10}{'wall ms':>9}{'min ms':>8}{'CPU ms':>8}"
        f"{'baseline/this wall':>20}{'CPU':>7}"
    )
    for name, sides in results.items():
        ours = sides.get("spyglass")
        for side, t in sides.items():
            wall = cpu = ""
            if side == "baseline" and ours is not None:
                wall = f"{t.median_ms() / ours.median_ms():.1f}x"
                cpu = f"{t.cpu_ms() / ours.cpu_ms():.1f}x"
            print(
                f"{name:<16}{side:<10}{t.median_ms():>9.0f}{t.min_ms():>8.0f}{t.cpu_ms():>8.0f}"
                f"{wall:>20}{cpu:>7}"
            )
    for side, values in imports.items():
        print(f"import spyglass.cli ({side}): {statistics.median(values) / 1000:.0f} ms (median)")


if __name__ == "__main__":
    main()
