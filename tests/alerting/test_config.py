"""alertmanager.yml loads as Alertmanager loads it: defaults, global settings handed down, and
every error naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.alerting import (
    AlertmanagerConfig,
    EmailConfig,
    PagerdutyConfig,
    SlackConfig,
    WebhookConfig,
    load_alertmanager_config,
    load_alertmanager_config_file,
)
from spyglass.alerting._timeintervals import InclusiveRange, TimeRange
from spyglass.core.errors import ConfigError

TESTDATA = Path(__file__).parent / "testdata"
GUIDE = TESTDATA / "alertmanager.yml"


def load(text: str) -> AlertmanagerConfig:
    return load_alertmanager_config(text, file="alertmanager.yml", expand_env=False)


def test_the_guide_config_loads_with_every_part_in_place() -> None:
    cfg = load_alertmanager_config_file(GUIDE)
    assert [r.name for r in cfg.receivers] == [
        "default-slack",
        "deadmans-switch",
        "pagerduty-oncall",
        "team-db-slack",
        "team-db-email",
        "team-payments-slack",
        "team-payments-webhook",
        "team-payments-email",
        "team-data-slack",
    ]
    assert cfg.route.receiver == "default-slack"
    assert cfg.route.group_by == ("alertname", "cluster", "service")
    assert len(cfg.route.routes) == 6
    assert cfg.route.routes[5].group_by_all
    assert cfg.templates == (str(TESTDATA / "templates/*.tmpl"),)
    assert [len(t.time_intervals) for t in cfg.time_intervals] == [2]
    assert len(cfg.inhibit_rules) == 2
    assert cfg.inhibit_rules[0].equal == ("alertname", "cluster", "service")


def test_global_smtp_settings_reach_email_configs_that_do_not_set_them() -> None:
    cfg = load_alertmanager_config_file(GUIDE)
    receiver = cfg.receiver("team-db-email")
    assert receiver is not None
    (email,) = receiver.email_configs
    assert isinstance(email, EmailConfig)
    assert email.smarthost == "smtp.example.com:587"
    assert email.from_ == "alertmanager@example.com"
    assert email.auth_username == "alertmanager@example.com"
    assert email.auth_password_file == "secrets/smtp-password"
    assert email.hello == "localhost"
    assert email.require_tls is True
    assert email.send_resolved is True
    assert email.subject.startswith("[{{ .Status | toUpper }}]")
    (plain,) = cfg.receiver("team-payments-email").email_configs  # type: ignore[union-attr]
    assert plain.subject == '{{ template "email.default.subject" . }}'
    assert plain.html == '{{ template "email.default.html" . }}'
    assert plain.send_resolved is False


def test_slack_api_url_comes_from_global_unless_the_receiver_sets_its_own() -> None:
    cfg = load_alertmanager_config_file(GUIDE)
    (default,) = cfg.receiver("default-slack").slack_configs  # type: ignore[union-attr]
    (payments,) = cfg.receiver("team-payments-slack").slack_configs  # type: ignore[union-attr]
    assert isinstance(default, SlackConfig)
    assert default.api_url == cfg.global_config.slack_api_url
    assert payments.api_url is not None
    assert "B11111111" in payments.api_url
    assert default.username == '{{ template "slack.default.username" . }}'
    assert default.send_resolved is True
    assert payments.send_resolved is False


def test_pagerduty_keeps_its_default_details_beside_the_files_own() -> None:
    cfg = load_alertmanager_config_file(GUIDE)
    (pd,) = cfg.receiver("pagerduty-oncall").pagerduty_configs  # type: ignore[union-attr]
    assert isinstance(pd, PagerdutyConfig)
    assert pd.url == "https://events.pagerduty.com/v2/enqueue"
    assert set(pd.details) == {
        "cluster",
        "runbook",
        "firing",
        "resolved",
        "num_firing",
        "num_resolved",
    }
    assert pd.source == pd.client == '{{ template "pagerduty.default.client" . }}'
    assert pd.routing_key_file == "secrets/pagerduty-routing-key"


def test_http_config_files_resolve_against_the_config_directory() -> None:
    cfg = load_alertmanager_config_file(GUIDE)
    (hook,) = cfg.receiver("team-payments-webhook").webhook_configs  # type: ignore[union-attr]
    assert isinstance(hook, WebhookConfig)
    assert hook.max_alerts == 20
    assert hook.http_config is not None
    assert hook.http_config.authorization is not None
    assert hook.http_config.authorization.type == "Bearer"
    assert hook.http_config.authorization.credentials_file == str(
        TESTDATA / "secrets/payments-token"
    )


def test_time_intervals_keep_their_ranges_and_location() -> None:
    cfg = load_alertmanager_config_file(GUIDE)
    first, second = cfg.intervals()["nightly-maintenance"]
    assert first.times == (TimeRange(60, 180),)
    assert first.weekdays == (InclusiveRange(1, 5),)
    assert first.location == "Europe/Berlin"
    assert second.weekdays == (InclusiveRange(6, 6), InclusiveRange(0, 0))
    assert first.days_of_month is None


def test_defaults_without_a_global_section() -> None:
    cfg = load("route:\n  receiver: x\nreceivers:\n  - name: x\n")
    g = cfg.global_config
    assert g.resolve_timeout_ms == 300_000
    assert g.smtp_hello == "localhost"
    assert g.smtp_require_tls is True
    assert g.pagerduty_url == "https://events.pagerduty.com/v2/enqueue"
    assert g.slack_app_url == "https://slack.com/api/chat.postMessage"
    assert g.opsgenie_api_url == "https://api.opsgenie.com/"
    assert g.http_config is not None
    assert g.http_config.follow_redirects is True
    assert g.http_config.enable_http2 is True
    assert cfg.receivers[0].labels == {"name": "x"}


def test_a_receivers_own_http_config_replaces_the_global_one() -> None:
    cfg = load(
        """
global:
  http_config:
    follow_redirects: false
    proxy_url: http://proxy:3128
route:
  receiver: hooks
receivers:
  - name: hooks
    webhook_configs:
      - url: http://a.example/
      - url: http://b.example/
        http_config:
          basic_auth: {username: u, password: p}
"""
    )
    inherited, own = cfg.receivers[0].webhook_configs
    assert inherited.http_config is not None
    assert inherited.http_config.follow_redirects is False
    assert inherited.http_config.proxy.proxy_url == "http://proxy:3128"
    assert own.http_config is not None
    assert own.http_config.follow_redirects is True
    assert own.http_config.proxy.proxy_url == ""
    assert own.http_config.basic_auth is not None
    assert own.http_config.basic_auth.username == "u"
    assert "p" not in repr(own.http_config.basic_auth).split("username")[0]


def test_slack_bot_tokens_become_a_bearer_authorization_to_the_app_url() -> None:
    cfg = load(
        """
global:
  slack_app_token: xoxb-global
route:
  receiver: s
receivers:
  - name: s
    slack_configs:
      - channel: '#a'
      - channel: '#b'
        api_url: https://hooks.slack.com/services/T/B/X
"""
    )
    bot, hook = cfg.receivers[0].slack_configs
    assert bot.api_url == "https://slack.com/api/chat.postMessage"
    assert bot.http_config is not None
    assert bot.http_config.authorization is not None
    assert bot.http_config.authorization.credentials == "xoxb-global"
    assert hook.api_url == "https://hooks.slack.com/services/T/B/X"
    assert hook.http_config is not None
    assert hook.http_config.authorization is None
    assert "xoxb-global" not in repr(cfg)


def test_group_by_empty_list_overrides_and_wildcard_means_all() -> None:
    cfg = load(
        """
route:
  receiver: r
  group_by: [alertname]
  routes:
    - group_by: []
    - group_by: ['...']
receivers:
  - name: r
"""
    )
    empty, everything = cfg.route.routes
    assert empty.group_by == ()
    assert not empty.group_by_all
    assert everything.group_by is None
    assert everything.group_by_all


def test_a_child_routes_errors_come_before_its_parents_checks() -> None:
    with pytest.raises(ConfigError) as info:
        load(
            "route:\n  receiver: a\n  group_by: [x, x]\n  routes:\n"
            "    - matchers: ['a=~(']\nreceivers: [{name: a}]\n"
        )
    assert info.value.field == "route.routes[0].matchers[0]"


def test_an_empty_document_and_a_null_route() -> None:
    with pytest.raises(ConfigError) as info:
        load("# nothing here\n")
    assert info.value.message == "no route provided in config"
    with pytest.raises(ConfigError) as info:
        load("route:\nreceivers: []\n")
    assert info.value.message == "no routes provided"


# (yaml, line, field, Alertmanager's message)
BAD = [
    (
        "route:\n  receiver: a\n  group_wiat: 1m\nreceivers: [{name: a}]\n",
        3,
        "route.group_wiat",
        "field group_wiat not found in type config.plain",
    ),
    (
        "route:\n  group_by: [a]\nreceivers: [{name: a}]\n",
        1,
        "route.receiver",
        ("root route must specify a default receiver"),
    ),
    (
        "route:\n  receiver: a\n  matchers: [x=y]\nreceivers: [{name: a}]\n",
        3,
        "route.matchers",
        "root route must not have any matchers",
    ),
    (
        "route:\n  receiver: a\n  continue: true\nreceivers: [{name: a}]\n",
        3,
        "route.continue",
        "cannot have continue in root route",
    ),
    (
        "route:\n  receiver: a\n  routes:\n    - receiver: b\nreceivers: [{name: a}]\n",
        4,
        "route.routes[0].receiver",
        'undefined receiver "b" used in route',
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n  - name: a\n",
        5,
        "receivers[1].name",
        'notification config name "a" is not unique',
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - email_configs: []\n",
        4,
        "receivers[0]",
        "missing name in receiver",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    labels: {name: b}\n",
        5,
        "receivers[0].labels",
        'receiver label "name" must match receiver name "a", got "b"',
    ),
    (
        "route:\n  receiver: a\n  group_by: [x, x]\nreceivers: [{name: a}]\n",
        3,
        "route.group_by",
        'duplicated label "x" in group_by',
    ),
    (
        "route:\n  receiver: a\n  group_by: ['...', x]\nreceivers: [{name: a}]\n",
        3,
        "route.group_by",
        "cannot have wildcard group_by (`...`) and other labels at the same time",
    ),
    (
        "route:\n  receiver: a\n  group_interval: 0s\nreceivers: [{name: a}]\n",
        3,
        "route.group_interval",
        "group_interval cannot be zero",
    ),
    (
        "route:\n  receiver: a\n  repeat_interval: 0s\nreceivers: [{name: a}]\n",
        3,
        "route.repeat_interval",
        "repeat_interval cannot be zero",
    ),
    (
        "route:\n  receiver: a\n  group_wait: 30\nreceivers: [{name: a}]\n",
        3,
        "route.group_wait",
        'not a valid duration string: "30"',
    ),
    (
        "route:\n  receiver: a\n  routes:\n    - match: {bad-name: x}\nreceivers: [{name: a}]\n",
        4,
        "route.routes[0].match",
        'invalid label name "bad-name"',
    ),
    (
        "route:\n  receiver: a\n  routes:\n    - match_re: {x: '(a'}\nreceivers: [{name: a}]\n",
        4,
        "route.routes[0].match_re.x",
        "error parsing regexp: missing closing ): `^(?:(a)$`",
    ),
    (
        "route:\n  receiver: a\n  routes:\n    - matchers: ['x=~(']\nreceivers: [{name: a}]\n",
        4,
        "route.routes[0].matchers[0]",
        "error parsing regexp: missing closing ): `^(?:()$`",
    ),
    (
        "route:\n  receiver: a\n  routes:\n    - mute_time_intervals: [night]\n"
        "receivers: [{name: a}]\n",
        4,
        "route.routes[0].mute_time_intervals",
        'undefined time interval "night" used in route',
    ),
    (
        "route:\n  receiver: a\n  mute_time_intervals: [night]\nreceivers: [{name: a}]\n"
        "time_intervals: [{name: night}]\n",
        3,
        "route.mute_time_intervals",
        "root route must not have any mute time intervals",
    ),
    (
        "route:\n  receiver: a\nreceivers: [{name: a}]\ntime_intervals:\n  - name: n\n"
        "  - name: n\n",
        6,
        "time_intervals[1].name",
        'time interval "n" is not unique',
    ),
    (
        "route:\n  receiver: a\nreceivers: [{name: a}]\ntime_intervals:\n  - time_intervals: []\n",
        5,
        "time_intervals[0]",
        "missing name in time interval",
    ),
    (
        "route:\n  receiver: a\nreceivers: [{name: a}]\ntime_intervals:\n  - name: n\n"
        "    time_intervals:\n      - weekdays: [funday]\n",
        7,
        "time_intervals[0].time_intervals[0].weekdays[0]",
        "funday is not a valid weekday",
    ),
    (
        "route:\n  receiver: a\nreceivers: [{name: a}]\ntime_intervals:\n  - name: n\n"
        "    time_intervals:\n      - times: [{start_time: '17:00', end_time: '09:00'}]\n",
        7,
        "time_intervals[0].time_intervals[0].times[0]",
        "start time cannot be equal or greater than end time",
    ),
    (
        "route:\n  receiver: a\nreceivers: [{name: a}]\ntime_intervals:\n  - name: n\n"
        "    time_intervals:\n      - location: Mars/Olympus\n",
        7,
        "time_intervals[0].time_intervals[0].location",
        "unknown time zone Mars/Olympus",
    ),
    (
        "route:\n  receiver: a\nreceivers: [{name: a}]\ninhibit_rules:\n  - equal: ['']\n",
        5,
        "inhibit_rules[0].equal",
        'invalid label name "" in equal list',
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    email_configs:\n"
        "      - from: a@example.com\n",
        6,
        "receivers[0].email_configs[0]",
        "missing to address in email config",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    email_configs:\n"
        "      - to: a@example.com\n",
        6,
        "receivers[0].email_configs[0]",
        "no global SMTP smarthost set",
    ),
    (
        "global: {smtp_smarthost: 'localhost:25'}\nroute:\n  receiver: a\nreceivers:\n"
        "  - name: a\n    email_configs:\n      - to: a@example.com\n",
        7,
        "receivers[0].email_configs[0]",
        "no global SMTP from set",
    ),
    (
        "global: {smtp_smarthost: localhost}\nroute:\n  receiver: a\nreceivers: [{name: a}]\n",
        1,
        "global.smtp_smarthost",
        "address localhost: missing port in address",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    email_configs:\n"
        "      - to: x@example.com\n        subject: Alert\n",
        7,
        "receivers[0].email_configs[0].subject",
        "field subject not found in type config.plain",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    email_configs:\n"
        "      - to: x@example.com\n        headers: {subject: a, Subject: b}\n",
        7,
        "receivers[0].email_configs[0].headers",
        'duplicate header "Subject" in email config',
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n"
        "      - send_resolved: false\n",
        6,
        "receivers[0].webhook_configs[0]",
        "one of url or url_file must be configured",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n"
        "      - url: localhost:8080/hook\n",
        6,
        "receivers[0].webhook_configs[0].url",
        'invalid URL: unsupported scheme "localhost" for URL',
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n"
        "      - url: http://x/\n        timeout: 10x\n",
        7,
        "receivers[0].webhook_configs[0].timeout",
        "cannot unmarshal !!str `10x` into time.Duration",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    webhook_configs:\n"
        "      - url: http://x/\n        max_alerts: -1\n",
        7,
        "receivers[0].webhook_configs[0].max_alerts",
        "cannot unmarshal !!int `-1` into uint64",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    pagerduty_configs:\n"
        "      - severity: critical\n",
        6,
        "receivers[0].pagerduty_configs[0]",
        "missing service or routing key in PagerDuty config",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    pagerduty_configs:\n"
        "      - routing_key: k\n        routing_key_file: f\n",
        6,
        "receivers[0].pagerduty_configs[0]",
        "at most one of routing_key & routing_key_file must be configured",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs:\n"
        "      - api_url: https://hooks.slack.com/x\n        api_url_file: /f\n",
        6,
        "receivers[0].slack_configs[0]",
        "at most one of api_url & api_url_file must be configured",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs:\n"
        "      - api_url: https://hooks.slack.com/x\n        actions: [{type: button}]\n",
        7,
        "receivers[0].slack_configs[0].actions[0]",
        "missing text in Slack action configuration",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs:\n"
        "      - api_url: https://hooks.slack.com/x\n        fields: [{title: t}]\n",
        7,
        "receivers[0].slack_configs[0].fields[0]",
        "missing value in Slack field configuration",
    ),
    (
        "route:\n  receiver: a\nreceivers:\n  - name: a\n    slack_configs:\n"
        "      - app_token: t\n        http_config: {authorization: {credentials: c}}\n",
        6,
        "receivers[0].slack_configs[0]",
        "http authorization can't be set when using Slack App tokens",
    ),
    (
        "global:\n  http_config:\n    basic_auth: {username: u}\n    bearer_token: t\n"
        "route:\n  receiver: a\nreceivers: [{name: a}]\n",
        3,
        "global.http_config",
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
    ),
    (
        "global:\n  http_config:\n    authorization: {type: Basic}\n"
        "route:\n  receiver: a\nreceivers: [{name: a}]\n",
        3,
        "global.http_config",
        'authorization type cannot be set to "basic", use "basic_auth" instead',
    ),
    (
        "global:\n  http_config:\n    tls_config: {cert_file: c.pem}\n"
        "route:\n  receiver: a\nreceivers: [{name: a}]\n",
        3,
        "global.http_config.tls_config",
        "exactly one of key or key_file must be configured when a client certificate is configured",
    ),
    (
        "global:\n  http_config:\n    proxy_url: http://p:1\n    proxy_from_environment: true\n"
        "route:\n  receiver: a\nreceivers: [{name: a}]\n",
        3,
        "global.http_config",
        "if proxy_from_environment is configured, proxy_url must not be configured",
    ),
    (
        "global:\n  http_config:\n    http_headers: {authorization: {values: [x]}}\n"
        "route:\n  receiver: a\nreceivers: [{name: a}]\n",
        3,
        "global.http_config.http_headers.authorization",
        'setting header "Authorization" is not allowed',
    ),
    (
        "global:\n  http_config:\n    tls_config: {min_version: TLS9}\n"
        "route:\n  receiver: a\nreceivers: [{name: a}]\n",
        3,
        "global.http_config.tls_config.min_version",
        "unknown TLS version: TLS9",
    ),
    (
        "global:\n  slack_api_url: hooks.slack.com/services/x\n"
        "route:\n  receiver: a\nreceivers: [{name: a}]\n",
        2,
        "global.slack_api_url",
        'unsupported scheme "" for URL',
    ),
    (
        "groups:\n  - name: rules\nroute:\n  receiver: a\nreceivers: [{name: a}]\n",
        1,
        "groups",
        "field groups not found in type config.plain",
    ),
    ("BAD\n", 1, "", "cannot unmarshal !!str `BAD` into config.plain"),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD)
def test_bad_configs_name_file_line_and_field(
    text: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(text)
    err = info.value
    assert (err.message, err.line, err.field) == (message, line, field)
    assert str(err).startswith(f"alertmanager.yml:{line}: ")


# Null entries: Alertmanager says "missing <kind> config", or reads the entry as an empty
# config for the four kinds that can take everything from global: (and then says what is
# missing).
NULL_ENTRIES = [
    ("discord_configs", "missing discord config"),
    ("email_configs", "missing email config"),
    ("incidentio_configs", "missing incidentio config"),
    ("pagerduty_configs", "missing pagerduty config"),
    ("webhook_configs", "missing webhook config"),
    ("pushover_configs", "missing pushover config"),
    ("victorops_configs", "missing victorops config"),
    ("sns_configs", "missing sns config"),
    ("telegram_configs", "missing telegram config"),
    ("webex_configs", "missing webex config"),
    ("msteams_configs", "missing msteams config"),
    ("msteamsv2_configs", "missing msteamsv2 config"),
    ("jira_configs", "missing jira config"),
    ("mattermost_configs", "missing mattermost config"),
    ("apprise_configs", "missing apprise config"),
    ("slack_configs", "no Slack API URL nor App token set either inline or in a file"),
    ("opsgenie_configs", "no global OpsGenie API Key set either inline or in a file"),
    ("wechat_configs", "no global Wechat Api Secret set either inline or in a file"),
    ("rocketchat_configs", "no global Rocketchat TokenID set either inline or in a file"),
]


@pytest.mark.parametrize(("key", "message"), NULL_ENTRIES)
def test_a_null_notifier_entry(key: str, message: str) -> None:
    text = f"global:\nroute:\n  receiver: r\nreceivers:\n- name: r\n  {key}:\n  -\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.message == message
    assert info.value.field == f"receivers[0].{key}[0]"


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config_file(tmp_path / "alertmanager.yml")
    assert info.value.file.endswith("alertmanager.yml")
