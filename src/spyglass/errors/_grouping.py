"""Which issue an error event belongs to: Sentry's grouping, in the same order of evidence.

Sentry considers, in order (docs.sentry.io, "Issue Grouping"): the SDK's own fingerprint; the
stack trace; the exception's type and value; the message. Spyglass follows that order:

- **fingerprint**: the parts the SDK set, with ``{{ default }}`` standing for the hash the
  default grouping would give, and ``{{ transaction }}``, ``{{ type }}``, ``{{ level }}``,
  ``{{ logger }}`` for those fields;
- **stacktrace**: each exception of the chain by its type and its frames, only the in-app
  frames when any is marked in-app (so library frames that differ between versions do not split
  an issue), each frame by module (or its file name without hashes and versions) and function,
  or its source line when it has no function; line numbers never count, so an edit above the
  crash site keeps the issue;
- **exception**: type and value with volatile parts (numbers, ids, addresses) replaced;
- **message**: the unformatted template when the SDK sent one, else the message with the same
  replacements, so ``user 42 not found`` and ``user 43 not found`` are one issue.

The key is an MD5 of the parts, as Sentry's group hashes are, in lower-case hex.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from spyglass.core.error_events import ErrorEvent, Exception_, Frame

_VOLATILE = [
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b"),
        "<date>",
    ),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    (re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b[0-9a-fA-F]{16,}\b"), "<hex>"),
    (re.compile(r"-?\b\d+(\.\d+)?\b"), "<int>"),
]
_FILE_NOISE = re.compile(r"([.-][0-9a-f]{7,}|[.-]\d+(\.\d+)+)(?=[./]|$)")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_FINGERPRINT_VARIABLE = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")
_MAX_CONTEXT_LINE = 120


@dataclass(frozen=True, slots=True)
class Grouping:
    """How an event was grouped: its issue key, by which evidence, and the issue's wording."""

    key: str  # 32 hex digits
    method: str  # fingerprint | stacktrace | exception | message | fallback
    title: str
    culprit: str


def group(event: ErrorEvent) -> Grouping:
    """The issue ``event`` belongs to."""
    method, parts = _default(event)
    if event.fingerprint:
        default_key = _hash(parts)
        parts = [_fingerprint_part(p, event, default_key) for p in event.fingerprint]
        method = "fingerprint"
    return Grouping(_hash(parts), method, title(event), culprit(event))


def title(event: ErrorEvent) -> str:
    """What an issue list shows: ``Type: value`` of the raised exception, else the message."""
    if event.exceptions:
        last = event.exceptions[-1]
        value = last.value.strip().splitlines()[0] if last.value.strip() else ""
        head = last.type or "Error"
        return _cut(f"{head}: {value}" if value else head, 200)
    first = event.message.strip().splitlines()[0] if event.message.strip() else ""
    return _cut(first, 200) or "<unlabeled event>"


def culprit(event: ErrorEvent) -> str:
    """Where it happened: the transaction, else the innermost in-app frame."""
    if event.transaction:
        return _cut(event.transaction, 200)
    frames = _grouping_frames(event.exceptions[-1].frames if event.exceptions else event.stack)
    if frames:
        top = frames[-1]
        where = top.module or top.filename
        return _cut(f"{where} in {top.function}" if top.function else where, 200)
    return ""


def _default(event: ErrorEvent) -> tuple[str, list[str]]:
    chain = [e for e in event.exceptions if e.type or e.value or e.frames]
    if any(e.frames for e in chain) or (not chain and event.stack):
        parts: list[str] = []
        for exc in chain or [Exception_(frames=event.stack)]:
            parts.append(f"type:{exc.type}")
            parts.extend(_frame_part(f) for f in _grouping_frames(exc.frames))
        return "stacktrace", parts
    if chain:
        parts = []
        for exc in chain:
            parts += [f"type:{exc.type}", f"value:{normalize_message(exc.value)}"]
        return "exception", parts
    if event.message_template or event.message:
        text = event.message_template or normalize_message(event.message)
        return "message", [f"message:{text}"]
    return "fallback", [f"level:{event.level}", f"logger:{event.logger}"]


def _grouping_frames(frames: tuple[Frame, ...]) -> tuple[Frame, ...]:
    in_app = tuple(f for f in frames if f.in_app is True)
    return in_app or frames


def _frame_part(frame: Frame) -> str:
    where = frame.module or _FILE_NOISE.sub("", frame.filename or frame.abs_path)
    if frame.function and frame.function not in ("?", "<anonymous>"):
        return f"frame:{where}:{_ADDRESS.sub('', frame.function)}"
    line = frame.context_line.strip()
    if line and len(line) <= _MAX_CONTEXT_LINE:
        return f"frame:{where}:line:{line}"
    return f"frame:{where}"


def _fingerprint_part(part: str, event: ErrorEvent, default_key: str) -> str:
    match = _FINGERPRINT_VARIABLE.match(part.strip())
    if match is None:
        return f"fp:{part}"
    name = match.group(1)
    if name == "default":
        return f"default:{default_key}"
    values = {
        "transaction": event.transaction,
        "type": event.exceptions[-1].type if event.exceptions else "",
        "level": event.level,
        "logger": event.logger,
    }
    return f"{name}:{values.get(name, part)}"


def normalize_message(text: str) -> str:
    """``text`` with the parts that differ between occurrences of one error replaced."""
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def _hash(parts: list[str]) -> str:
    return hashlib.md5("\x00".join(parts).encode(), usedforsecurity=False).hexdigest()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["Grouping", "culprit", "group", "normalize_message", "title"]
