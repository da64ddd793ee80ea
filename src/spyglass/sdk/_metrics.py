"""The HTTP RED metrics and the ``/metrics`` page, on a prometheus_client registry.

Names follow the conventions most dashboards for Python services expect
(``http_requests_total{method,route,status_code}``, ``http_request_duration_seconds``...). In
multiprocess mode (gunicorn or uvicorn workers, ``PROMETHEUS_MULTIPROC_DIR`` set) every worker
writes its values to files there and the page merges them, so any worker answers for all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Web latencies: a few ms for cache hits up to 10 s for the slow tail that timeouts cut.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
# Bodies from empty to 10 MB, one bucket per order of magnitude.
SIZE_BUCKETS = (0.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)


@dataclass(frozen=True)
class HttpMetrics:
    """The collectors the middleware updates."""

    requests: Counter
    duration: Histogram
    in_progress: Gauge
    request_size: Histogram
    response_size: Histogram


def http_metrics(
    registry: CollectorRegistry, buckets: tuple[float, ...] = DURATION_BUCKETS
) -> HttpMetrics:
    """Create the HTTP metrics in ``registry`` (raises ValueError if they already exist there)."""
    return HttpMetrics(
        requests=Counter(
            "http_requests_total",
            "HTTP requests handled, by method, route template and status code.",
            ("method", "route", "status_code"),
            registry=registry,
        ),
        duration=Histogram(
            "http_request_duration_seconds",
            "Time from receiving an HTTP request to the end of its response.",
            ("method", "route"),
            buckets=buckets,
            registry=registry,
        ),
        in_progress=Gauge(
            "http_requests_in_progress",
            "HTTP requests being handled right now.",
            ("method", "route"),
            multiprocess_mode="livesum",
            registry=registry,
        ),
        request_size=Histogram(
            "http_request_size_bytes",
            "Size of HTTP request bodies.",
            ("method", "route"),
            buckets=SIZE_BUCKETS,
            registry=registry,
        ),
        response_size=Histogram(
            "http_response_size_bytes",
            "Size of HTTP response bodies.",
            ("method", "route"),
            buckets=SIZE_BUCKETS,
            registry=registry,
        ),
    )


def multiprocess_dir() -> str | None:
    """The multiprocess directory when multiprocess mode is on (the variable names a directory)."""
    path = os.environ.get(MULTIPROC_ENV)
    return path if path and os.path.isdir(path) else None


def render(registry: CollectorRegistry, accept: str) -> tuple[bytes, str]:
    """The exposition page and its Content-Type; OpenMetrics when ``accept`` asks for it.

    In multiprocess mode the page is built from the workers' files instead of ``registry``,
    which would only hold this worker's share.
    """
    encoder, content_type = choose_encoder(accept)
    path = multiprocess_dir()
    if path is not None:
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=path)  # type: ignore[no-untyped-call]
        return encoder(merged), content_type
    return encoder(registry), content_type


__all__ = [
    "DURATION_BUCKETS",
    "MULTIPROC_ENV",
    "SIZE_BUCKETS",
    "HttpMetrics",
    "http_metrics",
    "multiprocess_dir",
    "render",
]
