"""``spyglass logs`` end to end: the generated web-service corpus pushed through Loki's push API
into a real ``spyglass serve`` (its baseline period, then its window ending now), then asked
through the HTTP API and the CLI run as a subprocess, as a user would. The CLI prints log lines,
metric tables, templates with their new/growing markers, user impact, and the server's error
with exit code 1."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from tests.support.logcorpus import (
    GROWING_KEY,
    NEW_KEY,
    ORIGIN_NS,
    PERIOD_NS,
    CorpusLine,
    generate,
)
from tests.support.servers import Server, spyglass
from typer.testing import CliRunner

from spyglass.cli._app import app
from spyglass.cli._logs import Output, _print_series

PUSH_BATCH = 2000


@pytest.fixture(scope="module")
def shifted() -> tuple[list[CorpusLine], int]:
    """The corpus moved so that its window ends a second ago; and that end (ns)."""
    end = time.time_ns() - 10**9
    shift = end - (ORIGIN_NS + 2 * PERIOD_NS)
    lines = [
        CorpusLine(c.timestamp_ns + shift, c.service, c.level, c.line, c.key, c.user)
        for c in generate()
    ]
    return lines, end


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, shifted: tuple[list[CorpusLine], int]
) -> Iterator[Server]:
    lines, _ = shifted
    with spyglass(tmp_path_factory.mktemp("logs") / "data") as sg:
        for i in range(0, len(lines), PUSH_BATCH):
            streams: dict[str, list[list[str]]] = {}
            for c in lines[i : i + PUSH_BATCH]:
                streams.setdefault(c.service, []).append([str(c.timestamp_ns), c.line])
            body = {
                "streams": [
                    {"stream": {"service_name": s, "env": "prod"}, "values": v}
                    for s, v in streams.items()
                ]
            }
            r = httpx.post(sg.url + "/loki/api/v1/push", json=body, timeout=60)
            assert r.status_code == 204, r.text
        yield sg


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """``spyglass logs ...`` as a subprocess, in a wide terminal-less console."""
    return subprocess.run(
        [sys.executable, "-m", "spyglass", "logs", *args, "--url", server.url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
        check=False,
    )


def _window(shifted: tuple[list[CorpusLine], int]) -> tuple[str, str]:
    _, end = shifted
    return str(end - PERIOD_NS), str(end + 1)


def test_patterns_api_finds_the_new_and_growing_templates(
    server: Server, shifted: tuple[list[CorpusLine], int]
) -> None:
    lines, end = shifted
    start = end - PERIOD_NS
    r = httpx.get(
        server.url + "/api/logs/patterns",
        params={"query": '{env="prod"}', "start": str(start), "end": str(end + 1), "limit": "500"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    in_window = [c for c in lines if c.timestamp_ns >= start]
    assert body["lines"]["window"] == len(in_window)
    assert body["lines"]["baseline"] == len(lines) - len(in_window)
    flagged = {
        (p["service"], p["level"], p["new"], p["growing"], p["count"])
        for p in body["patterns"]
        if p["new"] or p["growing"]
    }
    expected = Counter(c.key for c in in_window)
    assert flagged == {
        (*NEW_KEY[:2], True, False, expected[NEW_KEY]),
        (*GROWING_KEY[:2], False, True, expected[GROWING_KEY]),
    }
    assert body["total"] == len(expected)


def test_cli_prints_log_lines(server: Server, shifted: tuple[list[CorpusLine], int]) -> None:
    start, end = _window(shifted)
    query = '{service_name="checkout"} |= "declined"'
    got = cli(server, query, "--from", start, "--to", end, "--limit", "1000", "-o", "jsonl")
    assert got.returncode == 0, got.stderr
    records = [json.loads(line) for line in got.stdout.splitlines()]
    injected = [c for c in window_of(shifted) if c.key == NEW_KEY]
    assert [r["line"] for r in records] == [c.line for c in reversed(injected)]
    assert records[0]["labels"] == {"env": "prod", "service_name": "checkout"}
    pretty = cli(server, query, "--from", start, "--to", end, "--limit", "2")
    assert pretty.returncode == 0, pretty.stderr
    first = pretty.stdout.splitlines()[0]
    assert "ERROR" in first
    assert '{env="prod", service_name="checkout"}' in first
    assert injected[-1].line in first
    assert len(pretty.stdout.splitlines()) == 2


def test_cli_prints_a_metric_query_as_a_table(
    server: Server, shifted: tuple[list[CorpusLine], int]
) -> None:
    _, end = _window(shifted)
    query = 'sum by (service_name) (count_over_time({env="prod"} |= "declined" [30m]))'
    got = cli(server, query, "--from", end, "--to", end, "-o", "jsonl")
    assert got.returncode == 0, got.stderr
    rows = [json.loads(line) for line in got.stdout.splitlines()]
    injected = [c for c in window_of(shifted) if c.key == NEW_KEY]
    assert [(r["metric"], r["value"]) for r in rows] == [
        ({"service_name": "checkout"}, str(len(injected)))
    ]
    table = cli(server, query, "--from", end, "--to", end)
    assert table.returncode == 0, table.stderr
    assert '{service_name="checkout"}' in table.stdout
    assert f" {len(injected)} " in table.stdout


def test_cli_prints_patterns_with_markers(
    server: Server, shifted: tuple[list[CorpusLine], int]
) -> None:
    start, end = _window(shifted)
    got = cli(server, "patterns", '{env="prod"}', "--from", start, "--to", end, "-o", "jsonl")
    assert got.returncode == 0, got.stderr
    found = [json.loads(line) for line in got.stdout.splitlines()]
    assert len(found) == 50  # the CLI's default limit
    assert [p["new"] or p["growing"] for p in found[:3]] == [True, True, False]
    pretty = cli(server, "patterns", '{service_name="checkout"}', "--from", start, "--to", end)
    assert pretty.returncode == 0, pretty.stderr
    assert "NEW" in pretty.stdout
    assert (
        "payment provider acme declined card for order <NUM>: insufficient funds" in pretty.stdout
    )
    assert "GROWING" not in pretty.stdout
    assert "templates from" in pretty.stderr


def test_cli_prints_user_impact(server: Server, shifted: tuple[list[CorpusLine], int]) -> None:
    start, end = _window(shifted)
    got = cli(server, "impact", '{env="prod"}', "--from", start, "--to", end, "-o", "jsonl")
    assert got.returncode == 0, got.stderr
    body = json.loads(got.stdout)
    errors = [c for c in window_of(shifted) if c.level == "error"]
    assert body["errorLines"] == len(errors)
    assert body["users"] == len({c.user for c in errors if c.user})
    pretty = cli(server, "impact", '{env="prod"}', "--from", start, "--to", end)
    assert pretty.returncode == 0, pretty.stderr
    assert (
        f"{body['users']} distinct users (user_id) hit {len(errors)} error lines" in pretty.stdout
    )


def test_cli_fails_with_the_servers_message(server: Server) -> None:
    got = cli(server, '{service_name="checkout"', "--since", "5m")
    assert got.returncode == 1
    assert "error: 400: parse error" in got.stderr
    got = cli(server, "patterns", 'rate({a="b"}[1m])')
    assert got.returncode == 1
    assert "needs a log query" in got.stderr


def window_of(shifted: tuple[list[CorpusLine], int]) -> list[CorpusLine]:
    """The shifted corpus' window lines."""
    lines, end = shifted
    return [c for c in lines if c.timestamp_ns >= end - PERIOD_NS]


def test_cli_tail_prints_each_new_line_once(server: Server) -> None:
    query = '{service_name="tailtest"}'
    args = [sys.executable, "-m", "spyglass", "logs", "tail", query, "--url", server.url]
    args += ["--poll", "0.2", "-o", "jsonl"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            for line in process.stdout or []:
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        try:
            got: list[str] = []
            for i in range(3):
                body = {
                    "streams": [
                        {
                            "stream": {"service_name": "tailtest"},
                            "values": [[str(time.time_ns()), f"tail line {i}"]],
                        }
                    ]
                }
                assert httpx.post(server.url + "/loki/api/v1/push", json=body).status_code == 204
                got.append(json.loads(lines.get(timeout=60))["line"])
            assert got == ["tail line 0", "tail line 1", "tail line 2"]
            time.sleep(1)  # several more polls: nothing is printed twice
            assert lines.empty()
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_a_first_argument_that_is_no_subcommand_is_a_query() -> None:
    # Options may come before the query; nothing listens on port 1, so the query fails there.
    got = CliRunner().invoke(
        app, ["logs", "--since", "5m", '{a="b"}', "--url", "http://127.0.0.1:1"]
    )
    assert got.exit_code == 1
    assert "cannot reach http://127.0.0.1:1" in got.stderr
    assert CliRunner().invoke(app, ["logs", "--help"]).exit_code == 0


def test_a_metric_table_shows_each_time_to_the_millisecond_the_server_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Loki writes sample times as seconds with three decimals; every one of them prints as
    sent (a float times 1e9, cut to an integer, printed a third of them one millisecond early)."""
    base = 1_796_680_849  # 2026-12-07T22:00:49Z
    values = [[float(f"{base}.{ms:03d}"), str(ms)] for ms in range(1000)]
    data = {"resultType": "matrix", "result": [{"metric": {"a": "b"}, "values": values}]}
    _print_series(data, Output.default)
    out = capsys.readouterr().out
    for ms in range(1000):
        assert f"2026-12-07T22:00:49.{ms:03d}Z" in out, ms
