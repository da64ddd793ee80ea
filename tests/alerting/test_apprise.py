"""The Apprise notifier (Spyglass's extension): title and body to every URL, through the real
Apprise library posting to a loopback server."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator

import pytest
from tests.alerting.senders import Answer, Recorder, env, integration, notification

from spyglass.alerting import SENDER_BUILDERS, NotifyError
from spyglass.alerting._apprise import AppriseSender
from spyglass.alerting._delivery import url_secrets


@pytest.fixture
def hook() -> Iterator[Recorder]:
    server = Recorder(answer=Answer(200, b"{}", "application/json"))
    yield server
    server.close()


def _sender(urls: list[str], extra: str = "") -> AppriseSender:
    listed = ", ".join(f"'{u}'" for u in urls)
    text = f"""
route: {{receiver: team}}
receivers:
- name: team
  apprise_configs:
  - urls: [{listed}]
{extra}
"""
    sender = SENDER_BUILDERS["apprise_configs"](integration(text, "apprise_configs"), env())
    assert isinstance(sender, AppriseSender)
    return sender


def _port(server: Recorder) -> str:
    return server.url.rsplit(":", 1)[1]


def test_title_and_body_reach_a_json_endpoint(hook: Recorder) -> None:
    sender = _sender([f"json://127.0.0.1:{_port(hook)}/hook"])
    asyncio.run(sender.send(notification()))
    [req] = hook.requests
    assert req.path == "/hook"
    body = req.json()
    assert body["title"] == "[FIRING:2] DiskFull (critical)"
    # The default body lists each alert's labels and annotations as text.
    for text in ("instance = db1", "instance = db2", "summary = disk almost full"):
        assert text in body["message"]


def test_templates_and_every_url(hook: Recorder) -> None:
    port = _port(hook)
    extra = """\
    title: '{{ .Status | toUpper }}: {{ .GroupLabels.alertname }}'
    body: '{{ len .Alerts }} alerts for {{ .Receiver }}'"""
    sender = _sender([f"json://127.0.0.1:{port}/one", f"form://127.0.0.1:{port}/two"], extra)
    asyncio.run(sender.send(notification()))
    by_path = {r.path: r for r in hook.requests}
    assert by_path["/one"].json()["title"] == "FIRING: DiskFull"
    assert by_path["/one"].json()["message"] == "2 alerts for team"
    form = by_path["/two"].body.decode()
    assert "2+alerts+for+team" in form or "2 alerts for team" in form


def test_credentials_in_the_url_are_sent_as_basic_auth(hook: Recorder) -> None:
    asyncio.run(_sender([f"json://bot:pw123@127.0.0.1:{_port(hook)}/"]).send(notification()))
    auth = hook.requests[0].headers["authorization"]
    assert base64.b64decode(auth.removeprefix("Basic ")) == b"bot:pw123"


def test_a_failed_delivery_is_retried_and_names_the_url_by_position(hook: Recorder) -> None:
    hook.answer = Answer(500, b"down")
    port = _port(hook)
    sender = _sender([f"json://127.0.0.1:{port}/ok", f"form://127.0.0.1:{port}/bad"])
    with pytest.raises(NotifyError, match=r"2 of 2 URLs: #1 \(json://…\), #2 \(form://…\)") as info:
        asyncio.run(sender.send(notification()))
    assert info.value.retry


def test_a_url_apprise_cannot_read_is_refused_when_the_sender_is_built() -> None:
    with pytest.raises(NotifyError, match="#1") as info:
        _sender(["nosuchscheme://whatever/there"])
    assert not info.value.retry


def test_secrets_in_urls_never_reach_an_error_or_a_log_line(
    hook: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    hook.answer = Answer(500, b"down")
    url = f"json://alerts:Hunter2Secret@127.0.0.1:{_port(hook)}/T0KENPATH?token=QUERYSECRET"
    sender = _sender([url])
    with caplog.at_level(logging.DEBUG), pytest.raises(NotifyError) as info:
        asyncio.run(sender.send(notification()))
    lines = [str(info.value), *(r.getMessage() for r in caplog.records)]
    assert any(r.name == "apprise" for r in caplog.records)  # Apprise did log the failure
    for secret in ("Hunter2Secret", "T0KENPATH", "QUERYSECRET"):
        assert all(secret not in line for line in lines), secret


def test_url_secrets_cover_userinfo_host_tokens_path_and_query() -> None:
    found = url_secrets("tgram://123456:ABC-bot-token/98765?format=markdown&key=p%40ss")
    assert {"ABC-bot-token", "p@ss", "p%40ss"} <= found
    assert "tgram" not in found
