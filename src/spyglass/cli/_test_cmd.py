"""``spyglass test``: run conformance scripts. ``spyglass test promql FILE...`` runs Prometheus'
promqltest ``.test`` files against the PromQL engine and prints every failure and the counts per
category (core float subset, experimental features, native histograms)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spyglass.promql.testing import CATEGORIES, run_files

test_app = typer.Typer(help="Run conformance test files.", no_args_is_help=True)


@test_app.command("promql")
def promql(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help=".test files")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print the counts.")] = False,
) -> None:
    """Run Prometheus promqltest scripts; exit 1 if any case fails."""
    report = run_files(files)
    if not quiet:
        for case in report.failures():
            typer.echo(f"FAIL {case.file}:{case.line} [{case.category}] {case.query}")
            typer.echo(f"    {case.reason}")
    for category in CATEGORIES:
        typer.echo(
            f"{category}: {report.count(category, 'pass')} passed, "
            f"{report.count(category, 'fail')} failed, {report.count(category, 'skip')} skipped"
        )
    passed, failed, skipped = (
        sum(1 for c in report.cases if c.status == s) for s in ("pass", "fail", "skip")
    )
    typer.echo(f"{passed} passed, {failed} failed, {skipped} skipped ({report.seconds:.1f}s)")
    if failed:
        raise typer.Exit(1)
