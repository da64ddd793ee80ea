"""``spyglass check rules FILE...``: validate Prometheus rule files as ``promtool check rules``.

Same output and exit codes as promtool: ``Checking FILE`` then ``  SUCCESS: N rules found`` or
``  FAILED:`` and every error (on stderr); exit 0 when all files are valid, 1 when one is not,
3 for lint findings alone with ``--lint-fatal``. Each error names file, line and field. With no
file, the rules are read from standard input. Groups with ``type: logql`` hold LogQL, checked as
Loki's ruler checks it; ``--logql`` reads every file as a Loki ruler file (LogQL in every group
that sets no ``type``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from spyglass.rules import QueryLanguage, RuleFile

LINT_OPTIONS = ("all", "duplicate-rules", "none")
LINT_EXIT_CODE = 3


def rules(
    files: Annotated[
        list[str] | None,
        typer.Argument(help="Rule files to check (standard input when none is given)."),
    ] = None,
    lint: Annotated[
        str,
        typer.Option(
            help="Lint checks, comma-separated: all, duplicate-rules, none (as promtool).",
        ),
    ] = "duplicate-rules",
    lint_fatal: Annotated[
        bool, typer.Option("--lint-fatal", help="Make lint findings exit with code 3.")
    ] = False,
    ignore_unknown_fields: Annotated[
        bool,
        typer.Option(
            "--ignore-unknown-fields",
            help="Accept fields Prometheus does not know (files extended with custom metadata).",
        ),
    ] = False,
    logql: Annotated[
        bool,
        typer.Option(
            "--logql",
            help="Loki ruler files: groups without 'type' hold LogQL metric queries.",
        ),
    ] = False,
) -> None:
    """Check Prometheus rule files; exit 1 if one is invalid (promtool's exit codes)."""
    from spyglass.rules import RuleFileError, check_alert_template, load_rule_file, parse_rule_file

    language: QueryLanguage = "logql" if logql else "promql"
    lint_duplicates = False
    for setting in lint.split(","):
        if setting in ("all", "duplicate-rules"):
            lint_duplicates = True
        elif setting not in ("none", ""):
            typer.echo(f"WARNING: unknown lint option: {setting!r}")
    failed = errors = False
    sources: list[str | None] = list(files) if files else [None]
    for source in sources:
        typer.echo("Checking standard input" if source is None else f"Checking {source}")
        try:
            if source is None:
                rule_file = parse_rule_file(
                    sys.stdin.buffer.read(),
                    file="standard input",
                    ignore_unknown_fields=ignore_unknown_fields,
                    default_language=language,
                )
            else:
                rule_file = load_rule_file(
                    source,
                    ignore_unknown_fields=ignore_unknown_fields,
                    check_template=check_alert_template,
                    default_language=language,
                )
        except RuleFileError as exc:
            failed = errors = True
            typer.echo("  FAILED:", err=True)
            for e in exc.errors:
                typer.echo(str(e), err=True)
            typer.echo()
            continue
        if _report(rule_file, lint_duplicates):
            failed = True
        typer.echo()
    if failed and errors:
        raise typer.Exit(1)
    if failed and lint_fatal:
        raise typer.Exit(LINT_EXIT_CODE)


def check_rule_file(path: Path) -> bool:
    """Check one rule file a prometheus.yml names, printing promtool's lines (``check config``
    does this for each); ``True`` when it is valid."""
    from spyglass.rules import RuleFileError, check_alert_template, load_rule_file

    try:
        rule_file = load_rule_file(path, check_template=check_alert_template)
    except RuleFileError as exc:
        typer.echo("  FAILED:", err=True)
        for e in exc.errors:
            typer.echo(str(e), err=True)
        return False
    _report(rule_file, lint_duplicates=False)
    return True


def _report(rule_file: RuleFile, lint_duplicates: bool) -> bool:
    """Print the verdict of a file that loaded; whether lint found something."""
    from spyglass.rules import duplicate_rules, format_duplicates

    for warning in rule_file.warnings:
        typer.echo(f"  WARNING: {warning}", err=True)
    duplicates = duplicate_rules(rule_file) if lint_duplicates else []
    if duplicates:
        typer.echo("  FAILED:", err=True)
        typer.echo(f"lint error {format_duplicates(duplicates)}", err=True)
        return True
    typer.echo(f"  SUCCESS: {rule_file.rule_count} rules found")
    return False


__all__ = ["check_rule_file", "rules"]
