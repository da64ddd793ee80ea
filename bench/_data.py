"""Synthetic but realistic metrics for the benchmarks, and a remote_write sender.

A fleet of web-service instances, each exposing what the monitoring guides instrument: request
counters by route and status, a latency histogram (cumulative buckets, ``_sum``, ``_count``), CPU
seconds by mode and available memory. One sample per series every 15 s; each scrape's timestamps
jitter by up to ±50 ms, as real scrapes do (which also keeps Prometheus 2 and 3 from differing on
samples exactly at a range boundary).

Requests go out in rounds of consecutive scrapes, all series of a round concurrently, rounds in time
order: that keeps every series in order and inside Prometheus' appendable head window, the way its
own queue manager does when it forwards a live scrape stream.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels, labels_of
from spyglass.ingest.remote_write import encode_write_request

INTERVAL_MS = 15_000
SAMPLES_PER_REQUEST = 2_000
HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
ROUTES = ("/api/v1/users", "/api/v1/orders", "/api/v1/items", "/search", "/login", "/cart")
CODES = ("200", "404", "500")
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "+Inf")
JOBS = ("api", "worker", "gateway", "billing")


@dataclass(frozen=True)
class Dataset:
    """Label sets, per-series timestamps and values: ``values[s, p]`` at ``timestamps[s, p]``."""

    series: list[Labels]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    @property
    def samples(self) -> int:
        return int(self.values.size)

    @property
    def end_ms(self) -> int:
        return int(self.timestamps[:, -1].max())


def make_dataset(n_series: int, points: int, end_ms: int | None = None) -> Dataset:
    """About ``n_series`` series (whole instances), ``points`` samples each, up to ``end_ms``."""
    rng = np.random.default_rng(42)
    end_ms = end_ms if end_ms is not None else int(time.time() * 1000) - 60_000
    start_ms = end_ms - (points - 1) * INTERVAL_MS
    per_instance = len(ROUTES) * (len(CODES) + len(BUCKETS) + 2) + 4 + 1
    instances = max(1, n_series // per_instance)
    series: list[Labels] = []
    rows: list[npt.NDArray[np.float64]] = []
    inst_of: list[int] = []
    for i in range(instances):
        inst = f"10.0.{i // 250}.{i % 250}:8000"
        job = JOBS[i % len(JOBS)]
        base = {"job": job, "instance": inst}
        for route in ROUTES:
            traffic = rng.uniform(0.5, 20.0)
            reqs = rng.poisson(traffic * 15, points).astype(np.float64)
            for code, share in zip(CODES, (0.9, 0.07, 0.03), strict=True):
                series.append(
                    labels_of(
                        {
                            **base,
                            "__name__": "http_requests_total",
                            "method": "GET",
                            "route": route,
                            "status_code": code,
                        }
                    )
                )
                rows.append(np.cumsum(np.round(reqs * share)))
            # Latencies: a per-request exponential distribution, bucketed cumulatively.
            scale = rng.uniform(0.05, 0.4)
            fractions = [1 - np.exp(-float(b) / scale) if b != "+Inf" else 1.0 for b in BUCKETS]
            for le, frac in zip(BUCKETS, fractions, strict=True):
                series.append(
                    labels_of(
                        {
                            **base,
                            "__name__": "http_request_duration_seconds_bucket",
                            "route": route,
                            "le": le,
                        }
                    )
                )
                rows.append(np.cumsum(np.floor(reqs * frac)))
            series.append(
                labels_of(
                    {**base, "__name__": "http_request_duration_seconds_count", "route": route}
                )
            )
            rows.append(np.cumsum(reqs))
            series.append(
                labels_of({**base, "__name__": "http_request_duration_seconds_sum", "route": route})
            )
            rows.append(np.round(np.cumsum(reqs * scale), 3))
            inst_of.extend([i] * (len(CODES) + len(BUCKETS) + 2))
        for mode, rate in (("user", 0.3), ("system", 0.1), ("idle", 1.5), ("iowait", 0.02)):
            series.append(
                labels_of(
                    {
                        "__name__": "node_cpu_seconds_total",
                        "instance": inst,
                        "job": "node",
                        "mode": mode,
                    }
                )
            )
            rows.append(np.round(np.cumsum(rng.gamma(4, rate * 15 / 4, points)), 2))
            inst_of.append(i)
        series.append(
            labels_of(
                {"__name__": "node_memory_MemAvailable_bytes", "instance": inst, "job": "node"}
            )
        )
        walk = np.cumsum(rng.integers(-(2**20), 2**20, points)) * 4096
        rows.append((8 * 2**30 + walk).astype(np.float64))
        inst_of.append(i)
    grid = start_ms + np.arange(points, dtype=np.int64) * INTERVAL_MS
    jitter = rng.integers(-50, 51, (instances, points))
    timestamps = grid[None, :] + jitter[np.array(inst_of)]
    return Dataset(series, timestamps.astype(np.int64), np.vstack(rows))


def encode_rounds(
    data: Dataset, points_per_round: int = 4, series_per_request: int | None = None
) -> list[list[bytes]]:
    """Requests grouped in rounds of ``points_per_round`` consecutive scrapes, each request
    ``series_per_request`` series (default: ``SAMPLES_PER_REQUEST`` samples per request)."""
    n, points = data.values.shape
    rounds: list[list[bytes]] = []
    per_request_series = series_per_request or max(1, SAMPLES_PER_REQUEST // points_per_round)
    for p0 in range(0, points, points_per_round):
        p1 = min(points, p0 + points_per_round)
        # One round's columns as Python lists at a time: the whole dataset as lists would take
        # some 70 bytes a sample (gigabytes at 100k series).
        ts_list = data.timestamps[:, p0:p1].tolist()
        val_list = data.values[:, p0:p1].tolist()
        bodies = []
        for s0 in range(0, n, per_request_series):
            chunk = [
                (data.series[s], list(zip(ts_list[s], val_list[s], strict=True)))
                for s in range(s0, min(n, s0 + per_request_series))
            ]
            bodies.append(encode_write_request(chunk))
        rounds.append(bodies)
    return rounds


async def _send(
    url: str, rounds: list[list[bytes]], concurrency: int, headers: dict[str, str]
) -> float:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:
        gate = asyncio.Semaphore(concurrency)

        async def post(body: bytes) -> None:
            async with gate:
                for attempt in range(20):
                    r = await client.post(url, content=body, headers=headers)
                    if r.status_code < 300:
                        return
                    if r.status_code < 500:
                        raise RuntimeError(f"{url}: {r.status_code} {r.text[:300]}")
                    await asyncio.sleep(0.1 * (attempt + 1))
                raise RuntimeError(f"{url}: still failing after retries")

        started = time.perf_counter()
        for bodies in rounds:
            await asyncio.gather(*(post(b) for b in bodies))
        return time.perf_counter() - started


def send_rounds(
    url: str,
    rounds: list[list[bytes]],
    concurrency: int = 8,
    headers: dict[str, str] | None = None,
) -> float:
    """POST every round (concurrently within a round); wall-clock seconds taken. ``headers``
    default to remote_write's."""
    return asyncio.run(_send(url, rounds, concurrency, headers or HEADERS))


OTLP_HEADERS = {"Content-Type": "application/x-protobuf"}


def encode_otlp_rounds(
    data: Dataset, points_per_round: int = 4, series_per_request: int = 500
) -> list[list[bytes]]:
    """The same rounds as ``encode_rounds``, as OTLP/HTTP metrics exports: each series a gauge
    data point per scrape, its labels as attributes (``__name__`` as the metric's name)."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (  # noqa: PLC0415
        ExportMetricsServiceRequest,
    )

    n, points = data.values.shape
    ts_list = data.timestamps.tolist()
    val_list = data.values.tolist()
    rounds: list[list[bytes]] = []
    for p0 in range(0, points, points_per_round):
        p1 = min(points, p0 + points_per_round)
        bodies = []
        for s0 in range(0, n, series_per_request):
            req = ExportMetricsServiceRequest()
            scope = req.resource_metrics.add().scope_metrics.add()
            for s in range(s0, min(n, s0 + series_per_request)):
                labels = dict(data.series[s])
                metric = scope.metrics.add(name=labels.pop("__name__"))
                for p in range(p0, p1):
                    point = metric.gauge.data_points.add(
                        time_unix_nano=ts_list[s][p] * 1_000_000, as_double=val_list[s][p]
                    )
                    for key, value in labels.items():
                        point.attributes.add(key=key).value.string_value = value
            bodies.append(req.SerializeToString())
        rounds.append(bodies)
    return rounds


__all__ = [
    "INTERVAL_MS",
    "OTLP_HEADERS",
    "Dataset",
    "encode_otlp_rounds",
    "encode_rounds",
    "make_dataset",
    "send_rounds",
]
