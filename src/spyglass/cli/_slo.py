"""``spyglass slo``: SLO specs (Sloth's ``prometheus/v1``, OpenSLO v1) and the rules they make.

``spyglass slo generate FILE...`` prints the Prometheus rule file Spyglass evaluates for the
specs (the same rules ``--slo-files`` loads), so it can be read, diffed or handed to another
Prometheus; ``spyglass slo check FILE...`` only validates them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from spyglass.slo import SLO

slo_app = typer.Typer(help="SLO specs and the rules generated from them.", no_args_is_help=True)


def _load(files: list[Path]) -> list[SLO]:
    from spyglass.core.errors import ConfigError
    from spyglass.slo import load_slo_file

    slos: list[SLO] = []
    for f in files:
        try:
            slos.extend(load_slo_file(f))
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    return slos


@slo_app.command("generate")
def generate(
    files: list[Path] = typer.Argument(..., help="Sloth or OpenSLO spec files."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
) -> None:
    """Print the recording rules and burn-rate alerts generated from SLO specs."""
    from spyglass.slo import generate_rule_file

    text = generate_rule_file(_load(files))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


@slo_app.command("check")
def check(
    files: list[Path] = typer.Argument(..., help="Sloth or OpenSLO spec files."),
) -> None:
    """Validate SLO specs; errors name file, line and field."""
    slos = _load(files)
    for slo in slos:
        typer.echo(f"{slo.id}: objective {slo.objective:g}% ({slo.spec})")
    typer.echo(f"SUCCESS: {len(slos)} SLOs found")
