"""``slack_configs``: one attachment message to an incoming webhook or ``chat.postMessage``.

Builds the request body Alertmanager's Slack notifier sends (one legacy attachment holding the
title, text, fields and actions; channel, username and icon beside it), every text field
rendered from its template, the title cut to Slack's 1024 characters. With an incoming webhook
(``api_url``, ``api_url_file`` or ``global.slack_api_url``) the URL itself is the secret; with a
bot token (``app_token``) the config loader has already turned the token into a Bearer
``Authorization`` and the URL into ``app_url``, so both go through the same request.

Slack answers a webhook with ``ok`` in plain text and the Web API with JSON whose ``ok`` is
false on failure (with HTTP 200): either failure is final, as in Alertmanager; 5xx is retried.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from spyglass.alerting._client import request_headers
from spyglass.alerting._delivery import (
    Renderer,
    body_text,
    check_status,
    open_client,
    post_json,
    read_secret,
    redact_in_logs,
    truncate_runes,
)
from spyglass.alerting._notify import SENDER_BUILDERS, Notification, NotifyError, SenderEnv
from spyglass.alerting._receivers import SlackAction, SlackConfig

log = logging.getLogger(__name__)

# https://api.slack.com/reference/messaging/attachments#legacy_fields
MAX_TITLE_RUNES = 1024
# Alertmanager has no timeout of its own here (the dispatcher's context bounds it); a sender
# must never hang the router, so an unset ``timeout`` is this.
DEFAULT_TIMEOUT_S = 30.0
_DEFAULT_MRKDWN_IN = ("fallback", "pretext", "text")
_OMITTED_IF_EMPTY = (
    "title",
    "title_link",
    "pretext",
    "fields",
    "actions",
    "image_url",
    "thumb_url",
    "color",
    "mrkdwn_in",
)


@dataclass(frozen=True)
class SlackSender:
    """Sends a notification to Slack as Alertmanager does."""

    config: SlackConfig
    env: SenderEnv
    transport: httpx.AsyncBaseTransport | None = None

    @property
    def kind(self) -> str:
        """``slack``."""
        return "slack"

    @property
    def send_resolved(self) -> bool:
        """The config's ``send_resolved``."""
        return self.config.send_resolved

    def payload(self, notification: Notification) -> dict[str, Any]:
        """The JSON body for ``notification``, every field rendered."""
        cfg = self.config
        render = Renderer(self.env.templates, notification.template_data(), "slack")
        title, cut = truncate_runes(render(cfg.title), MAX_TITLE_RUNES)
        if cut:
            log.warning(
                "slack: truncated title to %d characters (receiver %s)",
                MAX_TITLE_RUNES,
                notification.receiver,
            )
        attachment: dict[str, Any] = {
            "title": title,
            "title_link": render(cfg.title_link),
            "pretext": render(cfg.pretext),
            "text": render(cfg.text),
            "fallback": render(cfg.fallback),
            "callback_id": render(cfg.callback_id),
            "fields": [
                {
                    **_omit_empty({"title": render(f.title), "value": render(f.value)}),
                    # A field's own short wins, else short_fields; always sent.
                    "short": cfg.short_fields if f.short is None else f.short,
                }
                for f in cfg.fields
            ],
            "actions": [_action(a, render) for a in cfg.actions],
            "image_url": render(cfg.image_url),
            "thumb_url": render(cfg.thumb_url),
            "footer": render(cfg.footer),
            "color": render(cfg.color),
            "mrkdwn_in": list(cfg.mrkdwn_in or _DEFAULT_MRKDWN_IN),
        }
        # Go's omitempty: Slack reads an absent key and an empty one alike, but Alertmanager
        # leaves these out, and users compare payloads. text, fallback, callback_id and footer
        # are always sent.
        for key in _OMITTED_IF_EMPTY:
            if not attachment[key]:
                del attachment[key]
        request: dict[str, Any] = {
            "channel": render(cfg.channel),
            "username": render(cfg.username),
            "icon_emoji": render(cfg.icon_emoji),
            "icon_url": render(cfg.icon_url),
            "link_names": cfg.link_names,
            "text": render(cfg.message_text),
        }
        request = _omit_empty(request)
        request["attachments"] = [attachment]
        return request

    async def send(self, notification: Notification) -> None:
        """Post the message; ``NotifyError`` says whether Slack's answer is worth a retry."""
        cfg = self.config
        payload = self.payload(notification)
        channel = payload.get("channel", "")
        url = cfg.api_url if cfg.api_url is not None else ""
        if not url and cfg.api_url_file:
            url = read_secret(cfg.api_url_file, "api_url_file", "slack")
            redact_in_logs(url)
        if not url:
            raise NotifyError("slack: no API URL", retry=False)
        timeout = cfg.timeout_ns / 1e9 if cfg.timeout_ns else DEFAULT_TIMEOUT_S
        headers = request_headers(cfg.http_config)
        client = open_client(
            cfg.http_config, timeout_s=timeout, transport=self.transport, integration="slack"
        )
        async with client as c:
            response = await post_json(c, url, payload, headers=headers, integration="slack")
        try:
            check_status("slack", response)
            check_answer(response.headers.get("content-type", ""), response.content)
        except NotifyError as exc:
            raise NotifyError(
                f"slack: channel {json.dumps(channel)}: {str(exc).removeprefix('slack: ')}",
                retry=exc.retry,
                reason=exc.reason,
            ) from None


def check_answer(content_type: str, body: bytes) -> None:
    """Read Slack's answer to a 2xx: ``ok`` as text (webhooks) or ``{"ok": true}`` (Web API).

    Raises ``NotifyError`` for anything else, never another exception: a body that does not
    parse as JSON is retried (as Alertmanager does: a proxy's page, a cut answer), an
    ``"ok": false`` is not.
    """
    if not content_type.startswith("application/json"):
        if body != b"ok":
            raise NotifyError(
                f"slack: received an error response from Slack: {body_text(body)}",
                retry=False,
                reason="clientError",
            )
        return
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise NotifyError(
            f"slack: could not unmarshal JSON response {body_text(body)!r}",
            retry=True,
            reason="clientError",
        ) from None
    if not isinstance(data, dict):
        raise NotifyError(
            f"slack: could not unmarshal JSON response {body_text(body)!r}",
            retry=True,
            reason="clientError",
        )
    if data.get("ok") is not True:
        error = data.get("error")
        raise NotifyError(
            f"slack: error response from Slack: {error if isinstance(error, str) else ''}",
            retry=False,
            reason="clientError",
        )


def _action(action: SlackAction, render: Renderer) -> dict[str, Any]:
    out = _omit_empty(
        {
            "type": render(action.type),
            "text": render(action.text),
            "url": render(action.url),
            "style": render(action.style),
            "name": render(action.name),
            "value": render(action.value),
        }
    )
    if action.confirm is not None:
        c = action.confirm
        out["confirm"] = _omit_empty(
            {
                "text": render(c.text),
                "title": render(c.title),
                "ok_text": render(c.ok_text),
                "dismiss_text": render(c.dismiss_text),
            }
        )
    return out


def _omit_empty(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v not in ("", False, None)}


def build_slack(config: SlackConfig, env: SenderEnv) -> SlackSender:
    """The sender of one ``slack_configs`` entry (``global:`` already handed down)."""
    if config.http_config is not None and config.http_config.oauth2 is not None:
        raise NotifyError("http_config.oauth2 is not supported by Spyglass yet", retry=False)
    if config.update_message:
        log.warning(
            "slack: update_message is not supported yet; every notification is a new message"
        )
    if config.api_url:
        # A webhook URL is the credential: keep it out of httpx's request log lines.
        redact_in_logs(config.api_url)
    return SlackSender(config, env)


SENDER_BUILDERS["slack_configs"] = build_slack

__all__ = ["MAX_TITLE_RUNES", "SlackSender", "build_slack", "check_answer"]
