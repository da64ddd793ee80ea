"""End to end: a real ``spyglass serve`` with ``--alertmanager-config-file`` is an Alertmanager.

A real Prometheus (Debian's) names Spyglass in ``alerting.alertmanagers``; its firing rule's
alert arrives at ``/api/v2/alerts``, is routed and posted to a loopback webhook, and
``amtool alert query`` lists it from Spyglass. Spyglass's own rules reach the router in process.
After a restart on the same data directory the alerts are still there, a notified group is not
notified again and its resolve still is (alerts and the notification log live in the state
store). A reload applies a changed
file and keeps the old one when the new one is broken.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.required import need_amtool, need_prometheus
from tests.support.servers import free_port, prometheus, spyglass
from tests.support.webhooks import WebhookSink

AM_CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{hook}/hook"}}]
"""
RULES = """
groups:
  - name: always
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: page}
        annotations: {summary: "it fires"}
"""


def wait_for(check: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.2)


def test_prometheus_sends_to_spyglass_which_notifies_and_amtool_lists(tmp_path: Path) -> None:
    need_prometheus()
    amtool = need_amtool()
    with WebhookSink() as hook:
        config = tmp_path / "alertmanager.yml"
        config.write_text(AM_CONFIG.format(hook=hook.url))
        port = free_port()
        with spyglass(
            tmp_path / "spyglass", "--alertmanager-config-file", str(config), port=port
        ) as sg:
            workdir = tmp_path / "prometheus"
            workdir.mkdir()
            (workdir / "rules.yml").write_text(RULES)
            prom_config = (
                "global: {evaluation_interval: 1s}\n"
                f"rule_files: [{workdir / 'rules.yml'}]\n"
                "alerting:\n  alertmanagers:\n"
                f"    - static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
            )
            # Prometheus drops alerts due before it has found its Alertmanagers and resends
            # firing ones every resend-delay (1m by default): make that one second.
            with prometheus(workdir, prom_config, "--rules.alert.resend-delay=1s"):
                (first,) = hook.wait_for(1)[:1]
                listed = httpx.get(sg.url + "/api/v2/alerts", timeout=5).json()
                out = subprocess.run(
                    [amtool, f"--alertmanager.url={sg.url}", "alert", "query", "-o", "json"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=True,
                )
    body = first.body
    assert body["groupKey"] == '{}:{alertname="AlwaysFiring"}'
    (alert,) = body["alerts"]
    assert alert["labels"] == {"alertname": "AlwaysFiring", "severity": "page"}
    assert alert["annotations"] == {"summary": "it fires"}
    assert "/graph?g0.expr=vector" in alert["generatorURL"]  # Prometheus' link to the rule
    assert [a["labels"]["alertname"] for a in listed] == ["AlwaysFiring"]
    assert listed[0]["receivers"] == [{"name": "hook"}]
    queried = json.loads(out.stdout)
    assert [a["labels"]["alertname"] for a in queried] == ["AlwaysFiring"]
    assert queried[0]["status"]["state"] == "active"
    assert "different" not in out.stderr  # amtool takes Spyglass for its own version


def test_spyglass_rules_alerts_reach_its_own_router(tmp_path: Path) -> None:
    with WebhookSink() as hook:
        config = tmp_path / "alertmanager.yml"
        config.write_text(AM_CONFIG.format(hook=hook.url))
        (tmp_path / "rules.yml").write_text(RULES)
        prom = tmp_path / "prometheus.yml"
        prom.write_text(
            "global: {evaluation_interval: 1s, external_labels: {dc: eu}}\n"
            f"rule_files: [{tmp_path / 'rules.yml'}]\n"
        )
        args = ("--config-file", str(prom), "--alertmanager-config-file", str(config))
        with spyglass(tmp_path / "data", *args) as sg:
            (first,) = hook.wait_for(1)[:1]
            metrics = httpx.get(sg.url + "/metrics", timeout=5).text
    (alert,) = first.body["alerts"]
    # External labels apply, as when Prometheus sends to an Alertmanager.
    assert alert["labels"] == {"alertname": "AlwaysFiring", "dc": "eu", "severity": "page"}
    assert alert["annotations"] == {"summary": "it fires"}
    assert 'alertmanager_notifications_total{integration="webhook"}' in metrics
    assert "alertmanager_dispatcher_aggregation_groups 1.0" in metrics


def post(url: str, alerts: list[dict[str, Any]]) -> None:
    r = httpx.post(url + "/api/v2/alerts", json=alerts, timeout=5)
    assert r.status_code == 200, r.text


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_restart_sends_no_duplicate_and_still_sends_the_resolve(tmp_path: Path) -> None:
    started = datetime.now(UTC) - timedelta(minutes=1)
    alert = {"labels": {"alertname": "Down", "instance": "a"}, "startsAt": rfc3339(started)}
    with WebhookSink() as hook:
        config = tmp_path / "alertmanager.yml"
        config.write_text(AM_CONFIG.format(hook=hook.url))
        args = ("--alertmanager-config-file", str(config))
        with spyglass(tmp_path / "data", *args) as sg:
            post(sg.url, [alert])
            hook.wait_for(1)
        with spyglass(tmp_path / "data", *args) as sg:
            listed = httpx.get(sg.url + "/api/v2/alerts", timeout=5).json()
            assert [a["labels"] for a in listed] == [alert["labels"]]  # restored from disk
            post(sg.url, [alert])  # as Prometheus resends it after the restart
            # The rebuilt group flushes at once (the alert is older than group_wait) and then
            # every second: three chances to repeat what the first run sent.
            time.sleep(3)
            assert len(hook.received) == 1
            ended = rfc3339(datetime.now(UTC))
            post(sg.url, [{**alert, "endsAt": ended}])
            received = hook.wait_for(2)
    assert [r.body["status"] for r in received] == ["firing", "resolved"]
    sent_end = received[1].body["alerts"][0]["endsAt"]
    assert datetime.fromisoformat(sent_end) == datetime.fromisoformat(ended)


def test_reload_applies_a_new_file_and_keeps_the_old_one_when_it_is_broken(
    tmp_path: Path,
) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(AM_CONFIG.format(hook="http://127.0.0.1:9"))
    with spyglass(tmp_path / "data", "--alertmanager-config-file", str(config)) as sg:

        def receivers() -> list[str]:
            return [r["name"] for r in httpx.get(sg.url + "/api/v2/receivers").json()]

        assert receivers() == ["hook"]
        config.write_text(config.read_text().replace("name: hook", "name: hook\n  - name: spare"))
        assert httpx.post(sg.url + "/-/reload", timeout=10).status_code == 200
        assert receivers() == ["hook", "spare"]
        config.write_text("route: {receiver: nobody}\n")
        r = httpx.post(sg.url + "/-/reload", timeout=10)
        assert r.status_code == 500
        assert "nobody" in r.text
        assert receivers() == ["hook", "spare"]


def test_a_broken_file_stops_start_up_naming_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: nobody\nreceivers: []\n")
    port = free_port()
    cmd = [
        sys.executable, "-m", "spyglass", "serve", "--data-dir", str(tmp_path / "d"),
        "--listen-address", f"127.0.0.1:{port}", "--otlp-grpc-address", "",
        "--otlp-http-address", "", "--alertmanager-config-file", str(config),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert f"{config}:2" in proc.stderr
    assert "nobody" in proc.stderr


def test_amtool_adds_queries_and_shows_config_against_spyglass(tmp_path: Path) -> None:
    amtool = need_amtool()
    config = tmp_path / "alertmanager.yml"
    config.write_text(AM_CONFIG.format(hook="http://127.0.0.1:9"))
    with spyglass(tmp_path / "data", "--alertmanager-config-file", str(config)) as sg:

        def run(*args: str) -> str:
            return subprocess.run(
                [amtool, f"--alertmanager.url={sg.url}", *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout

        run("alert", "add", "Foo", "severity=page", "--annotation=summary=hi")
        queried = json.loads(run("alert", "query", "-o", "json", "severity=page"))
        shown = run("config", "show")
        cluster = run("cluster", "show")
    assert [(a["labels"], a["annotations"]) for a in queried] == [
        ({"alertname": "Foo", "severity": "page"}, {"summary": "hi"})
    ]
    assert "receiver: hook" in shown
    assert "Cluster Status:  disabled" in cluster
