"""The notification a receiver's senders get: firing and resolved alerts, Alertmanager's data."""

from __future__ import annotations

from spyglass.alerting import Notification, NotifyError
from spyglass.core.alerts import Alert


def _notification() -> Notification:
    firing = Alert((("alertname", "Down"), ("job", "api")), starts_at_ms=1_000)
    resolved = Alert((("alertname", "Down"), ("job", "db")), starts_at_ms=1_000, ends_at_ms=50_000)
    later = Alert((("alertname", "Down"), ("job", "web")), starts_at_ms=1_000, ends_at_ms=90_000)
    return Notification(
        receiver="team",
        group_key='{}:{alertname="Down"}',
        group_labels=(("alertname", "Down"),),
        alerts=(firing, resolved, later),
        now_ms=60_000,
        external_url="http://spyglass.example",
    )


def test_an_alert_whose_end_is_past_is_resolved_and_one_ending_later_still_fires() -> None:
    n = _notification()
    assert [dict(a.labels)["job"] for a in n.firing] == ["api", "web"]
    assert [dict(a.labels)["job"] for a in n.resolved] == ["db"]


def test_template_data_is_alertmanagers_with_group_labels_and_status() -> None:
    data = _notification().template_data()
    assert data.receiver == "team"
    assert data.status == "firing"
    assert dict(data.group_labels) == {"alertname": "Down"}
    assert [a.status for a in data.alerts] == ["firing", "resolved", "firing"]
    assert data.external_url == "http://spyglass.example"


def test_notify_error_says_whether_to_retry() -> None:
    err = NotifyError("503 from webhook", retry=True, reason="serverError")
    assert err.retry
    assert err.reason == "serverError"
    assert str(err) == "503 from webhook"
