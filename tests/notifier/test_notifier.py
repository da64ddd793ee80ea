"""Alerts reach the Alertmanagers prometheus.yml names, as Prometheus' notifier delivers them.

The end-to-end cases post to a real Alertmanager (Debian's prometheus-alertmanager) and read the
alerts back through its own API; the queue and failure cases use an httpx mock transport.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.required import need_alertmanager
from tests.support.servers import Server, alertmanager

from spyglass.core.alerts import Alert, format_time
from spyglass.core.config import load_config
from spyglass.core.labels import labels_of
from spyglass.notifier import Notifier, alerts_path, discover
from spyglass.server.selfmetrics import SelfMetrics

AM_CONFIG = """
route: {receiver: 'null', group_wait: 1h}
receivers: [{name: 'null'}]
"""


def prometheus_yml(*targets: str, extra: str = "", am_extra: str = "") -> str:
    listed = ", ".join(f"'{t}'" for t in targets)
    return (
        "global: {external_labels: {dc: eu, team: ops}}\n"
        "alerting:\n"
        "  alert_relabel_configs: [{source_labels: [drop], regex: 'yes', action: drop}]\n"
        f"{extra}"
        "  alertmanagers:\n"
        f"    - static_configs: [{{targets: [{listed}]}}]\n"
        f"{am_extra}"
    )


def alert(name: str, starts_ms: int, ends_ms: int = 0, **labels: str) -> Alert:
    return Alert(
        labels_of({"alertname": name, **labels}),
        labels_of({"summary": f"{name} is bad"}),
        starts_at_ms=starts_ms,
        ends_at_ms=ends_ms,
        generator_url=f"http://spyglass:9090/graph?g0.expr={name}",
    )


@pytest.fixture(scope="module")
def real_am(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    binary = need_alertmanager()
    with alertmanager(binary, tmp_path_factory.mktemp("am"), AM_CONFIG) as am:
        yield am


def am_alerts(am: Server) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = httpx.get(am.url + "/api/v2/alerts", timeout=10).json()
    return result


def wait_for(check: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.05)


def test_alerts_reach_a_real_alertmanager_with_external_labels(real_am: Server) -> None:
    now = int(time.time() * 1000)
    name = f"NotifierE2E{now}"
    config = load_config(prometheus_yml(real_am.url.removeprefix("http://")))

    async def go() -> None:
        n = Notifier(config)
        await n.start()
        n.send(
            [
                alert(name, now - 60_000, instance="a:1"),
                alert(name, now - 60_000, instance="b:1", team="web"),
                alert(name, now - 60_000, instance="c:1", drop="yes"),
            ]
        )
        await asyncio.to_thread(
            wait_for,
            lambda: len([a for a in am_alerts(real_am) if a["labels"]["alertname"] == name]) == 2,
        )
        await n.stop()

    asyncio.run(go())
    got = {
        a["labels"]["instance"]: a for a in am_alerts(real_am) if a["labels"]["alertname"] == name
    }
    assert set(got) == {"a:1", "b:1"}  # alert_relabel_configs dropped c:1
    assert got["a:1"]["labels"]["dc"] == "eu"
    assert got["a:1"]["labels"]["team"] == "ops"  # external labels fill in what is missing...
    assert got["b:1"]["labels"]["team"] == "web"  # ...and never override the alert's own
    assert got["a:1"]["annotations"] == {"summary": f"{name} is bad"}
    assert got["a:1"]["generatorURL"] == f"http://spyglass:9090/graph?g0.expr={name}"
    assert got["a:1"]["startsAt"].startswith(format_time(now - 60_000)[:19])
    assert got["a:1"]["status"]["state"] == "active"


def test_a_resolved_alert_ends_in_the_alertmanager(real_am: Server) -> None:
    now = int(time.time() * 1000)
    name = f"NotifierResolved{now}"
    config = load_config(prometheus_yml(real_am.url.removeprefix("http://")))

    def listed() -> list[dict[str, Any]]:
        return [a for a in am_alerts(real_am) if a["labels"]["alertname"] == name]

    async def go() -> None:
        n = Notifier(config)
        await n.start()
        n.send([alert(name, now - 60_000)])
        await asyncio.to_thread(wait_for, lambda: len(listed()) == 1)
        n.send([alert(name, now - 60_000, ends_ms=now - 1_000)])
        await asyncio.to_thread(wait_for, lambda: not listed())  # resolved: no longer active
        await n.stop()

    asyncio.run(go())


def test_queued_alerts_are_sent_before_shutdown_ends(real_am: Server) -> None:
    now = int(time.time() * 1000)
    name = f"NotifierDrain{now}"
    config = load_config(prometheus_yml(real_am.url.removeprefix("http://")))

    async def go() -> None:
        n = Notifier(config, max_batch=10)
        await n.start()
        n.send([alert(name, now, instance=str(i)) for i in range(95)])
        await n.stop()  # at once: the queue still holds most of them

    asyncio.run(go())
    assert len([a for a in am_alerts(real_am) if a["labels"]["alertname"] == name]) == 95


class Recorder:
    """An httpx transport standing in for Alertmanagers: records posts, answers ``status``."""

    def __init__(self, status: int = 200, delay_s: float = 0.0) -> None:
        self.status = status
        self.delay_s = delay_s
        self.posts: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = []

    def transport(self) -> httpx.MockTransport:
        async def handle(request: httpx.Request) -> httpx.Response:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            self.posts.append(
                (str(request.url), dict(request.headers), json.loads(request.content))
            )
            return httpx.Response(self.status)

        return httpx.MockTransport(handle)


def test_path_prefix_scheme_auth_and_target_relabeling() -> None:
    config = load_config(
        prometheus_yml(
            "am1:9093",
            "am2:9093",
            am_extra=(
                "      scheme: https\n"
                "      path_prefix: /alertmanager/\n"
                "      basic_auth: {username: prom, password: secret}\n"
                "      relabel_configs:\n"
                "        - {source_labels: [__address__], regex: 'am2.*', action: drop}\n"
            ),
        )
    )
    rec = Recorder()

    async def go() -> dict[str, object]:
        n = Notifier(config, transport=rec.transport())
        await n.start()
        n.send([alert("X", 1_000_000)])
        status = n.status()
        await n.stop()
        return status

    status = asyncio.run(go())
    assert status == {
        "activeAlertmanagers": [{"url": "https://am1:9093/alertmanager/api/v2/alerts"}],
        "droppedAlertmanagers": [{"url": "https://am2:9093/alertmanager/api/v2/alerts"}],
    }
    [(url, headers, body)] = rec.posts
    assert url == "https://am1:9093/alertmanager/api/v2/alerts"
    assert headers["authorization"] == "Basic cHJvbTpzZWNyZXQ="
    assert headers["content-type"] == "application/json"
    assert body == [
        {
            "labels": {"alertname": "X", "dc": "eu", "team": "ops"},
            "annotations": {"summary": "X is bad"},
            "startsAt": "1970-01-01T00:16:40.000Z",
            "generatorURL": "http://spyglass:9090/graph?g0.expr=X",
        }
    ]


def test_alerts_path_joins_like_go() -> None:
    assert alerts_path("") == "/api/v2/alerts"
    assert alerts_path("/") == "/api/v2/alerts"
    assert alerts_path("am") == "/am/api/v2/alerts"
    assert alerts_path("/a/b/") == "/a/b/api/v2/alerts"
    cfg = load_config(prometheus_yml("h:1")).alertmanagers[0]
    assert discover(cfg, cfg.static_configs).urls == ("http://h:1/api/v2/alerts",)


def test_batches_are_at_most_max_batch_and_a_full_queue_drops_the_oldest() -> None:
    config = load_config(prometheus_yml("am:9093"))
    rec = Recorder(delay_s=0.2)

    async def go() -> str:
        n = Notifier(config, transport=rec.transport(), queue_capacity=50, max_batch=20)
        await n.start()
        n.send([alert("Q", 1_000, i=str(i)) for i in range(5)])
        await asyncio.sleep(0.05)  # the first batch of 5 is in flight now
        n.send([alert("Q", 1_000, i=str(i)) for i in range(5, 65)])  # 60 more: 10 too many
        [loop] = n.loops()
        while loop.stats.sent + loop.stats.dropped < 65:
            await asyncio.sleep(0.05)
        text = metrics_text(n)
        await n.stop()
        return text

    body = asyncio.run(go())
    sizes = [len(body) for _, _, body in rec.posts]
    assert sizes == [5, 20, 20, 10]
    sent = [a["labels"]["i"] for _, _, body in rec.posts for a in body]
    assert sent == [str(i) for i in (*range(5), *range(15, 65))]  # 5..14 were the oldest
    assert (
        'spyglass_notifications_dropped_total{alertmanager="http://am:9093/api/v2/alerts"} 10.0'
        in body
    )
    assert (
        'spyglass_notifications_sent_total{alertmanager="http://am:9093/api/v2/alerts"} 55.0'
        in body
    )
    assert "spyglass_notifications_queue_capacity 50.0" in body


def test_a_failing_alertmanager_counts_errors_and_does_not_stop_the_others() -> None:
    config = load_config(
        prometheus_yml("good:9093", extra="") + "    - static_configs: [{targets: ['bad:9093']}]\n"
    )
    good, bad = Recorder(), Recorder(status=500)

    def route(request: httpx.Request) -> httpx.Response:
        target = good if request.url.host == "good" else bad
        target.posts.append((str(request.url), {}, json.loads(request.content)))
        return httpx.Response(target.status)

    async def go() -> str:
        n = Notifier(config, transport=httpx.MockTransport(route))
        await n.start()
        n.send([alert("F", 1_000), alert("G", 1_000)])
        while len(good.posts) + len(bad.posts) < 2 or any(
            lp.stats.queue_length for lp in n.loops()
        ):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # the counters move after the answer
        text = metrics_text(n)
        await n.stop()
        return text

    body = asyncio.run(go())
    assert len(good.posts) == 1
    assert len(bad.posts) == 1
    assert (
        'spyglass_notifications_errors_total{alertmanager="http://bad:9093/api/v2/alerts"} 2.0'
        in body
    )
    assert (
        'spyglass_notifications_sent_total{alertmanager="http://good:9093/api/v2/alerts"} 2.0'
        in body
    )
    assert "spyglass_notifications_alertmanagers_discovered 2.0" in body


def test_reload_moves_alerts_to_the_new_alertmanager_and_keeps_a_staying_queue() -> None:
    rec = Recorder()

    async def go() -> None:
        n = Notifier(load_config(prometheus_yml("one:9093", "two:9093")), transport=rec.transport())
        await n.start()
        two_before = [lp for lp in n.loops() if "two" in lp.url]
        await n.reload(load_config(prometheus_yml("two:9093", "three:9093")))
        assert n.urls() == ["http://two:9093/api/v2/alerts", "http://three:9093/api/v2/alerts"]
        assert [lp for lp in n.loops() if "two" in lp.url] == two_before  # same queue
        n.send([alert("R", 1_000)])
        await n.stop()

    asyncio.run(go())
    assert sorted(url.split("/")[2] for url, _, _ in rec.posts) == ["three:9093", "two:9093"]


def test_no_alertmanagers_means_nothing_is_sent_and_nothing_breaks(tmp_path: Path) -> None:
    async def go() -> None:
        n = Notifier(load_config("global: {}\n"))
        await n.start()
        n.send([alert("Nobody", 1_000)])
        assert n.status() == {"activeAlertmanagers": [], "droppedAlertmanagers": []}
        await n.stop()

    asyncio.run(go())


def test_file_sd_alertmanagers_follow_the_file(tmp_path: Path) -> None:
    targets = tmp_path / "am.json"
    targets.write_text(json.dumps([{"targets": ["first:9093"]}]))
    config = load_config(
        "alerting:\n  alertmanagers:\n"
        f"    - file_sd_configs: [{{files: ['{targets}'], refresh_interval: 1s}}]\n"
    )

    async def go() -> list[str]:
        n = Notifier(config, transport=Recorder().transport())
        await n.start()
        assert n.urls() == ["http://first:9093/api/v2/alerts"]
        targets.write_text(json.dumps([{"targets": ["second:9093"]}]))
        for _ in range(60):
            await asyncio.sleep(0.1)
            if n.urls() == ["http://second:9093/api/v2/alerts"]:
                break
        urls = n.urls()
        await n.stop()
        return urls

    assert asyncio.run(go()) == ["http://second:9093/api/v2/alerts"]


def metrics_text(n: Notifier) -> str:
    m = SelfMetrics()
    for c in n.collectors():
        m.add(c)
    return m.render(None)[0].decode()


def test_relabeled_gives_alerts_as_any_alertmanager_gets_them() -> None:
    config = load_config(
        "global: {external_labels: {dc: eu}}\n"
        "alerting:\n"
        "  alert_relabel_configs:\n"
        "    - {source_labels: [severity], regex: debug, action: drop}\n"
    )
    alerts = [
        Alert(labels_of({"alertname": "A", "severity": "page"})),
        Alert(labels_of({"alertname": "B", "severity": "debug"})),
        Alert(labels_of({"alertname": "C", "dc": "us"})),
    ]
    got = Notifier(config).relabeled(alerts)
    assert [dict(a.labels) for a in got] == [
        {"alertname": "A", "dc": "eu", "severity": "page"},
        {"alertname": "C", "dc": "us"},  # an alert's own label wins over the external one
    ]
