"""Spans for the trace pages' tests, sent as OTLP/HTTP JSON (what an OpenTelemetry SDK's JSON
exporter posts to ``/v1/traces``), and a log line that names one of the traces.

The data, stamped a few minutes before the test starts so the default hour finds it:

- ``CHECKOUT`` (``shop-api`` -> ``payments``, 300 ms, in error): ``POST /checkout`` (server,
  status Error, ``http.status_code=500``, a hostile ``customer`` attribute) with children
  ``charge card`` (10-200 ms, status Error, an ``exception`` event with a stack trace and a
  hostile message) and ``render <hostile markup>`` (210-290 ms); under ``charge card``,
  ``payments``' ``POST /pay`` (20-150 ms) and under it ``SELECT <b>cards</b>`` (30-60 ms, a
  client span whose name is markup).
- ``HEALTH`` (``shop-api`` alone, 5 ms): ``GET /health``, ``http.status_code=200``.
- ``REFUND`` (``payments`` alone, 40 ms): ``POST /refund``.

With them, a Sentry event of the checkout's ``ZeroDivisionError`` whose trace context names
``CHECKOUT`` (its title hostile markup too), and one of another trace.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from tests.support.ops_data import send_event

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">'
CHECKOUT = "0af7651916cd43dd8448eb211c80319c"
HEALTH = "4bf92f3577b34da6a3ce929d0e0e4736"
REFUND = "5b8efff798038103d269b633813fc60c"
STACKTRACE = (
    "Traceback (most recent call last):\n"
    '  File "/srv/shop/billing.py", line 12, in charge\n'
    "    return total / (order.items - order.items)\n"
    "ZeroDivisionError: division by zero"
)
SERVER, CLIENT, INTERNAL = 2, 3, 1  # OTLP's SpanKind numbers


def _attrs(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in values.items()]


def _span(
    trace: str,
    span: str,
    parent: str,
    name: str,
    start_ms: int,
    end_ms: int,
    t0_ns: int,
    *,
    kind: int = INTERNAL,
    error: str = "",
    attributes: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": trace,
        "spanId": span,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(t0_ns + start_ms * 1_000_000),
        "endTimeUnixNano": str(t0_ns + end_ms * 1_000_000),
        "attributes": attributes or [],
        "events": events or [],
    }
    if parent:
        out["parentSpanId"] = parent
    if error:
        out["status"] = {"code": 2, "message": error}
    return out


def _resource(service: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resource": {"attributes": _attrs({"service.name": service, "host.name": "web-1"})},
        "scopeSpans": [{"scope": {"name": "tests.trace_data", "version": "1.0"}, "spans": spans}],
    }


def otlp_traces(now_ns: int) -> dict[str, Any]:
    """The three traces as one OTLP/JSON export request."""
    t0 = now_ns - 5 * 60 * 10**9  # CHECKOUT five minutes ago
    t1 = now_ns - 4 * 60 * 10**9
    t2 = now_ns - 3 * 60 * 10**9
    exception = {
        "timeUnixNano": str(t0 + 150 * 1_000_000),
        "name": "exception",
        "attributes": [
            *_attrs({"exception.type": "ZeroDivisionError"}),
            *_attrs({"exception.message": "division by zero " + HOSTILE}),
            *_attrs({"exception.stacktrace": STACKTRACE}),
        ],
    }
    shop = [
        _span(
            CHECKOUT, "1000000000000001", "", "POST /checkout", 0, 300, t0, kind=SERVER,
            error="payment failed",
            attributes=[
                *_attrs({"http.method": "POST", "http.status_code": "500", "customer": HOSTILE}),
            ],
        ),
        _span(CHECKOUT, "1000000000000002", "1000000000000001", "charge card", 10, 200, t0,
              error="division by zero", events=[exception]),
        _span(CHECKOUT, "1000000000000005", "1000000000000001", "render " + HOSTILE, 210, 290, t0),
        _span(HEALTH, "2000000000000001", "", "GET /health", 0, 5, t1, kind=SERVER,
              attributes=_attrs({"http.method": "GET", "http.status_code": "200"})),
    ]  # fmt: skip
    payments = [
        _span(CHECKOUT, "1000000000000003", "1000000000000002", "POST /pay", 20, 150, t0,
              kind=SERVER, attributes=_attrs({"http.method": "POST"})),
        _span(CHECKOUT, "1000000000000004", "1000000000000003", "SELECT <b>cards</b>", 30, 60,
              t0, kind=CLIENT, attributes=_attrs({"db.system": "postgresql"})),
        _span(REFUND, "3000000000000001", "", "POST /refund", 0, 40, t2, kind=SERVER),
    ]  # fmt: skip
    return {"resourceSpans": [_resource("shop-api", shop), _resource("payments", payments)]}


def sentry_event(n: int, trace_id: str, message: str, now_ns: int) -> dict[str, Any]:
    """A Sentry error event in trace ``trace_id``, as ``sentry_sdk`` sends it."""
    return {
        "event_id": f"{n:032x}",
        "timestamp": now_ns / 1e9 - 5 * 60 + 0.15,
        "platform": "python",
        "level": "error",
        "exception": {"values": [{"type": "ZeroDivisionError", "value": message}]},
        "contexts": {"trace": {"trace_id": trace_id, "span_id": "1000000000000002"}},
    }


def send(url: str) -> None:
    """The traces through ``/v1/traces``, through Loki's push API a log line of the checkout
    naming its trace id, and through Sentry's envelope endpoint the two error events."""
    now = time.time_ns()
    send_event(url, sentry_event(1, CHECKOUT, "division by zero " + HOSTILE, now))
    send_event(url, sentry_event(2, "ef" * 16, "another trace's error", now))
    r = httpx.post(url + "/v1/traces", json=otlp_traces(now), timeout=30)
    assert r.status_code == 200, r.text
    line = json.dumps({"msg": "payment failed", "trace_id": CHECKOUT, "level": "error"})
    stream = {
        "stream": {"service_name": "shop-api"},
        "values": [[str(now - 5 * 60 * 10**9 + 100_000_000), line]],
    }
    r = httpx.post(url + "/loki/api/v1/push", json={"streams": [stream]}, timeout=30)
    assert r.status_code == 204, r.text


__all__ = [
    "CHECKOUT",
    "HEALTH",
    "HOSTILE",
    "REFUND",
    "STACKTRACE",
    "otlp_traces",
    "send",
    "sentry_event",
]
