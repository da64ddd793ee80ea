"""The webhook integration posts Alertmanager's version 4 JSON byte for byte and sorts answers
into success, retryable failure and final failure as Alertmanager does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.alerting import (
    SENDER_BUILDERS,
    Notification,
    NotifyError,
    SenderEnv,
    WebhookConfig,
    WebhookSender,
    webhook_payload,
)
from spyglass.core.alerts import Alert
from spyglass.core.template import TemplateSet

STARTS = 1_796_623_200_120  # 2026-12-07T06:00:00.12Z

# What Debian's Alertmanager 0.25 posted for this alert (captured from a real run).
GOLDEN = (
    '{"receiver":"hook","status":"firing","alerts":[{"status":"firing","labels":{"alertname":'
    '"A\\u003c\\u0026\\u003e"},"annotations":{"s":"\\u2028 é"},"startsAt":'
    '"2026-12-07T06:00:00.12Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":'
    '"http://x/?a\\u0026b","fingerprint":"c7c792c1b05ed3f3"}],"groupLabels":{"alertname":'
    '"A\\u003c\\u0026\\u003e"},"commonLabels":{"alertname":"A\\u003c\\u0026\\u003e"},'
    '"commonAnnotations":{"s":"\\u2028 é"},"externalURL":"http://vm:18556","version":"4",'
    '"groupKey":"{}:{alertname=\\"A\\u003c\\u0026\\u003e\\"}","truncatedAlerts":0}\n'
)


def notification(*alerts: Alert, now_ms: int = STARTS + 60_000) -> Notification:
    return Notification(
        receiver="hook",
        group_key='{}:{alertname="A<&>"}',
        group_labels=(("alertname", "A<&>"),),
        alerts=alerts,
        now_ms=now_ms,
        external_url="http://vm:18556",
    )


def test_payload_is_byte_for_byte_alertmanagers() -> None:
    alert = Alert((("alertname", "A<&>"),), (("s", "\u2028 é"),), STARTS, 0, "http://x/?a&b")
    assert webhook_payload(notification(alert)).decode() == GOLDEN


def test_max_alerts_keeps_the_first_alerts_and_counts_the_rest() -> None:
    alerts = [Alert((("alertname", "A<&>"), ("i", str(i))), (), STARTS) for i in range(5)]
    body = json.loads(webhook_payload(notification(*alerts), max_alerts=2))
    assert [a["labels"]["i"] for a in body["alerts"]] == ["0", "1"]
    assert body["truncatedAlerts"] == 3


def test_a_resolved_alert_carries_its_end_and_a_group_of_them_is_resolved() -> None:
    alert = Alert((("alertname", "A<&>"),), (), STARTS, STARTS + 30_000)
    body = json.loads(webhook_payload(notification(alert)))
    assert body["status"] == "resolved"
    assert body["alerts"][0]["endsAt"] == "2026-12-07T06:00:30.12Z"


label_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@given(
    st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), label_text, max_size=5),
    st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), label_text, max_size=5),
)
def test_payload_is_json_that_gives_back_the_labels_and_annotations(
    labels: dict[str, str], annotations: dict[str, str]
) -> None:
    alert = Alert(tuple(sorted(labels.items())), tuple(sorted(annotations.items())), STARTS)
    raw = webhook_payload(notification(alert))
    assert raw.endswith(b"}\n")
    body = json.loads(raw)
    assert body["alerts"][0]["labels"] == labels
    assert body["alerts"][0]["annotations"] == annotations
    assert list(body) == [
        "receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
        "externalURL", "version", "groupKey", "truncatedAlerts",
    ]  # fmt: skip


def sender_answering(status: int, seen: list[httpx.Request], **config: object) -> WebhookSender:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text="nope" if status >= 300 else "")

    settings: dict[str, object] = {"url": "http://hook.example/alerts", **config}
    cfg = WebhookConfig(**settings)  # type: ignore[arg-type]
    return WebhookSender(cfg, SenderEnv(TemplateSet.load()), transport=httpx.MockTransport(handle))


def send(sender: WebhookSender, n: Notification) -> None:
    async def go() -> None:
        try:
            await sender.send(n)
        finally:
            await sender.aclose()

    asyncio.run(go())


def test_a_2xx_answer_is_success_and_the_request_is_json() -> None:
    seen: list[httpx.Request] = []
    send(sender_answering(204, seen), notification(Alert((("alertname", "A<&>"),), (), STARTS)))
    (request,) = seen
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Spyglass/")
    assert json.loads(request.content)["version"] == "4"


@pytest.mark.parametrize(
    ("status", "retry", "reason"),
    [
        (500, True, "serverError"),
        (503, True, "serverError"),
        (429, True, "clientError"),
        (400, False, "clientError"),
        (404, False, "clientError"),
        (302, False, "other"),
    ],
)
def test_failed_answers_say_whether_to_retry_and_why(status: int, retry: bool, reason: str) -> None:
    with pytest.raises(NotifyError) as caught:
        send(sender_answering(status, []), notification(Alert((("a", "b"),), (), STARTS)))
    assert caught.value.retry is retry
    assert caught.value.reason == reason
    assert str(caught.value) == f"unexpected status code {status}: nope"


def test_url_file_is_read_on_every_send(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    url_file.write_text("http://first.example/\n")
    seen: list[httpx.Request] = []
    sender = sender_answering(200, seen, url="", url_file=str(url_file))
    n = notification(Alert((("a", "b"),), (), STARTS))

    async def go() -> None:
        await sender.send(n)
        url_file.write_text("http://second.example/")
        await sender.send(n)
        url_file.unlink()
        with pytest.raises(NotifyError) as caught:
            await sender.send(n)
        assert not caught.value.retry
        await sender.aclose()

    asyncio.run(go())
    assert [r.url.host for r in seen] == ["first.example", "second.example"]


def test_a_connection_failure_is_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    cfg = WebhookConfig(url="http://hook.example/")
    sender = WebhookSender(
        cfg, SenderEnv(TemplateSet.load()), transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(NotifyError) as caught:
        send(sender, notification(Alert((("a", "b"),), (), STARTS)))
    assert caught.value.retry


def test_the_webhook_builder_is_registered_for_webhook_configs() -> None:
    assert "webhook_configs" in SENDER_BUILDERS
