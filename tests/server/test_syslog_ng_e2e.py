"""A real shipper, really started: syslog-ng (Debian's package) reads a log file with its
``file()`` source and ships it with its ``elasticsearch-http()`` destination to a real
``spyglass serve``'s ``/_bulk``; every line comes back through Loki's ``query_range`` with the
index and host labels, once each.

syslog-ng runs as an ordinary process: its own config, ``--foreground``, ``--no-caps``, persist,
pid and control files in the test's folder, and no system log source."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.required import need_syslog_ng
from tests.support.servers import spyglass, stop_process

CONFIG = """@version: 3.38
@include "scl.conf"
options {{ stats-freq(0); }};
source s_app {{ file("{log}" follow-freq(0.1) flags(no-parse)); }};
destination d_spyglass {{
  elasticsearch-http(url("{url}") index("app-logs") type("") batch-lines(5) timeout(10));
}};
log {{ source(s_app); destination(d_spyglass); flags(flow-control); }};
"""


def _streams(url: str) -> list[dict[str, Any]]:
    now = time.time_ns()
    r = httpx.get(
        url + "/loki/api/v1/query_range",
        params={
            "query": '{index="app-logs"}',
            "start": str(now - 3600 * 10**9),
            "end": str(now + 60 * 10**9),
            "limit": "1000",
            "direction": "forward",
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return list(r.json()["data"]["result"])


def test_syslog_ng_elasticsearch_http_ships_a_file_through_bulk(tmp_path: Path) -> None:
    binary = need_syslog_ng()
    log = tmp_path / "app.log"
    before = [f"GET /orders/{i} 200 {i}ms" for i in range(7)]
    log.write_text("".join(line + "\n" for line in before))
    after = ["POST /pay 500 payment failed", 'level=error msg="card declined" user=u1']
    with spyglass(tmp_path / "data") as sg:
        config = tmp_path / "syslog-ng.conf"
        config.write_text(CONFIG.format(log=log, url=sg.url + "/_bulk"))
        cmd = [
            binary,
            "--foreground",
            "--no-caps",
            "--stderr",
            f"--cfgfile={config}",
            f"--persist-file={tmp_path / 'syslog-ng.persist'}",
            f"--pidfile={tmp_path / 'syslog-ng.pid'}",
            f"--control={tmp_path / 'syslog-ng.ctl'}",
        ]
        with (tmp_path / "syslog-ng.log").open("wb") as out:
            shipper = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            got: list[str] = []
            appended = False
            expected = sorted(before + after)
            while time.monotonic() < deadline:
                streams = _streams(sg.url)
                got = sorted(line for s in streams for _, line in s["values"])
                if not appended and len(got) >= len(before):
                    with log.open("a") as f:
                        f.writelines(line + "\n" for line in after)
                    appended = True
                if len(got) >= len(expected):
                    break
                assert shipper.poll() is None, (tmp_path / "syslog-ng.log").read_text()
                time.sleep(0.3)
        finally:
            code = stop_process(shipper)
        assert code == 0, (tmp_path / "syslog-ng.log").read_text()
        assert got == expected
        # syslog-ng's default template names its fields after its macros (MESSAGE, HOST,
        # PRIORITY): the message is the line, the host a stream label, the level detected, the
        # rest structured metadata (which Loki's answer shows among the labels).
        for s in streams:
            labels = s["stream"]
            assert labels["index"] == "app-logs"
            assert labels["host_name"] == socket.gethostname().split(".")[0]
            assert labels["detected_level"] == "notice"
            assert labels["FACILITY"] == "user"
            assert "MESSAGE" not in labels
        errors = httpx.get(
            sg.url + "/loki/api/v1/query_range",
            params={
                "query": '{index="app-logs"} |= "fail" | FACILITY="user"',
                "start": str(time.time_ns() - 3600 * 10**9),
            },
        ).json()["data"]["result"]
        assert [line for s in errors for _, line in s["values"]] == [after[0]]
