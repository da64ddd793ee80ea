"""``global:`` and what Alertmanager hands down from it to every notifier config.

``GlobalConfig`` holds the defaults Alertmanager ships (its SMTP settings, API URLs and keys,
``http_config``); ``hand_down`` gives one notifier config what it leaves unset, in the order and
with the messages Alertmanager's loader uses, and resolves its ``http_config`` file names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from spyglass.alerting import _receivers as r
from spyglass.alerting._decode import Invalid, setting
from spyglass.alerting._http import DEFAULT_HTTP_CONFIG, Authorization, HTTPConfig, TLSConfig
from spyglass.core.config import Node
from spyglass.core.errors import ConfigError

# Integrations whose own http_config file names Alertmanager resolves against the config's
# directory (the global one always is; email's TLS files and incident.io's never are).
_RESOLVED_HTTP = frozenset(r.INTEGRATIONS) - {
    "email_configs",
    "incidentio_configs",
    "apprise_configs",
}


@dataclass(frozen=True, slots=True)
class GlobalConfig:
    """``global:``: defaults for every notifier, each as Alertmanager ships it."""

    GO_TYPE: ClassVar[str] = "config.plain"
    resolve_timeout_ms: int = setting("model_duration", 300_000, key="resolve_timeout")
    http_config: HTTPConfig | None = setting("http", DEFAULT_HTTP_CONFIG)
    jira_api_url: str | None = setting("url")
    smtp_from: str = setting("str", "")
    smtp_hello: str = setting("str", "localhost")
    smtp_smarthost: str = setting("hostport", "")
    smtp_auth_username: str = setting("str", "")
    smtp_auth_password: str = setting("secret", "", secret=True)
    smtp_auth_password_file: str = setting("str", "")
    smtp_auth_secret: str = setting("secret", "", secret=True)
    smtp_auth_secret_file: str = setting("str", "")
    smtp_auth_identity: str = setting("str", "")
    smtp_require_tls: bool = setting("bool", True)
    smtp_tls_config: TLSConfig | None = setting("tls", TLSConfig())
    smtp_force_implicit_tls: bool | None = setting("opt_bool")
    slack_api_url: str | None = setting("secret_url", secret=True)
    slack_api_url_file: str = setting("str", "")
    slack_app_token: str = setting("secret", "", secret=True)
    slack_app_token_file: str = setting("str", "")
    slack_app_url: str | None = setting("url", r.SLACK_POST_MESSAGE_URL)
    pagerduty_url: str | None = setting("url", "https://events.pagerduty.com/v2/enqueue")
    opsgenie_api_url: str | None = setting("url", "https://api.opsgenie.com/")
    opsgenie_api_key: str = setting("secret", "", secret=True)
    opsgenie_api_key_file: str = setting("str", "")
    wechat_api_url: str | None = setting("url", "https://qyapi.weixin.qq.com/cgi-bin/")
    wechat_api_secret: str = setting("secret", "", secret=True)
    wechat_api_secret_file: str = setting("str", "")
    wechat_api_corp_id: str = setting("str", "")
    victorops_api_url: str | None = setting(
        "url", "https://alert.victorops.com/integrations/generic/20131114/alert/"
    )
    victorops_api_key: str = setting("secret", "", secret=True)
    victorops_api_key_file: str = setting("str", "")
    telegram_api_url: str | None = setting("url", "https://api.telegram.org")
    telegram_bot_token: str = setting("secret", "", secret=True)
    telegram_bot_token_file: str = setting("str", "")
    webex_api_url: str | None = setting("url", "https://webexapis.com/v1/messages")
    rocketchat_api_url: str | None = setting("url", "https://open.rocket.chat/")
    rocketchat_token: str | None = setting("opt_secret", secret=True)
    rocketchat_token_file: str = setting("str", "")
    rocketchat_token_id: str | None = setting("opt_secret", secret=True)
    rocketchat_token_id_file: str = setting("str", "")
    mattermost_webhook_url: str | None = setting("secret_url", secret=True)
    mattermost_webhook_url_file: str = setting("str", "")

    def validate(self) -> None:
        """The checks Alertmanager makes once the whole file is read; ``Invalid`` if wrong."""
        slack: tuple[tuple[str, bool, str], ...] = (
            ("slack_app_token", bool(self.slack_app_token), self.slack_app_token_file),
            ("slack_api_url", self.slack_api_url is not None, self.slack_api_url_file),
        )
        for name, value, file in slack:
            if value and file:
                raise Invalid(f"at most one of {name} & {name}_file must be configured", name)
        token = self.slack_app_token or self.slack_app_token_file
        url = self.slack_api_url is not None or self.slack_api_url_file
        # Bot tokens with slack_api_url set to the app URL: an old workaround still accepted.
        if token and url and (self.slack_api_url or "") != (self.slack_app_url or ""):
            raise Invalid(
                "at most one of slack_app_token/slack_app_token_file & "
                "slack_api_url/slack_api_url_file must be configured",
                "slack_app_token",
            )
        pairs: tuple[tuple[str, object, str], ...] = (
            ("opsgenie_api_key", self.opsgenie_api_key, self.opsgenie_api_key_file),
            ("victorops_api_key", self.victorops_api_key, self.victorops_api_key_file),
            ("telegram_bot_token", self.telegram_bot_token, self.telegram_bot_token_file),
            ("smtp_auth_password", self.smtp_auth_password, self.smtp_auth_password_file),
            ("rocketchat_token", self.rocketchat_token is not None, self.rocketchat_token_file),
            (
                "rocketchat_token_id",
                self.rocketchat_token_id is not None,
                self.rocketchat_token_id_file,
            ),
            ("smtp_auth_secret", self.smtp_auth_secret, self.smtp_auth_secret_file),
            ("wechat_api_secret", self.wechat_api_secret, self.wechat_api_secret_file),
            (
                "mattermost_webhook_url",
                self.mattermost_webhook_url is not None,
                self.mattermost_webhook_url_file,
            ),
        )
        for name, present, file in pairs:
            if present and file:
                raise Invalid(f"at most one of {name} & {name}_file must be configured", name)


ORDER = (
    "webhook_configs",
    "email_configs",
    "slack_configs",
    "pushover_configs",
    "pagerduty_configs",
    "incidentio_configs",
    "opsgenie_configs",
    "wechat_configs",
    "victorops_configs",
    "sns_configs",
    "telegram_configs",
    "discord_configs",
    "webex_configs",
    "msteams_configs",
    "msteamsv2_configs",
    "jira_configs",
    "rocketchat_configs",
    "mattermost_configs",
    "apprise_configs",
)
# Integrations whose null entry Alertmanager reads as an empty config (the others: "missing").
_NULL_IS_EMPTY = {
    "slack_configs": r.SlackConfig,
    "opsgenie_configs": r.OpsGenieConfig,
    "wechat_configs": r.WechatConfig,
    "rocketchat_configs": r.RocketchatConfig,
}


def hand_down(
    key: str, cfg: Any, gc: GlobalConfig, *, node: Node, path: str, directory: Path | None
) -> Any:
    """One notifier config (``None`` for a null entry) with ``global:`` handed down.

    ``key`` is its list's key (``slack_configs``); errors point at ``node``/``path``.
    """

    def fail(message: str) -> ConfigError:
        return node.error(message, path)

    short = key.removesuffix("_configs")
    if cfg is None:
        if key not in _NULL_IS_EMPTY:
            raise fail(f"missing {short} config")
        cfg = _NULL_IS_EMPTY[key]()
    global_http = gc.http_config or DEFAULT_HTTP_CONFIG
    http = getattr(cfg, "http_config", None)
    if http is not None and key in _RESOLVED_HTTP:
        cfg = replace(cfg, http_config=http.with_directory(directory))
    if key not in ("slack_configs", "msteamsv2_configs", "email_configs", "apprise_configs"):
        cfg = replace(cfg, http_config=cfg.http_config or global_http)
    if isinstance(cfg, r.EmailConfig):
        cfg = replace(
            cfg,
            tls_config=cfg.tls_config or gc.smtp_tls_config,
            smarthost=cfg.smarthost or gc.smtp_smarthost,
        )
        if not cfg.smarthost:
            raise fail("no global SMTP smarthost set")
        cfg = replace(cfg, from_=cfg.from_ or gc.smtp_from)
        if not cfg.from_:
            raise fail("no global SMTP from set")
        cfg = replace(
            cfg,
            hello=cfg.hello or gc.smtp_hello,
            auth_username=cfg.auth_username or gc.smtp_auth_username,
            auth_identity=cfg.auth_identity or gc.smtp_auth_identity,
            require_tls=gc.smtp_require_tls if cfg.require_tls is None else cfg.require_tls,
            force_implicit_tls=gc.smtp_force_implicit_tls
            if cfg.force_implicit_tls is None
            else cfg.force_implicit_tls,
        )
        if not cfg.auth_password and not cfg.auth_password_file:
            cfg = replace(
                cfg,
                auth_password=gc.smtp_auth_password,
                auth_password_file=gc.smtp_auth_password_file,
            )
        if not cfg.auth_secret and not cfg.auth_secret_file:
            cfg = replace(
                cfg, auth_secret=gc.smtp_auth_secret, auth_secret_file=gc.smtp_auth_secret_file
            )
    elif isinstance(cfg, r.SlackConfig):
        cfg = _inherit_slack(cfg, gc, fail)
    elif isinstance(cfg, r.PagerdutyConfig):
        cfg = replace(cfg, url=cfg.url or gc.pagerduty_url)
        if cfg.url is None:
            raise fail("no global PagerDuty URL set")
    elif isinstance(cfg, r.OpsGenieConfig):
        url = cfg.api_url or gc.opsgenie_api_url
        if url is None:
            raise fail("no global OpsGenie URL set")
        cfg = replace(
            cfg,
            api_url=_slash(url),
            api_key=cfg.api_key or gc.opsgenie_api_key,
            api_key_file=cfg.api_key_file or gc.opsgenie_api_key_file,
        )
        if not cfg.api_key and not cfg.api_key_file:
            raise fail("no global OpsGenie API Key set either inline or in a file")
    elif isinstance(cfg, r.WechatConfig):
        url = cfg.api_url or gc.wechat_api_url
        if url is None:
            raise fail("no global Wechat URL set")
        if not cfg.api_secret and not cfg.api_secret_file:
            if not gc.wechat_api_secret and not gc.wechat_api_secret_file:
                raise fail("no global Wechat Api Secret set either inline or in a file")
            cfg = replace(
                cfg, api_secret=gc.wechat_api_secret, api_secret_file=gc.wechat_api_secret_file
            )
        cfg = replace(cfg, corp_id=cfg.corp_id or gc.wechat_api_corp_id)
        if not cfg.corp_id:
            raise fail("no global Wechat CorpID set")
        cfg = replace(cfg, api_url=_slash(url))
    elif isinstance(cfg, r.VictorOpsConfig):
        url = cfg.api_url or gc.victorops_api_url
        if url is None:
            raise fail("no global VictorOps URL set")
        cfg = replace(
            cfg,
            api_url=_slash(url),
            api_key=cfg.api_key or gc.victorops_api_key,
            api_key_file=cfg.api_key_file or gc.victorops_api_key_file,
        )
        if not cfg.api_key and not cfg.api_key_file:
            raise fail("no global VictorOps API Key set")
    elif isinstance(cfg, r.TelegramConfig):
        cfg = replace(cfg, api_url=cfg.api_url or gc.telegram_api_url)
        if not cfg.bot_token and not cfg.bot_token_file:
            if not gc.telegram_bot_token and not gc.telegram_bot_token_file:
                raise fail("missing bot_token or bot_token_file on telegram_config")
            cfg = replace(
                cfg, bot_token=gc.telegram_bot_token, bot_token_file=gc.telegram_bot_token_file
            )
    elif isinstance(cfg, (r.DiscordConfig, r.MSTeamsConfig)):
        if cfg.webhook_url is None and not cfg.webhook_url_file:
            raise fail(f"no {short} webhook URL or URLFile provided")
    elif isinstance(cfg, r.MSTeamsV2Config):
        if cfg.http_config is None:
            cfg = replace(cfg, http_config=global_http)
        elif not cfg.http_config.proxy.proxy_url:
            proxy = replace(cfg.http_config.proxy, proxy_url=global_http.proxy.proxy_url)
            cfg = replace(cfg, http_config=replace(cfg.http_config, proxy=proxy))
        if cfg.webhook_url is None and not cfg.webhook_url_file:
            raise fail("no msteamsv2 webhook URL or URLFile provided")
    elif isinstance(cfg, r.WebexConfig):
        cfg = replace(cfg, api_url=cfg.api_url or gc.webex_api_url)
        if cfg.api_url is None:
            raise fail("no global Webex URL set")
    elif isinstance(cfg, r.JiraConfig):
        cfg = replace(cfg, api_url=cfg.api_url or gc.jira_api_url)
        if cfg.api_url is None:
            raise fail("no global Jira Cloud URL set")
    elif isinstance(cfg, r.RocketchatConfig):
        cfg = replace(
            cfg,
            api_url=cfg.api_url or gc.rocketchat_api_url,
            token_id=cfg.token_id if cfg.token_id is not None else gc.rocketchat_token_id,
            token_id_file=cfg.token_id_file or gc.rocketchat_token_id_file,
        )
        if cfg.token_id is None and not cfg.token_id_file:
            raise fail("no global Rocketchat TokenID set either inline or in a file")
        cfg = replace(
            cfg,
            token=cfg.token if cfg.token is not None else gc.rocketchat_token,
            token_file=cfg.token_file or gc.rocketchat_token_file,
        )
        if cfg.token is None and not cfg.token_file:
            raise fail("no global Rocketchat Token set either inline or in a file")
    elif (
        isinstance(cfg, r.MattermostConfig) and cfg.webhook_url is None and not cfg.webhook_url_file
    ):
        if gc.mattermost_webhook_url is None and not gc.mattermost_webhook_url_file:
            raise fail("missing webhook_url or webhook_url_file on mattermost_config")
        cfg = replace(
            cfg,
            webhook_url=gc.mattermost_webhook_url,
            webhook_url_file=gc.mattermost_webhook_url_file,
        )
    return cfg


def _inherit_slack(cfg: r.SlackConfig, gc: GlobalConfig, fail: Any) -> r.SlackConfig:
    cfg = replace(cfg, app_url=cfg.app_url or gc.slack_app_url)
    if cfg.app_url is None:
        raise fail("no global Slack App URL set")
    local_auth = cfg.http_config is not None and cfg.http_config.authorization is not None
    # The global bot token only applies where no local authorization or webhook URL is set.
    if not cfg.app_token and not cfg.app_token_file and not local_auth and cfg.api_url is None:
        cfg = replace(cfg, app_token=gc.slack_app_token, app_token_file=gc.slack_app_token_file)
    if cfg.api_url is None and not cfg.api_url_file:
        cfg = replace(cfg, api_url=gc.slack_api_url, api_url_file=gc.slack_api_url_file)
    token = bool(cfg.app_token or cfg.app_token_file)
    if cfg.api_url is None and not cfg.api_url_file and not token:
        raise fail("no Slack API URL nor App token set either inline or in a file")
    http = cfg.http_config or gc.http_config or DEFAULT_HTTP_CONFIG
    if token:
        if http.authorization is not None:
            raise fail("http authorization can't be set when using Slack App tokens")
        http = replace(
            http,
            authorization=Authorization("Bearer", cfg.app_token, cfg.app_token_file),
        )
        cfg = replace(cfg, api_url=cfg.app_url)
    return replace(cfg, http_config=http)


def _slash(url: str) -> str:
    parts = urlsplit(url)
    if parts.path.endswith("/"):
        return url
    return urlunsplit(parts._replace(path=parts.path + "/"))


__all__ = ["ORDER", "GlobalConfig", "hand_down"]
