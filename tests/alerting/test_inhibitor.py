"""The indexed inhibitor answers exactly as ``inhibiting_alert`` does: the same rule and the same
source, for any alerts and rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spyglass.alerting import inhibiting_alert, load_alertmanager_config
from spyglass.alerting._inhibitor import Inhibitor

RULES = load_alertmanager_config(
    """
route: {receiver: r}
receivers: [{name: r}]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity=~"warning|critical"]
    equal: [service]
  - source_matchers: [alertname="NodeDown"]
    target_matchers: [severity!=""]
    equal: [node, zone]
  - source_matchers: [severity="info"]
    target_matchers: [severity="info"]
"""
).inhibit_rules

label_sets = st.dictionaries(
    st.sampled_from(["alertname", "severity", "service", "node", "zone"]),
    st.sampled_from(["", "critical", "warning", "info", "NodeDown", "a", "b"]),
    max_size=5,
)


@given(st.lists(label_sets, max_size=12), st.lists(label_sets, min_size=1, max_size=6))
def test_the_index_finds_the_same_rule_and_source_as_the_plain_search(
    firing: list[dict[str, str]], targets: list[dict[str, str]]
) -> None:
    inhibitor = Inhibitor(RULES, firing)
    for labels in targets:
        assert inhibitor.inhibiting(labels) == inhibiting_alert(labels, firing, RULES)


def test_a_critical_alert_mutes_a_warning_of_its_service_but_not_itself() -> None:
    critical = {"alertname": "Down", "severity": "critical", "service": "db"}
    inhibitor = Inhibitor(RULES, [critical])
    assert inhibitor.inhibiting({**critical, "severity": "warning"}) == (RULES[0], critical)
    assert inhibitor.inhibiting(critical) is None
    assert inhibitor.inhibiting({**critical, "severity": "warning", "service": "web"}) is None
