"""What every push endpoint does with HTTP the same way: read a capped body, answer in plain
text or, for OTLP/HTTP, in a ``google.rpc.Status``.

Shared by the metric pushes (``write.py``: remote_write, OTLP metrics), the log pushes
(``logs_ingest.py``: Loki, OTLP logs, Elasticsearch ``_bulk``), the span pushes
(``traces_ingest.py``: OTLP traces, Zipkin) and Sentry's (``sentry.py``), so a body limit, a
client that hangs up mid-body, an OTLP error body and the counting and logging of what was
refused behave alike on every one of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.server.rejections import RejectionLog

OTLP_PROTOBUF = "application/x-protobuf"
OTLP_JSON = "application/json"
# google.rpc.Code values used in OTLP error bodies.
INVALID_ARGUMENT = 3
RESOURCE_EXHAUSTED = 8
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


# Routes take every method, so a wrong one is answered in the protocol's own shape (405).
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]


def client_address(request: Request) -> str:
    """``host:port`` of the sender, for the rejection log."""
    if request.client is None:
        return "an unknown client"
    return f"{request.client.host}:{request.client.port}"


class ReportsRefusals:
    """For an ingest API with ``observe`` (the per-protocol request counter) and
    ``rejections`` (the rate-limited rejection log): count and log what it did not take."""

    observe: Callable[[str, str, int], None]
    rejections: RejectionLog

    def _refused(
        self, request: Request, protocol: str, status: int, reason: str, outcome: str = "rejected"
    ) -> None:
        self.observe(protocol, outcome, 0)
        self.rejections.refused(protocol, client_address(request), str(status), reason)

    def _failed(
        self,
        request: Request,
        protocol: str,
        status: int,
        reason: str,
        exc: BaseException | None = None,
    ) -> None:
        self.observe(protocol, "failed", 0)
        self.rejections.failed(protocol, client_address(request), str(status), reason, exc)


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
    "ALL_METHODS",
    "INTERNAL",
    "INVALID_ARGUMENT",
    "OTLP_JSON",
    "OTLP_PROTOBUF",
    "RESOURCE_EXHAUSTED",
    "UNAVAILABLE",
    "UNIMPLEMENTED",
    "ReportsRefusals",
    "client_address",
    "otlp_refusal",
    "otlp_status",
    "read_body",
    "text_response",
    "too_large",
]
