"""Typer application: one function per ``spyglass`` subcommand.

Registering a command costs only its signature: each command module imports typer and the
standard library at the top and what it runs (the server, the query engines, httpx, rich)
inside the command, so ``spyglass --help`` and a light command start in a fraction of a second
(tests/cli/test_startup.py pins which modules stay unloaded).
"""

from __future__ import annotations

import typer

from spyglass.cli._agent import agent
from spyglass.cli._check import check_app
from spyglass.cli._demo import demo
from spyglass.cli._errors import errors_app
from spyglass.cli._incident import incident_app
from spyglass.cli._logs import logs_app
from spyglass.cli._rules_cmd import rules_app
from spyglass.cli._serve import serve
from spyglass.cli._silence import silence_app
from spyglass.cli._slo import slo_app
from spyglass.cli._test_cmd import test_app
from spyglass.cli._why import why

app = typer.Typer(
    name="spyglass",
    help=(
        "Spyglass: the observability stack in one process: metrics, logs, traces and errors"
        " in, ClickHouse storage, PromQL, LogQL and Jaeger's API out, alerting, dashboards,"
        " probes, SLOs and incidents."
    ),
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Spyglass command line."""


@app.command()
def version() -> None:
    """Print the version."""
    from spyglass.core.version import __version__

    typer.echo(f"spyglass {__version__}")


app.command()(serve)
app.command()(demo)
app.command()(agent)
app.add_typer(check_app, name="check")
app.add_typer(test_app, name="test")
app.add_typer(rules_app, name="rules")
app.add_typer(silence_app, name="silence")
app.add_typer(slo_app, name="slo")
app.add_typer(incident_app, name="incident")
app.add_typer(logs_app, name="logs")
app.command()(why)
app.add_typer(errors_app, name="errors")


def main() -> None:
    """Entry point of the ``spyglass`` console script."""
    app()
