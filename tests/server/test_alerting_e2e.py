"""Alerting end to end, as a user runs it: a target goes down, a rule fires, people are told.

One real ``spyglass serve`` scrapes a real HTTP target every second, evaluates an ``up == 0``
rule with ``for: 2s`` and routes its alert through ``alertmanager.yml`` to a webhook receiver and
an SMTP server (aiosmtpd) on loopback. The test stops the target and waits for the firing
notifications with their rendered templates, restarts Spyglass while the alert fires and checks
that nobody is told twice, brings the target back and waits for the resolved notifications,
checks the notification history, then silences the alert over the Alertmanager API and takes
the target down again: the alert fires, is listed as suppressed, and nothing is sent.
"""

from __future__ import annotations

import email
import email.policy
import json
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from tests.support.servers import LoopbackHTTP, QuietHandler, free_port, spyglass


class Target:
    """A scrape target that can be taken down and brought back."""

    def __init__(self) -> None:
        target = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if not target.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = b"# TYPE app_requests_total counter\napp_requests_total 1\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

        self.up = True
        self.http = LoopbackHTTP(Handler)

    @property
    def address(self) -> str:
        return self.http.base_url.removeprefix("http://")


class Webhook:
    """Records every webhook notification it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        hook = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                size = int(self.headers["Content-Length"])
                hook.received.append(json.loads(self.rfile.read(size)))
                self.send_response(200)
                self.end_headers()

        self.http = LoopbackHTTP(Handler)

    @property
    def url(self) -> str:
        return f"{self.http.base_url}/hook"


class Mailbox:
    """An SMTP server on loopback that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        box = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                assert isinstance(msg, EmailMessage)
                box.messages.append(msg)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def parts() -> Iterator[tuple[Target, Webhook, Mailbox]]:
    target, hook, box = Target(), Webhook(), Mailbox()
    try:
        yield target, hook, box
    finally:
        target.http.close()
        hook.http.close()
        box.controller.stop()


def _configs(tmp_path: Path, target: Target, hook: Webhook, box: Mailbox) -> list[str]:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        """
groups:
  - name: availability
    interval: 1s
    rules:
      - alert: TargetDown
        expr: up{job="app"} == 0
        for: 2s
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.instance }} of job {{ $labels.job }} is down"
          description: "up is {{ $value }} for {{ $labels.instance }}"
"""
    )
    prom = tmp_path / "prometheus.yml"
    prom.write_text(
        f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["{rules}"]
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["{target.address}"]
"""
    )
    am = tmp_path / "alertmanager.yml"
    am.write_text(
        f"""
global:
  smtp_smarthost: 127.0.0.1:{box.port}
  smtp_from: spyglass@example.org
  smtp_require_tls: false
route:
  receiver: oncall
  group_by: [alertname, job]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: oncall
    webhook_configs:
      - url: {hook.url}
        send_resolved: true
    email_configs:
      - to: oncall@example.org
        send_resolved: true
"""
    )
    return ["--config-file", str(prom), "--alertmanager-config-file", str(am)]


def _statuses(hook: Webhook) -> list[str]:
    return [n["status"] for n in hook.received]


def test_a_target_going_down_is_told_once_survives_a_restart_resolves_and_can_be_silenced(
    tmp_path: Path, parts: tuple[Target, Webhook, Mailbox]
) -> None:
    target, hook, box = parts
    args = _configs(tmp_path, target, hook, box)
    data = tmp_path / "data"
    port = free_port()
    with spyglass(data, *args, port=port) as server:
        wait_for("the target's first scrape", lambda: _up(server.url) == 1.0)
        target.up = False
        wait_for("the firing webhook notification", lambda: "firing" in _statuses(hook))
        wait_for("the firing email", lambda: len(box.messages) >= 1)
        firing = hook.received[0]
        alert = firing["alerts"][0]
        assert alert["labels"]["alertname"] == "TargetDown"
        assert alert["annotations"]["summary"] == f"{target.address} of job app is down"
        assert alert["annotations"]["description"] == f"up is 0 for {target.address}"
        mail = box.messages[0]
        assert "TargetDown" in mail["Subject"]
        assert mail["To"] == "oncall@example.org"
        html = mail.get_body(("html",))
        assert html is not None
        assert f"{target.address} of job app is down" in html.get_content()

    # Restarted while the alert fires: its state is restored, nobody is told twice.
    told = (len(hook.received), len(box.messages))
    with spyglass(data, *args, port=port) as server:
        wait_for("the alert firing again after the restart", lambda: _firing(server.url))
        time.sleep(5)  # more than two group_intervals: a duplicate would have been sent
        assert (len(hook.received), len(box.messages)) == told

        target.up = True
        wait_for("the resolved webhook notification", lambda: "resolved" in _statuses(hook))
        wait_for("the resolved email", lambda: len(box.messages) > told[1])
        assert hook.received[-1]["alerts"][0]["status"] == "resolved"
        assert hook.received[-1]["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"

        # The notification history lists every delivery, on its page and as JSON. A delivery
        # is recorded once its receiver has answered, which may come after the webhook above
        # saw the request: wait for both resolves to be recorded.
        def history() -> list[dict[str, Any]]:
            got: list[dict[str, Any]] = httpx.get(
                f"{server.url}/api/spyglass/v1/notifications"
            ).json()
            return got

        def kinds_of(got: list[dict[str, Any]]) -> set[tuple[str, bool, bool]]:
            return {(d["integration"], d["firing"] > 0, d["ok"]) for d in got}

        wait_for(
            "the resolves in the notification history",
            lambda: sum(not firing for _, firing, _ in kinds_of(history())) >= 2,
        )
        deliveries = history()
        kinds = kinds_of(deliveries)
        assert {("webhook", True, True), ("email", True, True)} <= kinds
        assert {("webhook", False, True), ("email", False, True)} <= kinds  # the resolves
        assert all(
            d["receiver"] == "oncall" and d["alertnames"] == ["TargetDown"] for d in deliveries
        )
        page = httpx.get(f"{server.url}/alerts/notifications").text
        assert "Notification history" in page
        assert "email[0]" in page
        assert "webhook[0]" in page

        # A silence made over the API keeps the next outage quiet.
        silence = {
            "matchers": [{"name": "alertname", "value": "TargetDown", "isRegex": False}],
            "startsAt": _iso(time.time() - 1),
            "endsAt": _iso(time.time() + 3600),
            "createdBy": "test",
            "comment": "maintenance",
        }
        r = httpx.post(f"{server.url}/api/v2/silences", json=silence)
        assert r.status_code == 200, r.text
        told = (len(hook.received), len(box.messages))
        target.up = False
        wait_for("the silenced alert", lambda: _suppressed(server.url))
        time.sleep(4)
        assert (len(hook.received), len(box.messages)) == told


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z"


def _up(url: str) -> float | None:
    r = httpx.get(f"{url}/api/v1/query", params={"query": 'up{job="app"}'}).json()
    result = r["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def _firing(url: str) -> bool:
    alerts = httpx.get(f"{url}/api/v1/alerts").json()["data"]["alerts"]
    return any(a["state"] == "firing" for a in alerts)


def _suppressed(url: str) -> bool:
    alerts = httpx.get(f"{url}/api/v2/alerts").json()
    return any(a["status"]["state"] == "suppressed" and a["status"]["silencedBy"] for a in alerts)
