"""What log analysis reads from one line: its message, service, level and user.

A line a LogQL log query returns comes with its final labels (stream labels, structured
metadata, and whatever a parser stage extracted). Pattern mining and user impact need four
things from it, found where the common shippers put them:

- the **message**: the ``message``, ``msg`` or ``body`` field when the line is a JSON object
  (what structured loggers and the Spyglass SDK write), else the whole line;
- the **service**: the ``service_name``, ``service`` or ``job`` label (Loki's order for
  ``service_name`` discovery), ``unknown_service`` when none is set, as Loki says;
- the **level**: the ``level``, ``severity``, ``detected_level`` or ``severity_text`` label, else
  the same field of the JSON line, normalised as Loki's ``detected_level`` is (``warning`` is
  ``warn``, ``err`` is ``error``, ...), ``unknown`` when there is none;
- the **user**: a configurable field (``user_id`` by default) from the labels first, then the
  JSON line, where a dotted name (``user.id``) walks nested objects.

It is pure and lives in ``core`` so that ``spyglass logs`` (which colours each line by level)
reads it without loading the LogQL engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MESSAGE_FIELDS = ("message", "msg", "body")
SERVICE_LABELS = ("service_name", "service", "job")
LEVEL_FIELDS = ("level", "severity", "detected_level", "severity_text")
UNKNOWN_SERVICE = "unknown_service"
UNKNOWN_LEVEL = "unknown"
# Levels that count as errors for user impact: error and everything above it.
ERROR_LEVELS = frozenset({"error", "critical", "fatal"})

_LEVEL_ALIASES = {
    "trace": "trace",
    "dbug": "debug",
    "dbg": "debug",
    "debug": "debug",
    "info": "info",
    "inf": "info",
    "information": "info",
    "informational": "info",
    "notice": "info",
    "warn": "warn",
    "warning": "warn",
    "wrn": "warn",
    "err": "error",
    "eror": "error",
    "error": "error",
    "crit": "critical",
    "critical": "critical",
    "alert": "critical",
    "emerg": "critical",
    "emergency": "critical",
    "fatal": "fatal",
    "panic": "fatal",
}


def normalize_level(value: str) -> str:
    """``value`` as one of Loki's detected levels (``trace`` ... ``fatal``), else ``unknown``."""
    return _LEVEL_ALIASES.get(value.strip().lower(), UNKNOWN_LEVEL)


@dataclass(frozen=True, slots=True)
class LineFields:
    """The parts of one line analysis uses."""

    message: str
    service: str
    level: str
    user: str  # "" when the line names no user


def _json_object(line: str) -> Mapping[str, Any] | None:
    # Only a line that looks like an object is worth a parse attempt.
    if not line.startswith("{"):
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return ""


def _field(doc: Mapping[str, Any], name: str) -> str:
    value: Any = doc.get(name)
    if value is None and "." in name:
        value = doc
        for part in name.split("."):
            if not isinstance(value, dict):
                return ""
            value = value.get(part)
    return _scalar(value) if value is not None else ""


def line_fields(labels: Mapping[str, str], line: str, user_field: str = "user_id") -> LineFields:
    """The message, service, level and user of one line with its final ``labels``."""
    doc = _json_object(line)
    message = line
    if doc is not None:
        for name in MESSAGE_FIELDS:
            text = _scalar(doc.get(name))
            if text:
                message = text
                break
    service = UNKNOWN_SERVICE
    for name in SERVICE_LABELS:
        if value := labels.get(name):
            service = value
            break
    raw = ""
    for name in LEVEL_FIELDS:
        if value := labels.get(name):
            raw = value
            break
    if not raw and doc is not None:
        for name in LEVEL_FIELDS:
            if raw := _scalar(doc.get(name)):
                break
    level = normalize_level(raw) if raw else UNKNOWN_LEVEL
    user = labels.get(user_field, "")
    if not user and doc is not None:
        user = _field(doc, user_field)
    return LineFields(message, service, level, user)


__all__ = [
    "ERROR_LEVELS",
    "UNKNOWN_LEVEL",
    "UNKNOWN_SERVICE",
    "LineFields",
    "line_fields",
    "normalize_level",
]
