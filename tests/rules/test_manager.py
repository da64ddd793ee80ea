"""The rule manager: schedules at a stable offset, writes samples, sends alerts, reloads."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from spyglass.core.alerts import Alert
from spyglass.core.config import load_config
from spyglass.core.errors import ConfigError
from spyglass.core.labels import labels_of
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.core.template import expand_alert_template
from spyglass.rules import RuleManager, eval_timestamp
from spyglass.rules._manager import _Running, eval_offset_ms
from spyglass.storage import MemoryStore

NOW_MS = 1_700_000_000_000


class Sent:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alerts: Sequence[Alert]) -> None:
        self.alerts.extend(alerts)


def manager(tmp_path: Path, rules: str, store: MemoryStore, sent: Sent) -> RuleManager:
    (tmp_path / "rules.yml").write_text(rules)
    config = load_config(
        "global: {evaluation_interval: 1m, external_labels: {dc: eu}}\nrule_files: [rules.yml]\n",
        directory=tmp_path,
    )
    return RuleManager(
        config, querier=store, sink=store, alerts=sent, expander=expand_alert_template,
        external_url="http://spyglass:9090",
    )  # fmt: skip


RULES = """
groups:
  - name: g
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
      - alert: XHigh
        expr: x > 5
        annotations: {summary: "x is {{ $value }}"}
"""


def select(store: MemoryStore, name: str) -> dict[tuple[tuple[str, str], ...], list[float]]:
    found = store.select([Matcher("__name__", MatchOp.EQUAL, name)], 0, NOW_MS * 2)
    return {s.labels: s.values.tolist() for s in found}


def test_evaluation_timestamps_are_stable_and_inside_the_interval(tmp_path: Path) -> None:
    store = MemoryStore()
    m = manager(tmp_path, RULES, store, Sent())
    [group] = m.load(m.config)
    offset = eval_offset_ms(group)
    assert 0 <= offset < 60_000
    slot = eval_timestamp(group, NOW_MS)
    assert slot <= NOW_MS < slot + 60_000
    assert (slot - offset) % 60_000 == 0
    assert eval_timestamp(group, slot) == slot
    assert eval_timestamp(group, slot + 59_999) == slot


def test_an_evaluation_writes_samples_and_sends_firing_alerts(tmp_path: Path) -> None:
    store = MemoryStore()
    store.add(labels_of({"__name__": "x", "job": "a", "i": "1"}), [NOW_MS - 10_000], [7.0])
    sent = Sent()
    m = manager(tmp_path, RULES, store, sent)
    [group] = m.load(m.config)

    running = _Running(group, restore=True)  # as after a start
    asyncio.run(m.evaluate(running, NOW_MS))
    assert select(store, "ALERTS") == {}  # not before the for-state is restored, as Prometheus
    assert select(store, "job:x:sum") == {labels_of({"__name__": "job:x:sum", "job": "a"}): [7.0]}
    [a] = sent.alerts
    assert dict(a.labels) == {"alertname": "XHigh", "i": "1", "job": "a"}  # external labels: later
    assert dict(a.annotations) == {"summary": "x is 7"}
    assert a.starts_at_ms == NOW_MS
    assert a.generator_url.startswith("http://spyglass:9090/graph?g0.expr=")
    asyncio.run(m.evaluate(running, NOW_MS + 60_000))
    firing = select(store, "ALERTS")
    assert list(firing.values()) == [[1.0]]


def test_reload_keeps_alert_state_and_marks_removed_rules_stale(tmp_path: Path) -> None:
    store = MemoryStore()
    store.add(labels_of({"__name__": "x", "job": "a"}), [NOW_MS - 10_000], [7.0])
    sent = Sent()
    rules = RULES.replace("expr: x > 5", "expr: x > 5\n        for: 10m")
    m = manager(tmp_path, rules, store, sent)

    async def go() -> None:
        await m.start()
        [running] = m.running()
        await m.evaluate(running, NOW_MS)
        [alert] = running.group.alerting_rules()[0].active_alerts()
        assert alert.state == "pending"
        # The recording rule goes away; the alerting rule stays and keeps its pending alert.
        (tmp_path / "rules.yml").write_text(
            rules.replace("      - record: job:x:sum\n        expr: sum by (job) (x)\n", "")
        )
        await m.reload(m.config)
        [running] = m.running()
        [kept] = running.group.alerting_rules()[0].active_alerts()
        assert kept.active_at_ms == alert.active_at_ms  # the 10 minutes were not restarted
        await m.evaluate(running, NOW_MS + 60_000)
        await m.stop()

    asyncio.run(go())
    [recorded] = select(store, "job:x:sum").values()
    assert recorded[0] == 7.0
    assert math.isnan(recorded[-1])  # stale after the rule was removed


def test_a_removed_group_marks_its_series_stale(tmp_path: Path) -> None:
    store = MemoryStore()
    store.add(labels_of({"__name__": "x", "job": "a"}), [NOW_MS - 10_000], [1.0])
    m = manager(tmp_path, RULES, store, Sent())

    async def go() -> None:
        await m.start()
        [running] = m.running()
        await m.evaluate(running, NOW_MS)
        (tmp_path / "rules.yml").write_text("groups: []\n")
        await m.reload(m.config)
        assert m.groups() == []
        await m.stop()

    asyncio.run(go())
    [recorded] = select(store, "job:x:sum").values()
    assert math.isnan(recorded[-1])


def test_a_bad_file_on_reload_keeps_the_running_rules(tmp_path: Path) -> None:
    m = manager(tmp_path, RULES, MemoryStore(), Sent())

    async def go() -> None:
        await m.start()
        (tmp_path / "rules.yml").write_text("groups:\n  - name: g\n    rules: [{record: 'a b'}]\n")
        with pytest.raises(ConfigError, match=r"rules\.yml"):
            await m.reload(m.config)
        assert [g.name for g in m.groups()] == ["g"]
        assert len(m.groups()[0].rules) == 2
        await m.stop()

    asyncio.run(go())
