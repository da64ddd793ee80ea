"""``spyglass agent`` end to end: a real ``spyglass serve`` and a real ``spyglass agent`` process
with a Promtail config tailing files in a temporary folder. JSON lines (parsed fields as labels,
structured metadata and timestamps), plain lines with a multiline stack trace, a rotated file
(rename + create) and a truncated one (copytruncate) all read back through Loki's
``query_range``; the agent is stopped mid-way and started again, then killed with SIGKILL once
its positions were saved and started again, and every line is there exactly once."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import Server, free_port, spyglass, started, stop

CONFIG = """
server:
  http_listen_address: 127.0.0.1
  http_listen_port: {port}
positions:
  filename: {tmp}/positions.yaml
  sync_period: 500ms
clients:
  - url: {url}/loki/api/v1/push
    batchwait: 200ms
    external_labels: {{host: web-1}}
target_config:
  sync_period: 500ms
global:
  file_watch_config: {{min_poll_frequency: 100ms}}
scrape_configs:
  - job_name: api
    static_configs:
      - targets: [localhost]
        labels: {{job: api, __path__: '{tmp}/logs/**/*.json.log'}}
    pipeline_stages:
      - json:
          expressions: {{level: , ts: time, user: user.id, msg: }}
      - labels: {{level: }}
      - structured_metadata: {{user: }}
      - timestamp: {{source: ts, format: RFC3339Nano}}
  - job_name: worker
    static_configs:
      - targets: [localhost]
        labels:
          job: worker
          __path__: '{tmp}/logs/worker*.log'
          __path_exclude__: '{tmp}/logs/worker-skip.log'
    pipeline_stages:
      - multiline:
          firstline: '^\\d{{4}}-\\d{{2}}-\\d{{2}} '
          max_wait_time: 500ms
      - regex:
          expression: '^\\S+ \\S+ (?P<level>[A-Z]+) '
      - labels: {{level: }}
      - drop:
          expression: 'healthcheck'
"""

BASE = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10)


def _json_line(i: int, level: str) -> str:
    when = BASE + dt.timedelta(seconds=i, microseconds=123456)
    return json.dumps(
        {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": level,
            "msg": f"request {i}",
            "user": {"id": f"u{i % 3}"},
        }
    )


def _ns(i: int) -> int:
    when = BASE + dt.timedelta(seconds=i, microseconds=123456)
    return int(when.replace(microsecond=0).timestamp()) * 10**9 + 123456000


@contextlib.contextmanager
def agent(config: Path, port: int, log: Path) -> Iterator[Server]:
    cmd = [sys.executable, "-m", "spyglass", "agent", "--config.file", str(config)]
    with started(cmd, f"http://127.0.0.1:{port}", "/ready", log) as s:
        yield s


def query(url: str, q: str) -> list[dict[str, Any]]:
    now = time.time_ns()
    r = httpx.get(
        url + "/loki/api/v1/query_range",
        params={
            "query": q,
            "start": str(now - 3 * 3600 * 10**9),
            "end": str(now + 60 * 10**9),
            "limit": "5000",
            "direction": "forward",
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return list(r.json()["data"]["result"])


def lines(result: list[dict[str, Any]]) -> list[str]:
    return sorted(line for s in result for _, line in s["values"])


def wait_for(
    what: str, get: Callable[[], list[str]], expected: list[str], timeout_s: float = 60
) -> list[str]:
    deadline = time.monotonic() + timeout_s
    got: list[str] = []
    while time.monotonic() < deadline:
        got = get()
        if len(got) >= len(expected):
            break
        time.sleep(0.2)
    assert got == sorted(expected), what
    return got


def wait_saved(positions: Path, sizes: dict[Path, int], timeout_s: float = 30) -> None:
    """Until the positions file records each file at its size."""
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = positions.read_text() if positions.exists() else ""
        if all(f"{path}: '{size}'" in text for path, size in sizes.items()):
            return
        time.sleep(0.1)
    raise AssertionError(f"positions never reached {sizes}: {text}")


def append(path: Path, *texts: str) -> None:
    with path.open("a") as f:
        f.writelines(t + "\n" for t in texts)


def test_promtail_config_tails_rotates_truncates_and_restarts_without_loss(
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    api, nested = logs / "api.json.log", logs / "sub" / "more.json.log"
    worker, skipped = logs / "worker.log", logs / "worker-skip.log"
    port = free_port()
    with spyglass(tmp_path / "data") as sg:
        config = tmp_path / "promtail.yaml"
        config.write_text(CONFIG.format(port=port, tmp=tmp_path, url=sg.url))
        api_lines = [_json_line(i, "error" if i % 4 == 0 else "info") for i in range(8)]
        append(api, *api_lines[:6])
        append(nested, *api_lines[6:])
        trace = [
            "2024-03-10 12:00:00 ERROR payment failed",
            "Traceback (most recent call last):",
            '  File "pay.py", line 3, in charge',
            "ZeroDivisionError: division by zero",
        ]
        append(worker, *trace, "2024-03-10 12:00:01 INFO healthcheck ok")
        append(worker, "2024-03-10 12:00:02 INFO done")
        append(skipped, "2024-03-10 12:00:00 INFO never shipped")
        expected_api = list(api_lines)
        expected_worker = ["\n".join(trace), "2024-03-10 12:00:02 INFO done"]

        def api_got() -> list[str]:
            return lines(query(sg.url, '{job="api"}'))

        def worker_got() -> list[str]:
            return lines(query(sg.url, '{job="worker"}'))

        with agent(config, port, tmp_path / "agent-1.log") as first:
            wait_for("api lines", api_got, expected_api)
            wait_for("worker lines", worker_got, expected_worker)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            assert 'logentry_dropped_lines_total{reason="drop_stage"} 1.0' in metrics

            # Labels from the pipeline and the target, the timestamp from the line, the
            # user as structured metadata (it filters, but is no stream label).
            every = query(sg.url, '{job="api"}')
            assert {s["stream"]["filename"] for s in every} == {str(api), str(nested)}
            assert all(s["stream"]["host"] == "web-1" for s in every)
            errors = lines(query(sg.url, '{job="api", level="error"}'))
            assert errors == sorted(api_lines[i] for i in (0, 4))
            stamps = sorted(int(ts) for s in query(sg.url, '{job="api"}') for ts, _ in s["values"])
            assert stamps == [_ns(i) for i in range(8)]
            u1 = lines(query(sg.url, '{job="api"} | user="u1"'))
            assert u1 == sorted(line for line in api_lines if '"u1"' in line)
            (err,) = query(sg.url, '{job="worker", level="ERROR"}')
            assert err["values"][0][1].endswith("ZeroDivisionError: division by zero")

            # Rotation (rename + create): the old file's last lines, then the new file's.
            more = [_json_line(i, "warn") for i in range(8, 12)]
            append(api, *more[:2])
            api.rename(logs / "api.json.log.1")
            append(api, *more[2:])
            expected_api += more
            wait_for("rotated", api_got, expected_api)

            # copytruncate: the file is emptied in place, then written again from 0.
            with worker.open("r+") as f:
                f.truncate(0)
            append(worker, "2024-03-10 13:00:00 INFO after truncate")
            expected_worker.append("2024-03-10 13:00:00 INFO after truncate")
            wait_for("truncated", worker_got, expected_worker)

            # Stop the agent mid-way; lines written while it is down come after its restart.
            assert stop(first) == 0
        assert "positions" in (tmp_path / "positions.yaml").read_text()
        down = [_json_line(i, "info") for i in range(12, 15)]
        append(api, *down)
        expected_api += down
        with agent(config, port, tmp_path / "agent-2.log") as second:
            append(worker, "2024-03-10 13:00:01 INFO after restart")
            expected_worker.append("2024-03-10 13:00:01 INFO after restart")
            wait_for("after restart", api_got, expected_api)
            wait_for("after restart", worker_got, expected_worker)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            assert 'promtail_sent_entries_total{host="127.0.0.1"}' in metrics
            # The healthcheck line the first run dropped is behind the saved position now.
            assert 'logentry_dropped_lines_total{reason="drop_stage"}' not in metrics
            # kill -9 once the positions file holds everything: nothing is sent again after.
            wait_saved(tmp_path / "positions.yaml", {api: api.stat().st_size})
            assert stop(second, signal.SIGKILL) == -signal.SIGKILL
        crashed = [_json_line(i, "info") for i in range(15, 17)]
        append(api, *crashed)
        expected_api += crashed
        with agent(config, port, tmp_path / "agent-3.log"):
            wait_for("after kill -9", api_got, expected_api)
        # Exactly once: nothing from before the restart came again.
        assert api_got() == sorted(expected_api)
        assert worker_got() == sorted(expected_worker)
        assert lines(query(sg.url, '{filename=~".*worker-skip.log"}')) == []
