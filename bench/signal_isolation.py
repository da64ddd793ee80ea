"""Several signals on one chDB: does a log flood stall metric ingest or queries?

One process, as ``spyglass serve`` runs: the real metrics store (WAL, pending buffer, batch
writer) and, beside it on the same embedded ClickHouse, the logs signal: by default the real one
(``--logs real``: ``storage.logs.LOGS``, its ``otel_logs`` table, WAL codec and inserter, fed
``LogBatch``es of JSON lines over 8 services), or with ``--logs simulated`` the stand-in described
here from before logs existed (a table laid out like the OpenTelemetry Collector's logs table;
batches are Arrow tables, their WAL records Arrow IPC). Each run has two phases of ``--seconds``:

- quiet: metrics only: ``--series`` series appended every 100 ms in batches of 1,000 samples
  (a steady remote_write/scrape load), and a query thread selecting one metric over the last
  5 minutes every 100 ms (a dashboard refreshing);
- flood: the same, plus log batches of ``--flood-batch`` lines (~250 bytes each) at
  ``--flood-rate`` lines/s, or with 0 as fast as the log signal accepts them (its own pending
  limit pushes back).

It prints, for each phase: metrics append latency (p50/p99: WAL fsync + buffer), query latency
(p50/p99), mean and longest metrics flush, the metrics flush lag (longest a sample waited to be
inserted) and log lines stored per second; then flood/quiet ratios. Two backends side by side in
one run: one write session shared by every signal (``--writers 1``, the design before signals
had their own pipelines) and the default pool of write sessions (``--writers 2``).

    scripts/bench signal_isolation [--seconds 20] [--series 5000] [--flood-batch 5000]
        [--flood-rate 0] [--logs real|simulated]

Nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from spyglass.core.errors import ParseError, Unavailable
from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.samples import SampleBatch
from spyglass.storage.backends import Backend, ChdbBackend
from spyglass.storage.logs import LOGS as REAL_LOGS
from spyglass.storage.metrics import MetricsStore
from spyglass.storage.pipeline import SignalPipeline
from spyglass.storage.schema import DAY_MS, Table, Ttl
from spyglass.storage.signals import Signal

DAY = 86_400_000

LOGS_TABLE = Table(
    "bench_logs",
    (
        "timestamp_ms Int64 CODEC(Delta(8), ZSTD(1))",
        "service_name LowCardinality(String)",
        "severity_text LowCardinality(String)",
        "body String CODEC(ZSTD(1))",
        "attributes Map(LowCardinality(String), String) CODEC(ZSTD(1))",
    ),
    "MergeTree",
    "(service_name, timestamp_ms)",
    partition_by=f"intDiv(timestamp_ms, {DAY_MS})",
    ttl=Ttl("toDateTime(intDiv(timestamp_ms, 1000))"),
)


class _ArrowEncoder:
    def encode(self, batch: pa.Table, max_bytes: int) -> bytes:
        sink = io.BytesIO()
        with ipc.new_stream(sink, batch.schema) as writer:
            writer.write_table(batch)
        data = sink.getvalue()
        if len(data) > max_bytes:
            raise Unavailable("too large")
        return data


class _ArrowReader:
    lost_bytes = 0

    def read(self, payload: bytes) -> pa.Table:
        try:
            return ipc.open_stream(payload).read_all()
        except pa.ArrowInvalid as exc:
            raise ParseError(str(exc)) from None

    def complete(self, seq: int, batch: pa.Table) -> pa.Table:
        return batch


class ArrowCodec:
    def segment_encoder(self) -> _ArrowEncoder:
        return _ArrowEncoder()

    def reader(self) -> _ArrowReader:
        return _ArrowReader()


def logs_inserter(backend: Backend) -> Any:
    def insert(batches: list[pa.Table]) -> int:
        table = pa.concat_tables(batches)
        backend.insert(LOGS_TABLE.name, table)
        return table.num_rows

    return insert


LOGS: Signal[pa.Table] = Signal(
    name="bench_logs",
    tables=(LOGS_TABLE,),
    retention_setting="",
    unit="lines",
    codec=ArrowCodec,
    inserter=logs_inserter,
)


def log_batch(n: int, now_ms: int, rng: np.random.Generator) -> pa.Table:
    words = ["GET", "POST", "/api/v1/orders", "/login", "user", "timeout", "db", "ok", "error"]
    bodies = [
        f'{{"level":"info","msg":"{" ".join(rng.choice(words, 12))}","request_id":"{i:016x}"}}'
        for i in rng.integers(0, 2**62, n)
    ]
    attrs = [[("http.route", "/api/v1/orders"), ("k8s.pod", f"api-{i % 20}")] for i in range(n)]
    return pa.table(
        {
            "timestamp_ms": pa.array(np.full(n, now_ms, np.int64)),
            "service_name": pa.array([f"svc-{i % 8}" for i in range(n)]),
            "severity_text": pa.array(["INFO"] * n),
            "body": pa.array(bodies),
            "attributes": pa.array(attrs, pa.map_(pa.string(), pa.string())),
        }
    )


def real_log_batch(n: int, now_ms: int, rng: np.random.Generator) -> LogBatch:
    """The same lines as ``log_batch``, as the real logs signal takes them."""
    words = ["GET", "POST", "/api/v1/orders", "/login", "user", "timeout", "db", "ok", "error"]
    streams = [(("service_name", f"svc-{k}"),) for k in range(8)]
    return LogBatch.of(
        LogRecord(
            now_ms * 1_000_000 + i,
            f'{{"level":"info","msg":"{" ".join(rng.choice(words, 12))}",'
            f'"request_id":"{int(r):016x}"}}',
            streams[i % 8],
            {"http_route": "/api/v1/orders", "k8s_pod": f"api-{i % 20}"},
            severity_text="INFO",
        )
        for i, r in enumerate(rng.integers(0, 2**62, n))
    )


def metric_batches(n_series: int) -> list[tuple[dict[int, Any], np.ndarray]]:
    """Batches of 1,000 series (labels and fingerprints), reused every round."""
    out = []
    for start in range(0, n_series, 1000):
        series = {}
        for i in range(start, min(n_series, start + 1000)):
            ls = labels_of({"__name__": f"bench_metric_{i % 50}", "instance": f"i{i}"})
            series[fingerprint(ls)] = ls
        out.append((series, np.fromiter(series, np.uint64, len(series))))
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.array(values), q))


async def phase(
    store: MetricsStore,
    logs: SignalPipeline[Any] | None,
    batches: list[tuple[dict[int, Any], np.ndarray]],
    seconds: float,
    flood_batch: int,
    flood_rate: float,
) -> dict[str, float]:
    appends: list[float] = []
    queries: list[float] = []
    lag: list[float] = []
    stop = threading.Event()
    flushes0 = store.stats()
    logs0 = logs.stats().items_flushed if logs is not None else 0
    matchers = [Matcher("__name__", MatchOp.EQUAL, "bench_metric_7")]

    def query_loop() -> None:
        while not stop.is_set():
            now = int(time.time() * 1000)
            t = time.perf_counter()
            store.select(matchers, now - 300_000, now)
            queries.append(time.perf_counter() - t)
            time.sleep(0.1)

    async def metrics_loop() -> None:
        value = 0.0
        i = 0
        while not stop.is_set():
            series, fps = batches[i % len(batches)]
            i += 1
            value += 1
            now = int(time.time() * 1000)
            batch = SampleBatch(
                series, fps, np.full(len(fps), now, np.int64), np.full(len(fps), value)
            )
            t = time.perf_counter()
            await store.append(batch)
            appends.append(time.perf_counter() - t)
            lag.append(store.pending.age_s())
            await asyncio.sleep(max(0.0, 0.1 / len(batches) - (time.perf_counter() - t)))

    async def flood_loop() -> None:
        assert logs is not None
        rng = np.random.default_rng(3)
        make = real_log_batch if logs.signal is REAL_LOGS else log_batch
        prepared: list[Any] = [make(flood_batch, int(time.time() * 1000), rng) for _ in range(4)]
        i = 0
        started = time.perf_counter()
        while not stop.is_set():
            if flood_rate and i * flood_batch > flood_rate * (time.perf_counter() - started):
                await asyncio.sleep(0.005)
                continue
            try:
                await logs.append(prepared[i % len(prepared)])
                i += 1
            except Unavailable:
                await asyncio.sleep(0.01)  # its own buffer is full: pushed back, as a client is
            await asyncio.sleep(0)

    query_thread = threading.Thread(target=query_loop, daemon=True)
    query_thread.start()
    tasks = [asyncio.create_task(metrics_loop())]
    if logs is not None:
        tasks.append(asyncio.create_task(flood_loop()))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    query_thread.join()
    s = store.stats()
    flushes = s.flushes - flushes0.flushes
    flush_s = s.flush_seconds_sum - flushes0.flush_seconds_sum
    return {
        "append_p50_ms": pct(appends, 50) * 1000,
        "append_p99_ms": pct(appends, 99) * 1000,
        "query_p50_ms": pct(queries, 50) * 1000,
        "query_p99_ms": pct(queries, 99) * 1000,
        "flush_mean_ms": flush_s / flushes * 1000 if flushes else float("nan"),
        "flush_lag_max_s": max(lag, default=0.0),
        "samples_per_s": len(appends) * 1000 / seconds,
        "log_lines_per_s": (logs.stats().items_flushed - logs0) / seconds if logs else 0.0,
    }


async def run_variant(
    path: Path, writers: int, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    backend = ChdbBackend(path / "clickhouse", writers=writers)
    try:
        store = MetricsStore(backend, path, retention_ms=30 * DAY)
        signal: Signal[Any] = REAL_LOGS if args.logs == "real" else LOGS
        logs: SignalPipeline[Any] = SignalPipeline(
            signal, backend, path, retention_ms=30 * DAY, flush_max_items=50_000,
            max_pending_items=200_000,
        )  # fmt: skip
        await store.start()
        await logs.start()
        batches = metric_batches(args.series)
        out = {
            "quiet": await phase(store, None, batches, args.seconds, args.flood_batch, 0),
            "flood": await phase(
                store, logs, batches, args.seconds, args.flood_batch, args.flood_rate
            ),
        }
        await logs.close()
        await store.close()
        return out
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--series", type=int, default=5_000)
    parser.add_argument("--flood-batch", type=int, default=5_000)
    parser.add_argument("--flood-rate", type=float, default=0, help="lines/s; 0: no limit")
    parser.add_argument("--logs", choices=["real", "simulated"], default="real")
    args = parser.parse_args()
    results: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        for writers in (1, 2):
            print(f"running with {writers} write session(s) ...", flush=True)
            results[writers] = asyncio.run(run_variant(Path(tmp) / f"w{writers}", writers, args))
    rows = [
        ("append_p50_ms", "metrics append p50 ms", "{:.2f}"),
        ("append_p99_ms", "metrics append p99 ms", "{:.2f}"),
        ("query_p50_ms", "query p50 ms", "{:.1f}"),
        ("query_p99_ms", "query p99 ms", "{:.1f}"),
        ("flush_mean_ms", "metrics flush mean ms", "{:.1f}"),
        ("flush_lag_max_s", "metrics flush lag max s", "{:.2f}"),
        ("samples_per_s", "metric samples/s", "{:,.0f}"),
        ("log_lines_per_s", "log lines stored/s", "{:,.0f}"),
    ]
    print()
    head = f"{'':26}"
    for w in results:
        name = "shared session" if w == 1 else f"{w} write sessions"
        head += f"{name + ' quiet':>24}{'flood':>10}{'ratio':>8}"
    print(head)
    for key, label, fmt in rows:
        line = f"{label:26}"
        for r in results.values():
            q, f = r["quiet"][key], r["flood"][key]
            ratio = f / q if q else float("nan")
            line += f"{fmt.format(q):>24}{fmt.format(f):>10}{ratio:>8.2f}"
        print(line)
    print(f"\none run of {args.seconds:.0f} s per phase and backend; rerun to see the noise")


if __name__ == "__main__":
    main()
