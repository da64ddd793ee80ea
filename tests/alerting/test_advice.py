"""Advice where users stumble: each mistake is named with what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.alerting import (
    Finding,
    explain,
    load_alertmanager_config,
    load_alertmanager_config_file,
    review,
)
from spyglass.core.errors import ConfigError

GUIDE = Path(__file__).parent / "testdata" / "alertmanager.yml"

HEAD = "route:\n  receiver: team\nreceivers:\n  - name: team\n"


def hint_for(text: str, *, expand: bool = False) -> str:
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config(text, file="am.yml", expand_env=expand, environ={})
    return explain(info.value, text)


def findings(text: str) -> list[Finding]:
    cfg = load_alertmanager_config(text, file="am.yml", expand_env=False)
    return review(cfg, text, expanded=False)


def test_the_guide_config_has_nothing_to_say() -> None:
    assert review(load_alertmanager_config_file(GUIDE), GUIDE.read_text()) == []


def test_email_subject_and_body_say_headers_and_html() -> None:
    base = (
        "global: {smtp_smarthost: 'mail:25', smtp_from: a@example.com}\n"
        + HEAD
        + "    email_configs:\n      - to: ops@example.com\n"
    )
    subject = hint_for(base + "        subject: 'Alert {{ .CommonLabels.alertname }}'\n")
    assert "headers: {Subject: '...'}" in subject
    body = hint_for(base + "        body: 'Something broke'\n")
    assert "`html: '...'`" in body
    assert "`text: '...'`" in body


def test_an_undefined_receiver_suggests_the_closest_defined_one() -> None:
    text = (
        "route:\n  receiver: team-db\n  routes:\n    - matchers: [a=b]\n"
        "      receiver: team-payment\nreceivers:\n  - name: team-db\n"
        "  - name: team-payments\n"
    )
    hint = hint_for(text)
    assert 'Did you mean "team-payments"?' in hint
    assert "defined: team-db, team-payments" in hint


def test_slack_without_any_url_says_where_the_url_goes() -> None:
    hint = hint_for(HEAD + "    slack_configs:\n      - channel: '#ops'\n")
    assert "api_url: https://hooks.slack.com/services/" in hint
    assert "slack_api_url" in hint


def test_a_placeholder_alertmanager_would_keep_as_text() -> None:
    text = HEAD + "    slack_configs:\n      - api_url: ${SLACK_WEBHOOK_URL}\n"
    hint = hint_for(text)
    assert "does not expand environment variables" in hint
    assert "SLACK_WEBHOOK_URL" in hint
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config(text, expand_env=True, environ={})
    assert "environment variable SLACK_WEBHOOK_URL is not set" in info.value.message
    with pytest.raises(ConfigError) as info:
        load_alertmanager_config(text, expand_env=True, environ={"SLACK_WEBHOOK_URL": "x"})
    assert explain(info.value, text, expanded=True) == (
        "The file says '${SLACK_WEBHOOK_URL}': check the value SLACK_WEBHOOK_URL is set to."
    )
    # In a field that is not a URL the text loads, and the review says so.
    loaded = (
        HEAD + "    slack_configs:\n      - api_url: https://h.example/\n        channel: $CHAN\n"
    )
    (finding,) = [f for f in findings(loaded) if "$CHAN" in f.message]
    assert finding.field == "receivers[0].slack_configs[0].channel"
    assert finding.line == 7


def test_rules_pasted_into_alertmanager_yml_point_to_rule_files() -> None:
    hint = hint_for("groups:\n  - name: x\n    rules:\n      - alert: Down\n" + HEAD)
    assert "Prometheus rule file" in hint
    assert "rule_files:" in hint
    nested = hint_for(HEAD.replace("  receiver: team\n", "  receiver: team\n  expr: up == 0\n"))
    assert "Prometheus rule file" in nested


def test_durations_without_units_and_scalars_for_lists() -> None:
    assert "30s" in hint_for(HEAD.replace("receiver: team\n", "receiver: team\n  group_wait: 30\n"))
    listed = hint_for(HEAD.replace("receiver: team\n", "receiver: team\n  group_by: alertname\n"))
    assert "group_by: [alertname]" in listed


def test_timers_off_by_orders_of_magnitude() -> None:
    text = (
        "route:\n  receiver: team\n  group_wait: 30m\n  group_interval: 5s\n"
        "  repeat_interval: 4h\nreceivers:\n  - name: team\n"
    )
    wait, interval = (f for f in findings(text) if f.field.startswith("route.group_"))
    assert wait.field == "route.group_wait"
    assert wait.hint == "Did you mean 30s?"
    assert interval.field == "route.group_interval"
    assert interval.hint == "Did you mean 5m?"


def test_repeat_interval_below_group_interval_and_past_retention() -> None:
    text = (
        "route:\n  receiver: team\n  routes:\n    - matchers: [a=b]\n      repeat_interval: 1m\n"
        "    - matchers: [a=c]\n      repeat_interval: 30d\nreceivers:\n  - name: team\n"
    )
    messages = [f.message for f in findings(text)]
    assert any(m.startswith("repeat_interval is less than group_interval") for m in messages)
    assert any(m.startswith("repeat_interval is greater than the data retention") for m in messages)


def test_inhibit_rules_without_equal_unreachable_routes_and_unused_receivers() -> None:
    text = (
        "route:\n  receiver: team\n  routes:\n    - receiver: team\n"
        "    - matchers: [severity=critical]\n      receiver: team\n"
        "receivers:\n  - name: team\n  - name: spare\n"
        "inhibit_rules:\n  - source_matchers: [severity=critical]\n"
        "    target_matchers: [severity=warning]\n"
    )
    by_field = {f.field: f for f in findings(text)}
    assert "never matches" in by_field["route.routes[1]"].message
    assert by_field["route.routes[1]"].line == 5
    assert "spare" in by_field["receivers"].message
    assert by_field["receivers"].line == 9
    assert "equal: [alertname, cluster, service]" in by_field["inhibit_rules[0]"].hint


def test_expanded_variables_are_noted_as_spyglass_only() -> None:
    cfg = load_alertmanager_config(
        HEAD + "    webhook_configs:\n      - url: ${HOOK}\n", environ={"HOOK": "http://h/"}
    )
    (note,) = review(cfg)
    assert note.severity == "note"
    assert "HOOK" in note.message


def test_apprise_configs_are_noted_as_spyglass_only() -> None:
    cfg = load_alertmanager_config(
        HEAD + "    apprise_configs:\n      - urls: ['ntfy://alerts']\n", expand_env=False
    )
    (note,) = review(cfg)
    assert note.severity == "note"
    assert "Alertmanager refuses this file" in note.message
    assert note.line == 4
