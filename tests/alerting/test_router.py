"""The router component: loads alertmanager.yml, reloads it (a broken file keeps the old one),
reports receivers it cannot send to instead of failing, routes and notifies end to end on a
manual clock, keeps its alerts across a restart, and without a file still takes alerts but sends
nothing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.alerting import SENDER_BUILDERS, ManualClock, Router, StoredAlert, WebhookSender
from spyglass.alerting._alertsnapshot import decode, encode
from spyglass.alerting._notify import SenderEnv
from spyglass.core.alerts import Alert
from spyglass.core.errors import ConfigError
from spyglass.storage.state import SqlStateStore, open_state_store

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
receivers:
  - name: hook
    webhook_configs: [{url: "http://hook.example/"}]
  - name: elsewhere
    webhook_configs: [{url: "http://hook.example/"}]
    victorops_configs: [{api_key: k, routing_key: r}]
"""


@pytest.fixture
def state(tmp_path: Path) -> Iterator[tuple[ManualClock, SqlStateStore]]:
    clock = ManualClock(1_900_000_000_000)
    store = open_state_store("", tmp_path, clock=clock.now_ms)
    yield clock, store
    store.close()


def test_a_receiver_kind_without_sender_is_reported_at_load_and_the_rest_runs(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore], caplog: pytest.LogCaptureFixture
) -> None:
    clock, db = state
    path = tmp_path / "am.yml"
    path.write_text(CONFIG)
    router = Router(str(path), db, clock=clock)
    with caplog.at_level(logging.ERROR, "spyglass.alerting"):
        router.load()
    assert router.loaded is not None
    assert router.loaded.unsupported == ["elsewhere: victorops_configs"]
    assert "receiver elsewhere: victorops_configs cannot be sent" in caplog.text
    assert [i.key.integration for i in router.loaded.integrations["elsewhere"]] == ["webhook"]


def test_reload_keeps_the_old_config_when_the_new_file_is_broken(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore]
) -> None:
    clock, db = state
    path = tmp_path / "am.yml"
    path.write_text(CONFIG)
    router = Router(str(path), db, clock=clock)
    router.load()
    old = router.loaded
    path.write_text("route: {receiver: nobody}\n")
    with pytest.raises(ConfigError) as caught:
        asyncio.run(router.reload())
    assert str(path) in str(caught.value)
    assert router.loaded is old
    path.write_text(CONFIG.replace("group_wait: 10s", "group_wait: 20s"))
    asyncio.run(router.reload())
    assert router.loaded is not old
    assert router.loaded is not None
    assert router.loaded.tree.root.options.group_wait_ms == 20_000


def test_without_a_file_alerts_are_taken_and_nothing_is_routed(
    state: tuple[ManualClock, SqlStateStore],
) -> None:
    clock, db = state
    router = Router("", db, clock=clock)
    router.load()

    async def go() -> None:
        await router.start()
        router.send([Alert((("alertname", "A"),), (), clock.now)])
        await router.stop()

    asyncio.run(go())
    assert [a.alert.name for a in router.store] == ["A"]
    assert router.receivers_of({"alertname": "A"}) == []
    assert router.groups() == []


def test_alerts_from_rules_are_grouped_waited_for_and_posted(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore]
) -> None:
    clock, db = state
    path = tmp_path / "am.yml"
    path.write_text(CONFIG)
    posted: list[bytes] = []

    def handle(request: httpx.Request) -> httpx.Response:
        posted.append(request.content)
        return httpx.Response(200)

    def build(config: object, env: SenderEnv) -> WebhookSender:
        return WebhookSender(config, env, transport=httpx.MockTransport(handle))  # type: ignore[arg-type]

    original = SENDER_BUILDERS["webhook_configs"]
    SENDER_BUILDERS["webhook_configs"] = build
    try:
        router = Router(str(path), db, clock=clock)
        router.load()

        async def go() -> None:
            await router.start()
            router.send([Alert((("alertname", "A"),), (), clock.now)])
            assert router.dispatcher is not None
            assert await router.dispatcher.flush_due() == 0
            clock.advance(10_000)
            assert await router.dispatcher.flush_due() == 1
            await router.stop()

        asyncio.run(go())
    finally:
        SENDER_BUILDERS["webhook_configs"] = original
    assert len(posted) == 1
    assert b'"groupKey":"{}:{alertname=\\"A\\"}"' in posted[0]
    assert router.metrics.notifications["webhook"] == 1


def test_alerts_survive_a_restart_of_the_router(
    tmp_path: Path, state: tuple[ManualClock, SqlStateStore]
) -> None:
    clock, db = state
    path = tmp_path / "am.yml"
    path.write_text(CONFIG)
    posted = Alert((("alertname", "A"),), (("summary", "s"),), clock.now - 1000, 0, "http://g/")

    async def first() -> None:
        router = Router(str(path), db, clock=clock)
        router.load()
        await router.start()
        router.send([posted])
        await router.stop()  # saves what changed

    async def second() -> list[StoredAlert]:
        router = Router(str(path), db, clock=clock)
        router.load()
        await router.start()
        alerts = list(router.store)
        groups = router.groups()
        await router.stop()
        assert [g.key for g in groups] == ['{}:{alertname="A"}']  # regrouped at start
        return alerts

    asyncio.run(first())
    (restored,) = asyncio.run(second())
    assert restored.alert.labels == posted.labels
    assert restored.alert.annotations == posted.annotations
    assert restored.alert.starts_at_ms == posted.starts_at_ms
    assert restored.alert.generator_url == "http://g/"
    assert restored.timeout
    assert restored.alert.ends_at_ms == clock.now + 300_000


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=5), st.text(max_size=5)), max_size=4),
    st.integers(0, 2**53),
    st.booleans(),
)
def test_snapshot_documents_decode_to_the_alert_they_encode(
    pairs: list[tuple[str, str]], ms: int, timeout: bool
) -> None:
    alert = StoredAlert(Alert(tuple(pairs), tuple(pairs), ms, ms + 1, "u"), "fp", ms, timeout)
    assert decode("fp", json.loads(json.dumps(encode(alert)))) == alert
