"""``spyglass test``: run test files.

``spyglass test promql FILE...`` runs Prometheus' promqltest ``.test`` files against the PromQL
engine and prints every failure and the counts per category (core float subset, experimental
features, native histograms). ``spyglass test rules FILE...`` runs promtool's rule unit tests
with promtool's output and exit codes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

test_app = typer.Typer(help="Run conformance test files.", no_args_is_help=True)


@test_app.command("promql")
def promql(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help=".test files")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print the counts.")] = False,
) -> None:
    """Run Prometheus promqltest scripts; exit 1 if any case fails."""
    from spyglass.promql.testing import CATEGORIES, run_files

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


@test_app.command("rules")
def rules(
    files: Annotated[list[str], typer.Argument(help="promtool unit-test files.")],
    run: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            help="Only run test groups whose names match this regular expression (repeatable).",
        ),
    ] = None,
    ignore_unknown_fields: Annotated[
        bool,
        typer.Option(
            "--ignore-unknown-fields",
            help="Accept fields Prometheus does not know in the rule files the tests load.",
        ),
    ] = False,
) -> None:
    """Run promtool rule unit tests; exit 1 if any fails (promtool's output and exit codes)."""
    from spyglass.core.template import expand_alert_template
    from spyglass.rules.testing import run_unit_tests

    try:
        reports = run_unit_tests(
            files,
            # Until spyglass.core.template lands: expands $labels, $value and $externalLabels.
            expander=expand_alert_template,
            run=run or (),
            ignore_unknown_fields=ignore_unknown_fields,
        )
    except re.error as exc:
        raise typer.BadParameter(f"invalid --run expression: {exc}") from None
    failed = False
    for report in reports:
        typer.echo(f"Unit Testing:  {report.path}")
        for warning in report.warnings:
            typer.echo(f"  WARNING: {warning}", err=True)
        errors = report.all_errors()
        if errors:
            failed = True
            typer.echo("  FAILED:", err=True)
            for error in errors:
                typer.echo(error, err=True)
                typer.echo()  # promtool too ends each error with a blank line on stdout
        else:
            typer.echo("  SUCCESS")
        typer.echo()
    if failed:
        raise typer.Exit(1)
