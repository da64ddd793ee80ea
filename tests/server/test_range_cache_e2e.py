"""The range query cache in a real ``spyglass serve`` on loopback.

- One node (embedded storage, cache on by default): a repeated range query is answered from
  the cache; a sample written over remote_write for a time the cache holds shows up in the next
  answer, which equals ``nocache=1``'s; ``/internal/resetRollupResultCache`` empties it.
- Two nodes on one ClickHouse server: the cache is off by default there, so a late sample one
  node writes reaches the other's answers; a node started with ``--range-cache`` keeps its
  cached answer (why it is off by default), and ``nocache=1`` still sees the sample.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import Server, free_port, spyglass, started

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
MIN = 60_000


def _write(server: Server, series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> None:
    body = encode_write_request([(tuple(sorted(ls.items())), pts) for ls, pts in series])
    r = httpx.post(server.url + "/api/v1/write", content=body, headers=RW_HEADERS, timeout=30)
    assert r.status_code == 204, r.text


def _range(server: Server, query: str, start_ms: int, end_ms: int, **extra: str) -> Any:
    params = {"query": query, "start": start_ms / 1000, "end": end_ms / 1000, "step": "60"}
    r = httpx.get(server.url + "/api/v1/query_range", params={**params, **extra}, timeout=30)
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def _metrics(server: Server) -> dict[str, float]:
    out = {}
    for line in httpx.get(server.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(("spyglass_rollup_cache_", "spyglass_storage_pend")):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def _flushed(server: Server) -> None:
    deadline = time.monotonic() + 30
    while _metrics(server)["spyglass_storage_pending_samples"] and time.monotonic() < deadline:
        time.sleep(0.1)


def _window() -> tuple[int, int]:
    """An hour ending at the last whole minute (Grafana aligns ranges to the step)."""
    end = int(time.time()) // 60 * 60 * 1000
    return end - 60 * MIN, end


def _history(start: int, end: int) -> list[tuple[dict[str, str], list[tuple[int, float]]]]:
    points = [(t + 500, 1.0) for t in range(start - 10 * MIN, end, MIN)]
    return [({"__name__": "orders", "shop": "a"}, points)]


def test_a_late_sample_reaches_the_next_cached_answer(tmp_path: Path) -> None:
    start, end = _window()
    q = "sum(orders)"
    with spyglass(tmp_path / "data") as sg:
        _write(sg, _history(start, end))
        first = _range(sg, q, start, end)
        assert _range(sg, q, start, end) == first
        m = _metrics(sg)
        assert m["spyglass_rollup_cache_misses_total"] == 1
        assert m["spyglass_rollup_cache_hits_total"] == 1
        assert m["spyglass_rollup_cache_entries"] == 1
        assert m["spyglass_rollup_cache_bytes"] > 0
        # 55 of the hour's 61 steps are older than now - 5m and came from the cache.
        assert m["spyglass_rollup_cache_steps_cached_total"] >= 55

        late = end - 30 * MIN + 500  # well behind the cache's boundary
        _write(sg, [({"__name__": "orders", "shop": "b"}, [(late, 100.0)])])
        after = _range(sg, q, start, end)
        assert after == _range(sg, q, start, end, nocache="1")
        values = {round(float(t) * 1000): float(v) for t, v in after[0]["values"]}
        assert values[end - 30 * MIN + MIN] == 101.0  # the step after it sees both shops
        assert values[end - 31 * MIN] == 1.0
        assert _metrics(sg)["spyglass_rollup_cache_invalidations_total"] == 1

        r = httpx.post(sg.url + "/internal/resetRollupResultCache", timeout=10)
        assert (r.status_code, r.content) == (200, b"")
        assert _metrics(sg)["spyglass_rollup_cache_entries"] == 0


def test_nodes_sharing_a_clickhouse_server_see_each_others_late_samples(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "tests.support.clickhouse_http", "--port", str(port),
           "--path", str(tmp_path / "ch")]  # fmt: skip
    url = f"http://default:@127.0.0.1:{port}/default?compress=false"
    start, end = _window()
    q = "sum(orders)"
    shared = ("--storage-url", url, "--flush-interval", "100ms")
    with (
        started(cmd, f"http://127.0.0.1:{port}", "/ping", tmp_path / "ch.log"),
        spyglass(tmp_path / "a", *shared) as a,
        spyglass(tmp_path / "b", *shared, "--range-cache") as b,
    ):
        _write(a, _history(start, end))
        _flushed(a)
        before = _range(a, q, start, end)
        assert _range(b, q, start, end) == before  # b caches it
        assert not any(k.startswith("spyglass_rollup_cache_") for k in _metrics(a))

        _write(a, [({"__name__": "orders", "shop": "b"}, [(end - 30 * MIN + 500, 100.0)])])
        _flushed(a)
        fresh = _range(a, q, start, end)
        assert fresh != before
        assert _range(b, q, start, end, nocache="1") == fresh
        # The node told to cache never heard of a's late write: it answers as before.
        assert _range(b, q, start, end) == before
