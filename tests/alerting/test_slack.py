"""The Slack notifier: Alertmanager's attachment payload, to a webhook or chat.postMessage."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.alerting.senders import (
    Answer,
    Recorder,
    env,
    integration,
    json_values,
    notification,
)

from spyglass.alerting import SENDER_BUILDERS, NotifyError
from spyglass.alerting._slack import MAX_TITLE_RUNES, SlackSender, check_answer


@pytest.fixture
def slack() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def _sender(yaml_text: str) -> SlackSender:
    sender = SENDER_BUILDERS["slack_configs"](integration(yaml_text, "slack_configs"), env())
    assert isinstance(sender, SlackSender)
    return sender


def _webhook(url: str, extra: str = "") -> str:
    return f"""
route: {{receiver: team}}
receivers:
- name: team
  slack_configs:
  - api_url: {url}/services/T000/B000/XXXSECRETXXX
    channel: '#alerts'
{extra}
"""


def test_a_webhook_gets_alertmanagers_default_attachment(slack: Recorder) -> None:
    sender = _sender(_webhook(slack.url))
    asyncio.run(sender.send(notification()))
    [req] = slack.requests
    assert req.path == "/services/T000/B000/XXXSECRETXXX"
    assert req.headers["content-type"] == "application/json"
    body = req.json()
    assert body["channel"] == "#alerts"
    assert body["username"] == "Alertmanager"
    [att] = body["attachments"]
    assert att["title"] == "[FIRING:2] DiskFull (critical)"
    assert att["title_link"] == "http://spyglass.example:9093/#/alerts?receiver=team"
    assert att["color"] == "danger"
    assert att["mrkdwn_in"] == ["fallback", "pretext", "text"]
    assert (
        att["fallback"]
        == "[FIRING:2] DiskFull (critical) | http://spyglass.example:9093/#/alerts?receiver=team"
    )
    # Alertmanager's struct always carries these, empty or not.
    assert {"text", "footer", "callback_id"} <= att.keys()
    assert "image_url" not in att
    assert "fields" not in att


def test_fields_actions_and_every_templated_field(slack: Recorder) -> None:
    extra = """\
    username: '{{ .CommonLabels.severity }}-bot'
    icon_emoji: ':fire:'
    link_names: true
    title: '{{ .Status | toUpper }} {{ .GroupLabels.alertname }}'
    text: "{{ range .Alerts }}{{ .Labels.instance }}: {{ .Annotations.summary }}\\n{{ end }}"
    pretext: 'pre {{ len .Alerts }}'
    footer: 'foot'
    image_url: 'http://img.example/{{ .GroupLabels.alertname }}.png'
    thumb_url: 'http://img.example/thumb.png'
    callback_id: 'cb-{{ .Receiver }}'
    mrkdwn_in: [text]
    short_fields: true
    fields:
    - {title: 'Instances', value: '{{ len .Alerts }}'}
    - {title: 'Long', value: 'x', short: false}
    actions:
    - type: button
      text: 'Runbook {{ .GroupLabels.alertname }}'
      url: 'http://runbooks.example/{{ .GroupLabels.alertname }}'
      style: danger
    - type: button
      text: Ack
      name: ack
      value: '{{ .GroupLabels.alertname }}'
      confirm: {text: 'Sure?', ok_text: 'Yes'}
"""
    sender = _sender(_webhook(slack.url, extra))
    asyncio.run(sender.send(notification()))
    body = slack.requests[0].json()
    assert body["username"] == "critical-bot"
    assert body["icon_emoji"] == ":fire:"
    assert body["link_names"] is True
    [att] = body["attachments"]
    assert att["title"] == "FIRING DiskFull"
    assert att["text"] == "db1: disk almost full\ndb2: disk almost full\n"
    assert att["pretext"] == "pre 2"
    assert att["footer"] == "foot"
    assert att["image_url"] == "http://img.example/DiskFull.png"
    assert att["thumb_url"] == "http://img.example/thumb.png"
    assert att["callback_id"] == "cb-team"
    assert att["mrkdwn_in"] == ["text"]
    assert att["fields"] == [
        {"title": "Instances", "value": "2", "short": True},
        {"title": "Long", "value": "x", "short": False},
    ]
    assert att["actions"] == [
        {
            "type": "button",
            "text": "Runbook DiskFull",
            "url": "http://runbooks.example/DiskFull",
            "style": "danger",
        },
        {
            "type": "button",
            "text": "Ack",
            "name": "ack",
            "value": "DiskFull",
            "confirm": {"text": "Sure?", "ok_text": "Yes"},
        },
    ]


def test_a_long_title_is_cut_to_1024_characters_with_an_ellipsis(slack: Recorder) -> None:
    sender = _sender(_webhook(slack.url, "    title: '{{ .CommonAnnotations.summary }}'"))
    asyncio.run(sender.send(notification(summary="é" * 2000)))
    title = slack.requests[0].json()["attachments"][0]["title"]
    assert len(title) == MAX_TITLE_RUNES
    assert title == "é" * 1023 + "…"


def test_the_global_api_url_file_is_read_at_send_time(slack: Recorder, tmp_path: Path) -> None:
    url_file = tmp_path / "slack-url"
    url_file.write_text(f"{slack.url}/first\n")
    sender = _sender(f"""
global: {{slack_api_url_file: {url_file}}}
route: {{receiver: team}}
receivers:
- name: team
  slack_configs: [{{channel: '#a'}}]
""")
    asyncio.run(sender.send(notification()))
    url_file.write_text(f"{slack.url}/second\n")
    asyncio.run(sender.send(notification()))
    assert [r.path for r in slack.requests] == ["/first", "/second"]


def test_an_app_token_posts_to_the_app_url_with_bearer_auth(slack: Recorder) -> None:
    slack.answer = Answer(200, b'{"ok": true, "channel": "C1", "ts": "1.2"}', "application/json")
    sender = _sender(f"""
global: {{slack_app_url: '{slack.url}/api/chat.postMessage'}}
route: {{receiver: team}}
receivers:
- name: team
  slack_configs: [{{app_token: xoxb-SECRET-TOKEN, channel: '#ops'}}]
""")
    asyncio.run(sender.send(notification()))
    [req] = slack.requests
    assert req.path == "/api/chat.postMessage"
    assert req.headers["authorization"] == "Bearer xoxb-SECRET-TOKEN"
    assert req.json()["channel"] == "#ops"


def test_ok_false_from_the_web_api_fails_without_retry(slack: Recorder) -> None:
    slack.answer = Answer(200, b'{"ok": false, "error": "channel_not_found"}', "application/json")
    sender = _sender(_webhook(slack.url))
    with pytest.raises(NotifyError, match="channel_not_found") as info:
        asyncio.run(sender.send(notification()))
    assert not info.value.retry
    assert '"#alerts"' in str(info.value)


def test_a_webhooks_plain_text_error_fails_without_retry(slack: Recorder) -> None:
    slack.answer = Answer(200, b"invalid_payload")
    with pytest.raises(NotifyError, match="invalid_payload") as info:
        asyncio.run(_sender(_webhook(slack.url)).send(notification()))
    assert not info.value.retry


@pytest.mark.parametrize(
    ("status", "retry"), [(500, True), (503, True), (404, False), (400, False)]
)
def test_5xx_is_retried_and_4xx_is_not(slack: Recorder, status: int, retry: bool) -> None:
    slack.answer = Answer(status, b"no_service")
    with pytest.raises(NotifyError, match=f"unexpected status code {status}") as info:
        asyncio.run(_sender(_webhook(slack.url)).send(notification()))
    assert info.value.retry is retry


def test_the_webhook_url_never_appears_in_a_log_line_of_a_delivery(
    slack: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    sender = _sender(_webhook(slack.url))
    with caplog.at_level(logging.DEBUG):
        asyncio.run(sender.send(notification()))
    assert slack.requests
    assert any(r.name == "httpx" for r in caplog.records)  # httpx logged the request
    assert all("XXXSECRETXXX" not in r.getMessage() for r in caplog.records)


def test_the_webhook_url_never_appears_in_an_error_or_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 9 of loopback: the connection is refused.
    sender = _sender(_webhook("http://127.0.0.1:9"))
    with caplog.at_level(logging.DEBUG), pytest.raises(NotifyError) as info:
        asyncio.run(sender.send(notification()))
    assert info.value.retry
    assert "XXXSECRETXXX" not in str(info.value)
    assert all("XXXSECRETXXX" not in r.getMessage() for r in caplog.records)


def test_an_app_token_never_appears_in_an_error_or_a_log_line(
    slack: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    slack.answer = Answer(500, b"boom")
    sender = _sender(f"""
global: {{slack_app_url: '{slack.url}/api/chat.postMessage'}}
route: {{receiver: team}}
receivers:
- name: team
  slack_configs: [{{app_token: xoxb-SECRET-TOKEN}}]
""")
    with caplog.at_level(logging.DEBUG), pytest.raises(NotifyError) as info:
        asyncio.run(sender.send(notification()))
    assert "xoxb-SECRET-TOKEN" not in str(info.value)
    assert all("xoxb-SECRET-TOKEN" not in r.getMessage() for r in caplog.records)


def test_a_missing_ca_file_fails_without_retry(slack: Recorder) -> None:
    extra = "    http_config: {tls_config: {ca_file: /nonexistent/ca.pem}}"
    with pytest.raises(NotifyError, match="tls_config") as info:
        asyncio.run(_sender(_webhook(slack.url, extra)).send(notification()))
    assert not info.value.retry


def test_a_template_error_fails_without_retry(slack: Recorder) -> None:
    sender = _sender(_webhook(slack.url, "    title: '{{ .Nope.Deeper }}'"))
    with pytest.raises(NotifyError, match="template") as info:
        asyncio.run(sender.send(notification()))
    assert not info.value.retry
    assert slack.requests == []


@given(
    content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/"]),
    body=st.one_of(st.binary(max_size=200), json_values().map(lambda v: json.dumps(v).encode())),
)
def test_any_answer_from_slack_is_ok_or_a_notify_error(content_type: str, body: bytes) -> None:
    # Anything else than NotifyError escaping fails the test.
    with contextlib.suppress(NotifyError):
        check_answer(content_type, body)
