"""Instrument a Python web service in one call.

    from spyglass.sdk import instrument
    telemetry = instrument(app, service="api")

gives a FastAPI/Starlette (or any ASGI) app Prometheus metrics on ``/metrics`` keyed by route
template, request IDs, JSON logs with request and trace IDs, OpenTelemetry traces over OTLP and
``/health``, ``/health/live``, ``/health/ready``. The SDK imports nothing from the Spyglass
server; telemetry failures are logged, never raised into request handling. See docs/sdk.md.
"""

from __future__ import annotations

from spyglass.sdk._checks import (
    cpu_check,
    disk_check,
    http_check,
    memory_check,
    redis_check,
    sqlalchemy_check,
)
from spyglass.sdk._external import TrackedTransport, tracked_transport
from spyglass.sdk._health import CheckResult, Health, HealthCheck, Outcome, Report, Status
from spyglass.sdk._instrument import Instrumentation, Options, instrument
from spyglass.sdk._logging import (
    DEFAULT_REDACT_KEYS,
    REDACTED,
    Redactor,
    configure_logging,
    get_logger,
)
from spyglass.sdk._request_id import (
    current_request_id,
    is_valid_request_id,
    new_request_id,
)
from spyglass.sdk._routes import UNMATCHED
from spyglass.sdk._sqlalchemy import instrument_sqlalchemy, parse_statement
from spyglass.sdk._timing import Timed, timed, track_external_call
from spyglass.sdk._tracing import DEFAULT_OTLP_ENDPOINT, setup_tracing

__all__ = [
    "DEFAULT_OTLP_ENDPOINT",
    "DEFAULT_REDACT_KEYS",
    "REDACTED",
    "UNMATCHED",
    "CheckResult",
    "Health",
    "HealthCheck",
    "Instrumentation",
    "Options",
    "Outcome",
    "Redactor",
    "Report",
    "Status",
    "Timed",
    "TrackedTransport",
    "configure_logging",
    "cpu_check",
    "current_request_id",
    "disk_check",
    "get_logger",
    "http_check",
    "instrument",
    "instrument_sqlalchemy",
    "is_valid_request_id",
    "memory_check",
    "new_request_id",
    "parse_statement",
    "redis_check",
    "setup_tracing",
    "sqlalchemy_check",
    "timed",
    "track_external_call",
    "tracked_transport",
]
