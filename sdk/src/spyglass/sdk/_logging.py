"""Structured JSON logs through structlog, with stdlib logging routed through the same chain.

Every line is one JSON object: timestamp (ISO 8601, UTC), level, logger, message, service,
request_id, trace_id and span_id (when there is a request or a span), plus whatever the caller
bound. Secrets are redacted by key before rendering, at any depth.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from spyglass.sdk._request_id import current_request_id

try:
    from opentelemetry import trace as _otel_trace
except ImportError:  # pragma: no cover - tracing is optional
    _otel_trace = None  # type: ignore[assignment]

REDACTED = "[REDACTED]"
# Matched as substrings of the key, lower-cased with "-" read as "_": catches access_token,
# X-Api-Key, db_password, Set-Cookie and the like.
DEFAULT_REDACT_KEYS = (
    "authorization",
    "password",
    "passwd",
    "token",
    "secret",
    "api_key",
    "apikey",
    "cookie",
    "private_key",
    "credential",
)
# Bounds keep a pathological value (deep or self-referencing) from costing more than a log line.
_MAX_DEPTH = 10
_MAX_ITEMS = 1_000
_HANDLER_MARK = "_spyglass_sdk_handler"
# Loggers that ASGI/WSGI servers set up with handlers of their own.
ADOPTED_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "gunicorn",
    "gunicorn.error",
    "gunicorn.access",
    "hypercorn",
    "hypercorn.error",
    "hypercorn.access",
)


class Redactor:
    """structlog processor: replace values whose key names a secret, in nested data too.

    Returns a redacted copy of nested containers (the caller's objects are never changed);
    containers deeper than 10 levels or cycles are replaced by a placeholder string.
    """

    def __init__(self, keys: Iterable[str] = DEFAULT_REDACT_KEYS) -> None:
        self.keys = tuple(k.lower().replace("-", "_") for k in keys)

    def is_secret(self, key: object) -> bool:
        """Whether a mapping key names a secret."""
        if not isinstance(key, str | bytes):
            return False
        text = key.decode("latin-1") if isinstance(key, bytes) else key
        norm = text.lower().replace("-", "_")
        return any(k in norm for k in self.keys)

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            if self.is_secret(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._clean(event_dict[key], 0, set())
        return event_dict

    def _clean(self, value: Any, depth: int, seen: set[int]) -> Any:
        if isinstance(value, str | bytes | int | float | bool) or value is None:
            return value
        if not isinstance(value, Mapping | list | tuple | set | frozenset):
            return value
        if depth >= _MAX_DEPTH or id(value) in seen:
            return "<nested too deep>" if depth >= _MAX_DEPTH else "<cycle>"
        seen = seen | {id(value)}
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for i, (k, v) in enumerate(value.items()):
                if i >= _MAX_ITEMS:
                    out["<truncated>"] = len(value) - _MAX_ITEMS
                    break
                out[k] = REDACTED if self.is_secret(k) else self._clean(v, depth + 1, seen)
            return out
        items = [self._clean(v, depth + 1, seen) for v in list(value)[:_MAX_ITEMS]]
        return tuple(items) if isinstance(value, tuple) else items


class _RenderOnce(logging.Formatter):
    """``formatter`` for several handlers of one record: the line rendered for the first is
    handed to the next ones in the same thread instead of rendering the record again.

    The last record (weakly: it must not outlive its logging call) and its line are kept per
    thread, since handlers run in the thread that logs; a record not seen last in this thread
    is rendered.
    """

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self._formatter = formatter
        self._last = threading.local()

    def format(self, record: logging.LogRecord) -> str:
        last = self._last
        seen = getattr(last, "record", None)
        if seen is not None and seen() is record:
            return str(last.line)
        line = self._formatter.format(record)
        last.record, last.line = weakref.ref(record), line
        return line


def _context_adder(service: str) -> structlog.types.Processor:
    def add_context(
        logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        rid = current_request_id()
        if rid is not None:
            event_dict.setdefault("request_id", rid)
        if _otel_trace is not None:
            ctx = _otel_trace.get_current_span().get_span_context()
            if ctx.is_valid:
                event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
                event_dict.setdefault("span_id", format(ctx.span_id, "016x"))
        return event_dict

    return add_context


def configure_logging(
    service: str,
    *,
    level: str | int = "INFO",
    stream: TextIO | None = None,
    redact_keys: Iterable[str] = DEFAULT_REDACT_KEYS,
    shipper: logging.Handler | None = None,
) -> None:
    """Configure structlog and the stdlib root logger to write JSON lines to ``stream``.

    ``shipper`` (the SDK's ``LogShipper``) gets the same records rendered the same way, to send
    them over OTLP.

    ``stream`` defaults to stdout. Calling it again replaces the previous configuration (the
    handler this function installed is swapped, other root handlers are removed so each record
    is written once, as JSON). The loggers servers configure for themselves (uvicorn,
    gunicorn, hypercorn) lose their handlers and propagate to the root, so they are JSON too.
    """
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _context_adder(service),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.stdlib.ExtraAdder(),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            Redactor(redact_keys),
            structlog.processors.EventRenamer("message"),
            # default=repr: an unserialisable value must cost a readable string, not the line.
            structlog.processors.JSONRenderer(default=repr),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    # The shipper sends the very line stdout gets: rendered once for both.
    shared_formatter = _RenderOnce(formatter) if shipper is not None else formatter
    handler.setFormatter(shared_formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    if shipper is not None:
        shipper.setFormatter(shared_formatter)
        root.addHandler(shipper)
    root.setLevel(level)
    # Servers configure their own loggers before they import the app; hand their records to
    # the root handler so the whole process writes one format.
    # A server logger without handlers stays as it is: that is how uvicorn --no-access-log
    # switches access lines off (it also decides per connection from hasHandlers()).
    for name in ADOPTED_LOGGERS:
        if name in logging.root.manager.loggerDict:
            server_logger = logging.getLogger(name)
            if not server_logger.handlers:
                continue
            for old in list(server_logger.handlers):
                server_logger.removeHandler(old)
            server_logger.propagate = True
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a later configure_logging (tests, reloads) must reach existing loggers.
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    """A structlog logger writing through the configured chain."""
    return structlog.stdlib.get_logger(name)


__all__ = ["DEFAULT_REDACT_KEYS", "REDACTED", "Redactor", "configure_logging", "get_logger"]
