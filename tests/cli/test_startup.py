"""A command loads what it runs and nothing more: ``spyglass --help`` and the light commands
(``check rules``, ``logs query``, ``incident list`` and ``silence`` against a real server)
never import the server, its storage backends or numpy, so they start in a fraction of a
second. Each command
runs as a user runs it, in a subprocess, which reports the modules it ended with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.servers import Server, spyglass

# Loaded by `spyglass serve` only: ClickHouse in process or over HTTP, Arrow, gRPC, the ASGI
# stack, the server's own packages.
SERVER = (
    "chdb",
    "clickhouse_connect",
    "pyarrow",
    "grpc",
    "starlette",
    "uvicorn",
    "spyglass.server",
    "spyglass.storage.chdb",
    "spyglass.storage.clickhouse",
    "spyglass.ingest",
    "spyglass.traces",
    "spyglass.incidents",
)
# What a client of the HTTP API needs none of: the query engines and their numpy, alerting.
ENGINES = (
    "numpy",
    "spyglass.promql",
    "spyglass.logs",
    "spyglass.rules",
    "spyglass.alerting",
    "spyglass.storage",
    "drain3",
    "apprise",
)

RUN = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "spyglass"
from spyglass.cli import main
main()
"""

RULES = """\
groups:
  - name: api
    rules:
      - alert: HighErrorRate
        expr: rate(errors_total[5m]) > 1
        for: 5m
        annotations:
          summary: "{{ $labels.job }} fails"
"""


LOGQL_GROUP = """\
  - name: api-logs
    type: logql
    rules:
      - alert: ManyErrors
        expr: sum(count_over_time({job="api"} |= "error" [1m])) > 5
"""


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``spyglass ARGS`` in a subprocess; its result and the modules it had loaded at exit."""
    out = tmp_path / f"modules-{time.monotonic_ns()}.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        check=False,
    )
    return done, set(json.loads(out.read_text()))


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """Which of ``packages`` (or their submodules) are in ``modules``."""
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


def test_help_loads_no_server_no_engine_and_no_http_client(tmp_path: Path) -> None:
    done, modules = run(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert "check" in done.stdout
    assert "logs" in done.stdout
    assert loaded(modules, (*SERVER, *ENGINES, "httpx")) == []


def test_every_command_help_loads_no_server_no_engine(tmp_path: Path) -> None:
    """Sub-command help is as cheap: registering a command costs only its signature."""
    for args in (["serve", "--help"], ["logs", "query", "--help"], ["test", "rules", "--help"]):
        done, modules = run(tmp_path, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "--help" in done.stdout
        assert loaded(modules, (*SERVER, *ENGINES, "httpx")) == [], args


# Evaluation only: what `check rules` must not load to parse PromQL, LogQL and templates.
EVALUATION = (
    "numpy",
    "drain3",
    "spyglass.promql._engine",
    "spyglass.logs._engine",
    "spyglass.logs._analysis",
    "spyglass.rules._group",
    "spyglass.rules._manager",
    "spyglass.storage",
)


def test_check_rules_loads_the_parsers_but_no_engine_and_no_server(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(RULES + LOGQL_GROUP)
    done, modules = run(tmp_path, "check", "rules", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [f"Checking {path}", "  SUCCESS: 2 rules found"]
    assert "spyglass.promql._ast" in modules  # it did parse
    assert "spyglass.logs._parser" in modules
    assert loaded(modules, (*SERVER, *EVALUATION, "httpx", "rich")) == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with spyglass(tmp_path_factory.mktemp("startup") / "data") as sg:
        now = time.time_ns()
        push = {
            "streams": [
                {"stream": {"app": "api", "level": "error"}, "values": [[str(now), "msg=boom"]]}
            ]
        }
        httpx.post(f"{sg.url}/loki/api/v1/push", json=push, timeout=30).raise_for_status()
        opened = {"title": "API down", "severity": "SEV2", "by": "test"}
        r = httpx.post(f"{sg.url}/api/spyglass/v1/incidents", json=opened, timeout=30)
        r.raise_for_status()
        yield sg


def test_logs_query_against_a_server_loads_no_engine(server: Server, tmp_path: Path) -> None:
    # The line was pushed just before; the server makes it readable within a flush.
    deadline = time.monotonic() + 60
    while True:
        done, modules = run(tmp_path, "logs", "query", '{app="api"}', "--url", server.url)
        if "msg=boom" in done.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done.returncode == 0, done.stderr
    assert "ERROR" in done.stdout, done.stdout
    assert "msg=boom" in done.stdout
    assert loaded(modules, (*SERVER, *ENGINES)) == []


def test_incident_list_against_a_server_loads_no_engine(server: Server, tmp_path: Path) -> None:
    done, modules = run(tmp_path, "incident", "list", "--url", server.url)
    assert done.returncode == 0, done.stderr
    assert "API down" in done.stdout, done.stdout
    assert "SEV2" in done.stdout
    assert loaded(modules, (*SERVER, *ENGINES)) == []


# What `spyglass silence` runs of alerting: the matcher parser (and the Go regexp and quoting it
# uses) and the API's time format; not the router, its senders or their libraries.
SILENCE_ALERTING = {
    "spyglass.alerting",
    "spyglass.alerting._golang",
    "spyglass.alerting._matchers",
    "spyglass.alerting._timestamps",
}


def test_silence_commands_against_a_server_load_only_the_matcher_parser(
    server: Server, tmp_path: Path
) -> None:
    engines = tuple(p for p in ENGINES if p != "spyglass.alerting")
    url = ["--url", server.url]
    done, modules = run(
        tmp_path, "silence", "add", 'job=~"api|web"', "alertname=Startup", "-c", "why", *url
    )
    assert done.returncode == 0, done.stderr
    silence_id = done.stdout.strip()
    assert len(silence_id) == 36, done.stdout
    seen = [modules]
    done, modules = run(tmp_path, "silence", "query", "alertname=Startup", *url)
    assert done.returncode == 0, done.stderr
    assert silence_id in done.stdout
    assert 'job=~"api|web"' in done.stdout
    seen.append(modules)
    done, modules = run(tmp_path, "silence", "expire", silence_id, *url)
    assert done.returncode == 0, done.stderr
    seen.append(modules)
    for mods in seen:
        assert loaded(mods, (*SERVER, *engines, "apprise", "jinja2")) == []
    # add and query parse matchers; expire sends ids only and loads no alerting at all.
    alerting = [{m for m in mods if m.startswith("spyglass.alerting")} for mods in seen]
    assert alerting == [SILENCE_ALERTING, SILENCE_ALERTING, set()]
