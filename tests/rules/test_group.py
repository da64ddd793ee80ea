"""Rule groups evaluate in order, see their own output, mark vanished series stale, and report
each rule's health without letting one failure stop the others."""

from __future__ import annotations

from pathlib import Path

from tests.support.rules import MIN, lbl, make_group, series, show, step

from spyglass.core.samples import is_stale
from spyglass.core.template import expand_alert_template
from spyglass.rules import RecordingRule, RuleGroup, load_rule_file
from spyglass.storage.memory import MemoryStore

TESTDATA = Path(__file__).parent / "testdata"


def traffic(store: MemoryStore) -> None:
    series(store, "http_requests_total", [i * 60 for i in range(10)], job="api", instance="a")
    series(store, "http_requests_total", [i * 180 for i in range(10)], job="web", instance="b")


def test_recording_rules_rename_relabel_and_feed_the_rules_below() -> None:
    store = MemoryStore()
    traffic(store)
    spec = load_rule_file(TESTDATA / "recording.yml").groups[0]
    group = RuleGroup(spec, expander=expand_alert_template)
    result = step(store, group, 8 * MIN)
    got = {(s["__name__"], s["job"]): (s.get("team"), t, v) for s, t, v in show(result.samples)}
    assert got == {
        ("job:http_requests:rate5m", "api"): ("platform", 8 * MIN, 1.0),
        ("job:http_requests:rate5m", "web"): ("platform", 8 * MIN, 3.0),
        # The second rule reads the first one's samples of this very evaluation.
        ("job:http_requests:rate5m:share", "api"): ("web", 8 * MIN, 0.25),
        ("job:http_requests:rate5m:share", "web"): ("web", 8 * MIN, 0.75),
    }
    assert [r.health for r in result.rules] == ["ok", "ok"]


def test_alert_on_alerts_of_an_earlier_rule_sees_them_at_once() -> None:
    store = MemoryStore()
    text = """
groups:
  - name: g
    rules:
      - alert: First
        expr: vector(1)
      - alert: Second
        expr: count(ALERTS{alertname="First", alertstate="firing"}) == 1
"""
    result = step(store, make_group(text), 0)
    assert sorted(dict(a.labels)["alertname"] for a in result.alerts) == ["First", "Second"]


def test_recording_rule_labels_scalars_and_empty_values() -> None:
    store = MemoryStore()
    series(store, "up", [1], job="api", instance="a", env="prod")
    text = """
groups:
  - name: g
    rules:
      - record: instance:up:relabelled
        expr: up
        labels:
          env: ""
          tier: backend
          job: overridden
      - record: constant
        expr: "42"
"""
    result = step(store, make_group(text), 0)
    assert show(result.samples) == [
        (
            {
                "__name__": "instance:up:relabelled",
                "instance": "a",
                "job": "overridden",
                "tier": "backend",
            },
            0,
            1.0,
        ),
        ({"__name__": "constant"}, 0, 42.0),
    ]


def test_result_that_is_not_a_vector_or_scalar_is_an_error() -> None:
    text = "groups:\n  - name: g\n    rules:\n      - record: s\n        expr: '\"text\"'\n"
    result = step(MemoryStore(), make_group(text), 0)
    assert result.rules[0].last_error == "rule result is not a vector or scalar"


def test_recording_rule_limit_and_duplicates_are_errors() -> None:
    store = MemoryStore()
    series(store, "up", [1], instance="a")
    series(store, "up", [1], instance="b")
    text = """
groups:
  - name: g
    limit: 1
    rules:
      - record: many
        expr: up
      - record: same
        expr: sum by (instance) (up) == bool 1 or vector(1)
        labels:
          instance: x
"""
    result = step(store, make_group(text), 0)
    assert [r.last_error for r in result.rules] == [
        "exceeded limit of 1 with 2 series",
        "vector contains metrics with the same labelset after applying rule labels",
    ]
    assert result.samples == ()


def test_a_failing_rule_does_not_stop_the_group_and_keeps_its_series() -> None:
    store = MemoryStore()
    series(store, "left", [1, 1, 1], a="1")
    series(store, "right", [1, 1], a="1", b="1")
    text = """
groups:
  - name: g
    rules:
      - record: joined
        expr: left + on(a) right
      - record: after
        expr: vector(1)
"""
    group = make_group(text)
    assert len(step(store, group, 0).samples) == 2
    series(store, "right", [None, 1], a="1", b="2")  # a second match makes the join fail
    failed = step(store, group, 1 * MIN)
    joined, after = failed.rules
    assert (joined.health, after.health) == ("err", "ok")
    assert "many-to-many matching not allowed" in joined.last_error
    # No staleness marker while the rule fails: Prometheus only marks after a good evaluation.
    assert [s["__name__"] for s, _, _ in show(failed.samples)] == ["after"]


def test_series_a_rule_no_longer_returns_get_a_staleness_marker() -> None:
    store = MemoryStore()
    series(store, "up", [1, 1], instance="a")
    series(store, "up", [1], instance="b")
    group = make_group("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n")
    step(store, group, 0)
    later = step(store, group, 6 * MIN)  # "b" is past the 5m lookback, "a" too
    assert [(s["instance"], v) for s, _, v in show(later.samples)] == [
        ("a", "stale"),
        ("b", "stale"),
    ]
    assert step(store, group, 7 * MIN).samples == ()  # marked once


def test_health_timing_and_group_bookkeeping() -> None:
    clock = iter([100.0, 100.5, 100.75])
    group = make_group(
        "groups:\n  - name: g\n    interval: 30s\n    rules:\n      - record: r\n"
        "        expr: vector(1)\n",
        clock=lambda: next(clock),
    )
    rule = group.rules[0]
    assert isinstance(rule, RecordingRule)
    assert (rule.health, rule.last_error, rule.last_evaluation_ms) == ("unknown", "", None)
    assert group.interval_ms == 30_000
    result = group.evaluate(MemoryStore(), 5 * MIN)
    (status,) = result.rules
    assert (status.name, status.kind, status.health) == ("r", "recording", "ok")
    assert status.last_evaluation_ms == 100_500  # wall clock when the rule started
    assert status.evaluation_seconds >= 0
    assert group.last_evaluation_ms == 100_000
    assert group.last_eval_timestamp_ms == 5 * MIN
    assert result.duration_seconds >= status.evaluation_seconds


def test_defaults_from_global_config_apply_where_the_group_sets_none() -> None:
    text = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: vector(1)\n"
    group = make_group(text, default_interval_ms=15_000, default_query_offset_ms=30_000)
    assert (group.interval_ms, group.query_offset_ms) == (15_000, 30_000)
    result = group.evaluate(MemoryStore(), 60_000)
    assert [s.time_ms for s in result.samples] == [30_000]
    own = make_group(
        text.replace("- name: g\n", "- name: g\n    query_offset: 0s\n"),
        default_query_offset_ms=30_000,
    )
    assert own.query_offset_ms == 0


def test_batch_carries_every_sample_for_the_sample_sink() -> None:
    store = MemoryStore()
    series(store, "up", [1], instance="a")
    group = make_group("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n")
    result = group.evaluate(store, 0)
    batch = result.batch()
    assert len(batch) == 1
    assert list(batch.series.values()) == [lbl(__name__="r", instance="a")]
    gone = group.evaluate(MemoryStore(), MIN).batch()
    assert is_stale(float(gone.values[0]))
