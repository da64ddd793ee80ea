"""The service graph as metrics: requests between services, paired from client and server spans.

What Tempo's metrics-generator ``service-graphs`` processor (and the OpenTelemetry Collector's
servicegraph connector) write, with the same names and labels:

- ``traces_service_graph_request_total{client, server}``: completed calls;
- ``traces_service_graph_request_failed_total{client, server}``: those where either side's span
  has status Error;
- ``traces_service_graph_request_server_seconds`` and ``..._client_seconds``: histograms of the
  server span's and the client span's duration.

An edge is a client span (kind Client or Producer) and the server span (Server or Consumer) whose
parent it is, in another or the same service; ``connection_type="messaging_system"`` marks a
producer/consumer pair, as in Tempo. The two halves arrive in any order, in one batch or in
several (each service exports its own spans), so a half waits up to ``wait_ms`` (Tempo's 10 s)
for the other; one that never finds it is counted in ``unpaired`` and dropped. At most
``max_pending`` halves wait: beyond that a new half is counted in ``dropped`` (Tempo's
``max_items``), which bounds memory when spans of one side never come.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from spyglass.core.labels import Labels, labels_of
from spyglass.core.spans import SPAN_KINDS, STATUS_CODES, Span, SpanColumns
from spyglass.traces._registry import Registry

# Tempo's defaults for the service graph's latency histograms: 0.1 s doubling to 12.8 s.
SERVICE_GRAPH_BUCKETS: tuple[float, ...] = tuple(0.1 * 2**i for i in range(8))
DEFAULT_WAIT_MS = 10_000
DEFAULT_MAX_PENDING = 10_000

_CLIENT_KINDS = ("Client", "Producer")
_SERVER_KINDS = ("Server", "Consumer")
_CLIENT_CODES = tuple(SPAN_KINDS.index(k) for k in _CLIENT_KINDS)
_SERVER_CODES = tuple(SPAN_KINDS.index(k) for k in _SERVER_KINDS)
_MESSAGING_CODES = (SPAN_KINDS.index("Producer"), SPAN_KINDS.index("Consumer"))
_ERROR = STATUS_CODES.index("Error")


@dataclass(slots=True)
class _Half:
    service: str
    failed: bool
    seconds: float
    messaging: bool


@dataclass(slots=True)
class _Edge:
    expires_ms: int
    client: _Half | None = None
    server: _Half | None = None


class ServiceGraph:
    """Pairs client and server spans into edges and counts them in ``registry``."""

    def __init__(
        self,
        registry: Registry,
        *,
        buckets: tuple[float, ...] = SERVICE_GRAPH_BUCKETS,
        wait_ms: int = DEFAULT_WAIT_MS,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.requests = registry.counter("traces_service_graph_request_total")
        self.failed = registry.counter("traces_service_graph_request_failed_total")
        self.server_seconds = registry.histogram(
            "traces_service_graph_request_server_seconds", buckets
        )
        self.client_seconds = registry.histogram(
            "traces_service_graph_request_client_seconds", buckets
        )
        self.wait_ms = wait_ms
        self.max_pending = max_pending
        self._pending: dict[tuple[str, str], _Edge] = {}
        # label sets of recent (client, server, messaging) edges, built once each
        self._labels: dict[tuple[str, str, bool], Labels] = {}
        self._lock = threading.Lock()
        self.unpaired = 0  # halves that waited ``wait_ms`` for their other half in vain
        self.dropped = 0  # halves not kept because ``max_pending`` were waiting
        self.dropped_edges = 0  # completed edges the registry had no room for

    @property
    def pending(self) -> int:
        """Halves waiting for their other half."""
        return len(self._pending)

    def add(self, span: Span, now_ms: int) -> None:
        """Take one span: a client or server half of an edge, or nothing for other kinds."""
        client = span.kind in _CLIENT_KINDS
        if client:
            key = (span.trace_id, span.span_id)
        elif span.kind in _SERVER_KINDS and span.parent_span_id:
            key = (span.trace_id, span.parent_span_id)
        else:
            return
        half = _Half(
            span.service_name,
            span.status_code == "Error",
            max(span.duration_ns, 0) / 1e9,
            span.kind in ("Producer", "Consumer"),
        )
        self._add(key, client, half, span.trace_id, now_ms)

    def add_columns(self, c: SpanColumns, now_ms: int) -> None:
        """``add`` each span of ``c`` in order; only client and server spans are looked at
        (found with numpy), so the ids of the others are never made into ``str``s."""
        kind = c.kind
        is_client = np.isin(kind, _CLIENT_CODES)
        # A server span without a parent is no half of an edge.
        halves = np.flatnonzero(
            is_client | (np.isin(kind, _SERVER_CODES) & (np.diff(c.parent_span_id.offsets) > 0))
        ).tolist()
        if not halves:
            return
        clients = is_client[halves].tolist()
        trace_ids = c.trace_id.strings_at(halves)
        # The other half of the key: a client's own id, a server's parent's.
        span_ids = c.span_id.strings_at([i for i, cl in zip(halves, clients, strict=True) if cl])
        parents = c.parent_span_id.strings_at(
            [i for i, cl in zip(halves, clients, strict=True) if not cl]
        )
        seconds = (np.maximum(c.duration_ns[halves], 0) / 1e9).tolist()
        services = c.services
        own = iter(span_ids)
        parent = iter(parents)
        for j, (client, k, r, status) in enumerate(
            zip(
                clients,
                kind[halves].tolist(),
                c.resource_index[halves].tolist(),
                c.status[halves].tolist(),
                strict=True,
            )
        ):
            key = (trace_ids[j], next(own) if client else next(parent))
            half = _Half(services[r], status == _ERROR, seconds[j], k in _MESSAGING_CODES)
            self._add(key, client, half, trace_ids[j], now_ms)

    def _add(
        self, key: tuple[str, str], client: bool, half: _Half, trace_id: str, now_ms: int
    ) -> None:
        with self._lock:
            edge = self._pending.get(key)
            if edge is not None and edge.expires_ms <= now_ms:
                # Its wait is over even though no collection has expired it yet.
                del self._pending[key]
                self.unpaired += 1
                edge = None
            if edge is None:
                if len(self._pending) >= self.max_pending:
                    self.dropped += 1
                    return
                edge = self._pending[key] = _Edge(now_ms + self.wait_ms)
            if client:
                edge.client = half
            else:
                edge.server = half
            if edge.client is None or edge.server is None:
                return
            del self._pending[key]
        self._complete(edge.client, edge.server, trace_id, now_ms)

    def expire(self, now_ms: int) -> None:
        """Give up on halves whose wait is over."""
        with self._lock:
            gone = [k for k, e in self._pending.items() if e.expires_ms <= now_ms]
            for k in gone:
                del self._pending[k]
            self.unpaired += len(gone)

    def _complete(self, client: _Half, server: _Half, trace_id: str, now_ms: int) -> None:
        messaging = client.messaging or server.messaging
        edge = (client.service, server.service, messaging)
        labels = self._labels.get(edge)
        if labels is None:
            labels = labels_of(
                {
                    "client": client.service,
                    "server": server.service,
                    "connection_type": "messaging_system" if messaging else "",
                }
            )
            if len(self._labels) < self.max_pending:  # bounded like the wait list
                self._labels[edge] = labels
        if not self.requests.inc(labels, now_ms):
            self.dropped_edges += 1
            return
        if client.failed or server.failed:
            self.failed.inc(labels, now_ms)
        self.server_seconds.observe(labels, server.seconds, now_ms, trace_id)
        self.client_seconds.observe(labels, client.seconds, now_ms, trace_id)


__all__ = ["DEFAULT_MAX_PENDING", "DEFAULT_WAIT_MS", "SERVICE_GRAPH_BUCKETS", "ServiceGraph"]
