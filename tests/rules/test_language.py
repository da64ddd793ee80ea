"""LogQL rules, as Loki's ruler runs them: a group's ``type`` (or a Loki ruler file) makes its
expressions LogQL, parsed and evaluated over the log store, while recording and alerting work
exactly as for PromQL rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from tests.logs.strategies import log_queries, metric_queries
from tests.support.rules import MIN, lbl, make_group, series, show, step

from spyglass.core.alerts import Alert
from spyglass.core.config import load_config
from spyglass.core.errors import ParseError, SpyglassError
from spyglass.core.labels import labels_of
from spyglass.core.logs import LogRecord
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.template import expand_alert_template
from spyglass.logs import Engine as LogQLEngine
from spyglass.logs import LogQuery, parse_query
from spyglass.rules import (
    Languages,
    LogQLEvaluator,
    RuleFileError,
    RuleManager,
    parse_rule_file,
)
from spyglass.rules._language import check_expression
from spyglass.rules._manager import _Running
from spyglass.storage import MemoryStore
from spyglass.storage.memory_logs import MemoryLogStore

NS = 1_000_000  # nanoseconds in a millisecond

ERRORS_RULES = """
groups:
  - name: api-errors
    type: logql
    rules:
      - record: service:log_errors:count1m
        expr: sum by (service) (count_over_time({job="api"} | json | level="error" [1m]))
      - alert: ManyErrors
        expr: sum by (service) (count_over_time({job="api"} | json | level="error" [1m])) > 5
        labels: {severity: page}
        annotations: {summary: "{{ $labels.service }} logged {{ $value }} errors in a minute"}
"""


def api_logs(store: MemoryLogStore, *, at_ms: int, errors: dict[str, int], infos: int = 3) -> None:
    """JSON lines of job="api" in the minute before ``at_ms``: ``errors[service]`` error lines
    per service, and a few info lines that the rules must not count."""
    records = []
    n = 0
    for service, count in errors.items():
        for _ in range(count):
            n += 1
            line = json.dumps({"level": "error", "service": service, "msg": f"boom {n}"})
            records.append(LogRecord((at_ms - 50_000 + n) * NS, line, lbl(job="api")))
    for i in range(infos):
        line = json.dumps({"level": "info", "service": "checkout", "msg": "ok"})
        records.append(LogRecord((at_ms - 40_000 + i) * NS, line, lbl(job="api")))
    store.load(records)


def test_recording_rule_writes_logql_counts_as_prometheus_samples() -> None:
    logs = MemoryLogStore()
    api_logs(logs, at_ms=10 * MIN, errors={"checkout": 7, "search": 2})
    group = make_group(ERRORS_RULES, languages=Languages(logs=logs))
    result = step(MemoryStore(), group, 10 * MIN)
    recorded = [
        (s, t, v) for s, t, v in show(result.samples) if s["__name__"].startswith("service:")
    ]
    assert recorded == [
        ({"__name__": "service:log_errors:count1m", "service": "checkout"}, 10 * MIN, 7.0),
        ({"__name__": "service:log_errors:count1m", "service": "search"}, 10 * MIN, 2.0),
    ]
    assert [r.health for r in result.rules] == ["ok", "ok"]


def test_alerting_rule_fires_with_templated_annotations_and_writes_alerts_series() -> None:
    logs = MemoryLogStore()
    api_logs(logs, at_ms=10 * MIN, errors={"checkout": 7, "search": 2})
    group = make_group(ERRORS_RULES, languages=Languages(logs=logs))
    result = step(MemoryStore(), group, 10 * MIN)
    [alert] = result.alerts
    assert dict(alert.labels) == {
        "alertname": "ManyErrors",
        "service": "checkout",
        "severity": "page",
    }
    assert dict(alert.annotations) == {"summary": "checkout logged 7 errors in a minute"}
    assert alert.state == "firing"  # no `for`: firing at the first evaluation
    alerts_series = [s for s, _, _ in show(result.samples) if s["__name__"] == "ALERTS"]
    assert alerts_series == [
        {
            "__name__": "ALERTS",
            "alertname": "ManyErrors",
            "alertstate": "firing",
            "service": "checkout",
            "severity": "page",
        }
    ]


def test_alert_resolves_when_the_errors_stop() -> None:
    logs = MemoryLogStore()
    api_logs(logs, at_ms=10 * MIN, errors={"checkout": 7})
    group = make_group(ERRORS_RULES, languages=Languages(logs=logs))
    store = MemoryStore()
    assert [a.state for a in step(store, group, 10 * MIN).alerts] == ["firing"]
    # Five minutes later the one-minute window holds no error line.
    later = step(store, group, 15 * MIN)
    assert [a.state for a in later.alerts] == ["inactive"]


def test_a_logql_group_reads_logs_even_where_its_expression_is_also_promql() -> None:
    # count_over_time({job="api"}[1m]) parses as PromQL too; with type: logql it counts lines.
    text = """
groups:
  - name: g
    type: logql
    rules:
      - record: api:lines:count1m
        expr: count_over_time({job="api"}[1m])
"""
    logs = MemoryLogStore()
    api_logs(logs, at_ms=10 * MIN, errors={"checkout": 4}, infos=1)
    metrics = MemoryStore()
    series(metrics, "whatever", [1.0] * 11, job="api")  # a metric the selector would match
    result = step(metrics, make_group(text, languages=Languages(logs=logs)), 10 * MIN)
    assert show(result.samples) == [
        ({"__name__": "api:lines:count1m", "job": "api"}, 10 * MIN, 5.0)
    ]


def test_promql_groups_beside_logql_ones_still_read_metrics() -> None:
    text = """
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
"""
    metrics = MemoryStore()
    series(metrics, "up", [1.0] * 11, job="api", instance="a")
    result = step(metrics, make_group(text, languages=Languages(logs=MemoryLogStore())), 10 * MIN)
    assert show(result.samples) == [({"__name__": "job:up:sum", "job": "api"}, 10 * MIN, 1.0)]


def test_logql_rules_without_a_log_store_report_it_on_each_rule() -> None:
    group = make_group(ERRORS_RULES, languages=Languages())
    result = step(MemoryStore(), group, 10 * MIN)
    assert [r.health for r in result.rules] == ["err", "err"]
    assert "LogQL rules need a log store" in result.rules[0].last_error


def test_a_failing_logql_rule_keeps_loki_s_error_and_the_next_rule_runs() -> None:
    text = """
groups:
  - name: g
    type: logql
    rules:
      - record: bad
        expr: sum(sum_over_time({job="api"} | logfmt | unwrap latency [1m]))
      - record: good
        expr: sum(count_over_time({job="api"}[1m]))
"""
    logs = MemoryLogStore()
    logs.load([LogRecord((10 * MIN - 1000) * NS, "latency=abc", lbl(job="api"))])
    result = step(MemoryStore(), make_group(text, languages=Languages(logs=logs)), 10 * MIN)
    assert [r.health for r in result.rules] == ["err", "ok"]
    assert "SampleExtractionErr" in result.rules[0].last_error
    assert show(result.samples) == [({"__name__": "good"}, 10 * MIN, 1.0)]


def test_the_evaluator_turns_a_scalar_into_one_unlabelled_sample() -> None:
    evaluator = LogQLEvaluator(LogQLEngine(MemoryLogStore()))
    assert evaluator.instant("2 * 3", 10 * MIN) == [((), 6.0)]


# -- rule files ---------------------------------------------------------------------------------


def errors_of(text: str, **options: object) -> list[str]:
    with pytest.raises(RuleFileError) as caught:
        parse_rule_file(text, file="rules.yml", **options)  # type: ignore[arg-type]
    return [str(e) for e in caught.value.errors]


def test_a_logql_parse_error_names_file_line_and_field_in_loki_s_words() -> None:
    text = """groups:
  - name: g
    type: logql
    rules:
      - alert: A
        expr: sum(count_over_time({job="api"} |= [1m]))
"""
    [error] = errors_of(text)
    assert error.startswith("rules.yml:6: groups[0].rules[0].expr: ")
    assert 'group "g", rule 1, "A": could not parse expression: parse error at line 1' in error


def test_a_log_query_is_no_rule_expression() -> None:
    text = """groups:
  - name: g
    type: logql
    rules:
      - record: r
        expr: '{job="api"} |= "error"'
"""
    [error] = errors_of(text)
    assert error.endswith("could not parse expression: only sample expression supported")


def test_loki_ruler_files_hold_logql_in_groups_without_type() -> None:
    text = """groups:
  - name: loki
    rules:
      - record: r
        expr: sum(rate({job="api"} |= "error" [5m]))
  - name: metrics
    type: prometheus
    rules:
      - record: s
        expr: sum(rate(http_requests_total[5m]))
"""
    loki = parse_rule_file(text, file="loki.yml", default_language="logql")
    assert [g.language for g in loki.groups] == ["logql", "promql"]
    # Read as a Prometheus file, the first group is PromQL and its LogQL does not parse.
    [error] = errors_of(text)
    assert "groups[0].rules[0].expr" in error


def test_an_unknown_group_type_is_an_error_on_that_field() -> None:
    text = """groups:
  - name: g
    type: graphite
    rules:
      - record: r
        expr: up
"""
    [error] = errors_of(text)
    assert error == (
        'rules.yml:3: groups[0].type: group "g": unknown type "graphite" (want prometheus or logql)'
    )


def test_a_misnamed_language_field_points_at_type() -> None:
    text = "groups:\n  - name: g\n    query_language: logql\n    rules: []\n"
    [error] = errors_of(text)
    assert "a group of LogQL rules says 'type: logql'" in error


@settings(max_examples=60, deadline=None)
@given(metric_queries)
def test_every_logql_metric_query_that_parses_is_a_valid_rule(query: str) -> None:
    try:
        parsed = parse_query(query)
    except SpyglassError:
        with pytest.raises(ParseError):
            check_expression("logql", query)
        return
    assert not isinstance(parsed, LogQuery)
    text = (
        "groups:\n  - name: g\n    type: logql\n    rules:\n      - record: r\n"
        f"        expr: {json.dumps(query)}\n"
    )
    [group] = parse_rule_file(text, file="rules.yml").groups
    assert (group.language, group.rules[0].expr) == ("logql", query)


@settings(max_examples=60, deadline=None)
@given(log_queries)
def test_no_log_query_is_a_valid_rule(query: str) -> None:
    with pytest.raises(ParseError):
        check_expression("logql", query)


# -- the manager --------------------------------------------------------------------------------


class Sent:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alerts: Sequence[Alert]) -> None:
        self.alerts.extend(alerts)


def test_the_manager_runs_loki_ruler_files_and_writes_and_sends_their_output(
    tmp_path: Path,
) -> None:
    ruler = ERRORS_RULES.replace("    type: logql\n", "")  # a Loki ruler file says nothing
    (tmp_path / "loki-rules.yml").write_text(ruler)
    config = load_config("global: {evaluation_interval: 1m}\n", directory=tmp_path)
    logs, metrics, sent = MemoryLogStore(), MemoryStore(), Sent()
    now_ms = 1_700_000_000_000
    api_logs(logs, at_ms=now_ms, errors={"checkout": 9})
    manager = RuleManager(
        config, querier=metrics, sink=metrics, alerts=sent, expander=expand_alert_template,
        logs=logs, logs_rule_files=[str(tmp_path / "*.yml")], clock=lambda: now_ms / 1000,
    )  # fmt: skip
    [group] = manager.load(config)
    assert group.language == "logql"
    asyncio.run(manager.evaluate(_Running(group), now_ms))
    recorded = metrics.select(
        [Matcher("__name__", MatchOp.EQUAL, "service:log_errors:count1m")], 0, now_ms * 2
    )
    assert [(s.labels, s.values.tolist()) for s in recorded] == [
        (labels_of({"__name__": "service:log_errors:count1m", "service": "checkout"}), [9.0])
    ]
    assert [dict(a.labels)["alertname"] for a in sent.alerts] == ["ManyErrors"]


def test_a_reload_finds_loki_ruler_files_added_since(tmp_path: Path) -> None:
    config = load_config("global: {evaluation_interval: 1m}\n", directory=tmp_path)
    ruler = ERRORS_RULES.replace("    type: logql\n", "")
    (tmp_path / "a.yml").write_text(ruler)
    metrics = MemoryStore()
    manager = RuleManager(
        config, querier=metrics, sink=metrics, alerts=Sent(), expander=expand_alert_template,
        logs=MemoryLogStore(), logs_rule_files=[str(tmp_path / "*.yml")],
    )  # fmt: skip
    assert [(g.file, g.language) for g in manager.load(config)] == [
        (str(tmp_path / "a.yml"), "logql")
    ]
    (tmp_path / "b.yml").write_text(ruler.replace("api-errors", "more"))
    assert [g.name for g in manager.load(config)] == ["api-errors", "more"]
