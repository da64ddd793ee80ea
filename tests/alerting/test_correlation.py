"""Correlation groups: one outage's alerts share one aggregation group per service."""

from __future__ import annotations

import pytest

from spyglass.alerting import parse_matchers
from spyglass.alerting._correlation import CorrelationRule, correlation_for

RULE = CorrelationRule(
    "service-degraded", ("ServiceDown", "HighErrorRate", "HighResponseTime"), by=("service",)
)


def test_alerts_of_one_service_share_group_labels_and_other_services_do_not() -> None:
    down = {"alertname": "ServiceDown", "service": "api", "instance": "a:1"}
    errors = {"alertname": "HighErrorRate", "service": "api", "route": "/x"}
    other = {"alertname": "HighErrorRate", "service": "db"}
    assert RULE.group_labels(down) == RULE.group_labels(errors)
    assert RULE.group_labels(down) == {"service": "api", "correlation": "service-degraded"}
    assert RULE.group_labels(other) != RULE.group_labels(down)


def test_an_alert_not_named_or_without_the_shared_label_is_not_covered() -> None:
    assert not RULE.covers({"alertname": "DiskFull", "service": "api"})
    assert not RULE.covers({"alertname": "ServiceDown"})
    assert not RULE.covers({"alertname": "ServiceDown", "service": ""})


def test_matchers_narrow_a_rule_and_the_first_covering_rule_wins() -> None:
    prod = CorrelationRule(
        "prod",
        ("ServiceDown", "HighErrorRate"),
        by=("service",),
        matchers=tuple(parse_matchers('env="prod"')),
    )
    labels = {"alertname": "ServiceDown", "service": "api", "env": "dev"}
    assert correlation_for([prod, RULE], labels) is RULE
    assert correlation_for([prod, RULE], {**labels, "env": "prod"}) is prod
    assert correlation_for([prod], labels) is None


@pytest.mark.parametrize(("name", "alerts"), [("", ("A", "B")), ("x", ("A",))])
def test_a_rule_without_a_name_or_with_one_alert_is_refused(
    name: str, alerts: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="correlat"):
        CorrelationRule(name, alerts)
