"""ScrapeManager without a network: target limits, the targets API view, reloads."""

from __future__ import annotations

import asyncio
import textwrap

import httpx

from spyglass.core.config import load_config
from spyglass.core.samples import is_stale
from spyglass.ingest.scrape import ScrapeManager
from spyglass.ingest.scrape._manager import scrape_parse
from spyglass.storage.memory import MemoryStore


def page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, text=f'hits{{path="{request.url.path}"}} 1\n', headers={"content-type": "text/plain"}
    )


def config(extra: str = "", targets: str = "['a:1', 'b:2']") -> str:
    return textwrap.dedent(f"""\
        scrape_configs:
          - job_name: web
            scrape_interval: 1h
            static_configs:
              - targets: {targets}
        """) + textwrap.indent(textwrap.dedent(extra), "    ")


def test_target_limit_fails_every_scrape_of_the_pool() -> None:
    manager = ScrapeManager(
        MemoryStore(), load_config(config("target_limit: 1\n")), transport=httpx.MockTransport(page)
    )

    async def scenario() -> None:
        await manager.start()
        try:
            results = [await loop.scrape_once() for loop in manager.loops()]
        finally:
            await manager.stop()
        assert [r.error for r in results] == [
            "target_limit exceeded (number of targets: 2, limit: 1)"
        ] * 2

    asyncio.run(scenario())


def test_targets_view_filters_by_state_and_pool() -> None:
    cfg = load_config(
        config(
            "relabel_configs:\n  - source_labels: [__address__]\n    regex: b:2\n    action: drop\n"
        )
    )
    manager = ScrapeManager(MemoryStore(), cfg, transport=httpx.MockTransport(page))

    async def scenario() -> None:
        await manager.start()
        try:
            everything = manager.targets()
            assert [t["scrapeUrl"] for t in everything["activeTargets"]] == [  # type: ignore[attr-defined]
                "http://a:1/metrics"
            ]
            assert len(everything["droppedTargets"]) == 1  # type: ignore[arg-type]
            assert manager.targets(state="active")["droppedTargets"] == []
            assert manager.targets(state="dropped")["activeTargets"] == []
            assert manager.targets(scrape_pool="other")["activeTargets"] == []
            (active,) = everything["activeTargets"]  # type: ignore[misc]
            assert active["health"] == "unknown"
            assert active["globalUrl"] == "http://a:1/metrics"  # not loopback: unchanged
            assert manager.scrape_pools() == ["web"]
        finally:
            await manager.stop()

    asyncio.run(scenario())


def test_reload_with_changed_config_keeps_surviving_targets_state() -> None:
    store = MemoryStore()
    manager = ScrapeManager(store, load_config(config()), transport=httpx.MockTransport(page))

    async def scenario() -> None:
        await manager.start()
        try:
            for loop in manager.loops():
                await loop.scrape_once()
            # a:1 survives a changed job (same labels and URL); b:2 is removed
            await manager.reload(load_config(config("scrape_timeout: 5s\n", targets="['a:1']")))
            (loop,) = manager.loops()
            assert loop.target.url == "http://a:1/metrics"
            assert loop.state.health == "up"  # inherited from before the reload
            result = await loop.scrape_once()
            assert result.error == ""
            # b:2 went away: its series are marked stale once its next scrape time has passed
            assert len(manager._retiring) == 1
        finally:
            await manager.stop()
        hits_b = [s for s in store.select([], 0, 2**62) if dict(s.labels).get("instance") == "b:2"]
        assert hits_b
        # stop() cancelled the pending end-of-run staleness: nothing was marked stale
        assert not any(is_stale(v) for s in hits_b for v in s.values.tolist())

    asyncio.run(scenario())


def test_keep_dropped_targets_caps_the_list_but_not_the_count() -> None:
    cfg = load_config(
        config(
            "keep_dropped_targets: 1\nrelabel_configs:\n  - action: drop\n    regex: .*\n",
            targets="['a:1', 'b:1', 'c:1']",
        )
    )
    manager = ScrapeManager(MemoryStore(), cfg, transport=httpx.MockTransport(page))

    async def scenario() -> None:
        await manager.start()
        try:
            data = manager.targets()
        finally:
            await manager.stop()
        assert data["activeTargets"] == []
        assert len(data["droppedTargets"]) == 1  # type: ignore[arg-type]
        assert data["droppedTargetCounts"] == {"web": 3}

    asyncio.run(scenario())


def test_default_parser_takes_text_pages_prometheus_scrapes() -> None:
    """Pages promtool calls malformed but Prometheus' scraper accepts are scraped, not failed."""
    page = b'# TYPE a counter\na_total 1\n# TYPE a counter\na_total{x="1"} 2'  # no final newline
    got = {dict(s.labels).get("x", ""): s.value for s in scrape_parse(page, "text/plain").samples}
    assert got == {"": 1.0, "1": 2.0}
