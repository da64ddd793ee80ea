"""Rule evaluation: Spyglass against Prometheus (Debian's package) on the same data, same run.

Both servers receive the same ~10k series (bench/_data.py's fleet plus ``up``) over remote_write,
then load the same rule file: ``--groups`` groups (default 50) of half recording and half alerting
rules (1,000 rules by default), the kind a team writes for its services: request rates, error
ratios and latency quantiles by job and route over 1m/5m/30m windows, ``up == 0``, ``absent``,
CPU and memory, alerts with ``for:``, templated labels and annotations reading the recording
rules' output. Every group evaluates every ``--interval``; the script polls ``/api/v1/rules`` and
records, per group and per evaluation, ``evaluationTime`` (the same JSON field on both servers).

A round is one evaluation of every group. The table gives, per server, the sum over all groups
of one round (median over ``--rounds`` rounds after one warm-up round), the median and slowest
group, the CPU seconds the process used per interval while the rounds ran, the evaluations that
were missed, the rules in error and the alerts held, and the Spyglass/Prometheus ratio.
``--baseline-src DIR`` also runs another checkout's Spyglass (its ``src`` folder) on the same
data in the same run.

The samples reach a few minutes past "now", so rates over the last window stay defined for the
whole run without feeding live data.

    scripts/bench rule_evaluation [--series 10000] [--hours 2] [--groups 50] [--interval 30]
        [--rounds 3] [--baseline-src ../old/src]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml
from bench._data import INTERVAL_MS, JOBS, ROUTES, Dataset, encode_rounds, make_dataset, send_rounds
from tests.support.servers import Server, have_prometheus, prometheus, spyglass

from spyglass.core.labels import labels_of

WINDOWS = ("5m", "1m", "30m")
INSTANCES_PER_GROUP = 3
FUTURE_MS = 20 * 60_000  # samples reach past "now" by this much: the run must end before


# -- data -------------------------------------------------------------------------------------
def make_rules_dataset(n_series: int, points: int, end_ms: int) -> Dataset:
    """bench/_data.py's fleet plus ``up`` for each instance's service and node job; a few
    instances are down for the last five minutes."""
    data = make_dataset(n_series, points, end_ms)
    instances = sorted(
        {dict(ls)["instance"] for ls in data.series if dict(ls).get("job") == "node"},
        key=_instance_index,
    )
    grid = data.timestamps[0]  # the first instance's scrape times
    series = list(data.series)
    rows = [data.values]
    stamps = [data.timestamps]
    for inst in instances:
        i = _instance_index(inst)
        for job in (JOBS[i % len(JOBS)], "node"):
            series.append(labels_of({"__name__": "up", "job": job, "instance": inst}))
            up = np.ones(points)
            if i % 37 == 5:
                up[-20:] = 0.0
            rows.append(up[None, :])
            stamps.append(grid[None, :])
    return Dataset(series, np.vstack(stamps), np.vstack(rows))


def _instance_index(instance: str) -> int:
    host = instance.split(":", maxsplit=1)[0].split(".")
    return int(host[2]) * 250 + int(host[3])


def instance_name(i: int) -> str:
    """The ``instance`` label of the i-th instance of bench/_data.py's fleet."""
    return f"10.0.{i // 250}.{i % 250}:8000"


# -- rules ------------------------------------------------------------------------------------
def make_rule_groups(groups: int, n_instances: int) -> list[dict[str, Any]]:
    """``groups`` groups of 10 recording and 10 alerting rules each.

    Group ``g`` watches one (job, route) pair over one window (5m for the first 24 groups, then
    1m, then 30m), so no two groups write the same series; its node alerts watch a slice of
    ``INSTANCES_PER_GROUP`` instances.
    """
    out = []
    pairs = [(j, r) for r in ROUTES for j in JOBS]
    for g in range(groups):
        job, route = pairs[g % len(pairs)]
        w = WINDOWS[(g // len(pairs)) % len(WINDOWS)]
        first = (g * INSTANCES_PER_GROUP) % max(1, n_instances)
        slice_re = "|".join(
            instance_name((first + k) % max(1, n_instances)).replace(".", "\\\\.")
            for k in range(INSTANCES_PER_GROUP)
        )
        out.append(
            {
                "name": f"{job}{route.replace('/', '-')}-{w}",
                "rules": [
                    *_recording_rules(job, route, w),
                    *_alerting_rules(job, route, w, slice_re),
                ],
            }
        )
    return out


def _recording_rules(job: str, route: str, w: str) -> list[dict[str, Any]]:
    sel = f'job="{job}",route="{route}"'
    req = f"http_requests_total{{{sel}}}"
    bucket = f"http_request_duration_seconds_bucket{{{sel}}}"
    by = "sum by (job, route)"
    rules = [
        (
            "job_route_status:http_requests:rate",
            f"sum by (job, route, status_code) (rate({req}[{w}]))",
        ),
        ("job_route:http_requests:rate", f"{by} (rate({req}[{w}]))"),
        (
            "job_route:http_errors:ratio_rate",
            f'{by} (rate(http_requests_total{{{sel},status_code=~"5.."}}[{w}]))'
            f" / {by} (rate({req}[{w}]))",
        ),
        (
            "job_route:http_request_duration_seconds:p50_",
            f"histogram_quantile(0.5, sum by (le, job, route) (rate({bucket}[{w}])))",
        ),
        (
            "job_route:http_request_duration_seconds:p95_",
            f"histogram_quantile(0.95, sum by (le, job, route) (rate({bucket}[{w}])))",
        ),
        (
            "job_route:http_request_duration_seconds:p99_",
            f"histogram_quantile(0.99, sum by (le, job, route) (rate({bucket}[{w}])))",
        ),
        (
            "job_route:http_request_duration_seconds:mean",
            f"{by} (rate(http_request_duration_seconds_sum{{{sel}}}[{w}]))"
            f" / {by} (rate(http_request_duration_seconds_count{{{sel}}}[{w}]))",
        ),
        ("instance_route:http_requests:rate", f"sum by (instance, job, route) (rate({req}[{w}]))"),
        (
            "job_route:http_requests_4xx:ratio_rate",
            f'{by} (rate(http_requests_total{{{sel},status_code=~"4.."}}[{w}]))'
            f" / {by} (rate({req}[{w}]))",
        ),
        (
            "job_route:apdex:ratio_rate",
            f'({by} (rate(http_request_duration_seconds_bucket{{{sel},le="0.25"}}[{w}]))'
            f' + {by} (rate(http_request_duration_seconds_bucket{{{sel},le="1"}}[{w}]))) / 2'
            f" / {by} (rate(http_request_duration_seconds_count{{{sel}}}[{w}]))",
        ),
    ]
    # The ``slo`` label tells apart the groups' rules of one name (promtool lints duplicates).
    return [
        {"record": f"{name}{w}", "expr": expr, "labels": {"slo": f"{job}{route}"}}
        for name, expr in rules
    ]


def _alerting_rules(job: str, route: str, w: str, instances: str) -> list[dict[str, Any]]:
    sel = f'job="{job}",route="{route}"'
    req = f"http_requests_total{{{sel}}}"
    summary = "{{ $labels.job }} {{ $labels.route }}"
    rules: list[tuple[str, str, str, str, str]] = [
        (
            "HighErrorRate",
            f"job_route:http_errors:ratio_rate{w}{{{sel}}} > 0.02",
            "5m",
            "warning",
            f"{summary}: {{{{ $value | humanizePercentage }}}} of requests fail",
        ),
        (
            "HighLatency",
            f"job_route:http_request_duration_seconds:p95_{w}{{{sel}}} > 0.5",
            "10m",
            "warning",
            f"{summary}: p95 latency {{{{ $value | humanizeDuration }}}}",
        ),
        (
            "HighTraffic",
            f"job_route:http_requests:rate{w}{{{sel}}} > 100",
            "2m",
            "info",
            f"{summary}: {{{{ $value | humanize }}}} requests/s",
        ),
        (
            "InstanceErrors",
            "sum by (instance, job, route) "
            f'(rate(http_requests_total{{{sel},status_code="500"}}[{w}])) > 0.5',
            "5m",
            "warning",
            "{{ $labels.instance }} answers {{ $value | humanize }} errors/s"
            " on {{ $labels.route }}",
        ),
        (
            "InstanceDown",
            f'up{{job="{job}",instance=~"{instances}"}} == 0',
            "1m",
            "critical",
            "{{ $labels.instance }} of {{ $labels.job }} has been down for more than a minute",
        ),
        (
            "ServiceUnavailableMissing",
            f'absent(http_requests_total{{{sel},status_code="503"}})',
            "0s",
            "info",
            f"no 503 series for {job} {route}",
        ),
        (
            "HighCPU",
            "1 - avg by (instance) "
            f'(rate(node_cpu_seconds_total{{mode="idle",instance=~"{instances}"}}[{w}])) > 0.1',
            "15m",
            "warning",
            "{{ $labels.instance }} CPU busy {{ $value | humanizePercentage }}",
        ),
        (
            "LowMemory",
            f'node_memory_MemAvailable_bytes{{instance=~"{instances}"}} < 8 * 1024 * 1024 * 1024',
            "10m",
            "warning",
            "{{ $labels.instance }} has {{ $value | humanize1024 }}B available",
        ),
        (
            "LatencyCritical",
            f"histogram_quantile(0.99, sum by (le, job, route) "
            f"(rate(http_request_duration_seconds_bucket{{{sel}}}[{w}]))) > 1",
            "5m",
            "critical",
            f"{summary}: p99 latency {{{{ $value | humanizeDuration }}}}",
        ),
        (
            "TrafficDrop",
            f"sum by (job, route) (rate({req}[{w}])) < 0.5 * sum by (job, route) "
            f"(rate({req}[{w}] offset 1h))",
            "10m",
            "warning",
            f"{summary}: traffic halved against an hour ago",
        ),
    ]
    # ``service`` and ``endpoint`` tell apart the groups' alerts of one name (promtool lints
    # duplicates).
    return [
        {
            "alert": name,
            "expr": expr,
            "for": hold,
            "labels": {
                "severity": severity,
                "window": w,
                "service": job,
                "endpoint": route,
                "team": "{{ $labels.job }}-team",
            },
            "annotations": {"summary": text, "runbook_url": f"https://runbooks.example/{name}"},
        }
        for name, expr, hold, severity, text in rules
    ]


def rule_file_yaml(groups: int, n_instances: int) -> str:
    """The rule file both servers load."""
    body = {"groups": make_rule_groups(groups, n_instances)}
    return yaml.safe_dump(body, sort_keys=False, width=1000)


# -- measuring --------------------------------------------------------------------------------
@dataclass
class Evaluations:
    """Per group, each evaluation seen: ``lastEvaluation`` -> ``evaluationTime``."""

    by_group: dict[str, dict[str, float]] = field(default_factory=dict)
    rules_in_error: int = 0
    rules: int = 0
    alerts: dict[str, int] = field(default_factory=dict)

    def poll(self, client: httpx.Client, server: Server, *, with_alerts: bool = False) -> None:
        """Record new evaluations; ``with_alerts`` also counts the alerts held. Without it the
        alerts are left out where the server can (Spyglass; Prometheus 2.42 ignores the
        parameter), so polling costs the server little of the CPU being measured."""
        params = {} if with_alerts else {"exclude_alerts": "true"}
        r = client.get(server.url + "/api/v1/rules", params=params, timeout=60)
        body = r.json()
        if body.get("status") != "success":
            raise RuntimeError(f"{server.url}/api/v1/rules: {body}")
        errors, rules = 0, 0
        alerts = {"pending": 0, "firing": 0}
        for g in body["data"]["groups"]:
            last = g.get("lastEvaluation", "")
            if last and not last.startswith("0001-"):
                self.by_group.setdefault(g["name"], {})[last] = float(g["evaluationTime"])
            for rule in g["rules"]:
                rules += 1
                errors += rule.get("health") == "err"
                for a in rule.get("alerts", ()):
                    alerts[a["state"]] = alerts.get(a["state"], 0) + 1
        self.rules_in_error, self.rules = errors, rules
        if with_alerts:
            self.alerts = alerts

    def rounds_done(self) -> int:
        """Evaluations completed by every group."""
        return min((len(v) for v in self.by_group.values()), default=0)

    def round_totals(self, skip: int) -> list[float]:
        """Seconds of all groups' evaluations, summed per round, from round ``skip`` on."""
        n = self.rounds_done()
        ordered = [[v[k] for k in sorted(v, key=_go_time)] for v in self.by_group.values()]
        return [sum(times[r] for times in ordered) for r in range(skip, n)]

    def group_times(self, skip: int) -> list[float]:
        """Every group evaluation's seconds from round ``skip`` on."""
        n = self.rounds_done()
        out = []
        for v in self.by_group.values():
            times = [v[k] for k in sorted(v, key=_go_time)]
            out.extend(times[skip:n])
        return out


def _go_time(text: str) -> datetime:
    # Go writes up to nine fractional digits; Python parses six.
    head, _, rest = text.rstrip("Z").partition(".")
    frac = (rest + "000000")[:6]
    return datetime.fromisoformat(f"{head}.{frac}+00:00")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process (threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def reload(client: httpx.Client, server: Server) -> None:
    r = client.post(server.url + "/-/reload", timeout=120)
    if r.status_code != 200:
        raise RuntimeError(f"{server.url}/-/reload: {r.status_code} {r.text[:300]}")


def prometheus_yml(interval_s: int, rule_file: Path | None) -> str:
    text = f"global:\n  scrape_interval: 1h\n  evaluation_interval: {interval_s}s\n"
    if rule_file is not None:
        text += f"rule_files:\n  - {rule_file}\n"
    return text


# -- main -------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=2, help="history (offset 1h needs 1 h+)")
    parser.add_argument("--groups", type=int, default=50, help="groups of 20 rules")
    parser.add_argument("--interval", type=int, default=30, help="evaluation_interval, seconds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds measured after a warm-up")
    parser.add_argument("--baseline-src", help="another checkout's src folder to compare with")
    args = parser.parse_args()
    if not have_prometheus():
        sys.exit("prometheus binary not found: apt-get install prometheus")

    now_ms = int(time.time() * 1000)
    points = int(args.hours * 3_600_000 + FUTURE_MS) // INTERVAL_MS
    data = make_rules_dataset(args.series, points, now_ms + FUTURE_MS)
    n_instances = sum(1 for ls in data.series if dict(ls).get("__name__") == "up") // 2
    print(f"{len(data.series)} series x {points} points; encoding ...", flush=True)
    rounds = encode_rounds(data)
    rules_text = rule_file_yaml(args.groups, n_instances)
    deadline = now_ms / 1000 + FUTURE_MS / 1000

    results: dict[str, dict[str, float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        rule_file = root / "rules.yml"
        rule_file.write_text(rules_text)
        configs = {k: root / f"{k}.yml" for k in ("s", "b")}
        for path in configs.values():
            path.write_text(prometheus_yml(args.interval, None))
        servers: dict[str, Server] = {
            "p": stack.enter_context(
                prometheus(
                    root / "prom",
                    prometheus_yml(args.interval, None),
                    "--web.enable-remote-write-receiver",
                    "--web.enable-lifecycle",
                    "--storage.tsdb.retention.time=30d",
                )
            ),
            "s": stack.enter_context(
                spyglass(root / "spyglass" / "data", "--config-file", str(configs["s"]))
            ),
        }
        if args.baseline_src:
            servers["b"] = stack.enter_context(
                spyglass(
                    root / "baseline" / "data",
                    "--config-file",
                    str(configs["b"]),
                    source=args.baseline_src,
                )
            )
        for key, server in servers.items():
            secs = send_rounds(server.url + "/api/v1/write", rounds)
            print(f"loaded {data.samples:,} samples into {NAMES[key]} in {secs:.0f}s", flush=True)
        # The rules start together once every server holds the data.
        (root / "prom" / "prometheus.yml").write_text(prometheus_yml(args.interval, rule_file))
        for path in configs.values():
            path.write_text(prometheus_yml(args.interval, rule_file))
        seen = {k: Evaluations() for k in servers}
        cpu_start: dict[str, tuple[float, float]] = {}
        with httpx.Client() as client:
            for server in servers.values():
                reload(client, server)
            wanted = args.rounds + 1
            while True:
                time.sleep(min(5.0, args.interval / 6))
                for key, server in servers.items():
                    seen[key].poll(client, server)
                    done = seen[key].rounds_done()
                    if done >= 1 and key not in cpu_start:
                        # CPU is counted from the end of the warm-up round on.
                        cpu_start[key] = (time.monotonic(), cpu_seconds(server.pid))
                    if done >= wanted and key not in results:
                        began, cpu0 = cpu_start[key]
                        span = time.monotonic() - began
                        cpu = cpu_seconds(server.pid) - cpu0
                        results[key] = summarise(seen[key], args.interval, span, cpu)
                        print(f"{NAMES[key]}: {args.rounds} rounds measured", flush=True)
                if len(results) == len(servers):
                    break
                if time.time() > deadline:
                    print("out of time: the data ends here; reporting what was measured")
                    for key, server in servers.items():
                        if key not in results and key in cpu_start:
                            began, cpu0 = cpu_start[key]
                            span = time.monotonic() - began
                            cpu = cpu_seconds(server.pid) - cpu0
                            results[key] = summarise(seen[key], args.interval, span, cpu)
                    break
            missed = {k: missed_iterations(client, s) for k, s in servers.items()}
            for key, server in servers.items():
                seen[key].poll(client, server, with_alerts=True)
                if key in results:
                    results[key].update(
                        firing=seen[key].alerts.get("firing", 0),
                        pending=seen[key].alerts.get("pending", 0),
                        rules_in_error=seen[key].rules_in_error,
                    )
    report(results, missed, args)


def summarise(ev: Evaluations, interval_s: int, span_s: float, cpu_s: float) -> dict[str, float]:
    totals = ev.round_totals(skip=1) or [float("nan")]
    groups = ev.group_times(skip=1) or [float("nan")]
    return {
        "round_sum": statistics.median(totals),
        "round_sum_min": min(totals),
        "round_sum_max": max(totals),
        "group_median": statistics.median(groups),
        "group_max": max(groups),
        "cpu_per_interval": cpu_s / (span_s / interval_s) if span_s > 0 else float("nan"),
        "rules": ev.rules,
        "rules_in_error": ev.rules_in_error,
        "firing": ev.alerts.get("firing", 0),
        "pending": ev.alerts.get("pending", 0),
        "rounds": len(totals),
    }


def missed_iterations(client: httpx.Client, server: Server) -> int:
    """Missed group evaluations, from the server's own counter (0 when it has none)."""
    text = client.get(server.url + "/metrics", timeout=30).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(MISSED_COUNTERS):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def report(results: dict[str, dict[str, float]], missed: dict[str, int], args: Any) -> None:
    keys = [k for k in ("p", "s", "b") if k in results]
    print()
    print(
        f"{args.groups} groups, {args.groups * 20} rules, evaluation_interval {args.interval}s, "
        f"medians of {args.rounds} rounds after one warm-up"
    )
    head = "".join(f"{NAMES[k]:>14}" for k in keys)
    ratios = "".join(f"{'s/' + k:>8}" for k in keys if k != "s")
    print(f"{'':32}{head}{ratios}")
    for key, label, scale, fmt in (
        ("round_sum", "round: sum of groups, s", 1, "{:.3f}"),
        ("round_sum_min", "  fastest round, s", 1, "{:.3f}"),
        ("round_sum_max", "  slowest round, s", 1, "{:.3f}"),
        ("group_median", "group evaluation median, ms", 1000, "{:.1f}"),
        ("group_max", "group evaluation max, ms", 1000, "{:.1f}"),
        ("cpu_per_interval", "CPU s per interval", 1, "{:.2f}"),
    ):
        vals = {k: results[k][key] * scale for k in keys}
        line = f"{label:32}" + "".join(f"{fmt.format(vals[k]):>14}" for k in keys)
        if "s" in vals:
            line += "".join(f"{vals['s'] / vals[k]:>8.2f}" for k in keys if k != "s")
        print(line)
    for key, label in (
        ("rules", "rules"),
        ("rules_in_error", "rules in error"),
        ("firing", "alerts firing"),
        ("pending", "alerts pending"),
    ):
        print(f"{label:32}" + "".join(f"{int(results[k][key]):>14}" for k in keys))
    print(f"{'missed iterations':32}" + "".join(f"{missed.get(k, 0):>14}" for k in keys))


NAMES = {"p": "prometheus", "s": "spyglass", "b": "baseline"}
MISSED_COUNTERS = (
    "prometheus_rule_group_iterations_missed_total",
    "spyglass_rule_group_iterations_missed_total",
)


if __name__ == "__main__":
    main()
