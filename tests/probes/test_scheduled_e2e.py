"""Probes Spyglass runs on its own, end to end on a real ``spyglass serve``: the series land in
storage with the recipe's labels, a target going down shows, a reload that drops a probe ends
its series, and the status API lists each target's last run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import LoopbackHTTP, QuietHandler, spyglass


class Ok(QuietHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def query(url: str, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(url + "/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def wait_for(check: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_scheduled_probes_write_the_exporters_series(tmp_path: Path) -> None:
    target = LoopbackHTTP(Ok)
    config = tmp_path / "probes.yml"
    config.write_text(
        "modules:\n  http_2xx: {prober: http, timeout: 2s}\n"
        "probes:\n"
        f"  - {{name: site, module: http_2xx, interval: 1s, targets: ['{target.base_url}/'],"
        " labels: {team: web}}\n"
    )
    try:
        with spyglass(tmp_path / "data", "--probes-config-file", str(config)) as sg:
            up = wait_for(lambda: query(sg.url, 'probe_success{job="site"} == 1'))
            assert up, "no successful probe stored"
            labels = up[0]["metric"]
            assert labels == {
                "__name__": "probe_success",
                "instance": f"{target.base_url}/",
                "job": "site",
                "team": "web",
            }
            codes = query(sg.url, 'probe_http_status_code{job="site"}')
            assert [c["value"][1] for c in codes] == ["200"]
            status = httpx.get(sg.url + "/api/spyglass/v1/probes", timeout=10).json()["data"]
            assert status[0]["probe"] == "site"
            assert status[0]["success"] is True

            target.close()
            down = wait_for(lambda: query(sg.url, 'probe_success{job="site"} == 0'))
            assert down, "the target went down but probe_success stayed 1"

            # A reload that drops the probe ends its series at once (staleness markers).
            config.write_text("modules:\n  http_2xx: {prober: http}\n")
            assert httpx.post(sg.url + "/-/reload", timeout=30).status_code == 200
            gone = wait_for(lambda: not query(sg.url, 'probe_success{job="site"}'))
            assert gone, "the dropped probe's series still answer"
            assert httpx.get(sg.url + "/api/spyglass/v1/probes", timeout=10).json()["data"] == []
    finally:
        target.close()
