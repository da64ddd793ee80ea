"""Docs coverage: every setting, API route and CLI command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
from starlette.routing import Route, WebSocketRoute

from spyglass.alerting import NotificationHistory, Router, Silences
from spyglass.cli import app
from spyglass.core.limits import SpanLimits
from spyglass.core.settings import SETTINGS
from spyglass.dashboards import DashboardService
from spyglass.server.api.acks import AcksAPI
from spyglass.server.api.alertmanager import AlertmanagerAPI
from spyglass.server.api.errors import ErrorsAPI
from spyglass.server.api.grafana import GrafanaAPI, PrometheusVariables
from spyglass.server.api.jaeger import JaegerAPI
from spyglass.server.api.log_analysis import LogAnalysisAPI
from spyglass.server.api.logs_ingest import LogsIngestAPI
from spyglass.server.api.loki import LokiAPI
from spyglass.server.api.loki_rules import LokiRulesAPI
from spyglass.server.api.notifications import NotificationsAPI
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.server.api.sentry import SentryAPI
from spyglass.server.api.silences import SilencesAPI
from spyglass.server.api.traces_ingest import SpanIntake, TracesIngestAPI
from spyglass.server.api.write import WriteAPI
from spyglass.storage import MemoryLogStore, MemorySpanStore
from spyglass.storage.memory import MemoryStore
from spyglass.storage.state import open_state_store

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    # A row's first cell: the option, or for a boolean the flag pair "`--x` / `--no-x`".
    rows = {
        line.split("|")[1].split("`")[1]: line
        for line in text.splitlines()
        if line.startswith("| `--")
    }
    for s in SETTINGS:
        assert s.option in rows, f"{s.option} missing from docs/settings.md"
        row = rows[s.option]
        assert f"`{s.env}`" in row
        assert (f"`{s.default}`" if s.default else "(empty)") in row
        if s.kind == "bool":
            assert f"`--no-{s.option[2:]}`" in row.split("|")[1], row


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    store = MemoryStore()
    api = PrometheusAPI(store, store, engine=None, build_info=BuildInfo("", ""))  # type: ignore[arg-type]
    alertmanager = AlertmanagerAPI(Router("", None))  # type: ignore[arg-type] # no state needed
    grafana = GrafanaAPI(
        DashboardService(store=None),  # type: ignore[arg-type]
        PrometheusVariables(store, engine=None),  # type: ignore[arg-type]
    )
    with open_state_store("", tmp_path) as state:
        silences = SilencesAPI(Silences(state))
        routes = [
            *api.routes(),
            *WriteAPI(store).routes(),
            *LogsIngestAPI(sink=None).routes(),  # type: ignore[arg-type] # routes only
            *alertmanager.routes(),
            *AcksAPI(Router("", state)).routes(),
            *NotificationsAPI(NotificationHistory(state)).routes(),
            *silences.routes(),
            *grafana.routes(),
            *LokiAPI(MemoryLogStore()).routes(),
            *LogAnalysisAPI(MemoryLogStore()).routes(),
            *SentryAPI(tracker=None).routes(),  # type: ignore[arg-type] # routes only
            *ErrorsAPI(tracker=None).routes(),  # type: ignore[arg-type] # routes only
            *TracesIngestAPI(SpanIntake(MemorySpanStore(), SpanLimits())).routes(),
            *JaegerAPI(MemorySpanStore()).routes(),
            *LokiRulesAPI(list).routes(),
        ]
    text = (DOCS / "api.md").read_text()
    for r in routes:
        assert isinstance(r, Route | WebSocketRoute)
        documented = re.sub(r"\{(\w+)(?::\w+)?\}", r"<\1>", r.path)
        assert f"`{documented}`" in text or f"`POST {documented}`" in text, documented


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for sub in subcommands:
                assert f"`spyglass {name} {sub}" in text, f"{name} {sub}"
        else:
            assert f"`spyglass {name}`" in text, name
