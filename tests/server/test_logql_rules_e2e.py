"""End to end: LogQL rules in a real ``spyglass serve``, as Loki's ruler runs them.

JSON logs with errors arrive through Loki's push API. A ``type: logql`` group in a rule file
prometheus.yml names alerts on the errors per service; the alert is routed by alertmanager.yml
to a loopback webhook and sent to the real Alertmanager prometheus.yml's ``alerting`` names. A
Loki ruler file (``--logs-rule-files``, no ``type``) records the count, and the recorded series
answers PromQL. Loki's ruler API and Prometheus' rules and alerts APIs list the rules with
their health and the alert.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.support.required import need_alertmanager
from tests.support.servers import alertmanager, spyglass
from tests.support.webhooks import WebhookSink

AM_CONFIG = """
route:
  receiver: hook
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{hook}/hook"}}]
"""
ALERT_RULES = """
groups:
  - name: log-alerts
    type: logql
    interval: 1s
    rules:
      - alert: ManyErrors
        expr: sum by (service) (count_over_time({job="api"} | json | level="error" [1m])) > 5
        for: 0s
        labels: {severity: page}
        annotations: {summary: "{{ $labels.service }}: {{ $value }} errors in a minute"}
"""
# As Loki's ruler takes it: a plain Prometheus rule file whose expressions are LogQL.
LOKI_RULER_FILE = """
groups:
  - name: log-recordings
    interval: 1s
    rules:
      - record: service:log_errors:count1m
        expr: sum by (service) (count_over_time({job="api"} | json | level="error" [1m]))
"""


def push_logs(base: str) -> None:
    now = time.time_ns()
    values = []
    for i in range(8):
        line = {"level": "error", "service": "checkout", "msg": f"payment failed {i}"}
        values.append([str(now - (i + 1) * 1_000_000), json.dumps(line)])
    for i in range(3):  # other services and levels do not count
        values.append([str(now - i * 1000), json.dumps({"level": "error", "service": "search"})])
        values.append(
            [str(now - i * 1000 - 1), json.dumps({"level": "info", "service": "checkout"})]
        )
    body = {"streams": [{"stream": {"job": "api"}, "values": values}]}
    r = httpx.post(f"{base}/loki/api/v1/push", json=body, timeout=10)
    assert r.status_code == 204, r.text


def wait_for(check: Any, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.2)


def test_logql_rules_alert_through_the_router_and_record_promql_series(tmp_path: Path) -> None:
    binary = need_alertmanager()
    rules = tmp_path / "rules.yml"
    rules.write_text(ALERT_RULES)
    ruler = tmp_path / "loki-rules"
    ruler.mkdir()
    (ruler / "errors.yml").write_text(LOKI_RULER_FILE)
    am_config = "route: {receiver: 'null', group_wait: 1h}\nreceivers: [{name: 'null'}]\n"
    with WebhookSink() as hook, alertmanager(binary, tmp_path / "am", am_config) as am:
        (tmp_path / "prometheus.yml").write_text(
            f"rule_files: [{rules}]\n"
            "alerting:\n"
            f"  alertmanagers: [{{static_configs: [{{targets: ['{am.url[7:]}']}}]}}]\n"
        )
        (tmp_path / "alertmanager.yml").write_text(AM_CONFIG.format(hook=hook.url))
        with spyglass(
            tmp_path / "data",
            "--config-file", str(tmp_path / "prometheus.yml"),
            "--alertmanager-config-file", str(tmp_path / "alertmanager.yml"),
            "--logs-rule-files", str(ruler / "*.yml"),
        ) as sg:  # fmt: skip
            push_logs(sg.url)

            # The alert reaches the webhook through alertmanager.yml's route.
            received = hook.wait_for(1, timeout_s=60)
            assert received, "no notification"
            alerts = received[0].body["alerts"]
            assert [a["labels"] for a in alerts] == [
                {"alertname": "ManyErrors", "service": "checkout", "severity": "page"}
            ]
            assert alerts[0]["annotations"] == {"summary": "checkout: 8 errors in a minute"}
            assert alerts[0]["status"] == "firing"

            # The recorded series answers PromQL.
            def recorded() -> list[Any]:
                r = httpx.get(
                    f"{sg.url}/api/v1/query",
                    params={"query": "service:log_errors:count1m"},
                    timeout=10,
                )
                return list(r.json()["data"]["result"])

            result = wait_for(recorded)
            by_service = {s["metric"]["service"]: float(s["value"][1]) for s in result}
            assert by_service == {"checkout": 8.0, "search": 3.0}

            # Prometheus' rules API lists both groups, healthy, with their language's rules.
            groups = httpx.get(f"{sg.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
            assert {g["name"]: [r["health"] for r in g["rules"]] for g in groups} == {
                "log-alerts": ["ok"],
                "log-recordings": ["ok"],
            }
            firing = httpx.get(f"{sg.url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
            assert [a["labels"]["service"] for a in firing] == ["checkout"]

            # The external Alertmanager has it too, as Prometheus would have sent it.
            def in_alertmanager() -> list[dict[str, Any]]:
                got: list[dict[str, Any]] = httpx.get(f"{am.url}/api/v2/alerts", timeout=10).json()
                return [a for a in got if a["labels"].get("alertname") == "ManyErrors"]

            [external] = wait_for(in_alertmanager)
            assert external["labels"] == {
                "alertname": "ManyErrors",
                "service": "checkout",
                "severity": "page",
            }

            # The Rules and Alerts pages show them; a LogQL expression is not linked to
            # Explore, which runs PromQL.
            rules_page = httpx.get(f"{sg.url}/rules", timeout=10).text
            assert "service:log_errors:count1m" in rules_page
            assert '<code class="logql">' in rules_page
            assert "/explore?" not in rules_page
            # The expression keeps its own line: the alert's labels start on the next one.
            assert re.search(r'</code>\n\s*<span class="yaml-key">labels:', rules_page)
            alerts_page = httpx.get(f"{sg.url}/alerts", params={"state": "firing"}, timeout=10)
            assert "ManyErrors" in alerts_page.text
            assert "checkout" in alerts_page.text

            # Loki's ruler API: the groups as YAML by namespace, and Prometheus' JSON under
            # Loki's prefix.
            listed = httpx.get(f"{sg.url}/loki/api/v1/rules", timeout=10)
            assert listed.headers["content-type"].startswith("application/yaml")
            namespaces = yaml.safe_load(listed.text)
            written = yaml.safe_load(ALERT_RULES)["groups"][0]["rules"][0]
            del written["for"]  # 0s, the default, is left out as Loki leaves it
            assert namespaces[str(rules)] == [
                {"name": "log-alerts", "interval": "1s", "rules": [written]}
            ]
            assert namespaces[str(ruler / "errors.yml")][0]["rules"] == [
                yaml.safe_load(LOKI_RULER_FILE)["groups"][0]["rules"][0]
            ]
            one = httpx.get(f"{sg.url}/loki/api/v1/rules{rules}/log-alerts", timeout=10)
            assert yaml.safe_load(one.text)["name"] == "log-alerts"
            missing = httpx.get(f"{sg.url}/loki/api/v1/rules/nowhere.yml", timeout=10)
            assert (missing.status_code, missing.text) == (404, "no rule groups found\n")
            loki_rules = httpx.get(f"{sg.url}/prometheus/api/v1/rules", timeout=10).json()
            assert sorted(g["name"] for g in loki_rules["data"]["groups"]) == [
                "log-alerts",
                "log-recordings",
            ]
            loki_alerts = httpx.get(f"{sg.url}/prometheus/api/v1/alerts", timeout=10).json()
            assert [a["labels"]["alertname"] for a in loki_alerts["data"]["alerts"]] == [
                "ManyErrors"
            ]
