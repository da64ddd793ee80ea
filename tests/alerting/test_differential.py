"""Differential tests against Debian's Alertmanager 0.25: amtool routes the same label sets to
the same receivers, and a running Alertmanager notifies the same groups (same group keys) and
inhibits the same alerts as Spyglass computes."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from tests.support.required import need_alertmanager, need_amtool, need_conformance
from tests.support.servers import LoopbackHTTP, QuietHandler, alertmanager

from spyglass.alerting import (
    AlertmanagerConfig,
    RoutingTree,
    group_key,
    inhibited,
    load_alertmanager_config,
    load_alertmanager_config_file,
)

GUIDE = Path(__file__).parent / "testdata" / "alertmanager.yml"

LABEL_SETS: list[dict[str, str]] = [
    {},
    {"alertname": "Watchdog"},
    {"alertname": "Watchdog", "severity": "critical"},
    {"alertname": "DiskFull", "severity": "warning", "cluster": "eu"},
    {"alertname": "PostgresDown", "severity": "critical", "service": "postgres"},
    {"alertname": "PostgresSlow", "severity": "error", "service": "postgres"},
    {"alertname": "RedisSlow", "severity": "warning", "service": "redis"},
    {"alertname": "X", "service": "postgres-exporter"},
    {"alertname": "X", "service": "redis", "severity": "critical"},
    {"alertname": "X", "severity": "critical"},
    {"alertname": "Charge", "team": "payments"},
    {"alertname": "Charge", "team": "payments", "service": "billing", "severity": "warning"},
    {"alertname": "Charge", "team": "payments", "service": "billing", "env": "staging"},
    {"alertname": "Charge", "team": "payments", "service": "billing", "severity": "critical"},
    {"alertname": "Refund", "team": "payments", "severity": "warning"},
    {"alertname": "JobFailed", "job": "batch-nightly"},
    {"alertname": "JobFailed", "job": "batch-", "severity": "critical"},
    {"alertname": "JobFailed", "job": "nightly-batch-x"},
    {"alertname": "Note", "severity": "info"},
    {"alertname": "Note", "severity": "Info"},
    {"alertname": "Note", "severity": "info", "team": "payments"},
]


def amtool_receivers(amtool: str, config: Path, labels: dict[str, str]) -> list[str]:
    args = [f"{k}={v}" for k, v in labels.items()]
    proc = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip().split(",")


@pytest.mark.parametrize(
    "labels", LABEL_SETS, ids=lambda ls: ",".join(f"{k}={v}" for k, v in ls.items()) or "none"
)
def test_amtool_routes_the_guide_config_the_same_way(labels: dict[str, str]) -> None:
    amtool = need_amtool()
    tree = RoutingTree.of(load_alertmanager_config_file(GUIDE))
    assert tree.receivers(labels) == amtool_receivers(amtool, GUIDE, labels)


def test_amtool_routes_alertmanagers_example_config_the_same_way() -> None:
    amtool = need_amtool()
    path = need_conformance("alertmanager/conf.good.yml", "Alertmanager's example config")
    tree = RoutingTree.of(load_alertmanager_config_file(path, expand_env=False))
    for labels in (
        {"service": "foo1", "severity": "critical"},
        {"service": "baz"},
        {"service": "files", "severity": "critical"},
        {"service": "database", "owner2": "team-X", "owner": "team-Y"},
        {"service": "database", "owner2": "team-X"},
        {"service": "database"},
        {"service": "foo12"},
    ):
        assert tree.receivers(labels) == amtool_receivers(amtool, path, labels), labels


# -- a running Alertmanager: group keys and inhibition -------------------------------------


class Capture(QuietHandler):
    """Keeps every webhook payload; each test makes a subclass with its own list."""

    payloads: ClassVar[list[dict[str, Any]]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            self.payloads.append(json.loads(body))
        self.send_response(200)
        self.end_headers()


@pytest.fixture
def capture() -> Iterator[tuple[LoopbackHTTP, type[Capture]]]:
    handler = type("Handler", (Capture,), {"payloads": [], "lock": threading.Lock()})
    server = LoopbackHTTP(handler)
    try:
        yield server, handler
    finally:
        server.close()


def webhook_config(url: str) -> str:
    """The guide's route tree and inhibit rules, every receiver a webhook to ``url``, short
    waits, and no time intervals (they would make the test depend on the clock)."""
    data = yaml.safe_load(GUIDE.read_text())
    data.pop("templates")
    data.pop("time_intervals")
    data["global"] = {"resolve_timeout": "5m"}

    def adjust(route: dict[str, Any]) -> None:
        route.pop("mute_time_intervals", None)
        if "group_wait" in route or route is data["route"]:
            route["group_wait"] = "1s"
        for child in route.get("routes", []):
            adjust(child)

    adjust(data["route"])
    data["receivers"] = [
        {"name": r["name"], "webhook_configs": [{"url": url, "send_resolved": False}]}
        for r in data["receivers"]
    ]
    return yaml.safe_dump(data, sort_keys=False)


def expected_notifications(
    config: AlertmanagerConfig, alerts: list[dict[str, str]]
) -> dict[tuple[str, str], list[dict[str, str]]]:
    tree = RoutingTree.of(config)
    out: dict[tuple[str, str], list[dict[str, str]]] = {}
    for labels in alerts:
        if inhibited(labels, alerts, config.inhibit_rules):
            continue
        for node in tree.match(labels):
            out.setdefault((node.receiver, group_key(node, labels)), []).append(labels)
    return {k: sorted(v, key=lambda d: sorted(d.items())) for k, v in out.items()}


def test_alertmanager_notifies_the_groups_spyglass_computes(
    tmp_path: Path, capture: tuple[LoopbackHTTP, type[Capture]]
) -> None:
    binary = need_alertmanager()
    server, handler = capture
    text = webhook_config(server.base_url + "/hook")
    config = load_alertmanager_config(text, expand_env=False)
    base = {"cluster": "eu", "service": "api"}
    alerts = [
        {**labels, **base, "instance": f"host-{i}"}
        if "service" not in labels
        else {**labels, "cluster": "eu"}
        for i, labels in enumerate(LABEL_SETS[1:])
    ]
    # Inhibition: the critical mutes the warning of the same alert in the same cluster and
    # service; ClusterDown mutes everything else in its cluster.
    alerts += [
        {"alertname": "HighLatency", "severity": "critical", "cluster": "us", "service": "web"},
        {"alertname": "HighLatency", "severity": "warning", "cluster": "us", "service": "web"},
        {"alertname": "HighLatency", "severity": "warning", "cluster": "us", "service": "db"},
        {"alertname": "ClusterDown", "severity": "critical", "cluster": "ap"},
        {"alertname": "NodeDown", "severity": "warning", "cluster": "ap", "instance": "n1"},
    ]
    expected = expected_notifications(config, alerts)
    assert len(expected) >= 15
    sources = [a for a in alerts if a["alertname"] in ("HighLatency", "ClusterDown")]
    sources = [a for a in sources if a["severity"] == "critical"]

    def post(url: str, batch: list[dict[str, str]]) -> None:
        # Starting now, so each group waits its group_wait (an alert that started earlier
        # than that is flushed at once).
        starts = datetime.now(UTC)
        body = [
            {
                "labels": labels,
                "annotations": {"summary": "test"},
                "startsAt": starts.isoformat(),
                "endsAt": (starts + timedelta(hours=1)).isoformat(),
            }
            for labels in batch
        ]
        response = httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10)
        assert response.status_code == 200, response.text

    with alertmanager(binary, tmp_path / "am", text) as am:
        # The inhibiting alerts first, so the inhibitor knows them when the others flush.
        post(am.url, sources)
        time.sleep(0.3)
        post(am.url, [a for a in alerts if a not in sources])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with handler.lock:
                if len(handler.payloads) >= len(expected):
                    break
            time.sleep(0.2)
        time.sleep(2.5)  # anything beyond the expected notifications would arrive by now
    with handler.lock:
        payloads = list(handler.payloads)
    got = {
        (p["receiver"], p["groupKey"]): sorted(
            (a["labels"] for a in p["alerts"]), key=lambda d: sorted(d.items())
        )
        for p in payloads
    }
    assert got == expected
