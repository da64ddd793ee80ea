"""The HTTP RED metrics and the ``/metrics`` page, on a prometheus_client registry.

Names follow the conventions most dashboards for Python services expect
(``http_requests_total{method,route,status_code}``, ``http_request_duration_seconds``...).

The middleware records each request through an ``HttpRecorder``. In a single process that is
``RequestMetrics``: plain counters per (method, route) under one lock, turned into
prometheus_client metric families when the page is rendered; a finished request is queued and
counted with a few hundred others (or before the page is rendered), which costs less than
counting each in between the server's own work. Updating prometheus_client's own
Counter/Histogram objects costs a lock and a validation per value (about 8 µs per request for
the six values we keep), which on a trivial endpoint was a measurable share of the SDK's
overhead. In multiprocess mode (gunicorn or uvicorn workers, ``PROMETHEUS_MULTIPROC_DIR`` set)
every worker must write its values to files there so the page can merge them and any worker
answers for all; then the prometheus_client metrics are used as they are.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar
from prometheus_client.utils import floatToGoString

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Web latencies: a few ms for cache hits up to 10 s for the slow tail that timeouts cut.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
# Bodies from empty to 10 MB, one bucket per order of magnitude.
SIZE_BUCKETS = (0.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)

_REQUESTS = ("http_requests", "HTTP requests handled, by method, route template and status code.")
_DURATION = (
    "http_request_duration_seconds",
    "Time from receiving an HTTP request to the end of its response.",
)
_IN_PROGRESS = ("http_requests_in_progress", "HTTP requests being handled right now.")
_REQUEST_SIZE = ("http_request_size_bytes", "Size of HTTP request bodies.")
_RESPONSE_SIZE = ("http_response_size_bytes", "Size of HTTP response bodies.")


class RouteRecorder(Protocol):
    """The metrics of one (method, route) as the middleware updates them."""

    # start and done are attributes, not methods, so an implementation may bind them to C
    # callables (no Python frame per request); what done returns is ignored.
    start: Callable[[], None]
    """A request began (the in-progress gauge goes up)."""
    done: Callable[[], object]
    """The request is no longer in progress (called even when ``record`` raised)."""

    def record(
        self,
        code: int,
        elapsed: float,
        request_bytes: int,
        response_bytes: int,
        exemplar: dict[str, str] | None,
    ) -> None:
        """A request ended with status ``code`` after ``elapsed`` seconds."""


class HttpRecorder(Protocol):
    """Hands out the recorder of a (method, route); the middleware caches what it gets."""

    def route(self, method: str, route: str) -> RouteRecorder:
        """The recorder for requests of ``method`` matching ``route``."""


# -- single process: plain numbers under one lock ---------------------------------------------

# Queued requests of a route counted at once when this many wait (and before every page).
_DRAIN_AT = 256


class _Histogram:
    """Bucket counts (not cumulative; the last one is +Inf), sum and creation time."""

    __slots__ = ("counts", "created", "exemplars", "sum")

    def __init__(self, size: int, created: float, with_exemplars: bool) -> None:
        self.counts = [0] * (size + 1)
        self.sum = 0.0
        self.created = created
        self.exemplars: list[Exemplar | None] | None = (
            [None] * (size + 1) if with_exemplars else None
        )


class _Count:
    """One status code's request count, creation time and latest exemplar."""

    __slots__ = ("count", "created", "exemplar")

    def __init__(self) -> None:
        self.count = 0
        self.created = time.time()
        self.exemplar: Exemplar | None = None


class RouteStats:
    """The HTTP metrics of one (method, route) in a ``RequestMetrics``."""

    __slots__ = (
        "_active",
        "_bounds",
        "_lock",
        "_pending",
        "created",
        "done",
        "duration",
        "request_size",
        "requests",
        "response_size",
        "start",
    )

    def __init__(self, lock: threading.Lock, bounds: tuple[float, ...]) -> None:
        now = time.time()
        self._lock = lock
        self._bounds = bounds
        self.created = now
        # One entry per request in progress. Appending and popping are single C calls, atomic
        # under the GIL: no lock and no Python frame per request for the gauge.
        self._active: deque[None] = deque()
        # start(): a request began. done(): a request is over (whether or not record succeeded).
        self.start: Callable[[], None] = partial(self._active.append, None)
        self.done: Callable[[], object] = self._active.pop
        self.requests: dict[int, _Count] = {}
        # Finished requests not yet counted: (code, elapsed, request bytes, response bytes,
        # exemplar labels and time or None). See record().
        self._pending: deque[tuple[int, float, int, int, tuple[dict[str, str], float] | None]]
        self._pending = deque()
        self.duration = _Histogram(len(bounds), now, with_exemplars=True)
        self.request_size = _Histogram(len(SIZE_BUCKETS), now, with_exemplars=False)
        self.response_size = _Histogram(len(SIZE_BUCKETS), now, with_exemplars=False)

    @property
    def in_progress(self) -> int:
        """Requests of this route being handled right now."""
        return len(self._active)

    def record(
        self,
        code: int,
        elapsed: float,
        request_bytes: int,
        response_bytes: int,
        exemplar: dict[str, str] | None,
    ) -> None:
        """Count a finished request; ``exemplar`` labels point at its trace when sampled.

        The request is queued and counted with others in ``drain()``: before each page and
        whenever a few hundred wait. Counting them one after another in a tight loop costs
        less than counting each between the server's own work, where this code runs cold.
        """
        if code not in self.requests:
            # Created now, as prometheus_client creates a child on first use (its _created).
            with self._lock:
                if code not in self.requests:
                    self.requests[code] = _Count()
        pending = self._pending
        pending.append(
            (
                code,
                elapsed,
                request_bytes,
                response_bytes,
                None if exemplar is None else (exemplar, time.time()),
            )
        )
        if len(pending) >= _DRAIN_AT:
            self.drain()

    def drain(self) -> None:
        """Count the queued requests."""
        pending = self._pending
        bounds = self._bounds
        requests = self.requests
        duration, request_size, response_size = (
            self.duration,
            self.request_size,
            self.response_size,
        )
        with self._lock:
            while pending:
                code, elapsed, request_bytes, response_bytes, exemplar = pending.popleft()
                # bisect_left is the first bound >= the value: the "le" bucket Prometheus
                # counts it in.
                d_at = bisect_left(bounds, elapsed)
                counter = requests[code]
                counter.count += 1
                duration.counts[d_at] += 1
                duration.sum += elapsed
                if exemplar is not None and duration.exemplars is not None:
                    labels, at = exemplar
                    counter.exemplar = Exemplar(labels, 1.0, at)
                    duration.exemplars[d_at] = Exemplar(labels, elapsed, at)
                request_size.counts[bisect_left(SIZE_BUCKETS, request_bytes)] += 1
                request_size.sum += request_bytes
                response_size.counts[bisect_left(SIZE_BUCKETS, response_bytes)] += 1
                response_size.sum += response_bytes


class RequestMetrics(Collector):
    """The HTTP metrics of a single process, as a prometheus_client collector.

    Renders exactly the families, samples (``_created`` included, unless prometheus_client's
    ``PROMETHEUS_DISABLE_CREATED_SERIES`` is set) and exemplars that prometheus_client's
    Counter, Histogram and Gauge would.
    """

    def __init__(
        self, registry: CollectorRegistry, buckets: tuple[float, ...] = DURATION_BUCKETS
    ) -> None:
        self._bounds = tuple(float(b) for b in buckets if b != float("inf"))
        if list(self._bounds) != sorted(set(self._bounds)) or not self._bounds:
            raise ValueError("duration buckets must be distinct, sorted and not empty")
        self._les = _le(self._bounds)
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], RouteStats] = {}
        registry.register(self)

    def route(self, method: str, route: str) -> RouteStats:
        """The stats of ``(method, route)``, created on first use."""
        with self._lock:
            stats = self._routes.get((method, route))
            if stats is None:
                stats = self._routes[(method, route)] = RouteStats(self._lock, self._bounds)
            return stats

    def describe(self) -> list[Metric]:
        """The metric families, without samples (for the registry's duplicate check)."""
        return [
            Metric(_REQUESTS[0], _REQUESTS[1], "counter"),
            Metric(_DURATION[0], _DURATION[1], "histogram"),
            Metric(_IN_PROGRESS[0], _IN_PROGRESS[1], "gauge"),
            Metric(_REQUEST_SIZE[0], _REQUEST_SIZE[1], "histogram"),
            Metric(_RESPONSE_SIZE[0], _RESPONSE_SIZE[1], "histogram"),
        ]

    def collect(self) -> Iterator[Metric]:
        """The families with one sample set per (method, route[, status code])."""
        requests, duration, in_progress, request_size, response_size = self.describe()
        created = _created_series()
        for stats in list(self._routes.values()):
            stats.drain()
        with self._lock:
            for (method, route), stats in self._routes.items():
                labels = {"method": method, "route": route}
                for code, counter in stats.requests.items():
                    coded = {**labels, "status_code": str(code)}
                    total = _REQUESTS[0] + "_total"
                    requests.add_sample(total, coded, counter.count, None, counter.exemplar)
                    if created:
                        requests.add_sample(_REQUESTS[0] + "_created", coded, counter.created)
                _add_histogram(duration, labels, self._les, stats.duration, created)
                in_progress.add_sample(_IN_PROGRESS[0], labels, stats.in_progress)
                _add_histogram(request_size, labels, _SIZE_LE, stats.request_size, created)
                _add_histogram(response_size, labels, _SIZE_LE, stats.response_size, created)
        yield from (requests, duration, in_progress, request_size, response_size)


def _created_series() -> bool:
    # prometheus_client's switch (environment variable or disable_created_metrics()).
    from prometheus_client import metrics  # noqa: PLC0415 - read at call time: it can change

    return bool(metrics._use_created)  # no public accessor exists


def _le(bounds: tuple[float, ...]) -> tuple[str, ...]:
    """The ``le`` label values of ``bounds`` and +Inf, spelled as prometheus_client does."""
    return tuple(floatToGoString(b) for b in (*bounds, float("inf")))  # type: ignore[no-untyped-call]


_SIZE_LE = _le(SIZE_BUCKETS)


def _add_histogram(
    family: Metric,
    labels: dict[str, str],
    les: tuple[str, ...],
    hist: _Histogram,
    created: bool,
) -> None:
    name = family.name
    total = 0
    exemplars = hist.exemplars
    for i, le in enumerate(les):
        total += hist.counts[i]
        exemplar = exemplars[i] if exemplars is not None else None
        family.add_sample(name + "_bucket", {**labels, "le": le}, total, None, exemplar)
    family.add_sample(name + "_count", labels, total)
    family.add_sample(name + "_sum", labels, hist.sum)
    if created:
        family.add_sample(name + "_created", labels, hist.created)


# -- multiprocess mode: prometheus_client's metrics, which write to the shared files ----------


@dataclass(frozen=True)
class HttpMetrics:
    """The prometheus_client collectors the middleware updates in multiprocess mode."""

    requests: Counter
    duration: Histogram
    in_progress: Gauge
    request_size: Histogram
    response_size: Histogram

    def route(self, method: str, route: str) -> _ClientRoute:
        """The labelled children of ``(method, route)``."""
        return _ClientRoute(self, method, route)


class _ClientRoute:
    __slots__ = ("_counters", "_duration", "_method", "_metrics", "_request_size",
                 "_response_size", "_route", "done", "start")  # fmt: skip

    def __init__(self, metrics: HttpMetrics, method: str, route: str) -> None:
        self._metrics = metrics
        self._method = method
        self._route = route
        in_progress = metrics.in_progress.labels(method, route)
        self.start: Callable[[], None] = in_progress.inc
        self.done: Callable[[], object] = in_progress.dec
        self._duration = metrics.duration.labels(method, route)
        self._request_size = metrics.request_size.labels(method, route)
        self._response_size = metrics.response_size.labels(method, route)
        self._counters: dict[int, Counter] = {}

    def record(
        self,
        code: int,
        elapsed: float,
        request_bytes: int,
        response_bytes: int,
        exemplar: dict[str, str] | None,
    ) -> None:
        counter = self._counters.get(code)
        if counter is None:
            counter = self._metrics.requests.labels(self._method, self._route, str(code))
            self._counters[code] = counter
        counter.inc(1, exemplar)
        self._duration.observe(elapsed, exemplar)
        self._request_size.observe(request_bytes)
        self._response_size.observe(response_bytes)


def http_metrics(
    registry: CollectorRegistry, buckets: tuple[float, ...] = DURATION_BUCKETS
) -> HttpMetrics:
    """Create the HTTP metrics as prometheus_client objects in ``registry`` (raises
    ValueError if they already exist there)."""
    return HttpMetrics(
        requests=Counter(_REQUESTS[0] + "_total", _REQUESTS[1], ("method", "route", "status_code"),
                         registry=registry),
        duration=Histogram(_DURATION[0], _DURATION[1], ("method", "route"), buckets=buckets,
                           registry=registry),
        in_progress=Gauge(_IN_PROGRESS[0], _IN_PROGRESS[1], ("method", "route"),
                          multiprocess_mode="livesum", registry=registry),
        request_size=Histogram(_REQUEST_SIZE[0], _REQUEST_SIZE[1], ("method", "route"),
                               buckets=SIZE_BUCKETS, registry=registry),
        response_size=Histogram(_RESPONSE_SIZE[0], _RESPONSE_SIZE[1], ("method", "route"),
                                buckets=SIZE_BUCKETS, registry=registry),
    )  # fmt: skip


def http_recorder(
    registry: CollectorRegistry, buckets: tuple[float, ...] = DURATION_BUCKETS
) -> HttpRecorder:
    """The HTTP metrics in ``registry``: ``RequestMetrics``, or in multiprocess mode
    prometheus_client's own metrics (raises ValueError if they already exist there)."""
    # The same test prometheus_client makes (at import) to write values to files.
    if values.ValueClass is values.MutexValue:
        return RequestMetrics(registry, buckets)
    return http_metrics(registry, buckets)


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
    "HttpRecorder",
    "RequestMetrics",
    "RouteRecorder",
    "RouteStats",
    "http_metrics",
    "http_recorder",
    "multiprocess_dir",
    "render",
]
