"""Metrics storage measurements: codecs (bytes/sample), insert rate, query time.

Realistic scrape data: SERIES series scraped every 15 s with +-50 ms jitter for HOURS hours;
40 % counters (monotonic, a few increments per scrape), 40 % gauges with few significant
digits (two decimals, slowly wandering), 20 % constants (``up``-like). Prints:

- bytes on disk per sample after ``OPTIMIZE FINAL`` for several codec choices per column
  (from system.columns.data_compressed_bytes), and the whole table with the chosen schema;
- rows/s of a raw backend insert (Arrow through chDB's ``Python()``), and of MetricsStore
  ``append`` (WAL fsync + pending buffer) with the background flusher running;
- time to ``select`` 1k series x 1 h through MetricsStore (FINAL read + Arrow -> numpy).

    .venv/bin/python bench/storage_metrics.py [--series 1000] [--hours 24]

Nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import SampleBatch
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.metrics import MetricsStore

CODECS = {
    "timestamp_ms Int64": [
        "CODEC(DoubleDelta, ZSTD(1))",
        "CODEC(Delta, ZSTD(1))",
        "CODEC(Delta, ZSTD(3))",
        "CODEC(DoubleDelta)",
        "CODEC(ZSTD(1))",
        "CODEC(LZ4)",
    ],
    "value Float64": [
        "CODEC(Gorilla, ZSTD(1))",
        "CODEC(Gorilla)",
        "CODEC(ZSTD(1))",
        "CODEC(ZSTD(3))",
        "CODEC(Delta, ZSTD(1))",
        "CODEC(Delta, ZSTD(3))",
        "CODEC(Delta, LZ4)",
        "CODEC(FPC, ZSTD(1))",
        "CODEC(LZ4)",
    ],
    "fingerprint UInt64": ["CODEC(Delta, ZSTD(1))", "CODEC(ZSTD(1))", "CODEC(DoubleDelta)"],
}


def make_data(
    series: int, hours: float, seed: int = 1
) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_t = int(hours * 3600 / 15)
    start = (int(time.time()) - int(hours * 3600)) * 1000
    labels = [
        labels_of(
            {
                "__name__": ["http_requests_total", "memory_usage_ratio", "up"][kind(i)],
                "job": f"job{i % 10}",
                "instance": f"10.0.{i // 250}.{i % 250}:9100",
                "n": str(i),
            }
        )
        for i in range(series)
    ]
    grid = start + np.arange(n_t, dtype=np.int64) * 15_000
    ts = grid[None, :] + rng.integers(-50, 51, size=(series, n_t))
    vals = np.empty((series, n_t))
    for i in range(series):
        k = kind(i)
        if k == 0:
            vals[i] = np.cumsum(rng.poisson(5, n_t)).astype(np.float64)
        elif k == 1:
            walk = 0.5 + np.cumsum(rng.normal(0, 0.002, n_t))
            vals[i] = np.round(np.clip(walk, 0, 1), 2)
        else:
            vals[i] = 1.0
    fps = np.array([fingerprint(ls) for ls in labels], dtype=np.uint64)
    return labels, np.repeat(fps, n_t), ts.ravel(), vals.ravel()


def kind(i: int) -> int:
    return 0 if i % 5 < 2 else (1 if i % 5 < 4 else 2)


def codec_sweep(backend: ChdbBackend, fps: np.ndarray, ts: np.ndarray, vals: np.ndarray) -> None:
    n = len(fps)
    data = pa.table({"fingerprint": fps, "timestamp_ms": ts, "value": vals})
    print(f"\ncodec sweep on {n:,} samples (bytes/sample per column, after OPTIMIZE FINAL)")
    for col, options in CODECS.items():
        name = col.split()[0]
        for j, codec in enumerate(options):
            table = f"codec_{name}_{j}"
            others = ", ".join(c + " CODEC(ZSTD(1))" for c in CODECS if c != col)
            backend.command(f"DROP TABLE IF EXISTS {table}")
            backend.command(
                f"CREATE TABLE {table} ({col} {codec}, {others}) ENGINE = MergeTree "
                "ORDER BY (fingerprint, timestamp_ms)"
            )
            backend.insert(table, data)
            backend.command(f"OPTIMIZE TABLE {table} FINAL")
            size = backend.query_arrow(
                "SELECT sum(data_compressed_bytes) AS b FROM system.columns "
                "WHERE database = currentDatabase() AND table = {t:String} AND name = {c:String}",
                {"t": table, "c": name},
            ).to_pylist()[0]["b"]
            print(f"  {name:13s} {codec:30s} {size / n:6.3f}")
            backend.command(f"DROP TABLE {table} SYNC")


def insert_methods(backend: ChdbBackend, fps: np.ndarray, ts: np.ndarray, vals: np.ndarray) -> None:
    """chDB bulk insert paths on the same rows: Python() table function (what ChdbBackend
    uses), ArrowStream bytes, RowBinary bytes."""
    import pyarrow.ipc as ipc  # noqa: PLC0415

    n = len(fps)
    data = pa.table({"fingerprint": fps, "timestamp_ms": ts, "value": vals})
    backend.command(
        "CREATE TABLE ins (fingerprint UInt64, timestamp_ms Int64, value Float64) "
        "ENGINE = MergeTree ORDER BY (fingerprint, timestamp_ms)"
    )
    sess = backend._write  # the bench compares chDB's own insert paths

    def arrow_stream() -> None:
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, data.schema) as w:
            w.write_table(data)
        ins = sess.send_insert("INSERT INTO ins (fingerprint, timestamp_ms, value)", "ArrowStream")
        ins.append(sink.getvalue().to_pybytes())
        ins.finish()

    def row_binary() -> None:
        rows = np.empty(n, dtype=[("f", "<u8"), ("t", "<i8"), ("v", "<f8")])
        rows["f"], rows["t"], rows["v"] = fps, ts, vals
        ins = sess.send_insert("INSERT INTO ins (fingerprint, timestamp_ms, value)", "RowBinary")
        ins.append(rows.tobytes())
        ins.finish()

    print(f"\nchDB insert paths, {n:,} rows each (best of 3):")
    for name, fn in [
        ("Python() table function", lambda: backend.insert("ins", data)),
        ("ArrowStream bytes", arrow_stream),
        ("RowBinary bytes", row_binary),
    ]:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        print(f"  {name:25s} {n / best:,.0f} rows/s")
    backend.command("DROP TABLE ins SYNC")


async def store_bench(
    data_dir: Path, labels: list, fps: np.ndarray, ts: np.ndarray, vals: np.ndarray
) -> None:
    backend = ChdbBackend(data_dir / "chdb")
    store = MetricsStore(backend, data_dir)
    await store.start()
    series = {fingerprint(ls): ls for ls in labels}
    n = len(fps)
    # Raw backend insert rate (one big insert, like a flush).
    data = pa.table({"fingerprint": fps, "timestamp_ms": ts, "value": vals})
    t = time.perf_counter()
    backend.insert("metric_samples", data)
    took = time.perf_counter() - t
    print(f"\nraw backend insert: {n:,} rows in {took:.2f} s = {n / took:,.0f} rows/s")
    backend.command("TRUNCATE TABLE metric_samples")

    # MetricsStore append, scrape-shaped: one batch per scrape round of every series, 8 at once.
    order = np.lexsort((fps, ts))
    f2, t2, v2 = fps[order], ts[order], vals[order]
    per = len(labels)
    batches = [
        SampleBatch(series, f2[i : i + per], t2[i : i + per], v2[i : i + per])
        for i in range(0, n, per)
    ]
    t = time.perf_counter()
    sem = asyncio.Semaphore(8)

    async def one(b: SampleBatch) -> None:
        async with sem:
            await store.append(b)

    await asyncio.gather(*(one(b) for b in batches))
    took = time.perf_counter() - t
    w = store.wal.stats()
    print(
        f"MetricsStore.append: {n:,} samples in {len(batches)} batches, {took:.2f} s = "
        f"{n / took:,.0f} samples/s ({w.fsyncs} fsyncs for {w.records_written} records)"
    )
    t = time.perf_counter()
    store.flush_now()
    print(f"final flush {time.perf_counter() - t:.2f} s; stats: {store.stats()}")
    backend.command("OPTIMIZE TABLE metric_samples FINAL")
    size = backend.query_arrow(
        "SELECT sum(data_compressed_bytes) AS b, sum(rows) AS r FROM system.parts "
        "WHERE database = currentDatabase() AND table = 'metric_samples' AND active"
    ).to_pylist()[0]
    print(f"metric_samples on disk: {size['b'] / size['r']:.3f} bytes/sample ({size['r']:,} rows)")

    end = int(ts.max())
    sel = [Matcher.of("job", "=~", ".+")]
    times = []
    for _ in range(5):
        t = time.perf_counter()
        out = store.select(sel, end - 3_600_000, end)
        times.append(time.perf_counter() - t)
    got = sum(len(s.timestamps) for s in out)
    print(
        f"select {len(out)} series x 1 h ({got:,} samples): best {min(times) * 1000:.0f} ms, "
        f"median {sorted(times)[2] * 1000:.0f} ms"
    )
    t = time.perf_counter()
    q = backend.query_arrow(
        "SELECT fingerprint, timestamp_ms, value FROM metric_samples "
        "WHERE timestamp_ms BETWEEN {a:Int64} AND {b:Int64} ORDER BY fingerprint, timestamp_ms",
        {"a": end - 3_600_000, "b": end},
    )
    plain = time.perf_counter() - t
    t = time.perf_counter()
    q = backend.query_arrow(
        "SELECT fingerprint, timestamp_ms, value FROM metric_samples FINAL "
        "WHERE timestamp_ms BETWEEN {a:Int64} AND {b:Int64} ORDER BY fingerprint, timestamp_ms",
        {"a": end - 3_600_000, "b": end},
    )
    fin = time.perf_counter() - t
    print(
        f"raw 1 h read of {q.num_rows:,} rows: {plain * 1000:.0f} ms plain, "
        f"{fin * 1000:.0f} ms with FINAL"
    )
    await store.close()
    backend.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--series", type=int, default=1000)
    p.add_argument("--hours", type=float, default=24)
    p.add_argument("--skip-codecs", action="store_true")
    a = p.parse_args()
    labels, fps, ts, vals = make_data(a.series, a.hours)
    with tempfile.TemporaryDirectory() as tmp:
        if not a.skip_codecs:
            backend = ChdbBackend(Path(tmp) / "codecs")
            insert_methods(backend, fps[:1_000_000], ts[:1_000_000], vals[:1_000_000])
            codec_sweep(backend, fps, ts, vals)
            backend.close()
        asyncio.run(store_bench(Path(tmp) / "store", labels, fps, ts, vals))


if __name__ == "__main__":
    main()
