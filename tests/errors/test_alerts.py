"""The alerts of new and regressed issues: labels alertmanager.yml routes on, annotations a
notification shows, a start and no end."""

from __future__ import annotations

import dataclasses

from tests.support.error_events import BASE_NS, event

from spyglass.errors import NEW_ISSUE, REGRESSED_ISSUE, issue_alert, observe


def test_a_new_issue_alert_carries_what_routes_and_notifications_need() -> None:
    e = event(1, level="fatal", release="shop@2", environment="prod", project_id=3)
    issue = dataclasses.replace(observe(None, e), id=42)
    alert = issue_alert(NEW_ISSUE, issue, e, "http://spyglass:9090/")
    assert dict(alert.labels) == {
        "alertname": "NewErrorIssue",
        "project": "3",
        "issue_id": "42",
        "level": "fatal",
        "release": "shop@2",
        "environment": "prod",
    }
    assert dict(alert.annotations) == {
        "title": "ValueError: bad value 1",
        "culprit": "app in handler",
        "summary": "New issue in project 3: ValueError: bad value 1",
        "link": "http://spyglass:9090/errors/42",
    }
    assert alert.starts_at_ms == BASE_NS // 1_000_000 + 1_000
    assert alert.ends_at_ms == 0
    assert alert.generator_url == "http://spyglass:9090/errors/42"


def test_an_event_without_a_release_leaves_the_label_out() -> None:
    e = event(1, release="")
    issue = dataclasses.replace(observe(None, e), id=1)
    alert = issue_alert(REGRESSED_ISSUE, issue, e, "http://h")
    assert "release" not in dict(alert.labels)
    assert alert.name == "RegressedErrorIssue"
    assert dict(alert.annotations)["summary"].startswith("Regression in project 1: ")
