"""Reading SLO specs (Sloth prometheus/v1, OpenSLO v1) and the rules generated from them."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.required import need_promtool

from spyglass.core.errors import ConfigError
from spyglass.slo import generate_rule_file, parse_slo_file

SLOTH = """version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: "pageteam"
      ticket_alert:
        disable: true
"""

OPENSLO = """apiVersion: openslo/v1
kind: Service
metadata: {name: checkout}
spec: {description: the shop}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: checkout
  budgetingMethod: Occurrences
  indicator:
    metadata: {name: checkout-errors}
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec: {query: 'http_requests_total{job="checkout",code!~"5.."}'}
        total:
          metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="checkout"}'}}
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - displayName: good
      target: 0.995
"""


def test_sloth_spec() -> None:
    (slo,) = parse_slo_file(SLOTH, "s.yml")
    assert (slo.id, slo.objective, slo.period_ms) == (
        "myservice-requests-availability",
        99.9,
        30 * 86_400_000,
    )
    assert slo.labels == {"owner": "myteam"}
    assert slo.ticket.disable
    assert not slo.page.disable
    assert "[1h]" in slo.sli_at("1h")
    assert "{{.window}}" not in slo.sli_at("1h")


def test_openslo_ratio_metric_with_good_events() -> None:
    (slo,) = parse_slo_file(OPENSLO, "o.yml")  # the Service document is skipped
    assert (slo.id, slo.objective, slo.period_ms) == (
        "checkout-checkout-availability",
        99.5,
        28 * 86_400_000,
    )
    assert slo.sli_at("5m").startswith("1 - (")
    assert 'rate(http_requests_total{job="checkout",code!~"5.."}[5m])' in slo.sli_at("5m")


def test_generated_rules_follow_sloths_layout() -> None:
    rules = yaml.safe_load(generate_rule_file(parse_slo_file(SLOTH)))
    names = [g["name"] for g in rules["groups"]]
    assert names == [
        "sloth-slo-sli-recordings-myservice-requests-availability",
        "sloth-slo-meta-recordings-myservice-requests-availability",
        "sloth-slo-alerts-myservice-requests-availability",
    ]
    records = [r["record"] for r in rules["groups"][0]["rules"]]
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert records == [f"slo:sli_error:ratio_rate{w}" for w in windows]
    (page,) = rules["groups"][2]["rules"]  # the ticket alert is disabled
    assert page["labels"] == {
        "category": "availability",
        "severity": "pageteam",
        "sloth_severity": "page",
    }
    assert "(14.4 * 0.0009999999999999432)" in page["expr"]
    assert "(6 * 0.0009999999999999432)" in page["expr"]
    meta = {r["record"]: r["expr"] for r in rules["groups"][1]["rules"]}
    assert meta["slo:objective:ratio"] == "vector(0.9990000000000001)"
    assert meta["slo:time_period:days"] == "vector(30)"


def test_generated_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = need_promtool()
    path = tmp_path / "rules.yml"
    path.write_text(generate_rule_file(parse_slo_file(SLOTH) + parse_slo_file(OPENSLO)))
    cmd = [promtool, "check", "rules", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # 8 SLI and 7 meta recordings each, plus one alert (ticket disabled) and two.
    assert "SUCCESS: 33 rules found" in done.stdout


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (SLOTH.replace('"prometheus/v1"', '"prometheus/v2"'), 1, "version", "unsupported version"),
        (SLOTH.replace("objective: 99.9", "objective: 100"), 7, "slos[0].objective", "below 100"),
        (SLOTH.replace("[{{.window}}]))\n        total", "[5m]))\n        total"), 11,
         "slos[0].sli.events.error_query", "{{.window}}"),
        (SLOTH.replace("sum(rate(http_requests_total{job", "sum(rate(http_requests_total{{job", 1),
         11, "slos[0].sli.events.error_query", "invalid PromQL"),
        (SLOTH.replace("      name: MyServiceHighErrorRate\n", ""), 14,
         "slos[0].alerting.name", "is required"),
        (SLOTH.replace("    description:", "    desc:"), 8, "slos[0].desc", "not found"),
    ],
)  # fmt: skip
def test_errors_name_file_line_and_field(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_slo_file(text, "slos.yml")
    assert (err.value.file, err.value.line, err.value.field) == ("slos.yml", line, field)
    assert words in err.value.message


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 200), st.floats(0, 100), st.text(max_size=8)
)
_keys = st.sampled_from(
    [
        "version",
        "service",
        "slos",
        "name",
        "objective",
        "sli",
        "events",
        "raw",
        "error_query",
        "total_query",
        "alerting",
        "apiVersion",
        "kind",
        "spec",
        "x",
    ]
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=14,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_any_document_loads_or_fails_with_a_config_error(doc: dict[str, object]) -> None:
    """Whatever a spec holds, reading it gives SLOs or raises ConfigError, nothing else."""
    with contextlib.suppress(ConfigError):
        parse_slo_file(yaml.safe_dump(doc), "s.yml")
