"""The benchmarks' generated inputs are valid: the rule file passes ``check rules`` (and its
duplicate lint), the data holds distinct, ordered series, the alerts are distinct and well
formed. Fast, and no timing: the benchmarks themselves are programs under bench/."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import numpy as np
from bench.alert_intake import make_alerts
from bench.logql_engine import NEEDLE, make_lines
from bench.rule_evaluation import make_rules_dataset, rule_file_yaml

from spyglass.rules import check_alert_template, duplicate_rules, parse_rule_file


def test_the_rule_file_has_1000_valid_rules_in_groups_of_20_without_duplicates() -> None:
    # As `spyglass check rules` reads it, templates checked.
    text = rule_file_yaml(50, 140)
    rule_file = parse_rule_file(text, file="rules.yml", check_template=check_alert_template)
    assert rule_file.rule_count == 1000
    assert {len(g.rules) for g in rule_file.groups} == {20}
    assert len({g.name for g in rule_file.groups}) == 50
    kinds = Counter(r.kind for g in rule_file.groups for r in g.rules)
    assert kinds == {"recording": 500, "alerting": 500}
    assert duplicate_rules(rule_file) == []


def test_the_dataset_holds_distinct_ordered_series_with_up_for_every_instance() -> None:
    end = 1_760_000_000_000
    data = make_rules_dataset(400, 12, end)
    assert len(set(data.series)) == len(data.series)
    assert data.values.shape == data.timestamps.shape == (len(data.series), 12)
    assert (np.diff(data.timestamps, axis=1) > 0).all()
    assert data.end_ms <= end + 50
    names = Counter(dict(ls)["__name__"] for ls in data.series)
    instances = {dict(ls)["instance"] for ls in data.series}
    assert names["up"] == 2 * len(instances)  # the service's job and the node job


def test_alerts_are_distinct_and_shaped_as_prometheus_posts_them() -> None:
    alerts = make_alerts(5000, delivery="one request")
    keys = {tuple(sorted(a["labels"].items())) for a in alerts}
    assert len(keys) == 5000
    for a in alerts[:50]:
        assert a["labels"]["alertname"]
        starts = datetime.fromisoformat(a["startsAt"])
        ends = datetime.fromisoformat(a["endsAt"])
        assert starts < ends
        assert a["generatorURL"].startswith("http://")


def test_the_logql_benchmark_lines_are_json_with_one_needle() -> None:
    lines = make_lines(1000)
    docs = [json.loads(line) for _, line in lines]
    assert sum(NEEDLE in line for _, line in lines) == 1
    assert {d["level"] for d in docs} <= {"info", "warn", "error", "debug"}
    assert [ts for ts, _ in lines] == sorted(ts for ts, _ in lines)
