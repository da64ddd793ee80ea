"""Request parameters the way Prometheus reads them: query string and form body merged."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from starlette.datastructures import MultiDict
from starlette.requests import Request

from spyglass.core.errors import BadInput
from spyglass.core.times import parse_api_duration_ms, parse_api_time_ms

# Prometheus' defaults for an absent start/end on the metadata endpoints: all time.
MIN_TIME_MS = -(2**62)
MAX_TIME_MS = 2**62

FORM_TYPE = "application/x-www-form-urlencoded"
# A form body larger than this is refused rather than parsed (queries are short).
MAX_FORM_BYTES = 1024 * 1024


async def read_params(request: Request) -> MultiDict:
    """GET query parameters plus, for POST forms, the form fields (Prometheus accepts both)."""
    items = list(request.query_params.multi_items())
    if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPE):
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise BadInput(f"form body larger than {MAX_FORM_BYTES} bytes")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise BadInput("form body is not valid UTF-8") from None
        items.extend(parse_qsl(text, keep_blank_values=True))
    return MultiDict(items)


def time_param(params: MultiDict, name: str, default_ms: int) -> int:
    """An RFC 3339 or unix-seconds timestamp parameter, in ms."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default_ms
    try:
        return parse_api_time_ms(raw)
    except BadInput as exc:
        raise BadInput(f'invalid parameter "{name}": {exc}') from None


def duration_param(params: MultiDict, name: str) -> int | None:
    """A duration parameter (float seconds or Prometheus duration), in ms; None when absent."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_api_duration_ms(raw)
    except BadInput as exc:
        raise BadInput(f'invalid parameter "{name}": {exc}') from None


def limit_param(params: MultiDict, name: str = "limit") -> int:
    """A non-negative integer limit; 0 (the default) means no limit."""
    raw = params.get(name)
    if raw is None or raw == "":
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(
            f'invalid parameter "{name}": cannot parse "{raw}" to a valid limit'
        ) from None
    if value < 0:
        raise BadInput(f'invalid parameter "{name}": limit must be non-negative')
    return value


def now_ms() -> int:
    """Wall-clock now in ms (API defaults)."""
    return int(time.time() * 1000)


__all__ = [
    "MAX_TIME_MS",
    "MIN_TIME_MS",
    "duration_param",
    "limit_param",
    "now_ms",
    "read_params",
    "time_param",
]
