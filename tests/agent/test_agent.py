"""The agent's loop against an in-process fake Loki: entries carry the target's labels and
``filename``, batches go out when full or old, and positions only move past acknowledged (or
purposely dropped) lines, so a restart after a failed push neither loses nor repeats a line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from spyglass.agent import Agent, load_agent_config
from spyglass.core.limits import LogLimits
from spyglass.ingest.loki import decode_push

T0 = 1_700_000_000_000_000_000


class FakeLoki:
    """Answers pushes with ``status`` and keeps what it acknowledged."""

    def __init__(self) -> None:
        self.status = 204
        self.lines: list[tuple[dict[str, str], str]] = []
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.status == 204:
            got = decode_push(request.content, "application/x-protobuf", "", LogLimits(), T0)
            self.lines += [(dict(r.stream), r.line) for r in got.batch]
        return httpx.Response(self.status)


def config(tmp_path: Path, stages: str = "[]", batchsize: int = 1 << 20) -> str:
    return f"""
server: {{disable: true}}
positions: {{filename: {tmp_path}/positions.yaml}}
clients:
  - url: http://loki.test/loki/api/v1/push
    batchwait: 1s
    batchsize: {batchsize}
    backoff_config: {{min_period: 1ms, max_period: 1ms, max_retries: 1}}
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [localhost]
        labels: {{job: app, __path__: {tmp_path}/logs/*.log}}
    pipeline_stages: {stages}
"""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def make(tmp_path: Path, loki: FakeLoki, clock: Clock, **kw: object) -> Agent:
    agent = Agent(
        load_agent_config(config(tmp_path, **kw)),  # type: ignore[arg-type]
        clock=clock,
        transport=httpx.MockTransport(loki),
    )
    agent.positions.load()
    agent.sync_targets()
    return agent


def saved(tmp_path: Path) -> str:
    return (tmp_path / "positions.yaml").read_text()


def test_labels_batching_and_positions_after_ack(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "a.log"
    log.write_text("one\ntwo\n")
    loki, clock = FakeLoki(), Clock()

    async def go() -> None:
        agent = make(tmp_path, loki, clock)
        await agent.step(clock.now)
        assert loki.lines == []  # batchwait not over yet
        agent.save_positions()
        assert f"{log}: '0'" in saved(tmp_path)
        clock.now += 1_000_000_000
        await agent.step(clock.now)
        assert loki.lines == [
            ({"job": "app", "filename": str(log)}, "one"),
            ({"job": "app", "filename": str(log)}, "two"),
        ]
        agent.save_positions()
        assert f"{log}: '8'" in saved(tmp_path)
        await agent.close()

    asyncio.run(go())


def test_a_failed_push_keeps_the_position_and_a_restart_resends_once(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "a.log"
    log.write_text("1\n2\n")
    loki, clock = FakeLoki(), Clock()

    async def first() -> None:
        agent = make(tmp_path, loki, clock)
        await agent.step(clock.now)
        clock.now += 10**9
        await agent.step(clock.now)  # 1 and 2 acknowledged
        with log.open("a") as f:
            f.write("3\n4\n")
        loki.status = 503
        await agent.step(clock.now)
        agent.stop()  # the push of 3 and 4 fails while the agent stops
        await agent.run()

    async def second() -> None:
        loki.status = 204
        agent = make(tmp_path, loki, clock)
        await agent.step(clock.now)
        clock.now += 10**9
        await agent.step(clock.now)
        agent.save_positions()
        await agent.close()

    asyncio.run(first())
    assert [line for _, line in loki.lines] == ["1", "2"]
    assert f"{log}: '4'" in saved(tmp_path)
    asyncio.run(second())
    assert [line for _, line in loki.lines] == ["1", "2", "3", "4"]
    assert f"{log}: '8'" in saved(tmp_path)


def test_a_held_multiline_block_holds_the_position_and_dropped_lines_do_not(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "a.log"
    log.write_text("debug x\nSTART a\n  at b\n")
    stages = (
        "[{drop: {expression: '^debug'}}, {multiline: {firstline: '^START', max_wait_time: 3s}}]"
    )
    loki, clock = FakeLoki(), Clock()

    async def go() -> None:
        agent = make(tmp_path, loki, clock, stages=stages)
        await agent.step(clock.now)
        agent.save_positions()
        # "debug x" (8 bytes) was dropped on purpose; the block from offset 8 is still held.
        assert f"{log}: '8'" in saved(tmp_path)
        clock.now += 3 * 10**9
        await agent.step(clock.now)  # the block times out into the batch
        clock.now += 10**9
        await agent.step(clock.now)  # and the batch goes out
        assert [line for _, line in loki.lines] == ["START a\n  at b"]
        agent.save_positions()
        assert f"{log}: '23'" in saved(tmp_path)
        assert agent.config.drops.by_reason == {"drop_stage": 1}
        await agent.close()

    asyncio.run(go())


def test_a_full_batch_goes_out_at_once(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_text("".join(f"line {i:03d}\n" for i in range(10)))
    loki, clock = FakeLoki(), Clock()

    async def go() -> None:
        agent = make(tmp_path, loki, clock, batchsize=40)
        await agent.step(clock.now)
        # 8-byte lines, 40-byte batches: the sixth line does not fit, so the first five go
        # out before the batch wait is over; the other five wait for it.
        assert loki.requests == 1
        assert len(loki.lines) == 5
        assert len(agent.batch) == 5
        await agent.close()

    asyncio.run(go())


def test_rotation_reads_the_rest_of_the_old_file_then_the_new(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "a.log"
    log.write_text("old 1\n")
    loki, clock = FakeLoki(), Clock()

    async def go() -> None:
        agent = make(tmp_path, loki, clock)
        await agent.step(clock.now)
        with log.open("a") as f:
            f.write("old 2\n")
        log.rename(tmp_path / "logs" / "a.log.1")
        log.write_text("new 1\n")
        await agent.step(clock.now)
        clock.now += 10**9
        await agent.step(clock.now)
        agent.save_positions()
        await agent.close()

    asyncio.run(go())
    assert [line for _, line in loki.lines] == ["old 1", "old 2", "new 1"]
    assert f"{log}: '6'" in saved(tmp_path)
