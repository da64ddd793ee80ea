"""PromQL engine CPU in process: the head and the evaluator alone, no HTTP, no ClickHouse.

Fills a metrics ``Head`` with ``bench/_data.py``'s dataset (as remote_write batches of one round
each), then evaluates ``promql_queries``' queries as instant queries at the data's end (and, with
``--range``, over the last hour at a 15 s step, or ``--span`` hours at ``--step`` seconds) and
prints each query's thread CPU time (best and median of ``--rounds``). The end-to-end benchmark
(``promql_queries``) measures against Prometheus; this one isolates the engine's own work, where
a shared machine's waiting for a CPU does not count, and profiles it:

    scripts/bench promql_engine [--series 10000] [--points 480] [--rounds 5] [--match REGEX]
        [--range [--span HOURS] [--step SECONDS]] [--profile REGEX] [--dump answers.json]
        [--compare answers.json]

``--profile`` runs the queries it matches under cProfile and prints the top functions;
``--dump``/``--compare`` write the answers or check them against another checkout's (run that
checkout with ``PYTHONPATH=its/src``), to 1e-9 relative, so a faster wrong answer shows.

``--store DIR`` asks a whole ``MetricsStore`` on chDB in ``DIR`` instead of a bare head: its head
holds the last ``--head-hours`` (the server's two by default) and ClickHouse the rest, as in a
server, so a range reaching before the head's start shows the cost of ClickHouse's part. Its
times are the process' CPU (chDB's threads run the SQL) and the wall clock, not the thread's,
and the first round's wall clock apart (before the store kept any read).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import pstats
import re
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench._data import INTERVAL_MS, Dataset, make_dataset
from bench.promql_queries import QUERIES

from spyglass.core.labels import Labels, fingerprint
from spyglass.core.matchers import Matcher
from spyglass.core.samples import SampleBatch
from spyglass.promql import Engine
from spyglass.storage.backends import open_backend
from spyglass.storage.metrics import Head, MetricsStore
from spyglass.storage.ports import SeriesData


class HeadQuerier:
    """The store's read path when the head holds the whole range (``MetricsStore.select``)."""

    def __init__(self, head: Head) -> None:
        self.head = head

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        _, recent = self.head.select(matchers, start_ms, end_ms)
        return [SeriesData(labels, ts, vals) for _, labels, ts, vals in recent]

    def __getattr__(self, name: str) -> Any:
        # Optional read paths of newer heads (columnar selection), when the checkout has them.
        select_columns = getattr(self.head, "select_columns", None)
        if name == "select_columns" and select_columns is not None:
            return lambda m, lo, hi: select_columns(m, lo, hi)[1]
        raise AttributeError(name)


def fill(data: Dataset) -> Head:
    labels: dict[int, Labels] = {fingerprint(ls): ls for ls in data.series}
    fps = np.array(list(labels), np.uint64)
    start = int(data.timestamps.min())
    head = Head(window_ms=10 * 24 * 3_600_000, clock=lambda: data.end_ms / 1000)
    head.begin(start)
    for p in range(data.timestamps.shape[1]):
        head.append(
            SampleBatch(labels, fps, data.timestamps[:, p].copy(), data.values[:, p].copy())
        )
    head.mark_valid()
    head.merge()
    head.rank()
    return head


def fill_store(
    data: Dataset, path: Path, head_hours: float, loop: asyncio.AbstractEventLoop
) -> MetricsStore:
    """A ``MetricsStore`` on chDB in ``path`` holding ``data``, written as a server receives it
    over remote_write (rounds of four scrapes of every series), its clock at the data's end so
    its head holds the last ``head_hours``; flushed, its head's series numbered (as a server's
    upkeep does) and ClickHouse left to merge for ten seconds. A ``path`` written before is
    opened as it is (its head loaded from ClickHouse, as at a restart), so two checkouts can
    read the same parts. ``loop`` runs its tasks (not while queries run: they need none)."""
    written = path.exists()
    labels: dict[int, Labels] = {fingerprint(ls): ls for ls in data.series}
    fps = np.array(list(labels), np.uint64)
    store = MetricsStore(
        open_backend("", path),
        path,
        retention_ms=3650 * 86_400_000,
        head_window_ms=int(head_hours * 3_600_000),
        clock=lambda: data.end_ms / 1000,
        sole_writer=True,
    )

    async def load() -> None:
        await store.start()
        if written:
            return
        points = data.timestamps.shape[1]
        for p0 in range(0, points, 4):
            p1 = min(points, p0 + 4)
            await store.append(
                SampleBatch(
                    labels,
                    np.repeat(fps, p1 - p0),
                    data.timestamps[:, p0:p1].ravel(),
                    data.values[:, p0:p1].ravel(),
                )
            )
        await asyncio.to_thread(store.flush_now)

    loop.run_until_complete(load())
    assert store.head is not None
    store.head.merge()
    store.head.rank()
    if not written:
        time.sleep(10)
    return store


def thread_cpu(fn: Any) -> tuple[float, Any]:
    t = time.thread_time()
    out = fn()
    return time.thread_time() - t, out


def process_cpu(fn: Any) -> tuple[float, Any]:
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def answer(result: Any) -> list[Any]:
    """The answer as ``[labels, [[t, v], ...]]`` rows in label order (JSON-friendly)."""
    if result.result_type == "scalar":
        return [[{}, [[0.0, result.scalar]]]]
    if result.result_type == "vector":
        rows = [[dict(ls), [[0.0, v]]] for ls, v in result.vector]
    else:
        rows = [
            [dict(ls), [[float(t), float(v)] for t, v in zip(ts, vs, strict=True)]]
            for ls, ts, vs in result.matrix
        ]
    rows.sort(key=lambda r: sorted(r[0].items()))
    return rows


def same(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for (la, pa), (lb, pb) in zip(a, b, strict=True):
        if la != lb or len(pa) != len(pb):
            return False
        for (ta, va), (tb, vb) in zip(pa, pb, strict=True):
            if ta != tb:
                return False
            if not (math.isnan(va) and math.isnan(vb)) and not math.isclose(
                va, vb, rel_tol=1e-9, abs_tol=1e-12
            ):
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=480, help="samples per series (15 s)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--match", default="")
    parser.add_argument("--range", action="store_true", help="also range queries")
    parser.add_argument("--span", type=float, default=1.0, help="range queries' hours")
    parser.add_argument("--step", type=float, default=INTERVAL_MS / 1000, help="their step, s")
    parser.add_argument("--profile", default="")
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--store", type=Path, help="a MetricsStore on chDB in this directory")
    parser.add_argument("--head-hours", type=float, default=2.0, help="the store's head window")
    args = parser.parse_args()

    end_ms = 1_800_000_000_000  # fixed, so answers of two checkouts compare
    data = make_dataset(args.series, args.points, end_ms)
    t0 = time.perf_counter()
    cpu_of = thread_cpu
    loop = asyncio.new_event_loop()
    if args.store:
        store = fill_store(data, args.store, args.head_hours, loop)
        head_st = store.head_stats()
        assert head_st is not None
        st = head_st
        engine = Engine(store)
        cpu_of = process_cpu
    else:
        head = fill(data)
        st = head.stats()
        engine = Engine(HeadQuerier(head))  # type: ignore[arg-type]
    print(
        f"{st.series:,} series x {args.points} points ({st.samples:,} samples in the head, "
        f"{st.bytes / 2**20:.0f} MiB) loaded in {time.perf_counter() - t0:.1f} s; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    at = data.end_ms
    cases: list[tuple[str, str, Any]] = []
    span, step = int(args.span * 3_600_000), int(args.step * 1000)
    for q in QUERIES:
        if args.match and not re.search(args.match, q):
            continue
        cases.append(("instant", q, lambda q=q: engine.instant_query(q, at)))
        if args.range:
            cases.append(
                (f"{args.span:g}h", q, lambda q=q: engine.evaluate_range(q, at - span, at, step))
            )
    answers: dict[str, list[Any]] = {}
    expected = json.loads(args.compare.read_text()) if args.compare else {}
    totals: dict[str, list[float]] = {}
    wall_col = f" {'wall ms':>9} {'first ms':>9}" if args.store else ""
    print(f"{'mode':<8} {'best ms':>9} {'median ms':>10}{wall_col} {'series':>7}  query")
    for mode, q, fn in cases:
        times = []
        walls = []
        result = None
        for _ in range(args.rounds):
            w = time.perf_counter()
            cpu, result = cpu_of(fn)
            walls.append((time.perf_counter() - w) * 1000)
            times.append(cpu * 1000)
        got = answer(result)
        key = f"{mode} {q}"
        answers[key] = got
        flag = ""
        if key in expected and not same(got, expected[key]):
            flag = "  DIFFERENT ANSWER"
        totals.setdefault(mode, []).append(min(times))
        # The first round's wall time: what the store read before it kept anything.
        wall = f" {min(walls):>9.1f} {walls[0]:>9.1f}" if args.store else ""
        print(
            f"{mode:<8} {min(times):>9.1f} {statistics.median(times):>10.1f}{wall} "
            f"{len(got):>7}  {q[:90]}{flag}"
        )
        if args.profile and re.search(args.profile, q):
            prof = cProfile.Profile()
            prof.enable()
            fn()
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(18)
    for mode, ts in totals.items():
        print(f"{mode}: sum of best {sum(ts):.1f} ms, median of best {statistics.median(ts):.1f}")
    print(f"load after: {os.getloadavg()[0]:.1f}")
    if args.dump:
        args.dump.write_text(json.dumps(answers))
    if args.store:
        loop.run_until_complete(store.close())
        store.backend.close()
    loop.close()


if __name__ == "__main__":
    main()
