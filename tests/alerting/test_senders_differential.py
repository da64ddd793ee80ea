"""Differential: Debian's Alertmanager 0.25 and Spyglass send the same Slack message, the same
PagerDuty event and the same email for the same alerts, to loopback servers this test runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from tests.alerting.senders import Recorder, integration
from tests.support.required import need_alertmanager
from tests.support.servers import alertmanager, free_port

from spyglass.alerting import SENDER_BUILDERS, Notification, SenderEnv
from spyglass.core.alerts import Alert
from spyglass.core.template import TemplateSet

STARTS = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
ENDS = STARTS + dt.timedelta(days=3650)  # far ahead: the alerts fire throughout the test
INSTANCES = ("db1", "db2")


def _config(url: str) -> str:
    return f"""
route:
  receiver: team
  group_by: [alertname]
  # Long enough for Alertmanager to take in both alerts of the one POST before it sends: with
  # 0s a loaded machine let it notify after the first alone.
  group_wait: 1s
receivers:
- name: team
  slack_configs:
  - api_url: '{url}/slack'
    channel: '#alerts'
    fields: [{{title: Instances, value: '{{{{ len .Alerts }}}}'}}]
  pagerduty_configs:
  - routing_key: R0UTING
    url: '{url}/pagerduty'
    details: {{count: '{{{{ len .Alerts }}}}'}}
"""


def _labels(instance: str) -> dict[str, str]:
    return {"alertname": "DiskFull", "instance": instance, "severity": "critical"}


def _annotations(instance: str) -> dict[str, str]:
    return {"summary": f"disk almost full on {instance}"}


def _generator(instance: str) -> str:
    return f"http://prometheus.example/graph?g0.expr={instance}"


def _from_alertmanager(tmp_path: Path, server: Recorder) -> dict[str, Any]:
    body = [
        {
            "labels": _labels(i),
            "annotations": _annotations(i),
            "startsAt": STARTS.isoformat(),
            "endsAt": ENDS.isoformat(),
            "generatorURL": _generator(i),
        }
        for i in INSTANCES
    ]
    with alertmanager(need_alertmanager(), tmp_path / "am", _config(server.url)) as am:
        response = httpx.post(f"{am.url}/api/v2/alerts", json=body, timeout=10)
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(server.requests) < 2:
            time.sleep(0.1)
    got = {r.path: r.json() for r in server.requests}
    assert set(got) == {"/slack", "/pagerduty"}, got
    return got


def _notification(external_url: str) -> Notification:
    return Notification(
        receiver="team",
        group_key='{}:{alertname="DiskFull"}',
        group_labels=(("alertname", "DiskFull"),),
        alerts=tuple(
            Alert(
                tuple(sorted(_labels(i).items())),
                annotations=tuple(_annotations(i).items()),
                starts_at_ms=int(STARTS.timestamp() * 1000),
                ends_at_ms=int(ENDS.timestamp() * 1000),
                generator_url=_generator(i),
            )
            for i in INSTANCES
        ),
        now_ms=int(STARTS.timestamp() * 1000) + 60_000,
        external_url=external_url,
    )


def _from_spyglass(server: Recorder, external_url: str) -> dict[str, Any]:
    notification = _notification(external_url)
    env = SenderEnv(templates=TemplateSet.load(), external_url=external_url)
    for key in ("slack_configs", "pagerduty_configs"):
        sender = SENDER_BUILDERS[key](integration(_config(server.url), key), env)
        asyncio.run(sender.send(notification))
    return {r.path: r.json() for r in server.requests}


def test_alertmanager_and_spyglass_send_the_same_slack_message_and_pagerduty_event(
    tmp_path: Path,
) -> None:
    theirs_server, ours_server = Recorder(), Recorder()
    try:
        theirs = _from_alertmanager(tmp_path, theirs_server)
        link = theirs["/slack"]["attachments"][0]["title_link"]
        ours = _from_spyglass(ours_server, link.split("/#/")[0])
    finally:
        theirs_server.close()
        ours_server.close()
    assert ours["/slack"] == theirs["/slack"]
    # Alertmanager 0.25's default details render the alerts as text and send every value as a
    # string; later versions (whose behaviour Spyglass follows) send JSON and read values back
    # as YAML, so "2" arrives as 2.
    theirs_details = theirs["/pagerduty"]["payload"].pop("custom_details")
    ours_details = ours["/pagerduty"]["payload"].pop("custom_details")
    assert theirs_details["count"] == "2"
    assert ours_details["count"] == 2
    assert ours_details.keys() == theirs_details.keys()
    assert ours["/pagerduty"] == theirs["/pagerduty"]


class _Mailbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def _email_config(port: int) -> str:
    # group_wait 1s, not 0s: with 0s Alertmanager may flush the group as soon as the first alert
    # of the POST created it, before the second joins (seen once on a busy machine).
    return f"""
global: {{smtp_smarthost: '127.0.0.1:{port}', smtp_from: 'Alerts <am@example.com>'}}
route: {{receiver: team, group_by: [alertname], group_wait: 1s}}
receivers:
- name: team
  email_configs:
  - to: 'oncall@example.com, Lead <lead@example.com>'
    require_tls: false
    text: '{{{{ template "__text_alert_list" .Alerts }}}}'
    headers: {{X-Group: '{{{{ .GroupLabels.alertname }}}}/{{{{ len .Alerts }}}}'}}
"""


def test_alertmanager_and_spyglass_send_the_same_email(tmp_path: Path) -> None:
    box = _Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        body = [
            {
                "labels": _labels(i),
                "annotations": _annotations(i),
                "startsAt": STARTS.isoformat(),
                "endsAt": ENDS.isoformat(),
                "generatorURL": _generator(i),
            }
            for i in INSTANCES
        ]
        with alertmanager(need_alertmanager(), tmp_path / "am", _email_config(port)) as am:
            response = httpx.post(f"{am.url}/api/v2/alerts", json=body, timeout=10)
            assert response.status_code == 200, response.text
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not box.received:
                time.sleep(0.1)
        env = SenderEnv(templates=TemplateSet.load())
        sender = SENDER_BUILDERS["email_configs"](
            integration(_email_config(port), "email_configs"), env
        )
        asyncio.run(sender.send(_notification("")))
    finally:
        controller.stop()
    (theirs_rcpt, theirs), (ours_rcpt, ours) = box.received
    assert ours_rcpt == theirs_rcpt == ["oncall@example.com", "lead@example.com"]
    for header in ("Subject", "From", "To", "X-Group", "MIME-Version"):
        assert ours[header] == theirs[header], header
    assert ours.get_content_type() == theirs.get_content_type() == "multipart/alternative"
    theirs_text = next(theirs.iter_parts())
    ours_text = next(ours.iter_parts())
    assert ours_text["Content-Type"] == theirs_text["Content-Type"]
    assert ours_text.get_content() == theirs_text.get_content()
