"""Issues and error events as the errors API writes them (JSON).

Field names follow Sentry's own web API where it has one (``title``, ``culprit``, ``count``,
``userCount``, ``firstSeen``, ``lastSeen``, ``status``, ``substatus``, ``statusDetails``,
``eventID``, ``dateCreated``, ``breadcrumbs``, ``contexts``), so someone who knows Sentry's API
reads these; times are RFC 3339 in UTC with milliseconds. An event carries its stack trace
normalised (``exceptions``, each with ``frames`` innermost call last, or ``stacktrace`` for a
message captured with one) and the parts of the SDK's payload a person reads as sent
(``breadcrumbs``, ``request``, ``user``, ``contexts``, ``extra``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spyglass.core.alerts import format_time
from spyglass.core.error_events import ErrorEvent, Exception_, Frame
from spyglass.core.error_issues import RESOLVED, Issue
from spyglass.errors import IssueDetail, culprit, title

ISSUES_PATH = "/api/errors/issues"


def issue_json(issue: Issue) -> dict[str, Any]:
    """One issue, as the list and the issue route show it."""
    details: dict[str, Any] = {}
    if issue.status == RESOLVED and issue.resolved_in_next_release:
        details = {"inNextRelease": True, "inRelease": issue.resolved_release or None}
    substatus = "regressed" if issue.regressed else None
    return {
        "id": str(issue.id),
        "projectId": str(issue.project_id),
        "fingerprint": issue.fingerprint,
        "title": issue.title,
        "culprit": issue.culprit,
        "level": issue.level,
        "platform": issue.platform,
        "status": issue.status,
        "substatus": substatus,
        "isRegressed": issue.regressed,
        "statusDetails": details,
        "count": issue.count,
        "userCount": issue.users,
        "firstSeen": format_time(issue.first_seen_ms),
        "lastSeen": format_time(issue.last_seen_ms),
        "firstRelease": issue.first_release or None,
        "lastRelease": issue.last_release or None,
        "resolvedAt": format_time(issue.resolved_ms) if issue.resolved_ms else None,
        "lastEventId": issue.last_event_id,
        "link": f"{ISSUES_PATH}/{issue.id}",
    }


def detail_json(detail: IssueDetail) -> dict[str, Any]:
    """One issue with its counts per release, environment and service and its hourly
    series."""
    issue = detail.issue
    return {
        **issue_json(issue),
        "releases": _counts(issue.releases),
        "environments": _counts(issue.environments),
        "services": _counts(issue.services),
        "series": {
            "start": format_time(detail.series_start_ms),
            "stepSeconds": detail.series_step_ms // 1000,
            "counts": list(detail.series),
        },
    }


def event_json(event: ErrorEvent) -> dict[str, Any]:
    """One event, whole."""
    payload = event.payload
    out: dict[str, Any] = {
        "eventID": event.event_id,
        "projectId": str(event.project_id),
        "issueFingerprint": event.issue_key,
        "title": title(event),
        "culprit": culprit(event),
        "dateCreated": format_time(event.timestamp_ns // 1_000_000),
        "dateReceived": format_time(event.received_ns // 1_000_000),
        "level": event.level,
        "platform": event.platform,
        "logger": event.logger,
        "transaction": event.transaction,
        "serverName": event.server_name,
        "service": event.service or None,
        "release": event.release or None,
        "environment": event.environment,
        "message": event.message,
        "fingerprint": list(event.fingerprint),
        "exceptions": [_exception_json(e, i, payload) for i, e in enumerate(event.exceptions)],
        "stacktrace": [_frame_json(f, {}) for f in event.stack],
        "tags": [{"key": k, "value": v} for k, v in sorted(event.tags.items())],
        "user": _mapping(payload.get("user")),
        "breadcrumbs": _breadcrumbs(payload),
        "request": _mapping(payload.get("request")),
        "contexts": _mapping(payload.get("contexts")),
        "extra": _mapping(payload.get("extra")),
        "sdk": _mapping(payload.get("sdk")),
        "traceId": event.trace_id or None,
        "spanId": event.span_id or None,
    }
    return out


def _counts(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """Most events first; ``""`` (none given) shows as ``null``."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"name": name or None, "count": n} for name, n in ranked]


def _exception_json(exc: Exception_, index: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    raw = _raw_frames(payload, index, len(exc.frames))
    return {
        "type": exc.type,
        "value": exc.value,
        "module": exc.module,
        "handled": exc.handled,
        "frames": [_frame_json(f, raw[i] if raw else {}) for i, f in enumerate(exc.frames)],
    }


def _raw_frames(payload: Mapping[str, Any], index: int, count: int) -> list[Mapping[str, Any]]:
    """The SDK's own frames of exception ``index``, when they line up with the parsed ones
    (for the source lines around each frame and its local variables)."""
    raw = payload.get("exception")
    values = raw.get("values") if isinstance(raw, dict) else raw
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        return []
    if index >= len(values):
        return []
    stack = values[index].get("stacktrace")
    frames = stack.get("frames") if isinstance(stack, dict) else None
    if not isinstance(frames, list) or len(frames) != count:
        return []
    if not all(isinstance(f, dict) for f in frames):
        return []
    return frames


def _frame_json(frame: Frame, raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "function": frame.function,
        "module": frame.module,
        "filename": frame.filename,
        "absPath": frame.abs_path,
        "lineNo": frame.lineno,
        "contextLine": frame.context_line,
        "preContext": _strings(raw.get("pre_context")),
        "postContext": _strings(raw.get("post_context")),
        "inApp": frame.in_app,
        "vars": _mapping(raw.get("vars")),
    }


def _breadcrumbs(payload: Mapping[str, Any]) -> list[Any]:
    raw = payload.get("breadcrumbs")
    values = raw.get("values") if isinstance(raw, dict) else raw
    return [b for b in values if isinstance(b, dict)] if isinstance(values, list) else []


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


__all__ = ["ISSUES_PATH", "detail_json", "event_json", "issue_json"]
