"""Prometheus' JSON conventions: the response envelope, error types and value formatting.

Sample values are strings formatted like Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` (shortest
round-tripping decimal, never an exponent; ``NaN``, ``+Inf``, ``-Inf``); timestamps are JSON numbers
of seconds with millisecond precision.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from spyglass.core.errors import (
    BadInput,
    QueryError,
    QueryTimeout,
    QueryTooLarge,
    SpyglassError,
    Unavailable,
)

# errorType -> HTTP status, as Prometheus' web API maps them.
ERROR_STATUS = {
    "bad_data": 400,
    "execution": 422,
    "canceled": 499,
    "timeout": 503,
    "internal": 500,
    "not_found": 404,
    "unavailable": 503,
}


def format_value(v: float) -> str:
    """A sample value as Prometheus writes it.

    Python's ``repr`` and Go's ``FormatFloat(v, 'f', -1, 64)`` both write the shortest digits
    that read back as ``v`` (the nearest such when there are several), so the digits are the
    same; only the notation differs: ``repr`` switches to an exponent below 1e-4 and from 1e16
    on, Go never does, so those are moved into place here. For a value with a fraction this
    takes 0.6 µs where numpy's Dragon4 formatter, which it replaced, took 1.1 µs.
    """
    r = float.__repr__(float(v))
    if r.endswith(".0"):
        return r[:-2]
    if "e" in r:
        return _positional(r)
    return _SPECIAL.get(r, r)


# ``repr``'s names for what Prometheus writes as Go does.
_SPECIAL = {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}


def _positional(r: str) -> str:
    """``repr``'s exponent notation (``-1.5e-07``) without the exponent (``-0.00000015``)."""
    mantissa, exponent = r.split("e")
    sign = ""
    if mantissa[0] == "-":
        sign, mantissa = "-", mantissa[1:]
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent)
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def format_time(ms: int) -> float | int:
    """A timestamp as Prometheus writes it: seconds, integral when whole."""
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def success(
    data: Any, warnings: list[str] | None = None, infos: list[str] | None = None
) -> Response:
    """``{"status": "success", "data": ...}`` with optional warnings and infos."""
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    if infos:
        body["infos"] = infos
    return Response(_dumps(body), media_type="application/json")


def error(error_type: str, message: str) -> Response:
    """``{"status": "error", "errorType": ..., "error": ...}`` with Prometheus' HTTP status."""
    body = {"status": "error", "errorType": error_type, "error": message}
    return Response(
        _dumps(body), status_code=ERROR_STATUS[error_type], media_type="application/json"
    )


def error_for(exc: SpyglassError) -> Response:
    """Map a Spyglass error to Prometheus' error type."""
    if isinstance(exc, BadInput):
        return error("bad_data", str(exc))
    if isinstance(exc, QueryTimeout):
        return error("timeout", f"query timed out in {exc}")
    if isinstance(exc, QueryTooLarge | QueryError):
        return error("execution", str(exc))
    if isinstance(exc, Unavailable):
        return error("unavailable", str(exc))
    return error("internal", str(exc))


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


__all__ = ["ERROR_STATUS", "error", "error_for", "format_time", "format_value", "success"]
