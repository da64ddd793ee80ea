"""Alerts for new and regressed issues, sent through the router like rules' alerts.

Sentry e-mails "a new issue" and "a regression"; Spyglass raises an alert instead, so the
routes, receivers, grouping, silences and inhibitions of alertmanager.yml decide who hears of
it, as they do for every other alert. Labels::

    alertname    NewErrorIssue | RegressedErrorIssue
    project      the Sentry project id
    issue_id     the issue's number (GET /api/errors/issues/<issue_id>)
    level        the event's level (error, fatal, warning, ...)
    release      the event's release (left out when it had none)
    environment  the event's environment

Annotations: ``title``, ``culprit``, ``summary`` (one line for a notification's subject) and
``link`` (the issue's page, ``/errors/<issue_id>``, under the external URL; its JSON is
``/api/errors/issues/<issue_id>``). An issue is news once, so the
alert carries no end: the router resolves it after ``resolve_timeout``, as Alertmanager does
with an alert its sender stops repeating.
"""

from __future__ import annotations

from spyglass.core.alerts import ALERTNAME, Alert
from spyglass.core.error_events import ErrorEvent
from spyglass.core.error_issues import Issue

NEW_ISSUE = "NewErrorIssue"
REGRESSED_ISSUE = "RegressedErrorIssue"


def issue_link(external_url: str, issue: Issue) -> str:
    """The issue's page under ``external_url``: what a person following the alert wants."""
    return f"{external_url.rstrip('/')}/errors/{issue.id}"


def issue_alert(name: str, issue: Issue, event: ErrorEvent, external_url: str) -> Alert:
    """The ``name`` alert (``NEW_ISSUE`` or ``REGRESSED_ISSUE``) for ``issue``, raised by
    ``event``."""
    labels = {
        ALERTNAME: name,
        "project": str(issue.project_id),
        "issue_id": str(issue.id),
        "level": event.level,
        "environment": event.environment,
    }
    if event.release:
        labels["release"] = event.release
    what = "New issue" if name == NEW_ISSUE else "Regression"
    link = issue_link(external_url, issue)
    annotations = {
        "title": issue.title,
        "culprit": issue.culprit,
        "summary": f"{what} in project {issue.project_id}: {issue.title}",
        "link": link,
    }
    return Alert(
        labels=tuple(sorted((k, v) for k, v in labels.items() if v)),
        annotations=tuple(sorted((k, v) for k, v in annotations.items() if v)),
        starts_at_ms=event.received_ns // 1_000_000,
        generator_url=link,
    )


__all__ = ["NEW_ISSUE", "REGRESSED_ISSUE", "issue_alert", "issue_link"]
