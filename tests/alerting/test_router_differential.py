"""Differential test of the router against the real Alertmanager (Debian's 0.25).

The same alertmanager.yml (grouping, a child route with ``continue``, an inhibit rule, 1s/2s
waits, webhook receivers on a loopback server) runs in both; the same alerts are posted to both
at the same moments: new alerts, one joining a group within group_wait, one joining a group
that has flushed, an inhibited warning, a resolve that lifts the inhibition. Each webhook must
receive the same notifications: same group keys, same alerts with the same status, in the same
order, each arriving within one group_interval of Alertmanager's.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tests.support.required import need_alertmanager
from tests.support.servers import alertmanager, spyglass
from tests.support.webhooks import Received, WebhookSink

GROUP_INTERVAL_S = 2.0
CONFIG = """
route:
  receiver: main
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: [severity="critical"]
      receiver: pager
      continue: true
    - matchers: ['alertname=~".+"']
      receiver: main
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
receivers:
  - name: main
    webhook_configs: [{{url: "{hook}/main/{side}"}}]
  - name: pager
    webhook_configs: [{{url: "{hook}/pager/{side}"}}]
"""


def alert(name: str, service: str, severity: str, ends: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "labels": {"alertname": name, "service": service, "severity": severity},
        "annotations": {"summary": f"{name} on {service}"},
    }
    if ends:
        out["endsAt"] = ends
    return out


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# (seconds after the start, alerts posted then). Alerts carry no startsAt (the server stamps
# them), so groups flush at 1, 3, 5, 7, 9 s: every post lands half a second or more away from a
# flush, so both sides see the same order of events. A source alert comes before the alerts it
# inhibits: Alertmanager's inhibitor learns of alerts asynchronously and would let a target
# through in a flush that races with its source.
SCRIPT: list[tuple[float, Callable[[], list[dict[str, Any]]]]] = [
    (
        0.0,
        lambda: [
            alert("DiskFull", "db", "critical"),
            alert("DiskSlow", "db", "warning"),  # inhibited by DiskFull on db
            alert("DiskSlow", "web", "warning"),
        ],
    ),
    (0.5, lambda: [alert("DiskFull", "api", "critical")]),  # joins within group_wait
    (4.0, lambda: [alert("DiskFull", "cache", "critical")]),  # joins a flushed group
    (8.0, lambda: [alert("DiskFull", "db", "critical", ends=now_text())]),  # resolve: lifts it
]
END_S = 10.5


def normalised(raw: bytes) -> bytes:
    """The payload with what legitimately differs (server-stamped times, own URL) blanked."""
    raw = re.sub(rb'"(startsAt|endsAt)":"(?!0001-)[^"]*"', rb'"\1":"<time>"', raw)
    return re.sub(rb'"externalURL":"[^"]*"', b'"externalURL":"<url>"', raw)


def summary(r: Received, t0: float) -> tuple[str, str, str, tuple[tuple[str, str, str], ...]]:
    receiver = r.path.split("/")[1]
    alerts = tuple(
        (a["labels"]["alertname"], a["labels"]["service"], a["status"]) for a in r.body["alerts"]
    )
    return receiver, r.body["groupKey"], r.body["status"], alerts


Script = list[tuple[float, Callable[[], list[dict[str, Any]]]]]


def run_both(
    tmp_path: Path, config_template: str, script: Script, end_s: float
) -> list[tuple[float, Any]]:
    """Run ``script`` against Alertmanager and Spyglass at once; compare what each webhook got.

    Returns Spyglass's notifications (seconds after the start, summary)."""
    binary = need_alertmanager()
    with WebhookSink() as hook, contextlib.ExitStack() as stack:
        am = stack.enter_context(
            alertmanager(binary, tmp_path / "am", config_template.format(hook=hook.url, side="am"))
        )
        config = tmp_path / "alertmanager.yml"
        config.write_text(config_template.format(hook=hook.url, side="spyglass"))
        sg = stack.enter_context(
            spyglass(tmp_path / "spyglass", "--alertmanager-config-file", str(config))
        )
        with httpx.Client(timeout=5) as client:
            t0 = time.monotonic()
            for at, batch in script:
                time.sleep(max(0.0, t0 + at - time.monotonic()))
                alerts = batch()
                for server in (am, sg):
                    r = client.post(server.url + "/api/v2/alerts", json=alerts)
                    assert r.status_code == 200, r.text
            time.sleep(max(0.0, t0 + end_s - time.monotonic()))
        got = list(hook.received)

    sides: dict[str, list[tuple[float, Any]]] = {"am": [], "spyglass": []}
    payloads: dict[str, set[bytes]] = {"am": set(), "spyglass": set()}
    for r in got:
        side = r.path.split("/")[2]
        sides[side].append((r.at - t0, summary(r, t0)))
        payloads[side].add(normalised(r.raw))
    report = "\n".join(
        f"{side:9} {at:6.3f}s {s}" for side, items in sides.items() for at, s in items
    )
    print(report)  # the figures: when each side notified what
    am_items, sg_items = sides["am"], sides["spyglass"]
    assert am_items, "Alertmanager sent nothing"

    def by_group(items: list[tuple[float, Any]]) -> dict[tuple[str, str], list[tuple[float, Any]]]:
        out: dict[tuple[str, str], list[tuple[float, Any]]] = {}
        for at, s in items:
            out.setdefault((s[0], s[1]), []).append((at, s))
        return out

    am_groups, sg_groups = by_group(am_items), by_group(sg_items)
    assert set(sg_groups) == set(am_groups), report
    for key, am_list in am_groups.items():
        sg_list = sg_groups[key]
        assert [s for _, s in sg_list] == [s for _, s in am_list], report
        for (sg_at, _), (am_at, _) in zip(sg_list, am_list, strict=True):
            assert abs(sg_at - am_at) < GROUP_INTERVAL_S, report
    # Byte for byte the same bodies, once times and the external URL are set aside.
    assert payloads["spyglass"] == payloads["am"]
    return sg_items


def test_spyglass_notifies_what_alertmanager_notifies_when_it_does(tmp_path: Path) -> None:
    got = run_both(tmp_path, CONFIG, SCRIPT, END_S)
    assert len(got) == 8


QUIET = """
route:
  receiver: quiet
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 5s
receivers:
  - name: quiet
    webhook_configs:
      - {{url: "{hook}/quiet/{side}", send_resolved: false, max_alerts: 1}}
"""
# Flushes at 1, 3, 5, 7, 9 s. 1: both alerts, one sent and one truncated; 5: x resolved, not
# told (send_resolved: false) and nothing else is new; 7: repeat_interval has passed since 1,
# so y is repeated; 9: y resolved, everything is over: logged, not sent.
QUIET_SCRIPT: Script = [
    (0.0, lambda: [alert("Busy", "x", "warning"), alert("Busy", "y", "warning")]),
    (4.0, lambda: [alert("Busy", "x", "warning", ends=now_text())]),
    (8.0, lambda: [alert("Busy", "y", "warning", ends=now_text())]),
]


def test_repeat_interval_send_resolved_and_max_alerts_as_alertmanager(tmp_path: Path) -> None:
    got = run_both(tmp_path, QUIET, QUIET_SCRIPT, 10.5)
    assert [s[3] for _, s in got] == [
        (("Busy", "x", "firing"),),
        (("Busy", "y", "firing"),),
    ]
