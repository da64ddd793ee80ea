"""Receivers and their notifier configs, every field with Alertmanager's default and validation.

Each ``*_configs`` entry of a receiver is one dataclass below; its fields are read by
``_decode.decode`` (the field's ``setting`` gives the YAML key, kind and default) and its
``check`` is the validation Alertmanager runs while reading it, with Alertmanager's messages.
Defaults taken from ``global:`` (URLs, API keys, SMTP settings, ``http_config``) are applied
afterwards, by the config loader, as Alertmanager applies them. ``apprise_configs`` is Spyglass's
own: one entry sends to any of the channels Apprise knows (``urls`` in Apprise's syntax).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from spyglass.alerting._decode import Invalid, setting, template_problem
from spyglass.alerting._golang import canonical_header
from spyglass.alerting._http import HTTPConfig, TLSConfig


def _tmpl(name: str) -> str:
    return '{{ template "' + name + '" . }}'


DEFAULT_EMAIL_SUBJECT = _tmpl("email.default.subject")
SLACK_POST_MESSAGE_URL = "https://slack.com/api/chat.postMessage"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """``webhook_configs``: POST Alertmanager's JSON payload to ``url``."""

    GO_TYPE: ClassVar[str] = "webhook.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    url: str = setting("template_url", "", secret=True)
    url_file: str = setting("str", "")
    max_alerts: int = setting("int", 0, go="uint64")
    timeout_ns: int = setting("go_duration", 0, key="timeout")
    payload: Any = setting("any")

    def check(self) -> WebhookConfig:
        if not self.url and not self.url_file:
            raise Invalid("one of url or url_file must be configured")
        if self.url and self.url_file:
            raise Invalid("at most one of url & url_file must be configured")
        return self


@dataclass(frozen=True, slots=True)
class ThreadingConfig:
    """``email_configs[].threading``."""

    GO_TYPE: ClassVar[str] = "config.ThreadingConfig"
    enabled: bool = setting("bool", False)
    thread_by_date: str = setting("str", "")


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """``email_configs``. ``headers`` keys are canonical (``Subject``, ``Reply-To``).

    ``subject`` is the ``Subject`` header or Alertmanager's default subject template; there is
    no ``subject`` or ``body`` key (``headers: {Subject: ...}`` and ``html``/``text``).
    """

    GO_TYPE: ClassVar[str] = "config.plain"
    send_resolved: bool = setting("bool", False)
    to: str = setting("str", "")
    from_: str = setting("str", "", key="from")
    hello: str = setting("str", "")
    smarthost: str = setting("hostport", "")
    auth_username: str = setting("str", "")
    auth_password: str = setting("secret", "", secret=True)
    auth_password_file: str = setting("str", "")
    auth_secret: str = setting("secret", "", secret=True)
    auth_secret_file: str = setting("str", "")
    auth_identity: str = setting("str", "")
    headers: dict[str, str] = setting("str_map", factory=dict)
    html: str = setting("str", _tmpl("email.default.html"))
    text: str = setting("str", "")
    require_tls: bool | None = setting("opt_bool")
    tls_config: TLSConfig | None = setting("tls")
    force_implicit_tls: bool | None = setting("opt_bool")
    threading: ThreadingConfig = setting("nested", ThreadingConfig(), of=ThreadingConfig)

    @property
    def subject(self) -> str:
        """The ``Subject`` header's template."""
        return self.headers.get("Subject", DEFAULT_EMAIL_SUBJECT)

    def check(self) -> EmailConfig:
        if not self.to:
            raise Invalid("missing to address in email config")
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            canonical = canonical_header(name)
            if canonical in headers:
                raise Invalid(f'duplicate header "{canonical}" in email config', "headers")
            headers[canonical] = value
        if self.threading.enabled:
            if "References" in headers:
                raise Invalid(
                    "conflicting configuration: threading.enabled conflicts with custom "
                    "References header",
                    "threading",
                )
            if "In-Reply-To" in headers:
                raise Invalid(
                    "conflicting configuration: threading.enabled conflicts with custom "
                    "In-Reply-To header",
                    "threading",
                )
            if self.threading.thread_by_date not in ("none", "daily"):
                raise Invalid(
                    "threading.thread_by_date must be either 'none' or 'daily'", "threading"
                )
        return replace(self, headers=headers)


@dataclass(frozen=True, slots=True)
class PagerdutyImage:
    """``pagerduty_configs[].images``."""

    GO_TYPE: ClassVar[str] = "pagerduty.PagerdutyImage"
    src: str = setting("str", "")
    alt: str = setting("str", "")
    href: str = setting("str", "")


@dataclass(frozen=True, slots=True)
class PagerdutyLink:
    """``pagerduty_configs[].links``."""

    GO_TYPE: ClassVar[str] = "pagerduty.PagerdutyLink"
    href: str = setting("str", "")
    text: str = setting("str", "")


DEFAULT_PAGERDUTY_DETAILS = {
    "firing": "{{ .Alerts.Firing | toJson }}",
    "resolved": "{{ .Alerts.Resolved | toJson }}",
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
}


@dataclass(frozen=True, slots=True)
class PagerdutyConfig:
    """``pagerduty_configs``: Events API v2 with ``routing_key``, v1 with ``service_key``.

    ``details`` always holds the four default details unless the file sets them; ``source``
    defaults to ``client``.
    """

    GO_TYPE: ClassVar[str] = "pagerduty.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    service_key: str = setting("secret", "", secret=True)
    service_key_file: str = setting("str", "")
    routing_key: str = setting("secret", "", secret=True)
    routing_key_file: str = setting("str", "")
    url: str | None = setting("url")
    client: str = setting("str", _tmpl("pagerduty.default.client"))
    client_url: str = setting("str", _tmpl("pagerduty.default.clientURL"))
    description: str = setting("str", '{{ template "pagerduty.default.description" .}}')
    details: dict[str, Any] = setting("any_map", factory=dict)
    images: tuple[PagerdutyImage, ...] = setting(
        "nested_list", (), of=PagerdutyImage, go="[]pagerduty.PagerdutyImage"
    )
    links: tuple[PagerdutyLink, ...] = setting(
        "nested_list", (), of=PagerdutyLink, go="[]pagerduty.PagerdutyLink"
    )
    source: str = setting("str", "")
    severity: str = setting("str", "")
    class_: str = setting("str", "", key="class")
    component: str = setting("str", "")
    group: str = setting("str", "")
    timeout_ns: int = setting("go_duration", 0, key="timeout")

    def check(self) -> PagerdutyConfig:
        keys = (self.routing_key, self.service_key, self.routing_key_file, self.service_key_file)
        if not any(keys):
            raise Invalid("missing service or routing key in PagerDuty config")
        if self.routing_key and self.routing_key_file:
            raise Invalid("at most one of routing_key & routing_key_file must be configured")
        if self.service_key and self.service_key_file:
            raise Invalid("at most one of service_key & service_key_file must be configured")
        details = {**DEFAULT_PAGERDUTY_DETAILS, **self.details}
        return replace(self, details=details, source=self.source or self.client)


@dataclass(frozen=True, slots=True)
class SlackConfirmationField:
    """``slack_configs[].actions[].confirm``."""

    GO_TYPE: ClassVar[str] = "config.plain"
    text: str = setting("str", "")
    title: str = setting("str", "")
    ok_text: str = setting("str", "")
    dismiss_text: str = setting("str", "")

    def check(self) -> SlackConfirmationField:
        if not self.text:
            raise Invalid("missing text in Slack confirmation configuration")
        return self


@dataclass(frozen=True, slots=True)
class SlackAction:
    """``slack_configs[].actions``: a link button (``url``) or a message action (``name``)."""

    GO_TYPE: ClassVar[str] = "config.plain"
    type: str = setting("str", "")
    text: str = setting("str", "")
    url: str = setting("str", "")
    style: str = setting("str", "")
    name: str = setting("str", "")
    value: str = setting("str", "")
    confirm: SlackConfirmationField | None = setting("nested_opt", of=SlackConfirmationField)

    def check(self) -> SlackAction:
        if not self.type:
            raise Invalid("missing type in Slack action configuration")
        if not self.text:
            raise Invalid("missing text in Slack action configuration")
        if self.url:
            return replace(self, name="", value="", confirm=None)
        if self.name:
            return self
        raise Invalid("missing name or url in Slack action configuration")


@dataclass(frozen=True, slots=True)
class SlackField:
    """``slack_configs[].fields``."""

    GO_TYPE: ClassVar[str] = "config.plain"
    title: str = setting("str", "")
    value: str = setting("str", "")
    short: bool | None = setting("opt_bool")

    def check(self) -> SlackField:
        if not self.title:
            raise Invalid("missing title in Slack field configuration")
        if not self.value:
            raise Invalid("missing value in Slack field configuration")
        return self


@dataclass(frozen=True, slots=True)
class SlackConfig:
    """``slack_configs``: an incoming webhook (``api_url``) or a bot token (``app_token``)."""

    GO_TYPE: ClassVar[str] = "config.plain"
    send_resolved: bool = setting("bool", False)
    http_config: HTTPConfig | None = setting("http")
    api_url: str | None = setting("secret_url", secret=True)
    api_url_file: str = setting("str", "")
    app_token: str = setting("secret", "", secret=True)
    app_token_file: str = setting("str", "")
    app_url: str | None = setting("url")
    channel: str = setting("str", "")
    username: str = setting("str", _tmpl("slack.default.username"))
    color: str = setting("str", _tmpl("slack.default.color"))
    title: str = setting("str", _tmpl("slack.default.title"))
    title_link: str = setting("str", _tmpl("slack.default.titlelink"))
    pretext: str = setting("str", _tmpl("slack.default.pretext"))
    text: str = setting("str", _tmpl("slack.default.text"))
    message_text: str = setting("str", "")
    fields: tuple[SlackField, ...] = setting(
        "nested_list", (), of=SlackField, go="[]*config.SlackField"
    )
    short_fields: bool = setting("bool", False)
    footer: str = setting("str", _tmpl("slack.default.footer"))
    fallback: str = setting("str", _tmpl("slack.default.fallback"))
    callback_id: str = setting("str", _tmpl("slack.default.callbackid"))
    icon_emoji: str = setting("str", _tmpl("slack.default.iconemoji"))
    icon_url: str = setting("str", _tmpl("slack.default.iconurl"))
    image_url: str = setting("str", "")
    thumb_url: str = setting("str", "")
    link_names: bool = setting("bool", False)
    mrkdwn_in: tuple[str, ...] = setting("str_list", ())
    actions: tuple[SlackAction, ...] = setting(
        "nested_list", (), of=SlackAction, go="[]*config.SlackAction"
    )
    update_message: bool = setting("bool", False)
    timeout_ns: int = setting("go_duration", 0, key="timeout")

    def check(self) -> SlackConfig:
        url = self.api_url is not None or bool(self.api_url_file)
        token = bool(self.app_token or self.app_token_file)
        if self.api_url is not None and self.api_url_file:
            raise Invalid("at most one of api_url & api_url_file must be configured")
        if self.app_token and self.app_token_file:
            raise Invalid("at most one of app_token & app_token_file must be configured")
        if url and token:
            raise Invalid(
                "at most one of api_url/api_url_file & app_token/app_token_file must be configured"
            )
        # Alertmanager compares the URL itself; with no api_url at all it crashes, Spyglass says
        # the same as for a webhook URL.
        if self.update_message and self.api_url != SLACK_POST_MESSAGE_URL:
            raise Invalid(
                "update_message can only be used with bot tokens. api_url must be set to "
                f"{SLACK_POST_MESSAGE_URL}",
                "update_message",
            )
        return self


@dataclass(frozen=True, slots=True)
class OpsGenieResponder:
    """``opsgenie_configs[].responders``."""

    GO_TYPE: ClassVar[str] = "opsgenie.OpsGenieConfigResponder"
    id: str = setting("str", "")
    name: str = setting("str", "")
    username: str = setting("str", "")
    type: str = setting("str", "")

    def __str__(self) -> str:
        # Go's %v of the struct, which Alertmanager's messages show.
        return "{" + " ".join((self.id, self.name, self.username, self.type)) + "}"


_OPSGENIE_TYPES = re.compile(r"^(team|teams|user|escalation|schedule)$")


@dataclass(frozen=True, slots=True)
class OpsGenieConfig:
    """``opsgenie_configs``."""

    GO_TYPE: ClassVar[str] = "opsgenie.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    api_key: str = setting("secret", "", secret=True)
    api_key_file: str = setting("str", "")
    api_url: str | None = setting("url")
    message: str = setting("str", _tmpl("opsgenie.default.message"))
    description: str = setting("str", _tmpl("opsgenie.default.description"))
    source: str = setting("str", _tmpl("opsgenie.default.source"))
    details: dict[str, str] = setting("str_map", factory=dict)
    entity: str = setting("str", "")
    responders: tuple[OpsGenieResponder, ...] = setting(
        "nested_list", (), of=OpsGenieResponder, go="[]opsgenie.OpsGenieConfigResponder"
    )
    actions: str = setting("str", "")
    tags: str = setting("str", "")
    note: str = setting("str", "")
    priority: str = setting("str", "")
    update_alerts: bool = setting("bool", False)

    def check(self) -> OpsGenieConfig:
        if self.api_key and self.api_key_file:
            raise Invalid("at most one of api_key & api_key_file must be configured")
        responders = []
        for given in self.responders:
            r = given
            if not (r.id or r.username or r.name):
                raise Invalid(
                    f"opsGenieConfig responder {r} has to have at least one of id, username "
                    "or name specified",
                    "responders",
                )
            if "{{" in r.type:
                problem = template_problem(r.type)
                if problem:
                    raise Invalid(
                        f"opsGenieConfig responder {r} type contains invalid template syntax: "
                        f"{problem}",
                        "responders",
                    )
            else:
                r = replace(r, type=r.type.lower())
                if not _OPSGENIE_TYPES.match(r.type):
                    raise Invalid(
                        f"opsGenieConfig responder {r} type does not match valid options "
                        f"{_OPSGENIE_TYPES.pattern}",
                        "responders",
                    )
            responders.append(r)
        return replace(self, responders=tuple(responders))


_WECHAT_TYPES = "^(text|markdown)$"


@dataclass(frozen=True, slots=True)
class WechatConfig:
    """``wechat_configs``."""

    GO_TYPE: ClassVar[str] = "config.plain"
    send_resolved: bool = setting("bool", False)
    http_config: HTTPConfig | None = setting("http")
    api_secret: str = setting("secret", "", secret=True)
    api_secret_file: str = setting("str", "")
    corp_id: str = setting("str", "")
    message: str = setting("str", _tmpl("wechat.default.message"))
    api_url: str | None = setting("url")
    to_user: str = setting("str", _tmpl("wechat.default.to_user"))
    to_party: str = setting("str", _tmpl("wechat.default.to_party"))
    to_tag: str = setting("str", _tmpl("wechat.default.to_tag"))
    agent_id: str = setting("str", _tmpl("wechat.default.agent_id"))
    message_type: str = setting("str", "")

    def check(self) -> WechatConfig:
        kind = self.message_type or "text"
        if kind not in ("text", "markdown"):
            raise Invalid(
                f'weChat message type "{kind}" does not match valid options {_WECHAT_TYPES}',
                "message_type",
            )
        if self.api_secret and self.api_secret_file:
            raise Invalid("at most one of api_secret & api_secret_file must be configured")
        return replace(self, message_type=kind)


@dataclass(frozen=True, slots=True)
class PushoverConfig:
    """``pushover_configs``. ``retry``, ``expire`` and ``ttl`` are Go durations."""

    GO_TYPE: ClassVar[str] = "pushover.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    user_key: str = setting("secret", "", secret=True)
    user_key_file: str = setting("str", "")
    token: str = setting("secret", "", secret=True)
    token_file: str = setting("str", "")
    title: str = setting("str", _tmpl("pushover.default.title"))
    message: str = setting("str", _tmpl("pushover.default.message"))
    url: str = setting("str", _tmpl("pushover.default.url"))
    url_title: str = setting("str", "")
    device: str = setting("str", "")
    sound: str = setting("str", "")
    priority: str = setting("str", '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}')
    retry_ns: int = setting("text_duration", 60_000_000_000, key="retry")
    expire_ns: int = setting("text_duration", 3_600_000_000_000, key="expire")
    ttl_ns: int = setting("text_duration", 0, key="ttl")
    html: bool = setting("bool", False)
    monospace: bool = setting("bool", False)

    def check(self) -> PushoverConfig:
        if not self.user_key and not self.user_key_file:
            raise Invalid("one of user_key or user_key_file must be configured")
        if self.user_key and self.user_key_file:
            raise Invalid("at most one of user_key & user_key_file must be configured")
        if not self.token and not self.token_file:
            raise Invalid("one of token or token_file must be configured")
        if self.token and self.token_file:
            raise Invalid("at most one of token & token_file must be configured")
        if self.html and self.monospace:
            raise Invalid("at most one of monospace & html must be configured")
        return self


_VICTOROPS_RESERVED = (
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
)


@dataclass(frozen=True, slots=True)
class VictorOpsConfig:
    """``victorops_configs``."""

    GO_TYPE: ClassVar[str] = "config.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    api_key: str = setting("secret", "", secret=True)
    api_key_file: str = setting("str", "")
    api_url: str | None = setting("url")
    routing_key: str = setting("str", "")
    message_type: str = setting("str", "CRITICAL")
    state_message: str = setting("str", _tmpl("victorops.default.state_message"))
    entity_display_name: str = setting("str", _tmpl("victorops.default.entity_display_name"))
    monitoring_tool: str = setting("str", _tmpl("victorops.default.monitoring_tool"))
    custom_fields: dict[str, str] = setting("str_map", factory=dict)

    def check(self) -> VictorOpsConfig:
        if not self.routing_key:
            raise Invalid("missing Routing key in VictorOps config")
        if self.api_key and self.api_key_file:
            raise Invalid("at most one of api_key & api_key_file must be configured")
        for name in _VICTOROPS_RESERVED:
            if name in self.custom_fields:
                raise Invalid(
                    f"victorOps config contains custom field {name} which cannot be used as it "
                    "conflicts with the fixed/static fields",
                    "custom_fields",
                )
        return self


@dataclass(frozen=True, slots=True)
class SigV4Config:
    """``sns_configs[].sigv4``: AWS request signing (empty values: AWS' default chain)."""

    GO_TYPE: ClassVar[str] = "sigv4.plain"
    region: str = setting("str", "")
    access_key: str = setting("str", "")
    secret_key: str = setting("secret", "", secret=True)
    profile: str = setting("str", "")
    role_arn: str = setting("str", "")
    external_id: str = setting("str", "")
    use_fips_sts_endpoint: bool = setting("bool", False)
    service_name: str = setting("str", "")

    def check(self) -> SigV4Config:
        if bool(self.access_key) != bool(self.secret_key):
            raise Invalid(
                "must provide a AWS SigV4 Access key and Secret Key if credentials are "
                "specified in the SigV4 config"
            )
        if self.external_id and not self.role_arn:
            raise Invalid("external_id can only be used with role_arn")
        return self


@dataclass(frozen=True, slots=True)
class SNSConfig:
    """``sns_configs``."""

    GO_TYPE: ClassVar[str] = "sns.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    api_url: str = setting("str", "")
    sigv4: SigV4Config = setting("nested", SigV4Config(), of=SigV4Config)
    topic_arn: str = setting("str", "")
    phone_number: str = setting("str", "")
    target_arn: str = setting("str", "")
    subject: str = setting("str", _tmpl("sns.default.subject"))
    message: str = setting("str", _tmpl("sns.default.message"))
    attributes: dict[str, str] = setting("str_map", factory=dict)
    use_aws_http_client: bool = setting("bool", False)

    def check(self) -> SNSConfig:
        # Alertmanager's test, kept as written: ((a != b) != c) over "is empty".
        target, topic, phone = not self.target_arn, not self.topic_arn, not self.phone_number
        if (target != topic) != phone:
            raise Invalid(
                "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
            )
        return self


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """``telegram_configs``."""

    GO_TYPE: ClassVar[str] = "telegram.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    api_url: str | None = setting("url")
    bot_token: str = setting("secret", "", secret=True)
    bot_token_file: str = setting("str", "")
    chat_id: int = setting("int", 0, go="int64")
    chat_id_file: str = setting("str", "")
    message_thread_id: int = setting("int", 0)
    message: str = setting("str", _tmpl("telegram.default.message"))
    disable_notifications: bool = setting("bool", False)
    parse_mode: str = setting("str", "HTML")

    def check(self) -> TelegramConfig:
        if self.bot_token and self.bot_token_file:
            raise Invalid("at most one of bot_token & bot_token_file must be configured")
        if not self.chat_id and not self.chat_id_file:
            raise Invalid("missing chat_id or chat_id_file on telegram_config")
        if self.chat_id and self.chat_id_file:
            raise Invalid("at most one of chat_id & chat_id_file must be configured")
        if self.parse_mode not in ("", "Markdown", "MarkdownV2", "HTML"):
            raise Invalid(
                "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or "
                "empty string",
                "parse_mode",
            )
        return self


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    """``discord_configs``."""

    GO_TYPE: ClassVar[str] = "discord.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    webhook_url: str | None = setting("secret_url", secret=True)
    webhook_url_file: str = setting("str", "")
    content: str = setting("str", "")
    title: str = setting("str", _tmpl("discord.default.title"))
    message: str = setting("str", _tmpl("discord.default.message"))
    username: str = setting("str", "")
    avatar_url: str = setting("str", "")

    def check(self) -> DiscordConfig:
        _one_url(self.webhook_url, self.webhook_url_file)
        return self


def _one_url(url: str | None, url_file: str) -> None:
    if url is None and not url_file:
        raise Invalid("one of webhook_url or webhook_url_file must be configured")
    if url is not None and url_file:
        raise Invalid("at most one of webhook_url & webhook_url_file must be configured")


@dataclass(frozen=True, slots=True)
class WebexConfig:
    """``webex_configs``: the bot token goes in ``http_config.authorization``."""

    GO_TYPE: ClassVar[str] = "config.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    api_url: str | None = setting("url")
    message: str = setting("str", _tmpl("webex.default.message"))
    room_id: str = setting("str", "")

    def check(self) -> WebexConfig:
        if not self.room_id:
            raise Invalid("missing room_id on webex_config")
        if self.http_config is None or self.http_config.authorization is None:
            raise Invalid("missing webex_configs.http_config.authorization")
        return self


@dataclass(frozen=True, slots=True)
class MSTeamsConfig:
    """``msteams_configs`` (Office 365 connectors)."""

    GO_TYPE: ClassVar[str] = "msteams.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    webhook_url: str | None = setting("secret_url", secret=True)
    webhook_url_file: str = setting("str", "")
    title: str = setting("str", _tmpl("msteams.default.title"))
    summary: str = setting("str", _tmpl("msteams.default.summary"))
    text: str = setting("str", _tmpl("msteams.default.text"))

    def check(self) -> MSTeamsConfig:
        _one_url(self.webhook_url, self.webhook_url_file)
        return self


@dataclass(frozen=True, slots=True)
class MSTeamsV2Config:
    """``msteamsv2_configs`` (Power Automate workflows)."""

    GO_TYPE: ClassVar[str] = "msteamsv2.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    webhook_url: str | None = setting("secret_url", secret=True)
    webhook_url_file: str = setting("str", "")
    title: str = setting("str", _tmpl("msteamsv2.default.title"))
    text: str = setting("str", _tmpl("msteamsv2.default.text"))

    def check(self) -> MSTeamsV2Config:
        _one_url(self.webhook_url, self.webhook_url_file)
        return self


@dataclass(frozen=True, slots=True)
class JiraField:
    """A Jira field template: a string, or ``{template, enable_update}``."""

    GO_TYPE: ClassVar[str] = "jira.plain"
    template: str = setting("str", "")
    enable_update: bool | None = setting("opt_bool")


@dataclass(frozen=True, slots=True)
class JiraConfig:
    """``jira_configs``."""

    GO_TYPE: ClassVar[str] = "jira.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    api_url: str | None = setting("url")
    api_type: str = setting("str", "auto")
    project: str = setting("str", "")
    summary: JiraField = setting(
        "str_or_nested", JiraField(_tmpl("jira.default.summary")), of=JiraField
    )
    description: JiraField = setting(
        "str_or_nested", JiraField(_tmpl("jira.default.description")), of=JiraField
    )
    labels: tuple[str, ...] = setting("str_list", ())
    priority: str = setting("str", _tmpl("jira.default.priority"))
    issue_type: str = setting("str", "")
    reopen_transition: str = setting("str", "")
    resolve_transition: str = setting("str", "")
    wont_fix_resolution: str = setting("str", "")
    reopen_duration_ms: int = setting("model_duration", 0, key="reopen_duration")
    fields: dict[str, Any] = setting("any_map", factory=dict)

    def check(self) -> JiraConfig:
        if not self.project:
            raise Invalid("missing project in jira_config")
        if not self.issue_type:
            raise Invalid("missing issue_type in jira_config")
        if self.api_type not in ("auto", "cloud", "datacenter"):
            raise Invalid(
                "unknown api_type on jira_config, must be auto, cloud or datacenter", "api_type"
            )
        return self


@dataclass(frozen=True, slots=True)
class RocketchatField:
    """``rocketchat_configs[].fields`` (yaml keys are the lowercased Go field names)."""

    GO_TYPE: ClassVar[str] = "rocketchat.RocketchatAttachmentField"
    short: bool | None = setting("opt_bool")
    title: str = setting("str", "")
    value: str = setting("str", "")


@dataclass(frozen=True, slots=True)
class RocketchatAction:
    """``rocketchat_configs[].actions`` (yaml keys are the lowercased Go field names)."""

    GO_TYPE: ClassVar[str] = "rocketchat.RocketchatAttachmentAction"
    type: str = setting("str", "")
    text: str = setting("str", "")
    url: str = setting("str", "")
    image_url: str = setting("str", "", key="imageurl")
    is_webview: bool = setting("bool", False, key="iswebview")
    webview_height_ratio: str = setting("str", "", key="webviewheightratio")
    msg: str = setting("str", "")
    msg_in_chat_window: bool = setting("bool", False, key="msginchatwindow")
    msg_processing_type: str = setting("str", "", key="msgprocessingtype")


@dataclass(frozen=True, slots=True)
class RocketchatConfig:
    """``rocketchat_configs``."""

    GO_TYPE: ClassVar[str] = "rocketchat.plain"
    send_resolved: bool = setting("bool", False)
    http_config: HTTPConfig | None = setting("http")
    api_url: str | None = setting("url")
    token_id: str | None = setting("opt_secret", secret=True)
    token_id_file: str = setting("str", "")
    token: str | None = setting("opt_secret", secret=True)
    token_file: str = setting("str", "")
    channel: str = setting("str", "")
    color: str = setting("str", '{{ if eq .Status "firing" }}red{{ else }}green{{ end }}')
    title: str = setting("str", _tmpl("rocketchat.default.title"))
    title_link: str = setting("str", _tmpl("rocketchat.default.titlelink"))
    text: str = setting("str", _tmpl("rocketchat.default.text"))
    fields: tuple[RocketchatField, ...] = setting(
        "nested_list", (), of=RocketchatField, go="[]*rocketchat.RocketchatAttachmentField"
    )
    short_fields: bool = setting("bool", False)
    emoji: str = setting("str", _tmpl("rocketchat.default.emoji"))
    icon_url: str = setting("str", _tmpl("rocketchat.default.iconurl"))
    image_url: str = setting("str", "")
    thumb_url: str = setting("str", "")
    link_names: bool = setting("bool", False)
    actions: tuple[RocketchatAction, ...] = setting(
        "nested_list", (), of=RocketchatAction, go="[]*rocketchat.RocketchatAttachmentAction"
    )

    def check(self) -> RocketchatConfig:
        if self.token is not None and self.token_file:
            raise Invalid("at most one of token & token_file must be configured")
        if self.token_id is not None and self.token_id_file:
            raise Invalid("at most one of token_id & token_id_file must be configured")
        return self


@dataclass(frozen=True, slots=True)
class MattermostField:
    """``mattermost_configs[].fields``."""

    GO_TYPE: ClassVar[str] = "mattermost.plain"
    title: str = setting("str", "")
    value: str = setting("str", "")
    short: bool | None = setting("opt_bool")

    def check(self) -> MattermostField:
        if not self.title:
            raise Invalid("missing title in Mattermost field configuration")
        if not self.value:
            raise Invalid("missing value in Mattermost field configuration")
        return self


@dataclass(frozen=True, slots=True)
class MattermostAttachment:
    """``mattermost_configs[].attachments``."""

    GO_TYPE: ClassVar[str] = "mattermost.MattermostAttachment"
    fallback: str = setting("str", "")
    color: str = setting("str", "")
    pretext: str = setting("str", "")
    text: str = setting("str", "")
    author_name: str = setting("str", "")
    author_link: str = setting("str", "")
    author_icon: str = setting("str", "")
    title: str = setting("str", "")
    title_link: str = setting("str", "")
    fields: tuple[MattermostField, ...] = setting(
        "nested_list", (), of=MattermostField, go="[]*mattermost.MattermostField"
    )
    thumb_url: str = setting("str", "")
    footer: str = setting("str", "")
    footer_icon: str = setting("str", "")
    image_url: str = setting("str", "")


@dataclass(frozen=True, slots=True)
class MattermostProps:
    """``mattermost_configs[].props``."""

    GO_TYPE: ClassVar[str] = "mattermost.MattermostProps"
    card: str = setting("str", "")


@dataclass(frozen=True, slots=True)
class MattermostPriority:
    """``mattermost_configs[].priority``."""

    GO_TYPE: ClassVar[str] = "mattermost.MattermostPriority"
    priority: str = setting("str", "")
    requested_ack: bool = setting("bool", False)
    persistent_notifications: bool = setting("bool", False)


@dataclass(frozen=True, slots=True)
class MattermostConfig:
    """``mattermost_configs``."""

    GO_TYPE: ClassVar[str] = "mattermost.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    webhook_url: str | None = setting("secret_url", secret=True)
    webhook_url_file: str = setting("str", "")
    channel: str = setting("str", "")
    username: str = setting("str", _tmpl("mattermost.default.username"))
    text: str = setting("str", _tmpl("mattermost.default.text"))
    fallback: str = setting("str", _tmpl("mattermost.default.fallback"))
    color: str = setting("str", _tmpl("mattermost.default.color"))
    pretext: str = setting("str", "")
    author_name: str = setting("str", "")
    author_link: str = setting("str", "")
    author_icon: str = setting("str", "")
    title: str = setting("str", _tmpl("mattermost.default.title"))
    title_link: str = setting("str", _tmpl("mattermost.default.titlelink"))
    fields: tuple[MattermostField, ...] = setting(
        "nested_list", (), of=MattermostField, go="[]*mattermost.MattermostField"
    )
    thumb_url: str = setting("str", "")
    footer: str = setting("str", "")
    footer_icon: str = setting("str", "")
    image_url: str = setting("str", "")
    icon_url: str = setting("str", "")
    icon_emoji: str = setting("str", "")
    attachments: tuple[MattermostAttachment, ...] = setting(
        "nested_list", (), of=MattermostAttachment, go="[]*mattermost.MattermostAttachment"
    )
    type: str = setting("str", "")
    props: MattermostProps | None = setting("nested_opt", of=MattermostProps)
    priority: MattermostPriority | None = setting("nested_opt", of=MattermostPriority)

    def check(self) -> MattermostConfig:
        if self.webhook_url is not None and self.webhook_url_file:
            raise Invalid("at most one of webhook_url & webhook_url_file must be configured")
        return self


@dataclass(frozen=True, slots=True)
class IncidentioConfig:
    """``incidentio_configs``."""

    GO_TYPE: ClassVar[str] = "incidentio.plain"
    send_resolved: bool = setting("bool", True)
    http_config: HTTPConfig | None = setting("http")
    url: str | None = setting("url", secret=True)
    url_file: str = setting("str", "")
    alert_source_token: str = setting("secret", "", secret=True)
    alert_source_token_file: str = setting("str", "")
    max_alerts: int = setting("int", 0, go="uint64")
    timeout_ns: int = setting("go_duration", 0, key="timeout")

    def check(self) -> IncidentioConfig:
        token = bool(self.alert_source_token or self.alert_source_token_file)
        if self.url is None and not self.url_file:
            raise Invalid("one of url or url_file must be configured")
        if self.url is not None and self.url_file:
            raise Invalid("at most one of url & url_file must be configured")
        if self.alert_source_token and self.alert_source_token_file:
            raise Invalid(
                "at most one of alert_source_token & alert_source_token_file must be configured"
            )
        authorization = self.http_config is not None and self.http_config.authorization is not None
        if authorization and token:
            raise Invalid(
                "cannot specify alert_source_token or alert_source_token_file when using "
                "http_config.authorization"
            )
        if self.http_config is not None and not authorization and not token:
            raise Invalid(
                "at least one of alert_source_token, alert_source_token_file or "
                "http_config.authorization must be configured"
            )
        return self


@dataclass(frozen=True, slots=True)
class AppriseConfig:
    """``apprise_configs`` (Spyglass's extension): any channel Apprise supports.

    ``urls`` are Apprise URLs (``tgram://...``, ``mailto://...``, ``ntfy://...``); ``title`` and
    ``body`` are templates like every notifier's.
    """

    GO_TYPE: ClassVar[str] = "apprise.plain"
    send_resolved: bool = setting("bool", True)
    urls: tuple[str, ...] = setting("str_list", (), secret=True)
    title: str = setting("str", _tmpl("__subject"))
    body: str = setting("str", '{{ template "__text_alert_list" .Alerts }}')

    def check(self) -> AppriseConfig:
        if not self.urls:
            raise Invalid("missing urls in apprise_config")
        for url in self.urls:
            scheme, sep, rest = url.partition("://")
            if not sep or not scheme or not rest:
                raise Invalid(
                    f'invalid Apprise URL "{url[:12]}...": Apprise URLs look like '
                    "scheme://..., e.g. tgram://bottoken/ChatID",
                    "urls",
                )
        return self


# The integrations a receiver may list, in Alertmanager's order, with their key's short name.
INTEGRATIONS: dict[str, type] = {
    "discord_configs": DiscordConfig,
    "email_configs": EmailConfig,
    "incidentio_configs": IncidentioConfig,
    "pagerduty_configs": PagerdutyConfig,
    "slack_configs": SlackConfig,
    "webhook_configs": WebhookConfig,
    "opsgenie_configs": OpsGenieConfig,
    "wechat_configs": WechatConfig,
    "pushover_configs": PushoverConfig,
    "victorops_configs": VictorOpsConfig,
    "sns_configs": SNSConfig,
    "telegram_configs": TelegramConfig,
    "webex_configs": WebexConfig,
    "msteams_configs": MSTeamsConfig,
    "msteamsv2_configs": MSTeamsV2Config,
    "jira_configs": JiraConfig,
    "rocketchat_configs": RocketchatConfig,
    "mattermost_configs": MattermostConfig,
    "apprise_configs": AppriseConfig,
}

Integration = (
    DiscordConfig
    | EmailConfig
    | IncidentioConfig
    | PagerdutyConfig
    | SlackConfig
    | WebhookConfig
    | OpsGenieConfig
    | WechatConfig
    | PushoverConfig
    | VictorOpsConfig
    | SNSConfig
    | TelegramConfig
    | WebexConfig
    | MSTeamsConfig
    | MSTeamsV2Config
    | JiraConfig
    | RocketchatConfig
    | MattermostConfig
    | AppriseConfig
)


@dataclass(frozen=True, slots=True)
class Receiver:
    """A named receiver: its labels (``name`` always among them) and its notifier configs."""

    name: str
    labels: dict[str, str]
    integrations: tuple[tuple[str, tuple[Integration, ...]], ...] = ()
    line: int = field(default=0, compare=False)

    def configs(self, key: str) -> tuple[Any, ...]:
        """The entries of one ``*_configs`` list (``()`` when the receiver has none)."""
        for name, items in self.integrations:
            if name == key:
                return items
        return ()

    @property
    def webhook_configs(self) -> tuple[WebhookConfig, ...]:
        """``webhook_configs``."""
        return self.configs("webhook_configs")

    @property
    def slack_configs(self) -> tuple[SlackConfig, ...]:
        """``slack_configs``."""
        return self.configs("slack_configs")

    @property
    def email_configs(self) -> tuple[EmailConfig, ...]:
        """``email_configs``."""
        return self.configs("email_configs")

    @property
    def pagerduty_configs(self) -> tuple[PagerdutyConfig, ...]:
        """``pagerduty_configs``."""
        return self.configs("pagerduty_configs")

    @property
    def apprise_configs(self) -> tuple[AppriseConfig, ...]:
        """``apprise_configs`` (Spyglass's extension)."""
        return self.configs("apprise_configs")


__all__ = [
    "DEFAULT_EMAIL_SUBJECT",
    "DEFAULT_PAGERDUTY_DETAILS",
    "INTEGRATIONS",
    "SLACK_POST_MESSAGE_URL",
    "AppriseConfig",
    "DiscordConfig",
    "EmailConfig",
    "IncidentioConfig",
    "Integration",
    "JiraConfig",
    "JiraField",
    "MSTeamsConfig",
    "MSTeamsV2Config",
    "MattermostConfig",
    "OpsGenieConfig",
    "PagerdutyConfig",
    "PushoverConfig",
    "Receiver",
    "RocketchatConfig",
    "SNSConfig",
    "SigV4Config",
    "SlackConfig",
    "TelegramConfig",
    "VictorOpsConfig",
    "WebexConfig",
    "WebhookConfig",
    "WechatConfig",
]
