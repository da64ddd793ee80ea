"""A Sentry event payload (JSON) turned into an ``ErrorEvent``.

Sentry's ingestion normalises leniently: a field of the wrong shape is dropped, not a reason to
refuse the event, and SDKs of different ages write the same thing in different shapes
(``exception`` as ``{"values": [...]}`` or a bare list, ``tags`` as an object or as pairs,
``timestamp`` as seconds or RFC 3339, ``message`` as text or ``logentry``). This reads every
shape the current and older SDKs send and keeps the event whole in ``payload`` for display.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from spyglass.core.error_events import ErrorEvent, Exception_, Frame
from spyglass.core.errors import BadInput

MAX_STRING = 8192  # longer names, values and messages are cut, as Sentry trims them
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX16 = re.compile(r"[0-9a-f]{16}")


def parse_event_json(payload: bytes) -> dict[str, Any]:
    """The JSON object of an event item or a store request; ``BadInput`` if it is not one."""
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"invalid event: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadInput("invalid event: not a JSON object")
    return value


def event_from_json(
    data: Mapping[str, Any], *, project_id: int, received_ns: int, event_id: str = ""
) -> ErrorEvent:
    """The ``ErrorEvent`` of one event payload; ``event_id`` is the envelope's when the payload
    has none (a new one when neither has)."""
    eid = _event_id(data.get("event_id")) or _event_id(event_id) or uuid.uuid4().hex
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    assert isinstance(user, dict)
    trace = _mapping(_mapping(data.get("contexts")).get("trace"))
    message, template = _message(data)
    sdk = _mapping(data.get("sdk"))
    return ErrorEvent(
        project_id=project_id,
        event_id=eid,
        timestamp_ns=_timestamp_ns(data.get("timestamp"), received_ns),
        received_ns=received_ns,
        level=_text(data.get("level")).lower() or "error",
        platform=_text(data.get("platform")) or "other",
        logger=_text(data.get("logger")),
        transaction=_text(data.get("transaction")) or _text(data.get("culprit")),
        server_name=_text(data.get("server_name")),
        release=_text(data.get("release")),
        environment=_text(data.get("environment")) or "production",
        message=message,
        message_template=template,
        exceptions=(exceptions := _exceptions(data)),
        stack=() if exceptions else _stack(data),
        fingerprint=tuple(_text(p) for p in _list(data.get("fingerprint")) if _scalar(p)),
        tags=_tags(data.get("tags")),
        user_id=_text(user.get("id")),
        user_email=_text(user.get("email")),
        user_ip=_text(user.get("ip_address")),
        trace_id=_hex(trace.get("trace_id"), _HEX32),
        span_id=_hex(trace.get("span_id"), _HEX16),
        sdk="/".join(p for p in (_text(sdk.get("name")), _text(sdk.get("version"))) if p),
        payload={**data, "event_id": eid},
    )


def _event_id(value: object) -> str:
    text = _text(value).replace("-", "").lower()
    return text if _HEX32.fullmatch(text) else ""


def _timestamp_ns(value: object, default: int) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value < 1e11:  # not a plausible time (NaN fails too)
            return default
        return round(value * 1e6) * 1000
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return default
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)  # Sentry reads a bare time as UTC
        delta = parsed - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    return default


def _message(data: Mapping[str, Any]) -> tuple[str, str]:
    """The formatted message and its unformatted template (``""`` when there is none)."""
    logentry = data.get("logentry") or data.get("sentry.interfaces.Message")
    message = data.get("message")
    if isinstance(message, dict):  # the old interface form
        logentry = logentry or message
        message = None
    if isinstance(logentry, dict):
        template = _text(logentry.get("message"))
        formatted = _text(logentry.get("formatted")) or _format(template, logentry.get("params"))
        return formatted or _text(message), template
    return _text(message), ""


def _format(template: str, params: object) -> str:
    if not template or not isinstance(params, list):
        return template
    try:
        return template % tuple(params)
    except (TypeError, ValueError):
        return template


def _exceptions(data: Mapping[str, Any]) -> tuple[Exception_, ...]:
    raw = data.get("exception") or data.get("sentry.interfaces.Exception")
    values = raw.get("values") if isinstance(raw, dict) else raw
    out: list[Exception_] = []
    for value in _list(values):
        if not isinstance(value, dict):
            continue
        mechanism = _mapping(value.get("mechanism"))
        handled = mechanism.get("handled")
        out.append(
            Exception_(
                type=_text(value.get("type")),
                value=_text(value.get("value")),
                module=_text(value.get("module")),
                frames=_frames(value.get("stacktrace")),
                handled=handled if isinstance(handled, bool) else None,
            )
        )
    return tuple(out)


def _stack(data: Mapping[str, Any]) -> tuple[Frame, ...]:
    """The stack a message event was captured on: its own, or its crashed or current thread's."""
    frames = _frames(data.get("stacktrace"))
    if frames:
        return frames
    threads = [t for t in _list(_mapping(data.get("threads")).get("values")) if isinstance(t, dict)]
    threads.sort(key=lambda t: (t.get("crashed") is not True, t.get("current") is not True))
    for thread in threads:
        frames = _frames(thread.get("stacktrace"))
        if frames:
            return frames
    return ()


def _frames(stacktrace: object) -> tuple[Frame, ...]:
    frames: list[Frame] = []
    for frame in _list(_mapping(stacktrace).get("frames")):
        if not isinstance(frame, dict):
            continue
        lineno = frame.get("lineno")
        in_app = frame.get("in_app")
        frames.append(
            Frame(
                function=_text(frame.get("function")),
                module=_text(frame.get("module")),
                filename=_text(frame.get("filename")),
                abs_path=_text(frame.get("abs_path")),
                lineno=lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else None,
                context_line=_text(frame.get("context_line")),
                in_app=in_app if isinstance(in_app, bool) else None,
            )
        )
    return tuple(frames)


def _tags(value: object) -> dict[str, str]:
    pairs: list[tuple[object, object]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(p[0], p[1]) for p in value if isinstance(p, list | tuple) and len(p) == 2]
    return {_text(k)[:200]: _text(v)[:200] for k, v in pairs if _scalar(k) and _scalar(v)}


def _hex(value: object, pattern: re.Pattern[str]) -> str:
    text = _text(value).replace("-", "").lower()
    return text if pattern.fullmatch(text) else ""


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value[:MAX_STRING]
    if _scalar(value):
        return str(value)
    return ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


__all__ = ["event_from_json", "parse_event_json"]
