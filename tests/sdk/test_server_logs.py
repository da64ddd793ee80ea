"""Under ``uvicorn app:app`` with its default log config, every line the process writes is JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import httpx
from tests.support.servers import free_port, started

APP = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from spyglass.sdk import get_logger, instrument


async def hello(request):
    get_logger("app").info("hello handler", token="s3cr3t")
    return PlainTextResponse("hi")


app = Starlette(routes=[Route("/hello", hello)])
instrument(app, service="logs", tracing=False)
"""


def test_uvicorn_lines_are_json_too(tmp_path: Path) -> None:
    (tmp_path / "log_app.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    cmd = [sys.executable, "-m", "uvicorn", "log_app:app", "--port", str(port)]
    log = tmp_path / "out.log"
    with started(cmd, f"http://127.0.0.1:{port}", "/health/live", log, env=env, cwd=tmp_path):
        r = httpx.get(f"http://127.0.0.1:{port}/hello", headers={"X-Request-ID": "json-1"})
        assert r.text == "hi"
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line parses
    loggers = {r["logger"] for r in records}
    assert {"app", "uvicorn.access", "uvicorn.error"} <= loggers
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any(r.get("request_id") == "json-1" and "/hello" in r["message"] for r in access)
    handler = next(r for r in records if r["logger"] == "app")
    assert handler["token"] == "[REDACTED]"
    assert handler["request_id"] == "json-1"


def test_no_access_log_stays_off(tmp_path: Path) -> None:
    (tmp_path / "log_app.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    cmd = [sys.executable, "-m", "uvicorn", "log_app:app", "--port", str(port), "--no-access-log"]
    log = tmp_path / "out.log"
    with started(cmd, f"http://127.0.0.1:{port}", "/health/live", log, env=env, cwd=tmp_path):
        assert httpx.get(f"http://127.0.0.1:{port}/hello").text == "hi"
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    loggers = {r["logger"] for r in records}
    assert "app" in loggers
    assert "uvicorn.error" in loggers
    assert "uvicorn.access" not in loggers
