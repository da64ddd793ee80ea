"""Shipping the app's own JSON log records over OTLP/HTTP, so a service needs no log shipper.

``LogShipper`` is a ``logging.Handler`` beside the one that prints JSON lines: in the thread
that logs, it renders the record through the same structlog chain (so the request and trace
ids of the current context, the bound fields and the redaction are the same as on stdout) and
puts the line on a bounded queue; nothing else happens on the request path. A background
thread batches the queue (OpenTelemetry's batch log record processor's variables:
``OTEL_BLRP_SCHEDULE_DELAY``, ``OTEL_BLRP_MAX_QUEUE_SIZE``, ``OTEL_BLRP_MAX_EXPORT_BATCH_SIZE``)
and sends each batch as an ``ExportLogsServiceRequest`` through ``OtlpHttp`` (the
``OTEL_EXPORTER_OTLP_LOGS_*`` variables). Each record carries its severity, the message as
body, the other JSON fields as attributes (``request_id`` among them), the trace and span ids
on the record itself, and the resource of the service (``service.name``).

A full queue drops the record and counts it; so does a batch the collector did not take.
Nothing is raised into the application, and records the export itself logs are not shipped
(a collector that is down must not feed its own failures back). ``shutdown`` sends what is
queued, within the export timeout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from spyglass.sdk._otlp_export import OtlpHttp
from spyglass.sdk._otlp_wire import OtlpLogRecord, encode_logs

_log = logging.getLogger("spyglass.sdk.logs")

LOGS_EXPORTER_ENV = "OTEL_LOGS_EXPORTER"
LOGS_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SCHEDULE_DELAY_ENV = "OTEL_BLRP_SCHEDULE_DELAY"
QUEUE_SIZE_ENV = "OTEL_BLRP_MAX_QUEUE_SIZE"
BATCH_SIZE_ENV = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"
LOGS_PATH = "/v1/logs"
TRACES_PATH = "/v1/traces"
# OpenTelemetry's defaults for the batch log record processor.
DEFAULT_SCHEDULE_DELAY_S = 1.0
DEFAULT_QUEUE_SIZE = 2048
DEFAULT_BATCH_SIZE = 512
SCOPE_NAME = "spyglass.sdk"
# Fields of the JSON line that are not attributes: the body, and what the record says itself.
_NOT_ATTRIBUTES = frozenset({"message", "timestamp", "trace_id", "span_id"})


def ship_logs_from_env() -> bool:
    """Whether ``OTEL_LOGS_EXPORTER`` (a comma-separated list, as OpenTelemetry reads it)
    names ``otlp``."""
    names = os.environ.get(LOGS_EXPORTER_ENV, "")
    return "otlp" in (name.strip().lower() for name in names.split(","))


def logs_endpoint(endpoint: str | None) -> str:
    """The OTLP/HTTP logs URL: from the argument (a base URL, or the traces or logs URL of the
    same collector), else ``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`` as given, else
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` with ``/v1/logs``, else local (port 4318)."""
    if endpoint:
        base = endpoint.rstrip("/")
        if base.endswith(LOGS_PATH):
            return base
        return base.removesuffix(TRACES_PATH) + LOGS_PATH
    signal = os.environ.get(LOGS_ENDPOINT_ENV)
    if signal:
        return signal
    return (os.environ.get(ENDPOINT_ENV) or "http://127.0.0.1:4318").rstrip("/") + LOGS_PATH


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        _log.warning("invalid %s %r: using %s", name, raw, default)
        return default
    return value if value > 0 else default


def severity_number(levelno: int) -> int:
    """OpenTelemetry's severity number of a ``logging`` level (DEBUG 5, INFO 9, WARNING 13,
    ERROR 17, CRITICAL 21; below DEBUG is TRACE)."""
    if levelno < logging.DEBUG:
        return 1
    return min(5 + 4 * ((levelno - logging.DEBUG) // 10), 21)


def _hex_bytes(value: Any, size: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size:
        return b""
    try:
        return bytes.fromhex(value)
    except ValueError:
        return b""


def to_otlp(time_ns: int, levelno: int, levelname: str, line: str) -> OtlpLogRecord:
    """One rendered JSON line as an OTLP log record (a line that is no JSON object is the
    body as it is)."""
    try:
        fields = json.loads(line)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        return OtlpLogRecord(
            time_ns, line, severity_number=severity_number(levelno), severity_text=levelname
        )
    attributes = {k: v for k, v in fields.items() if k not in _NOT_ATTRIBUTES and v is not None}
    return OtlpLogRecord(
        time_ns,
        str(fields.get("message", "")),
        severity_number=severity_number(levelno),
        severity_text=levelname,
        attributes=attributes,
        trace_id=_hex_bytes(fields.get("trace_id"), 16),
        span_id=_hex_bytes(fields.get("span_id"), 8),
    )


class _Flush:
    """A marker on the queue: the worker sends what it holds and sets ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()
_Entry = tuple[int, int, str, str]


class LogShipper(logging.Handler):
    """Ships formatted log records to an OTLP/HTTP logs endpoint from a background thread.

    Give it the formatter of the JSON lines (``configure_logging`` does). ``registry`` gets
    the ``spyglass_sdk_log_records_*`` counters; ``http`` may be passed for tests.
    """

    def __init__(
        self,
        service: str,
        *,
        endpoint: str | None = None,
        registry: CollectorRegistry | None = None,
        resource: Mapping[str, Any] | None = None,
        http: OtlpHttp | None = None,
    ) -> None:
        super().__init__(logging.NOTSET)
        self.http = http if http is not None else OtlpHttp(logs_endpoint(endpoint), signal="logs")
        self.endpoint = self.http.endpoint
        self.resource = dict(resource) if resource is not None else _resource(service)
        self.delay_s = _positive(SCHEDULE_DELAY_ENV, DEFAULT_SCHEDULE_DELAY_S * 1000) / 1000
        size = int(_positive(QUEUE_SIZE_ENV, DEFAULT_QUEUE_SIZE))
        self.batch_size = min(int(_positive(BATCH_SIZE_ENV, DEFAULT_BATCH_SIZE)), size)
        self._queue: queue.Queue[_Entry | _Flush | object] = queue.Queue(maxsize=size)
        self.dropped = 0
        self.exported = 0
        self._dropped = Counter(
            "spyglass_sdk_log_records_dropped",
            "Log records not shipped: the queue was full, or the collector did not take them.",
            ["reason"],
            registry=registry,
        )
        self._exported = Counter(
            "spyglass_sdk_log_records_exported",
            "Log records the OTLP logs endpoint took.",
            registry=registry,
        )
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name="spyglass-sdk-log-shipper", daemon=True
        )
        self._thread.start()

    # -- the application's side ---------------------------------------------------------------
    def emit(self, record: logging.LogRecord) -> None:
        """Render and queue ``record``; never blocks, never raises."""
        if self._stopped or threading.current_thread() is self._thread:
            return  # what the export logs about itself is not shipped
        try:
            line = self.format(record)
            entry = (int(record.created * 1e9), record.levelno, record.levelname, line)
            self._queue.put_nowait(entry)
        except queue.Full:
            self._drop("queue_full", 1)
        except Exception:  # noqa: BLE001 - a log record lost, never the request
            self._drop("error", 1)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """Nothing: a record that cannot be shipped is counted, not printed."""

    def _drop(self, reason: str, count: int) -> None:
        self.dropped += count
        self._dropped.labels(reason).inc(count)

    # -- the background thread ----------------------------------------------------------------
    def _run(self) -> None:
        batch: list[_Entry] = []
        deadline = time.monotonic() + self.delay_s
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = None
            if isinstance(item, tuple):
                batch.append(item)
                if len(batch) < self.batch_size:
                    continue
            if batch:
                self._export(batch)
                batch = []
            deadline = time.monotonic() + self.delay_s
            if isinstance(item, _Flush):
                item.done.set()
            elif item is _STOP:
                return

    def _export(self, batch: list[_Entry]) -> None:
        try:
            data = encode_logs(
                (to_otlp(*entry) for entry in batch),
                resource=self.resource,
                scope_name=SCOPE_NAME,
            )
            error = self.http.send(data)
        except Exception as exc:  # noqa: BLE001 - the batch is lost, the thread goes on
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self.exported += len(batch)
            self._exported.inc(len(batch))
            return
        self._drop("export_failed", len(batch))
        self.http.failed(f"{len(batch)} log records", error)

    # -- flushing and stopping ----------------------------------------------------------------
    def force_flush(self, timeout_s: float = 10.0) -> bool:
        """Send what is queued now; False when that did not finish within ``timeout_s``."""
        if self._stopped:
            return True
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout_s)
        except queue.Full:
            return False
        return marker.done.wait(timeout_s)

    def shutdown(self, timeout_s: float | None = None) -> None:
        """Send what is queued, waiting at most ``timeout_s`` (default the export timeout),
        then stop: an export still under way then gives up."""
        if self._stopped:
            return
        wait = self.http.timeout if timeout_s is None else timeout_s
        self._stopped = True
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=wait)
        self._thread.join(wait)
        # Aborts a retry that waits and a POST the collector does not answer.
        self.http.close()
        self._thread.join(1.0)

    def close(self) -> None:
        """``logging.Handler.close``: sends what is queued (within the export timeout) but
        keeps shipping. ``logging`` calls it at exit, and also whenever ``dictConfig`` runs
        (``uvicorn.run`` does), which must not end shipping; the thread is a daemon."""
        self.force_flush(self.http.timeout)
        super().close()


def _resource(service: str) -> dict[str, Any]:
    """The resource spans carry too: ``service.name`` with OpenTelemetry's ``telemetry.sdk.*``
    and ``OTEL_RESOURCE_ATTRIBUTES``, when opentelemetry-sdk is there."""
    try:
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover - opentelemetry-sdk is a dependency
        return {"service.name": service}
    return dict(Resource.create({"service.name": service}).attributes)


__all__ = [
    "LOGS_ENDPOINT_ENV",
    "LOGS_EXPORTER_ENV",
    "LogShipper",
    "logs_endpoint",
    "severity_number",
    "ship_logs_from_env",
    "to_otlp",
]
