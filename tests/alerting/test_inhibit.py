"""Inhibition: a firing source alert mutes target alerts that share its ``equal`` labels."""

from __future__ import annotations

from pathlib import Path

from spyglass.alerting import (
    InhibitRule,
    Matcher,
    inhibited,
    inhibiting_alert,
    load_alertmanager_config_file,
)

GUIDE = Path(__file__).parent / "testdata" / "alertmanager.yml"
RULES = load_alertmanager_config_file(GUIDE).inhibit_rules

CRITICAL = {"alertname": "HighLatency", "severity": "critical", "cluster": "eu", "service": "api"}
WARNING = {**CRITICAL, "severity": "warning"}


def test_a_critical_alert_mutes_the_same_warning() -> None:
    assert inhibited(WARNING, [CRITICAL], RULES)
    rule, source = inhibiting_alert(WARNING, [CRITICAL], RULES)  # type: ignore[misc]
    assert rule is RULES[0]
    assert source == CRITICAL


def test_equal_labels_must_match_and_missing_counts_as_empty() -> None:
    assert not inhibited({**WARNING, "cluster": "us"}, [CRITICAL], RULES)
    assert not inhibited(WARNING, [{**CRITICAL, "service": "web"}], RULES)
    no_service = {k: v for k, v in WARNING.items() if k != "service"}
    assert inhibited(no_service, [{**CRITICAL, "service": ""}], RULES)
    assert not inhibited(no_service, [CRITICAL], RULES)


def test_nothing_firing_or_nothing_matching_mutes_nothing() -> None:
    assert not inhibited(WARNING, [], RULES)
    assert not inhibited(CRITICAL, [CRITICAL], RULES)
    assert not inhibited({**WARNING, "severity": "info"}, [CRITICAL], RULES)


def test_cluster_down_mutes_everything_in_that_cluster() -> None:
    down = {"alertname": "ClusterDown", "cluster": "eu", "severity": "critical"}
    assert inhibited(WARNING, [down], RULES)
    assert inhibited(CRITICAL, [down], RULES)
    assert not inhibited({**CRITICAL, "cluster": "us"}, [down], RULES)


def test_an_alert_matching_both_sides_does_not_mute_itself_or_its_likes() -> None:
    rule = InhibitRule(
        source_matchers=(Matcher.of("alertname", "=~", "Node.*"),),
        target_matchers=(Matcher.of("severity", "=", "warning"),),
        equal=("instance",),
    )
    both = {"alertname": "NodeDown", "severity": "warning", "instance": "a"}
    other_both = {"alertname": "NodeSlow", "severity": "warning", "instance": "a"}
    source_only = {"alertname": "NodeDown", "severity": "critical", "instance": "a"}
    assert not inhibited(both, [both], [rule])
    assert not inhibited(both, [other_both], [rule])
    assert inhibited(both, [other_both, source_only], [rule])
    assert inhibited({"severity": "warning", "instance": "a"}, [both], [rule])
