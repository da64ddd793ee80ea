"""The webhook integration (``webhook_configs``): Alertmanager's version 4 JSON, byte for byte.

The body is what Alertmanager's webhook notifier writes: the template data (``receiver``,
``status``, ``alerts``, ``groupLabels``, ``commonLabels``, ``commonAnnotations``,
``externalURL``) followed by ``version`` "4", ``groupKey`` and ``truncatedAlerts``, encoded as
Go's ``json.Encoder`` does (fields in struct order, map keys sorted, ``<>&`` escaped, a final
newline). ``max_alerts`` keeps the first alerts and counts the rest in ``truncatedAlerts``. The
URL comes from ``url`` or, read again on every send, ``url_file``. A 2xx answer is success;
5xx and 429 are worth retrying, other answers are not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from spyglass.alerting._client import http_client, request_headers
from spyglass.alerting._notify import SENDER_BUILDERS, Notification, NotifyError, SenderEnv
from spyglass.alerting._receivers import WebhookConfig
from spyglass.core.template import TemplateError, to_json

# How much of an error answer's body goes into the error message.
_DETAIL_BYTES = 1024


def webhook_payload(notification: Notification, max_alerts: int = 0) -> bytes:
    """The webhook body of ``notification`` (``max_alerts`` 0: all alerts)."""
    alerts = notification.alerts
    truncated = 0
    if max_alerts and len(alerts) > max_alerts:
        alerts, truncated = alerts[:max_alerts], len(alerts) - max_alerts
    data = to_json(notification.template_data(alerts))
    extra = (
        f',"version":"4","groupKey":{to_json(notification.group_key)},'
        f'"truncatedAlerts":{truncated}}}'
    )
    return (data[:-1] + extra + "\n").encode()


def failure_reason(status: int) -> str:
    """Alertmanager's ``reason`` label for an HTTP status."""
    if 400 <= status < 500:
        return "clientError"
    if 500 <= status < 600:
        return "serverError"
    return "other"


class WebhookSender:
    """One ``webhook_configs`` entry, ready to post."""

    kind = "webhook"

    def __init__(
        self,
        config: WebhookConfig,
        env: SenderEnv,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.env = env
        self.client = http_client(
            config.http_config, timeout_s=config.timeout_ns / 1e9, transport=transport
        )

    @property
    def send_resolved(self) -> bool:
        """The entry's ``send_resolved`` (default true)."""
        return self.config.send_resolved

    def url(self, notification: Notification) -> str:
        """Where to post: ``url`` (rendered when it is a template) or ``url_file``'s content."""
        cfg = self.config
        if cfg.url_file:
            try:
                return Path(cfg.url_file).read_text().strip()
            except OSError as exc:
                raise NotifyError(f"read url_file: {exc}", retry=False) from None
        if "{{" not in cfg.url:
            return cfg.url
        try:
            return self.env.templates.render(cfg.url, notification.template_data()).strip()
        except TemplateError as exc:
            raise NotifyError(f"url template: {exc}", retry=False) from None

    async def send(self, notification: Notification) -> None:
        """Post the payload; ``NotifyError`` for a failed request or a non-2xx answer."""
        body = webhook_payload(notification, self.config.max_alerts)
        headers = request_headers(self.config.http_config)
        headers["Content-Type"] = "application/json"
        url = self.url(notification)
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise NotifyError(f"Post {url!r}: {exc or type(exc).__name__}", retry=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = response.content[:_DETAIL_BYTES].decode(errors="replace").strip()
        message = f"unexpected status code {status}" + (f": {detail}" if detail else "")
        retry = status >= 500 or status == 429
        raise NotifyError(message, retry=retry, reason=failure_reason(status))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


def build_webhook(config: Any, env: SenderEnv) -> WebhookSender:
    """The ``SENDER_BUILDERS`` entry for ``webhook_configs``."""
    return WebhookSender(config, env)


SENDER_BUILDERS["webhook_configs"] = build_webhook

__all__ = ["WebhookSender", "build_webhook", "failure_reason", "webhook_payload"]
