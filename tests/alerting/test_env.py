"""${VAR} expansion: Spyglass's one addition to alertmanager.yml, applied exactly where its
documentation says and nowhere else."""

from __future__ import annotations

import pytest

from spyglass.alerting import expand_text, load_alertmanager_config
from spyglass.core.errors import ConfigError

ENV = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X", "TEAM": "db", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("${TEAM}", "db"),
        ("$TEAM-alerts", "db-alerts"),
        ("team-${TEAM}s", "team-dbs"),
        ("cost: $$5 and $$TEAM", "cost: $5 and $TEAM"),
        ("$${TEAM}", "${TEAM}"),
        ("x${EMPTY}y", "xy"),
        ("^(foo|bar)$", "^(foo|bar)$"),
        ("5$ or $5 or $-", "5$ or $5 or $-"),
        (
            "{{ $labels := .CommonLabels }}${TEAM} {{ $labels.team }}",
            ("{{ $labels := .CommonLabels }}db {{ $labels.team }}"),
        ),
    ],
)
def test_expansion_rules(text: str, expanded: str) -> None:
    assert expand_text(text, ENV)[0] == expanded


def test_an_unset_variable_names_itself() -> None:
    with pytest.raises(KeyError, match="MISSING"):
        expand_text("${MISSING}", ENV)


CONFIG = """
global:
  slack_api_url: ${SLACK_WEBHOOK_URL}
route:
  receiver: team-$TEAM
  group_wait: ${WAIT}
receivers:
  - name: team-db
    slack_configs:
      - channel: '#${TEAM}'
        text: '{{ range .Alerts }}{{ $a := . }}{{ $a.Labels.alertname }}{{ end }}'
        send_resolved: true
"""


def test_variables_expand_in_string_values_of_the_file() -> None:
    cfg = load_alertmanager_config(CONFIG, environ={**ENV, "WAIT": "45s"})
    assert cfg.global_config.slack_api_url == ENV["SLACK_WEBHOOK_URL"]
    assert cfg.route.receiver == "team-db"
    assert cfg.route.group_wait_ms == 45_000
    (slack,) = cfg.receivers[0].slack_configs
    assert slack.channel == "#db"
    assert slack.text == "{{ range .Alerts }}{{ $a := . }}{{ $a.Labels.alertname }}{{ end }}"
    assert cfg.environment == ("SLACK_WEBHOOK_URL", "TEAM", "WAIT")


def test_an_unset_variable_fails_with_file_line_field_and_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config(CONFIG, file="alertmanager.yml", environ=ENV)
    err = info.value
    assert (err.file, err.line, err.field) == ("alertmanager.yml", 6, "route.group_wait")
    assert err.message.startswith("environment variable WAIT is not set")
    assert "$${WAIT}" in err.message


def test_without_expansion_the_file_reads_as_alertmanager_reads_it() -> None:
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config(CONFIG, expand_env=False, environ={**ENV, "WAIT": "1s"})
    assert info.value.field == "global.slack_api_url"
    assert info.value.message == 'unsupported scheme "" for URL'


def test_keys_numbers_and_booleans_are_never_expanded() -> None:
    text = (
        "route:\n  receiver: r\nreceivers:\n  - name: r\n    labels:\n      $TEAM: x\n"
        "    webhook_configs:\n      - url: http://h/\n        send_resolved: ${FLAG}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config(text, environ={"TEAM": "db", "FLAG": "true"})
    # The quoted-looking text stays a string after expansion: a boolean field refuses it.
    assert info.value.message == "cannot unmarshal !!str `true` into bool"
    cfg = load_alertmanager_config(text.replace("${FLAG}", "true"), environ={"TEAM": "db"})
    assert cfg.receivers[0].labels == {"$TEAM": "x", "name": "r"}
