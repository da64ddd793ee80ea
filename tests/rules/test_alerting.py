"""Alerting rules follow Prometheus' state machine and write ALERTS as Prometheus does."""

from __future__ import annotations

from tests.support.rules import MIN, lbl, make_group, series, show, step

from spyglass.core.errors import BadInput
from spyglass.rules import AlertingRule, OutgoingAlert
from spyglass.storage.memory import MemoryStore

DOWN = """
groups:
  - name: availability
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 2m
        labels:
          severity: critical
        annotations:
          summary: "Instance {{ $labels.instance }} down"
"""


def alerting(group: object) -> AlertingRule:
    rule = group.rules[0]  # type: ignore[attr-defined]
    assert isinstance(rule, AlertingRule)
    return rule


def test_pending_then_firing_after_for_then_resolved() -> None:
    store = MemoryStore()
    series(store, "up", [0, 0, 0, 1, 1], job="api", instance="a:1")
    group = make_group(DOWN)
    rule = alerting(group)
    assert rule.state() is None  # unknown before the first evaluation

    first = step(store, group, 0)
    assert rule.state() == "pending"
    assert first.alerts == ()  # pending alerts are never sent
    assert step(store, group, 1 * MIN).alerts == ()

    firing = step(store, group, 2 * MIN)
    assert rule.state() == "firing"
    alert_labels = lbl(alertname="InstanceDown", instance="a:1", job="api", severity="critical")
    assert firing.alerts == (
        OutgoingAlert(
            labels=alert_labels,
            annotations=(("summary", "Instance a:1 down"),),
            starts_at_ms=2 * MIN,
            ends_at_ms=2 * MIN + 4 * MIN,  # four times max(interval, resend delay)
            generator_url="/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
            state="firing",
            active_at_ms=0,
            value=0.0,
        ),
    )

    resolved = step(store, group, 3 * MIN)
    assert rule.state() == "inactive"
    assert [(a.state, a.starts_at_ms, a.ends_at_ms) for a in resolved.alerts] == [
        ("inactive", 2 * MIN, 3 * MIN)
    ]
    assert resolved.alerts[0].resolved
    assert rule.active_alerts() == []
    kept = rule.alerts()
    assert [(a.state, a.active_at_ms, a.fired_at_ms, a.resolved_at_ms) for a in kept] == [
        ("inactive", 0, 2 * MIN, 3 * MIN)
    ]


def test_alerts_and_for_state_series_as_prometheus_writes_them() -> None:
    store = MemoryStore()
    series(store, "up", [1, 0, 0, 0, 1], job="api", instance="a:1")
    group = make_group(DOWN)
    assert show(step(store, group, 0).samples) == []
    common = {"alertname": "InstanceDown", "instance": "a:1", "job": "api", "severity": "critical"}
    assert show(step(store, group, 1 * MIN).samples) == [
        ({"__name__": "ALERTS", "alertstate": "pending", **common}, 1 * MIN, 1.0),
        ({"__name__": "ALERTS_FOR_STATE", **common}, 1 * MIN, 60.0),
    ]
    assert show(step(store, group, 3 * MIN).samples) == [
        ({"__name__": "ALERTS", "alertstate": "firing", **common}, 3 * MIN, 1.0),
        ({"__name__": "ALERTS_FOR_STATE", **common}, 3 * MIN, 60.0),
        # The pending series ended when the alert fired.
        ({"__name__": "ALERTS", "alertstate": "pending", **common}, 3 * MIN, "stale"),
    ]
    assert show(step(store, group, 4 * MIN).samples) == [
        ({"__name__": "ALERTS", "alertstate": "firing", **common}, 4 * MIN, "stale"),
        ({"__name__": "ALERTS_FOR_STATE", **common}, 4 * MIN, "stale"),
    ]


def test_pending_alert_that_goes_away_is_dropped_unsent() -> None:
    store = MemoryStore()
    series(store, "up", [0, 1], job="api", instance="a:1")
    group = make_group(DOWN)
    step(store, group, 0)
    second = step(store, group, 1 * MIN)
    assert second.alerts == ()
    assert alerting(group).alerts() == []
    assert [value for _, _, value in show(second.samples)] == ["stale", "stale"]


def test_alert_without_for_fires_at_once() -> None:
    store = MemoryStore()
    group = make_group("groups:\n  - name: g\n    rules:\n      - alert: Always\n        expr: 1\n")
    result = step(store, group, 0)
    assert [(a.labels, a.state, a.starts_at_ms) for a in result.alerts] == [
        (lbl(alertname="Always"), "firing", 0)
    ]


def test_firing_alert_is_resent_once_the_resend_delay_has_passed() -> None:
    store = MemoryStore()
    group = make_group("groups:\n  - name: g\n    rules:\n      - alert: Always\n        expr: 1\n")
    sent = [len(step(store, group, t * MIN).alerts) for t in range(6)]
    # Sent at 0, then only strictly after the 1m resend delay: at 2m and 4m.
    assert sent == [1, 0, 1, 0, 1, 0]
    (alert,) = alerting(group).alerts()
    assert (alert.last_sent_at_ms, alert.valid_until_ms) == (4 * MIN, 8 * MIN)


def test_resolved_alert_is_resent_for_15_minutes_then_forgotten() -> None:
    store = MemoryStore()
    series(store, "up", [0] + [1] * 30, job="api", instance="a:1")
    group = make_group(DOWN.replace("for: 2m", "for: 0s"))
    rule = alerting(group)
    assert step(store, group, 0).alerts[0].state == "firing"
    sends = []
    for t in range(1, 20):
        for alert in step(store, group, t * MIN).alerts:
            sends.append((t, alert.state, alert.ends_at_ms))
    # Resolved at 1m: sent at once, then every resend delay while kept.
    assert sends == [
        (1, "inactive", 1 * MIN),
        (3, "inactive", 1 * MIN),
        (5, "inactive", 1 * MIN),
        (7, "inactive", 1 * MIN),
        (9, "inactive", 1 * MIN),
        (11, "inactive", 1 * MIN),
        (13, "inactive", 1 * MIN),
        (15, "inactive", 1 * MIN),
    ]
    # Kept while at most 15 minutes resolved, dropped after.
    assert rule.alerts() == []
    assert rule.state() == "inactive"


def test_keep_firing_for_holds_a_firing_alert_after_its_condition_clears() -> None:
    store = MemoryStore()
    series(store, "up", [0, 1, 1, 0, 1, 1, 1, 1], job="api", instance="a:1")
    text = DOWN.replace("for: 2m", "for: 0s\n        keep_firing_for: 2m")
    group = make_group(text)
    rule = alerting(group)
    states = []
    for t in range(8):
        step(store, group, t * MIN)
        (alert,) = rule.alerts()
        states.append((alert.state, alert.keep_firing_since_ms))
    assert states == [
        ("firing", None),
        ("firing", 1 * MIN),  # cleared: keeps firing
        ("firing", 1 * MIN),
        ("firing", None),  # back: the keep-firing clock restarts
        ("firing", 4 * MIN),
        ("firing", 4 * MIN),
        ("inactive", 4 * MIN),  # 2m after it cleared, it resolves
        ("inactive", 4 * MIN),
    ]


def test_keep_firing_alerts_still_write_firing_series() -> None:
    store = MemoryStore()
    series(store, "up", [0, 1], job="api", instance="a:1")
    group = make_group(DOWN.replace("for: 2m", "keep_firing_for: 5m"))
    step(store, group, 0)
    kept = show(step(store, group, 1 * MIN).samples)
    assert [(s["__name__"], s.get("alertstate"), v) for s, _, v in kept] == [
        ("ALERTS", "firing", 1.0),
        ("ALERTS_FOR_STATE", None, 0.0),
    ]


def test_labels_and_annotations_are_templated_per_alert_with_value() -> None:
    store = MemoryStore()
    series(store, "queue_depth", [120], queue="orders")
    series(store, "queue_depth", [250.5], queue="billing")
    text = """
groups:
  - name: g
    rules:
      - alert: QueueBacklog
        expr: queue_depth > 100
        labels:
          severity: page
          queue_owner: "team-{{ $labels.queue }}"
        annotations:
          summary: "{{$labels.queue}} has {{ $value }} jobs waiting"
          dashboard: "{{ $externalLabels.cluster }}/queues"
"""
    group = make_group(text, external_labels={"cluster": "eu-1"})
    result = step(store, group, 0)
    assert [(dict(a.labels), dict(a.annotations)) for a in result.alerts] == [
        (
            {
                "alertname": "QueueBacklog",
                "queue": "billing",
                "queue_owner": "team-billing",
                "severity": "page",
            },
            {"dashboard": "eu-1/queues", "summary": "billing has 250.5 jobs waiting"},
        ),
        (
            {
                "alertname": "QueueBacklog",
                "queue": "orders",
                "queue_owner": "team-orders",
                "severity": "page",
            },
            {"dashboard": "eu-1/queues", "summary": "orders has 120 jobs waiting"},
        ),
    ]


def test_value_and_annotations_follow_the_latest_evaluation() -> None:
    store = MemoryStore()
    series(store, "queue_depth", [120, 130], queue="orders")
    text = (
        "groups:\n  - name: g\n    rules:\n      - alert: Q\n        expr: queue_depth > 100\n"
        "        for: 5m\n        annotations:\n          v: '{{ $value }}'\n"
    )
    group = make_group(text)
    step(store, group, 0)
    step(store, group, 1 * MIN)
    (alert,) = alerting(group).alerts()
    assert (alert.value, alert.annotations, alert.active_at_ms) == (130.0, (("v", "130"),), 0)


def test_template_error_keeps_the_raw_text_and_is_reported_on_the_rule() -> None:
    store = MemoryStore()
    text = (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: vector(0.25)\n"
        "        annotations:\n          ratio: '{{ $value | humanizePercentage | index 3 }}'\n"
        "          plain: 'no template'\n"
    )
    group = make_group(text)
    result = step(store, group, 0)
    assert result.alerts[0].annotations == (
        ("plain", "no template"),
        ("ratio", "{{ $value | humanizePercentage | index 3 }}"),
    )
    (status,) = result.rules
    assert status.health == "err"
    assert status.last_error.startswith(
        'expanding annotation "ratio": error executing template __alert_A: template: __alert_A:1:'
    )
    assert [s["__name__"] for s, _, _ in show(result.samples)] == ["ALERTS", "ALERTS_FOR_STATE"]


def test_expander_receives_prometheus_template_data() -> None:
    calls = []

    def expander(text: str, **kwargs: object) -> str:
        calls.append((text, kwargs))
        query = kwargs["query"]
        assert callable(query)
        (sample,) = query("up")
        return f"{dict(sample.labels)['instance']}={sample.value}"

    store = MemoryStore()
    series(store, "up", [0, 0], job="api", instance="a:1")
    text = (
        "groups:\n  - name: g\n    query_offset: 1m\n    rules:\n      - alert: Down\n"
        "        expr: up == 0\n        annotations:\n          s: '{{ query \"up\" }}'\n"
    )
    group = make_group(text, expander=expander, external_url="http://spyglass:9090")
    result = step(store, group, 2 * MIN)
    (text_seen, data) = calls[0]
    assert text_seen == '{{ query "up" }}'
    assert data["name"] == "Down"
    assert data["labels"] == {"__name__": "up", "instance": "a:1", "job": "api"}
    assert data["value"] == 0.0
    assert data["external_url"] == "http://spyglass:9090"
    assert data["timestamp_ms"] == 2 * MIN  # templates run at the evaluation time itself
    assert result.alerts[0].annotations == (("s", "a:1=0.0"),)
    assert result.alerts[0].generator_url == (
        "http://spyglass:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"
    )


def test_template_error_in_a_label_keeps_the_raw_label() -> None:
    def expander(text: str, **kwargs: object) -> str:
        raise BadInput("no such function")

    store = MemoryStore()
    text = (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: vector(1)\n"
        "        labels:\n          owner: '{{ bad }}'\n"
    )
    result = step(store, make_group(text, expander=expander), 0)
    assert result.alerts[0].labels == lbl(alertname="A", owner="{{ bad }}")
    assert result.rules[0].last_error == 'expanding label "owner": no such function'


def test_limit_breach_is_a_rule_error_and_clears_alerts() -> None:
    store = MemoryStore()
    for instance in ("a", "b", "c"):
        series(store, "up", [0], instance=instance)
    text = DOWN.replace("  - name: availability\n", "  - name: availability\n    limit: 2\n")
    group = make_group(text)
    result = step(store, group, 0)
    assert result.samples == ()
    assert result.alerts == ()
    assert result.rules[0].health == "err"
    assert result.rules[0].last_error == "exceeded limit of 2 with 3 alerts"
    assert alerting(group).alerts() == []


def test_same_labels_after_templating_is_an_error() -> None:
    store = MemoryStore()
    series(store, "up", [0], instance="a", job="x")
    series(store, "up", [0], instance="b", job="x")
    text = (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n"
        "        expr: sum without(instance) (up) == 0 or up == 0\n"
        "        labels:\n          instance: all\n"
    )
    result = step(store, make_group(text), 0)
    assert result.rules[0].last_error == (
        "vector contains metrics with the same labelset after applying alert labels"
    )


def test_query_offset_queries_and_writes_in_the_past() -> None:
    store = MemoryStore()
    series(store, "up", [0, 1, 1], job="api", instance="a:1")
    text = DOWN.replace(
        "  - name: availability\n", "  - name: availability\n    query_offset: 2m\n"
    )
    group = make_group(text)
    result = step(store, group, 2 * MIN)
    # At 2m it sees the data of 0m (up == 0) and writes at 0m; the alert is active since 2m.
    assert [(s["__name__"], t) for s, t, _ in show(result.samples)] == [
        ("ALERTS", 0),
        ("ALERTS_FOR_STATE", 0),
    ]
    assert alerting(group).alerts()[0].active_at_ms == 2 * MIN


def test_restore_pending_writes_no_alert_series_until_restored() -> None:
    store = MemoryStore()
    series(store, "up", [0, 0], job="api", instance="a:1")
    group = make_group(DOWN, restore_pending=True)
    first = step(store, group, 0)
    assert first.samples == ()
    assert alerting(group).state() == "pending"
    alerting(group).restored = True
    assert len(step(store, group, 1 * MIN).samples) == 2
