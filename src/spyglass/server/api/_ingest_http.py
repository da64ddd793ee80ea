"""What every push endpoint does with HTTP the same way: read a capped body, answer in plain
text or, for OTLP/HTTP, in a ``google.rpc.Status``.

Shared by the metric pushes (``write.py``: remote_write, OTLP metrics) and the log pushes
(``logs_ingest.py``: Loki, OTLP logs, Elasticsearch ``_bulk``), so a body limit, a client that
hangs up mid-body and an OTLP error body behave alike on every one of them.
"""

from __future__ import annotations

import json

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from spyglass.core.errors import BadInput, LimitExceeded

OTLP_PROTOBUF = "application/x-protobuf"
OTLP_JSON = "application/json"
# google.rpc.Code values used in OTLP error bodies.
INVALID_ARGUMENT = 3
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing it as soon as it grows past ``limit`` bytes (0: no limit)."""
    declared = request.headers.get("content-length")
    if limit and declared and declared.isdigit() and int(declared) > limit:
        raise LimitExceeded("max_body_bytes", limit, f"request body is {declared} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if limit and size > limit:
                raise LimitExceeded("max_body_bytes", limit, "request body is too large")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadInput("client disconnected before sending the whole body") from None
    return b"".join(chunks)


def too_large(exc: BadInput) -> bool:
    """Whether ``exc`` is the body-size limit (413 rather than 400)."""
    return isinstance(exc, LimitExceeded) and exc.limit == "max_body_bytes"


def text_response(status: int, message: str) -> Response:
    """A plain-text answer, as remote_write and Loki's push give their errors."""
    return Response(message + "\n", status_code=status, media_type="text/plain; charset=utf-8")


def otlp_status(
    status: int,
    code: int,
    message: str,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """A ``google.rpc.Status`` body, in the request's encoding, as OTLP/HTTP prescribes."""
    if content_type == OTLP_JSON:
        return Response(
            json.dumps({"code": code, "message": message}),
            status_code=status,
            headers=headers,
            media_type=OTLP_JSON,
        )
    text = message.encode()
    # Status { int32 code = 1; string message = 2; }, hand-encoded: no googleapis dependency.
    body = bytes([0x08, code]) + b"\x12" + _varint(len(text)) + text
    return Response(body, status_code=status, headers=headers, media_type=OTLP_PROTOBUF)


def otlp_refusal(request: Request) -> tuple[str, Response | None, str]:
    """The request's media type, and for a request OTLP/HTTP does not take (not a POST, another
    content type) the answer to give and the message to log."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST":
        message = f"method {request.method} is not allowed: OTLP/HTTP exports are POST requests"
        answer = otlp_status(405, UNIMPLEMENTED, message, content_type, headers={"Allow": "POST"})
        return content_type, answer, message
    if content_type not in (OTLP_PROTOBUF, OTLP_JSON):
        message = (
            f"unsupported content type {content_type!r}: OTLP/HTTP takes {OTLP_PROTOBUF} "
            f"or {OTLP_JSON}"
        )
        return content_type, otlp_status(415, INVALID_ARGUMENT, message, content_type), message
    return content_type, None, ""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


__all__ = [
    "INTERNAL",
    "INVALID_ARGUMENT",
    "OTLP_JSON",
    "OTLP_PROTOBUF",
    "UNAVAILABLE",
    "UNIMPLEMENTED",
    "otlp_refusal",
    "otlp_status",
    "read_body",
    "text_response",
    "too_large",
]
