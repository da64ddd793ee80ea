"""Routing as Alertmanager's dispatcher routes: matching routes in order, their inherited
settings, route keys and the group keys webhook payloads carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.alerting import (
    RoutingTree,
    format_label_set,
    group_key,
    group_labels,
    load_alertmanager_config,
    load_alertmanager_config_file,
)

GUIDE = Path(__file__).parent / "testdata" / "alertmanager.yml"


@pytest.fixture(scope="module")
def tree() -> RoutingTree:
    return RoutingTree.of(load_alertmanager_config_file(GUIDE))


# (labels, receivers in Alertmanager's order)
GUIDE_CASES = [
    ({"alertname": "Watchdog", "severity": "none"}, ["deadmans-switch"]),
    ({"alertname": "DiskFull", "severity": "warning"}, ["default-slack"]),
    (
        {"alertname": "PostgresDown", "severity": "critical", "service": "postgres"},
        ["pagerduty-oncall", "team-db-email"],
    ),
    ({"alertname": "RedisSlow", "severity": "warning", "service": "redis"}, ["team-db-slack"]),
    ({"alertname": "X", "service": "postgres-exporter"}, ["default-slack"]),
    # A continuing route that matched is a match: the root's receiver is not added.
    ({"alertname": "X", "severity": "critical"}, ["pagerduty-oncall"]),
    (
        {"alertname": "Charge", "team": "payments", "service": "billing", "severity": "warning"},
        ["team-payments-webhook", "team-payments-email"],
    ),
    (
        {"alertname": "Charge", "team": "payments", "service": "billing", "env": "staging"},
        ["team-payments-slack"],
    ),
    (
        {"alertname": "Charge", "team": "payments", "severity": "critical", "service": "billing"},
        ["pagerduty-oncall", "team-payments-webhook"],
    ),
    ({"alertname": "JobFailed", "job": "batch-nightly"}, ["team-data-slack"]),
    ({"alertname": "Note", "severity": "info"}, ["default-slack"]),
    ({}, ["default-slack"]),
]


@pytest.mark.parametrize(("labels", "receivers"), GUIDE_CASES)
def test_guide_routing(tree: RoutingTree, labels: dict[str, str], receivers: list[str]) -> None:
    assert tree.receivers(labels) == receivers


def test_settings_are_inherited_but_time_intervals_are_not(tree: RoutingTree) -> None:
    (db_email,) = tree.match({"service": "redis", "severity": "error"})
    assert db_email.receiver == "team-db-email"
    assert db_email.options.group_by == frozenset({"alertname", "cluster", "instance"})
    assert db_email.options.group_wait_ms == 30_000
    assert db_email.options.group_interval_ms == 300_000
    assert db_email.options.repeat_interval_ms == 4 * 3600_000
    (batch,) = tree.match({"job": "batch-etl"})
    assert batch.options.mute_time_intervals == ("nightly-maintenance",)
    (info,) = tree.match({"severity": "info"})
    assert info.options.group_by_all
    assert info.options.group_interval_ms == 30 * 60_000
    page, _ = tree.match({"severity": "critical", "service": "redis"})
    assert page.options.group_wait_ms == 10_000
    assert page.continue_


def test_route_keys_ids_and_indices_are_alertmanagers(tree: RoutingTree) -> None:
    node = tree.match({"service": "redis", "severity": "critical"})[1]
    assert node.key() == ('{}/{service=~"^(?:^(postgres|redis)$)$"}/{severity=~"critical|error"}')
    assert node.id() == (
        '{}/{service=~"^(?:^(postgres|redis)$)$"}/2/{severity=~"critical|error"}/0'
    )
    # Children are numbered before their parents; the root comes last.
    indices = {n.key(): n.index for n in tree.walk()}
    assert indices["{}"] == len(indices) - 1
    assert indices['{}/{alertname="Watchdog"}'] == 0
    assert str(tree.root.options) == (
        '<RouteOpts send_to:"default-slack" group_by:["alertname" "cluster" "service"] '
        'group_by_all:false timers:"30s"|"5m0s">'
    )


def test_group_keys_as_webhook_payloads_carry_them(tree: RoutingTree) -> None:
    labels = {
        "alertname": "PostgresDown",
        "severity": "critical",
        "service": "postgres",
        "cluster": "eu-1",
        "instance": "db-1:5432",
    }
    page, email = tree.match(labels)
    assert group_key(page, labels) == (
        '{}/{severity="critical"}:{alertname="PostgresDown", cluster="eu-1", service="postgres"}'
    )
    assert group_key(email, labels) == (
        '{}/{service=~"^(?:^(postgres|redis)$)$"}/{severity=~"critical|error"}:'
        '{alertname="PostgresDown", cluster="eu-1", instance="db-1:5432"}'
    )
    (info,) = tree.match({"severity": "info", "b": "2", "a": "1"})
    assert group_labels(info, {"severity": "info", "b": "2", "a": "1"}) == {
        "severity": "info",
        "b": "2",
        "a": "1",
    }
    assert group_key(info, {"severity": "info", "a": "1"}).endswith(':{a="1", severity="info"}')


def test_label_values_in_group_keys_are_go_quoted() -> None:
    assert format_label_set({"msg": 'say "hi"\n', "z": "ü", "a": ""}) == (
        '{a="", msg="say \\"hi\\"\\n", z="ü"}'
    )


def test_first_matching_child_wins_unless_it_continues() -> None:
    cfg = load_alertmanager_config(
        """
route:
  receiver: root
  routes:
    - matchers: [a="1"]
      receiver: first
      routes:
        - matchers: [b="1"]
          receiver: deep
    - matchers: [a=~".+"]
      receiver: second
      continue: true
    - matchers: [a=~".+"]
      receiver: third
    - matchers: [a=~".+"]
      receiver: never
receivers: [{name: root}, {name: first}, {name: deep}, {name: second}, {name: third},
            {name: never}]
""",
        expand_env=False,
    )
    tree = RoutingTree.of(cfg)
    assert tree.receivers({"a": "1"}) == ["first"]
    assert tree.receivers({"a": "1", "b": "1"}) == ["deep"]
    assert tree.receivers({"a": "2"}) == ["second", "third"]
    assert tree.receivers({"c": "1"}) == ["root"]


def test_route_labels_are_merged_down_the_tree() -> None:
    cfg = load_alertmanager_config(
        """
route:
  receiver: r
  labels: {tier: one, keep: yes}
  routes:
    - matchers: [a="1"]
      labels: {tier: two}
receivers: [{name: r}]
""",
        expand_env=False,
    )
    (node,) = RoutingTree.of(cfg).match({"a": "1"})
    assert dict(node.options.labels) == {"tier": "two", "keep": "yes"}
