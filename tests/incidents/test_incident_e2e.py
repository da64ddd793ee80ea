"""From a failing target to a postmortem, on a real ``spyglass serve``.

A probed website goes down; its availability SLO (from ``probe_success``) burns its budget and
the page alert fires; ``spyglass: incidents:`` opens an incident at SEV2 with the alert on its
timeline; a note and a status change are added (through the CLI and the API); Spyglass is
restarted in the middle and loses nothing; the target recovers, the incident is resolved, and
the postmortem draft holds the timeline and the error budget the window spent. Every status
update also reached a webhook through the router.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import LoopbackHTTP, QuietHandler, free_port, spyglass
from tests.support.webhooks import WebhookSink

API = "/api/spyglass/v1/incidents"


class Switchable:
    """A website that answers 200 or 503 as told."""

    def __init__(self) -> None:
        self.up = True
        site = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                status = 200 if site.up else 503
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if site.up else b"no")

        self.handler: type[BaseHTTPRequestHandler] = Handler
        self.http = LoopbackHTTP(Handler)


def wait_for(check: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "spyglass", "incident", *args, "--url", url],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_outage_from_alert_to_postmortem(tmp_path: Path) -> None:
    site = Switchable()
    (tmp_path / "probes.yml").write_text(
        "modules:\n  http_2xx: {prober: http, timeout: 2s}\n"
        "probes:\n  - {name: website, module: http_2xx, interval: 1s,"
        f" targets: ['{site.http.base_url}/']}}\n"
    )
    (tmp_path / "slo.yml").write_text(
        'version: "prometheus/v1"\nservice: website\nslos:\n'
        "  - name: availability\n    objective: 99.9\n    sli:\n      raw:\n"
        "        error_ratio_query:"
        ' 1 - avg(avg_over_time(probe_success{job="website"}[{{.window}}]))\n'
        "    alerting:\n      name: WebsiteDown\n"
        "      page_alert: {labels: {severity: critical}}\n      ticket_alert: {disable: true}\n"
    )
    (tmp_path / "prometheus.yml").write_text("global:\n  evaluation_interval: 1s\n")
    port = free_port()
    with WebhookSink() as sink:
        (tmp_path / "alertmanager.yml").write_text(
            "route:\n  receiver: hook\n  group_by: [alertname, incident_status]\n"
            "  group_wait: 0s\n  group_interval: 1s\n"
            f"receivers:\n  - name: hook\n    webhook_configs: [{{url: '{sink.url}/'}}]\n"
            "spyglass:\n  incidents:\n    rules:\n"
            "      - matchers: ['sloth_severity=\"page\"']\n        severity: SEV2\n"
            "        group_by: [alertname, sloth_service]\n        commander: alice\n"
        )
        args = (
            "--config-file", str(tmp_path / "prometheus.yml"),
            "--probes-config-file", str(tmp_path / "probes.yml"),
            "--slo-files", str(tmp_path / "slo.yml"),
            "--alertmanager-config-file", str(tmp_path / "alertmanager.yml"),
        )  # fmt: skip
        data = tmp_path / "data"
        try:
            with spyglass(data, *args, port=port) as sg:
                site.up = False
                opened = wait_for(lambda: httpx.get(sg.url + API, timeout=30).json()["data"])
                assert opened, "the page alert opened no incident"
                (incident,) = opened
                ident = incident["id"]
                assert (incident["severity"], incident["commander"]) == ("SEV2", "alice")
                assert incident["title"] == "WebsiteDown (sloth_service=website)"
                joined = [a["labels"]["alertname"] for a in incident["alerts"].values()]
                assert joined == ["WebsiteDown"]
                cli(sg.url, "note", ident, "503s from the load balancer", "--by", "bob")
                r = httpx.post(
                    f"{sg.url}{API}/{ident}/status",
                    json={"status": "identified", "text": "bad deploy", "by": "alice"},
                    timeout=30,
                )
                assert r.status_code == 200, r.text
            # A restart in the middle: everything is still there, and the alert that is
            # still firing does not open a second incident.
            with spyglass(data, *args, port=port) as sg:
                time.sleep(3)
                (again,) = httpx.get(sg.url + API, timeout=30).json()["data"]
                assert again["id"] == ident
                assert again["status"] == "identified"
                site.up = True
                cli(sg.url, "resolve", ident, "-m", "rolled back", "--by", "alice")
                shown = cli(sg.url, "show", ident)
                assert "Status identified → resolved: rolled back" in shown
                final = httpx.get(f"{sg.url}{API}/{ident}", timeout=30).json()["data"]
                kinds = [e["kind"] for e in final["timeline"]]
                assert kinds[:2] == ["opened", "alert"]
                assert {"note", "status"} <= set(kinds)
                texts = [e["text"] for e in final["timeline"]]
                assert "503s from the load balancer" in texts
                assert "/logs?query=%7Bservice_name%3D%22website%22%7D" in final["links"]["logs"]
                assert "service=website" in final["links"]["traces"]
                postmortem = httpx.get(f"{sg.url}{API}/{ident}/postmortem", timeout=60).text
                assert f"# Postmortem: WebsiteDown (sloth_service=website) ({ident})" in postmortem
                assert "503s from the load balancer" in postmortem
                assert "Status identified → resolved: rolled back" in postmortem
                assert "SLO website-availability:" in postmortem
                assert "% of its 30d error budget spent" in postmortem
                assert "Time to resolved:" in postmortem
                assert httpx.get(sg.url + API, timeout=30).json()["data"] == []
            # The updates went out through the router.
            statuses = {
                a["labels"]["incident_status"]
                for post in sink.received
                for a in post.body["alerts"]
                if a["labels"].get("alertname") == "IncidentUpdate"
            }
            assert statuses == {"investigating", "identified", "resolved"}
        finally:
            site.http.close()
