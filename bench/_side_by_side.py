"""Prometheus and Spyglass started side by side and loaded with the same data.

The query benchmarks (``promql_queries``, ``dashboard_render``) compare both servers on the
same dataset (``_data.py``) in one run: Prometheus 2.42 from Debian's package with its
remote_write receiver on, a Spyglass from this checkout and, optionally, a second Spyglass from
another checkout's ``src`` (the commit before a change). Each gets the same remote_write rounds
in turn; then both answer the same queries, timed over HTTP by the same client.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Any

import httpx
from bench._data import Dataset, encode_rounds, send_rounds
from tests.support.servers import Server, prometheus, spyglass

# Short names: the tables print one column per server, in this order.
NAMES = {"p": "prometheus", "s": "spyglass", "b": "the baseline"}


def start_servers(
    stack: contextlib.ExitStack,
    root: Path,
    baseline_src: str | None = None,
    spyglass_args: tuple[str, ...] = (),
) -> dict[str, Server]:
    """Prometheus (``p``), Spyglass (``s``, started with ``spyglass_args``) and with
    ``baseline_src`` another checkout's Spyglass (``b``), each with its own data under ``root``,
    stopped when ``stack`` closes."""
    servers: dict[str, Server] = {
        "p": stack.enter_context(
            prometheus(
                root / "prom",
                # Nothing to scrape: every sample arrives over remote_write.
                "global:\n  scrape_interval: 1h\n",
                "--web.enable-remote-write-receiver",
                # The data is hours old; keep all of it.
                "--storage.tsdb.retention.time=30d",
            )
        ),
        "s": stack.enter_context(spyglass(root / "spyglass" / "data", *spyglass_args)),
    }
    if baseline_src:
        servers["b"] = stack.enter_context(
            spyglass(root / "baseline" / "data", source=baseline_src)
        )
    return servers


def load(servers: dict[str, Server], data: Dataset, points_per_round: int = 4) -> None:
    """Send ``data`` to every server over remote_write, one server after the other, in rounds
    of ``points_per_round`` consecutive scrapes."""
    rounds = encode_rounds(data, points_per_round)
    for key, server in servers.items():
        secs = send_rounds(server.url + "/api/v1/write", rounds)
        print(f"loaded {data.samples:,} samples into {NAMES[key]} in {secs:.0f}s", flush=True)


def timed_query(
    client: httpx.Client, server: Server, path: str, params: dict[str, Any]
) -> tuple[float, int]:
    """Seconds a Prometheus API query took over HTTP, and how many series came back (a scalar
    counts as one); raises on an error answer, so a failure never passes for a fast query."""
    took, data = timed_answer(client, server, path, params)
    result = data["result"]
    return took, len(result) if data["resultType"] in ("vector", "matrix") else 1


def timed_answer(
    client: httpx.Client, server: Server, path: str, params: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    """Seconds a Prometheus API query took over HTTP, and its ``data`` (``resultType`` and
    ``result``); raises on an error answer, so a failure never passes for a fast query."""
    started = time.perf_counter()
    r = client.get(server.url + path, params=params, timeout=300)
    took = time.perf_counter() - started
    body: dict[str, Any] = r.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{server.url}{path} {params}: {body}")
    data: dict[str, Any] = body["data"]
    return took, data


def answer_difference(a: dict[str, Any], b: dict[str, Any], tolerance: float = 1e-9) -> str:
    """How two query answers differ (``""``: they are the same): the same result type, the
    same label sets, the same timestamps, and values equal within ``tolerance`` (relative, or
    absolute near zero; NaN equals NaN)."""
    if a["resultType"] != b["resultType"]:
        return f"result types {a['resultType']} and {b['resultType']}"
    pa, pb = _points(a), _points(b)
    if pa.keys() != pb.keys():
        only = sorted(pa.keys() ^ pb.keys())[:2]
        return f"{len(pa)} and {len(pb)} series, e.g. {only} in one only"
    for key, xs in pa.items():
        ys = pb[key]
        if [t for t, _ in xs] != [t for t, _ in ys]:
            return f"timestamps of {dict(key)}: {len(xs)} and {len(ys)} points"
        for (t, x), (_, y) in zip(xs, ys, strict=True):
            if not (x == y or (math.isnan(x) and math.isnan(y))) and not math.isclose(
                x, y, rel_tol=tolerance, abs_tol=tolerance
            ):
                return f"{dict(key)} at {t}: {x!r} and {y!r}"
    return ""


def _points(data: dict[str, Any]) -> dict[tuple[tuple[str, str], ...], list[tuple[float, float]]]:
    """An answer as label set -> [(time, value)]; a scalar or string is one unlabelled point."""
    kind, result = data["resultType"], data["result"]
    if kind == "vector":
        return {
            tuple(sorted(s["metric"].items())): [(s["value"][0], float(s["value"][1]))]
            for s in result
        }
    if kind == "matrix":
        return {
            tuple(sorted(s["metric"].items())): [(t, float(v)) for t, v in s["values"]]
            for s in result
        }
    if kind == "scalar":
        return {(): [(result[0], float(result[1]))]}
    return {(("", result[1]),): []}


def rss_bytes(pid: int) -> int:
    """VmRSS of a process (its resident set now), 0 once it has exited."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


__all__ = [
    "NAMES",
    "answer_difference",
    "load",
    "rss_bytes",
    "start_servers",
    "timed_answer",
    "timed_query",
]
