"""Multiprocess mode: two uvicorn workers, one merged /metrics page whichever worker answers."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from tests.support.servers import free_port, started

from spyglass.ingest.exposition import parse

APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from spyglass.sdk import instrument


async def item(request):
    return PlainTextResponse(str(request.path_params["item_id"]))


app = Starlette(routes=[Route("/items/{item_id}", item), Route("/ready", item)])
instrument(app, service="mp", tracing=False, logging=False)
"""


def total_for(page: str) -> float:
    return sum(
        s.value
        for s in parse(page).samples
        if dict(s.labels).get("__name__") == "http_requests_total"
        and dict(s.labels).get("route") == "/items/{item_id}"
    )


def test_workers_share_one_metrics_view(tmp_path: Path) -> None:
    (tmp_path / "mp_app.py").write_text(APP)
    mp_dir = tmp_path / "prom"
    mp_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(mp_dir),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
    }
    cmd = [
        sys.executable, "-m", "uvicorn", "mp_app:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "2", "--log-level", "warning",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with started(cmd, url, "/metrics", tmp_path / "uvicorn.log", env=env, cwd=tmp_path):
        # Concurrent requests on new connections, so both workers get some of them.
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda i: httpx.get(f"{url}/items/{i}").status_code, range(40)))
        assert codes == [200] * 40
        files = {p.name for p in mp_dir.glob("*.db")}
        pids = {name.rsplit("_", 1)[-1] for name in files}
        assert len(pids) >= 2, files
        for _ in range(6):
            assert total_for(httpx.get(url + "/metrics").text) == 40
