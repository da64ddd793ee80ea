"""``spyglass serve`` runs prometheus.yml's rule files and sends their alerts to an Alertmanager.

A real exporter is scraped; when it goes away ``up == 0`` goes pending, then firing after its
``for``, reaches a real Alertmanager (Debian's) with its templated annotation, and is resolved
there when the exporter is back. Recording rules write series PromQL reads back; the rules API
answers in Prometheus' shape; a reload adds a rule and a broken rule file keeps the old ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.required import need_alertmanager
from tests.support.servers import (
    LoopbackHTTP,
    QuietHandler,
    Server,
    alertmanager,
    free_port,
    spyglass,
)

RULES = """
groups:
  - name: availability
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: InstanceDown
        expr: up == 0
        for: 2s
        labels: {severity: critical}
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
"""
EXTRA_RULE = """
      - record: job:up:count
        expr: count by (job) (up)
"""


class Page(QuietHandler):
    def do_GET(self) -> None:
        body = b"# TYPE things gauge\nthings 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def data(server: Server, path: str, **params: Any) -> Any:
    body = httpx.get(server.url + path, params=params, timeout=10).json()
    assert body["status"] == "success", body
    return body["data"]


def wait_for(check: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.2)


@pytest.fixture
def am(tmp_path: Path) -> Iterator[Server]:
    binary = need_alertmanager()
    config = "route: {receiver: 'null', group_wait: 1h}\nreceivers: [{name: 'null'}]\n"
    with alertmanager(binary, tmp_path / "am", config) as server:
        yield server


def test_rules_evaluate_alert_resolve_and_reload(tmp_path: Path, am: Server) -> None:
    exporter_port = free_port()
    exporter = LoopbackHTTP(Page, port=exporter_port)
    target = f"127.0.0.1:{exporter_port}"
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s, external_labels: {site: lab}}\n"
        "rule_files: [rules.yml]\n"
        f"scrape_configs: [{{job_name: shop, static_configs: [{{targets: ['{target}']}}]}}]\n"
        "alerting:\n"
        f"  alertmanagers: [{{static_configs: [{{targets: ['{am.url[7:]}']}}]}}]\n"
    )

    def am_alerts() -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = httpx.get(am.url + "/api/v2/alerts", timeout=10).json()
        return [a for a in got if a["labels"].get("alertname") == "InstanceDown"]

    try:
        with spyglass(tmp_path / "data", "--config-file", str(cfg)) as sg:
            [group] = data(sg, "/api/v1/rules")["groups"]
            assert (group["name"], group["file"], group["interval"]) == (
                "availability",
                str(rules),
                1,
            )
            assert [r["type"] for r in group["rules"]] == ["recording", "alerting"]
            alerting = group["rules"][1]
            assert (alerting["name"], alerting["duration"], alerting["labels"]) == (
                "InstanceDown",
                2,
                {"severity": "critical"},
            )
            # The recording rule's output comes back through PromQL.
            wait_for(lambda: data(sg, "/api/v1/query", query="job:up:sum")["result"])
            [recorded] = data(sg, "/api/v1/query", query="job:up:sum")["result"]
            assert recorded["metric"] == {"__name__": "job:up:sum", "job": "shop"}
            assert recorded["value"][1] == "1"
            assert wait_for(
                lambda: data(sg, "/api/v1/rules")["groups"][0]["rules"][1]["health"] == "ok"
            )

            exporter.close()  # the target goes down
            pending = wait_for(
                lambda: [a for a in data(sg, "/api/v1/alerts")["alerts"] if a["state"] == "pending"]
            )
            assert pending[0]["labels"]["instance"] == target
            firing = wait_for(
                lambda: [a for a in data(sg, "/api/v1/alerts")["alerts"] if a["state"] == "firing"]
            )
            assert firing[0]["value"] == "0e+00"
            assert firing[0]["annotations"] == {"summary": f"{target} of shop is down"}
            [sent] = wait_for(am_alerts)
            assert sent["labels"] == {
                "alertname": "InstanceDown",
                "instance": target,
                "job": "shop",
                "severity": "critical",
                "site": "lab",  # external labels are added on the way out
            }
            assert sent["annotations"] == {"summary": f"{target} of shop is down"}
            alerts_series = data(sg, "/api/v1/query", query='ALERTS{alertstate="firing"}')
            assert alerts_series["result"][0]["metric"]["alertname"] == "InstanceDown"

            exporter = LoopbackHTTP(Page, port=exporter_port)  # back up: resolved
            wait_for(lambda: not data(sg, "/api/v1/alerts")["alerts"])
            wait_for(lambda: not am_alerts())

            # Reload: one more rule; then a broken file keeps the running ones.
            rules.write_text(RULES + EXTRA_RULE)
            assert httpx.post(sg.url + "/-/reload", timeout=30).status_code == 200
            names = [r["name"] for r in data(sg, "/api/v1/rules")["groups"][0]["rules"]]
            assert names == ["job:up:sum", "InstanceDown", "job:up:count"]
            rules.write_text("groups:\n  - name: x\n    rules:\n      - record: bad name\n")
            r = httpx.post(sg.url + "/-/reload", timeout=30)
            assert r.status_code == 500
            assert str(rules) in r.text
            names = [r["name"] for r in data(sg, "/api/v1/rules")["groups"][0]["rules"]]
            assert names == ["job:up:sum", "InstanceDown", "job:up:count"]
            filtered = data(sg, "/api/v1/rules", type="alert")["groups"][0]["rules"]
            assert [r["name"] for r in filtered] == ["InstanceDown"]
    finally:
        exporter.close()


def test_a_broken_rule_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    """As Prometheus: a rule file that does not load is an error at start, not a silent skip."""
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n")
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text("rule_files: [rules.yml]\n")
    with (
        pytest.raises(RuntimeError) as failed,
        spyglass(tmp_path / "data", "--config-file", str(cfg)),
    ):
        pass
    assert str(rules) in str(failed.value)
    assert "cannot start: " in str(failed.value)
    assert "Traceback" not in str(failed.value)
