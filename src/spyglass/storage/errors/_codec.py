"""The error events' record format: one ``ErrorEvent`` as a JSON object, a batch as a WAL record.

Error events are few and large (a stack trace, breadcrumbs, the whole SDK payload), so the
record is JSON rather than the columns the logs and metrics codecs pack: the encoding cost is
the payload's own, and the same object is what the ``error_events`` table keeps in its ``Event``
column, so a stored event reads back as the ``ErrorEvent`` that was accepted.

A WAL record is a version byte (1) followed by a JSON array of events. JSON is written with
``ensure_ascii``: text holding lone surrogates (which Sentry payloads can escape into JSON)
round-trips as the escapes it came in as.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from spyglass.core.error_events import ErrorBatch, ErrorEvent, Exception_, Frame
from spyglass.core.errors import ParseError
from spyglass.storage.wal import StandaloneRecords

VERSION = 1


def event_to_json(event: ErrorEvent) -> dict[str, Any]:
    """The JSON object of ``event`` (every field, the payload included)."""
    return {
        "project_id": event.project_id,
        "event_id": event.event_id,
        "timestamp_ns": event.timestamp_ns,
        "received_ns": event.received_ns,
        "level": event.level,
        "platform": event.platform,
        "logger": event.logger,
        "transaction": event.transaction,
        "server_name": event.server_name,
        "release": event.release,
        "environment": event.environment,
        "message": event.message,
        "message_template": event.message_template,
        "exceptions": [_exception_json(e) for e in event.exceptions],
        "stack": [_frame_json(f) for f in event.stack],
        "fingerprint": list(event.fingerprint),
        "tags": dict(event.tags),
        "user_id": event.user_id,
        "user_email": event.user_email,
        "user_ip": event.user_ip,
        "trace_id": event.trace_id,
        "span_id": event.span_id,
        "sdk": event.sdk,
        "payload": dict(event.payload),
        "issue_key": event.issue_key,
    }


def event_from_json(data: Mapping[str, Any]) -> ErrorEvent:
    """The ``ErrorEvent`` of an object ``event_to_json`` wrote; ``ParseError`` otherwise."""
    try:
        return ErrorEvent(
            project_id=_int(data["project_id"]),
            event_id=_str(data["event_id"]),
            timestamp_ns=_int(data["timestamp_ns"]),
            received_ns=_int(data["received_ns"]),
            level=_str(data["level"]),
            platform=_str(data["platform"]),
            logger=_str(data["logger"]),
            transaction=_str(data["transaction"]),
            server_name=_str(data["server_name"]),
            release=_str(data["release"]),
            environment=_str(data["environment"]),
            message=_str(data["message"]),
            message_template=_str(data["message_template"]),
            exceptions=tuple(_exception(e) for e in data["exceptions"]),
            stack=tuple(_frame(f) for f in data["stack"]),
            fingerprint=tuple(_str(p) for p in data["fingerprint"]),
            tags=MappingProxyType({_str(k): _str(v) for k, v in data["tags"].items()}),
            user_id=_str(data["user_id"]),
            user_email=_str(data["user_email"]),
            user_ip=_str(data["user_ip"]),
            trace_id=_str(data["trace_id"]),
            span_id=_str(data["span_id"]),
            sdk=_str(data["sdk"]),
            payload=MappingProxyType(dict(data["payload"])),
            issue_key=_str(data["issue_key"]),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ParseError(f"not a stored error event: {exc!r}") from None


def dumps(event: ErrorEvent) -> str:
    """``event`` as JSON text."""
    return json.dumps(event_to_json(event), separators=(",", ":"))


def loads(text: str | bytes) -> ErrorEvent:
    """The event of JSON text ``dumps`` wrote; ``ParseError`` otherwise."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"stored error event is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ParseError("stored error event is not a JSON object")
    return event_from_json(data)


def encode_batch(batch: ErrorBatch) -> bytes:
    """The WAL record payload for ``batch``."""
    body = json.dumps([event_to_json(e) for e in batch.events], separators=(",", ":"))
    return bytes([VERSION]) + body.encode("ascii")


def decode_batch(payload: bytes) -> ErrorBatch:
    """The batch in a WAL record payload; ``ParseError`` when it is not one."""
    if not payload:
        raise ParseError("error events WAL record is empty")
    if payload[0] != VERSION:
        raise ParseError(f"unknown error events WAL record version {payload[0]}")
    try:
        items = json.loads(payload[1:])
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"error events WAL record is not JSON: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ParseError("error events WAL record is not a JSON array of objects")
    return ErrorBatch(tuple(event_from_json(i) for i in items))


class ErrorsCodec(StandaloneRecords[ErrorBatch]):
    """The WAL's ``RecordCodec`` for ``ErrorBatch``: every record stands alone."""

    def __init__(self) -> None:
        super().__init__(encode_batch, decode_batch)


def _exception_json(e: Exception_) -> dict[str, Any]:
    return {
        "type": e.type,
        "value": e.value,
        "module": e.module,
        "frames": [_frame_json(f) for f in e.frames],
        "handled": e.handled,
    }


def _frame_json(f: Frame) -> dict[str, Any]:
    return {
        "function": f.function,
        "module": f.module,
        "filename": f.filename,
        "abs_path": f.abs_path,
        "lineno": f.lineno,
        "context_line": f.context_line,
        "in_app": f.in_app,
    }


def _exception(data: Mapping[str, Any]) -> Exception_:
    return Exception_(
        type=_str(data["type"]),
        value=_str(data["value"]),
        module=_str(data["module"]),
        frames=tuple(_frame(f) for f in data["frames"]),
        handled=_opt_bool(data["handled"]),
    )


def _frame(data: Mapping[str, Any]) -> Frame:
    lineno = data["lineno"]
    return Frame(
        function=_str(data["function"]),
        module=_str(data["module"]),
        filename=_str(data["filename"]),
        abs_path=_str(data["abs_path"]),
        lineno=None if lineno is None else _int(lineno),
        context_line=_str(data["context_line"]),
        in_app=_opt_bool(data["in_app"]),
    )


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _opt_bool(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"expected a boolean or null, got {type(value).__name__}")
    return value


__all__ = [
    "VERSION",
    "ErrorsCodec",
    "decode_batch",
    "dumps",
    "encode_batch",
    "event_from_json",
    "event_to_json",
    "loads",
]
