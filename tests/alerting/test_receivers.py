"""Every notifier Alertmanager knows loads with its defaults and fails with its messages, so a
real alertmanager.yml loads before Spyglass sends to all of them."""

from __future__ import annotations

import pytest

from spyglass.alerting import INTEGRATIONS, AlertmanagerConfig, load_alertmanager_config
from spyglass.alerting._receivers import (
    AppriseConfig,
    JiraConfig,
    MattermostConfig,
    OpsGenieConfig,
    PushoverConfig,
    RocketchatConfig,
    SNSConfig,
    TelegramConfig,
    VictorOpsConfig,
    WebexConfig,
    WechatConfig,
)
from spyglass.core.errors import ConfigError


def with_receiver(body: str, global_: str = "") -> AlertmanagerConfig:
    text = f"global:\n{global_}route:\n  receiver: r\nreceivers:\n  - name: r\n{body}"
    return load_alertmanager_config(text, file="am.yml", expand_env=False)


def first(cfg: AlertmanagerConfig, key: str) -> object:
    return cfg.receivers[0].configs(key)[0]


def test_every_alertmanager_integration_and_apprise_is_known() -> None:
    assert set(INTEGRATIONS) == {
        "discord_configs",
        "email_configs",
        "incidentio_configs",
        "pagerduty_configs",
        "slack_configs",
        "webhook_configs",
        "opsgenie_configs",
        "wechat_configs",
        "pushover_configs",
        "victorops_configs",
        "sns_configs",
        "telegram_configs",
        "webex_configs",
        "msteams_configs",
        "msteamsv2_configs",
        "jira_configs",
        "rocketchat_configs",
        "mattermost_configs",
        "apprise_configs",
    }


# Valid minimal entries, each with a default the test checks.
GOOD = [
    (
        "    opsgenie_configs:\n      - api_key: k\n"
        "        responders: [{name: ops, type: Team}]\n",
        lambda c: (
            isinstance(c, OpsGenieConfig)
            and c.api_url == "https://api.opsgenie.com/"
            and c.responders[0].type == "team"
            and c.send_resolved
        ),
    ),
    (
        "    victorops_configs:\n      - api_key: k\n        routing_key: r\n",
        lambda c: isinstance(c, VictorOpsConfig) and c.message_type == "CRITICAL",
    ),
    (
        "    pushover_configs:\n      - user_key: u\n        token: t\n        retry: 30s\n",
        lambda c: (
            isinstance(c, PushoverConfig)
            and c.retry_ns == 30_000_000_000
            and c.expire_ns == 3_600_000_000_000
        ),
    ),
    (
        "    wechat_configs:\n      - api_secret: s\n        corp_id: c\n",
        lambda c: (
            isinstance(c, WechatConfig)
            and c.message_type == "text"
            and c.api_url == "https://qyapi.weixin.qq.com/cgi-bin/"
        ),
    ),
    (
        "    sns_configs:\n      - phone_number: '+4912345'\n",
        lambda c: (
            isinstance(c, SNSConfig) and c.subject == '{{ template "sns.default.subject" . }}'
        ),
    ),
    (
        "    telegram_configs:\n      - bot_token: t\n        chat_id: -1001234\n",
        lambda c: (
            isinstance(c, TelegramConfig)
            and c.chat_id == -1001234
            and c.parse_mode == "HTML"
            and c.api_url == "https://api.telegram.org"
        ),
    ),
    (
        "    webex_configs:\n      - room_id: r\n"
        "        http_config: {authorization: {credentials: t}}\n",
        lambda c: isinstance(c, WebexConfig) and c.api_url == "https://webexapis.com/v1/messages",
    ),
    (
        "    jira_configs:\n      - api_url: https://x.atlassian.net\n        project: OPS\n"
        "        issue_type: Bug\n        summary: {template: s, enable_update: false}\n"
        "        description: d\n",
        lambda c: (
            isinstance(c, JiraConfig)
            and c.api_type == "auto"
            and c.summary.enable_update is False
            and c.description.template == "d"
        ),
    ),
    (
        "    rocketchat_configs:\n      - token_id: i\n        token: t\n",
        lambda c: isinstance(c, RocketchatConfig) and c.api_url == "https://open.rocket.chat/",
    ),
    (
        "    mattermost_configs:\n      - webhook_url: https://mm.example/hooks/x\n"
        "        priority: {priority: urgent}\n",
        lambda c: (
            isinstance(c, MattermostConfig)
            and c.priority is not None
            and c.priority.priority == "urgent"
        ),
    ),
    (
        "    apprise_configs:\n      - urls: ['tgram://bot/123', 'ntfy://alerts']\n",
        lambda c: isinstance(c, AppriseConfig) and c.send_resolved and len(c.urls) == 2,
    ),
]


@pytest.mark.parametrize(("body", "expected"), GOOD)
def test_valid_entries_load_with_alertmanagers_defaults(body: str, expected: object) -> None:
    cfg = with_receiver(body)
    key = body.split(":", maxsplit=1)[0].strip()
    assert expected(first(cfg, key))  # type: ignore[operator]


BAD = [
    (
        "    opsgenie_configs:\n      - api_key: k\n        responders: [{type: team}]\n",
        "opsGenieConfig responder {   team} has to have at least one of id, username or name "
        "specified",
    ),
    (
        "    opsgenie_configs:\n      - api_key: k\n        responders: [{name: n, type: group}]\n",
        "opsGenieConfig responder { n  group} type does not match valid options "
        "^(team|teams|user|escalation|schedule)$",
    ),
    ("    victorops_configs:\n      - api_key: k\n", "missing Routing key in VictorOps config"),
    (
        "    victorops_configs:\n      - api_key: k\n        routing_key: r\n"
        "        custom_fields: {entity_id: x}\n",
        "victorOps config contains custom field entity_id which cannot be used as it conflicts "
        "with the fixed/static fields",
    ),
    (
        "    pushover_configs:\n      - token: t\n",
        "one of user_key or user_key_file must be configured",
    ),
    (
        "    pushover_configs:\n      - token: t\n        user_key: u\n        html: true\n"
        "        monospace: true\n",
        "at most one of monospace & html must be configured",
    ),
    (
        "    pushover_configs:\n      - token: t\n        user_key: u\n        retry: 5x\n",
        'time: unknown unit "x" in duration "5x"',
    ),
    (
        "    wechat_configs:\n      - api_secret: s\n        corp_id: c\n"
        "        message_type: html\n",
        'weChat message type "html" does not match valid options ^(text|markdown)$',
    ),
    ("    wechat_configs:\n      - api_secret: s\n", "no global Wechat CorpID set"),
    (
        "    sns_configs:\n      - topic_arn: a\n        phone_number: '1'\n",
        "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
    ),
    (
        "    sns_configs:\n      - topic_arn: a\n        sigv4: {access_key: k}\n",
        "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the "
        "SigV4 config",
    ),
    (
        "    telegram_configs:\n      - bot_token: t\n",
        "missing chat_id or chat_id_file on telegram_config",
    ),
    (
        "    telegram_configs:\n      - bot_token: t\n        chat_id: 1\n        parse_mode: md\n",
        "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string",
    ),
    (
        "    telegram_configs:\n      - bot_token: t\n        chat_id: abc\n",
        "cannot unmarshal !!str `abc` into int64",
    ),
    ("    webex_configs:\n      - room_id: r\n", "missing webex_configs.http_config.authorization"),
    ("    webex_configs:\n      - {}\n", "missing room_id on webex_config"),
    (
        "    discord_configs:\n      - title: t\n",
        "one of webhook_url or webhook_url_file must be configured",
    ),
    (
        "    msteams_configs:\n      - title: t\n",
        "one of webhook_url or webhook_url_file must be configured",
    ),
    (
        "    msteamsv2_configs:\n      - webhook_url: https://x/\n        webhook_url_file: f\n",
        "at most one of webhook_url & webhook_url_file must be configured",
    ),
    ("    jira_configs:\n      - issue_type: Bug\n", "missing project in jira_config"),
    (
        "    jira_configs:\n      - project: P\n        issue_type: Bug\n"
        "        api_type: server\n",
        "unknown api_type on jira_config, must be auto, cloud or datacenter",
    ),
    (
        "    jira_configs:\n      - project: P\n        issue_type: Bug\n",
        "no global Jira Cloud URL set",
    ),
    (
        "    rocketchat_configs:\n      - token_id: i\n",
        "no global Rocketchat Token set either inline or in a file",
    ),
    (
        "    mattermost_configs:\n      - webhook_url: https://mm/\n        fields: [{value: v}]\n",
        "missing title in Mattermost field configuration",
    ),
    (
        "    incidentio_configs:\n      - alert_source_token: t\n",
        "one of url or url_file must be configured",
    ),
    (
        "    incidentio_configs:\n      - url: https://api.incident.io/x\n"
        "        http_config: {follow_redirects: true}\n",
        "at least one of alert_source_token, alert_source_token_file or "
        "http_config.authorization must be configured",
    ),
    ("    apprise_configs:\n      - title: t\n", "missing urls in apprise_config"),
    (
        "    apprise_configs:\n      - urls: [tgram]\n",
        'invalid Apprise URL "tgram...": Apprise URLs '
        "look like scheme://..., e.g. tgram://bottoken/ChatID",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD)
def test_invalid_entries_fail_with_alertmanagers_message(body: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        with_receiver(body)
    assert info.value.message == message
    assert info.value.file == "am.yml"
    assert info.value.line >= 6
    assert info.value.field.startswith("receivers[0].")


def test_api_urls_get_the_trailing_slash_alertmanager_adds() -> None:
    cfg = with_receiver(
        "    opsgenie_configs:\n      - api_key: k\n        api_url: https://eu.opsgenie.example/v2\n"
    )
    opsgenie = first(cfg, "opsgenie_configs")
    assert isinstance(opsgenie, OpsGenieConfig)
    assert opsgenie.api_url == "https://eu.opsgenie.example/v2/"


def test_global_keys_and_tokens_reach_their_notifiers() -> None:
    cfg = with_receiver(
        "    telegram_configs:\n      - chat_id: 1\n    victorops_configs:\n"
        "      - routing_key: r\n",
        global_="  telegram_bot_token_file: /run/secrets/tg\n  victorops_api_key: vk\n",
    )
    telegram = first(cfg, "telegram_configs")
    victorops = first(cfg, "victorops_configs")
    assert isinstance(telegram, TelegramConfig)
    assert telegram.bot_token_file == "/run/secrets/tg"
    assert isinstance(victorops, VictorOpsConfig)
    assert victorops.api_key == "vk"
    assert "vk" not in repr(victorops)


def test_secrets_printed_back_by_alertmanager_load_again() -> None:
    cfg = with_receiver("    slack_configs:\n      - api_url: <secret>\n")
    assert cfg.receivers[0].slack_configs[0].api_url == "<secret>"
