"""``spyglass check``: validate configuration files before a server reads them.

``check alertmanager`` prints what ``amtool check-config`` prints for each file (``SUCCESS`` and
what was found, or ``FAILED:`` and the error) and ``check config`` what ``promtool check
config`` prints; both then say what is likely wrong and how to write it instead. Each exits 1
when a file fails. ``check rules`` (``_check_rules``) checks rule files as ``promtool check
rules`` does, and ``check config`` checks the rule files a prometheus.yml names the same way.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spyglass.cli._check_rules import check_rule_file, rules
from spyglass.core.errors import ConfigError

if TYPE_CHECKING:
    from spyglass.alerting import AlertmanagerConfig, Finding, Mode
    from spyglass.core.config import Node

check_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)

check_app.command("rules")(rules)


@check_app.command("web-config")
def web_config(
    files: Annotated[list[Path], typer.Argument(help="web.config.yml files")],
) -> None:
    """Validate web config files (TLS, basic auth, headers) as promtool check web-config does."""
    from spyglass.server.webconfig import check_web_config

    failed = False
    for path in files:
        try:
            check_web_config(path)
        except ConfigError as exc:
            typer.echo(f"{path} FAILED: {exc}", err=True)
            failed = True
            continue
        typer.echo(f"{path} SUCCESS", err=True)
    if failed:
        raise typer.Exit(1)


_FEATURES: dict[str, Mode] = {"classic-mode": "classic", "utf8-strict-mode": "utf8"}
_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_ALERTMANAGER_KEYS = ("route", "receivers", "inhibit_rules", "templates", "time_intervals")


@check_app.command("alertmanager")
def alertmanager(
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, help="alertmanager.yml files")
    ],
    no_expand_env: Annotated[
        bool,
        typer.Option(
            "--no-expand-env",
            help="Read ${VAR} and $VAR literally, as Alertmanager does (Spyglass expands them).",
        ),
    ] = False,
    enable_feature: Annotated[
        str,
        typer.Option(
            "--enable-feature",
            help="Alertmanager's matcher parser flags: classic-mode or utf8-strict-mode.",
        ),
    ] = "",
) -> None:
    """Validate alertmanager.yml files as amtool check-config does, then say what looks wrong."""
    mode: Mode = "fallback"
    for flag in filter(None, enable_feature.split(",")):
        if flag not in _FEATURES:
            raise typer.BadParameter(
                f"unknown feature {flag!r} (known: {', '.join(_FEATURES)})",
                param_hint="--enable-feature",
            )
        mode = _FEATURES[flag]
    failed = 0
    for path in files:
        if not _check_alertmanager_file(path, expand=not no_expand_env, mode=mode):
            failed += 1
        typer.echo("")
    if failed:
        typer.echo(f"failed to validate {failed} file(s)", err=True)
        raise typer.Exit(1)


def _check_alertmanager_file(path: Path, *, expand: bool, mode: Mode) -> bool:
    from spyglass.alerting import explain, load_alertmanager_config, review

    try:
        text = path.read_bytes()
    except OSError as exc:
        typer.echo(f"Checking '{path}'  FAILED: cannot read config: {exc.strerror}")
        return False
    try:
        config = load_alertmanager_config(
            text, file=str(path), directory=path.parent, expand_env=expand, matcher_mode=mode
        )
    except ConfigError as exc:
        typer.echo(f"Checking '{path}'  FAILED: {exc}")
        _hint(explain(exc, text, expanded=expand))
        return False
    typer.echo(f"Checking '{path}'  SUCCESS")
    ok = _found(config)
    for finding in review(config, text, expanded=expand):
        _finding(finding)
    return ok


def _found(config: AlertmanagerConfig) -> bool:
    typer.echo("Found:")
    typer.echo(" - global config")
    typer.echo(" - route")
    typer.echo(f" - {len(config.inhibit_rules)} inhibit rules")
    typer.echo(f" - {len(config.receivers)} receivers")
    typer.echo(f" - {len(config.templates)} templates")
    if config.spyglass.maintenance_windows:  # Spyglass's own: amtool's output has no such line
        typer.echo(f" - {len(config.spyglass.maintenance_windows)} maintenance windows")
    if not config.templates:
        return True
    files: list[str] = []
    for pattern in config.templates:
        files.extend(sorted(glob.glob(pattern)))
    for name in files:
        try:
            Path(name).read_bytes()
        except OSError as exc:
            typer.echo(f"  FAILED: cannot read template {name}: {exc.strerror}")
            return False
    typer.echo(
        f"  SUCCESS: {len(files)} template files found (their template syntax is not checked yet)"
    )
    return True


def _finding(finding: Finding) -> None:
    typer.echo(f"  {finding.severity.upper()}: {finding}")
    _hint(finding.hint)


def _hint(text: str) -> None:
    if text:
        typer.echo(f"  hint: {text}")


@check_app.command("config")
def config(
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, help="prometheus.yml files")
    ],
) -> None:
    """Validate prometheus.yml files as promtool check config does, then say what looks wrong."""
    failed = 0
    for path in files:
        if not _check_prometheus_file(path):
            failed += 1
    if failed:
        raise typer.Exit(1)


def _check_prometheus_file(path: Path) -> bool:
    from spyglass.core.config import load_config, load_yaml

    typer.echo(f"Checking {path}")
    try:
        text = path.read_bytes()
        cfg = load_config(text, file=str(path), directory=path.parent)
    except OSError as exc:
        typer.echo(f"  FAILED: cannot read config: {exc.strerror}", err=True)
        typer.echo("")
        return False
    except ConfigError as exc:
        typer.echo(f"  FAILED: {exc}", err=True)
        hint = _explain_prometheus(exc)
        if hint:
            typer.echo(f"  hint: {hint}", err=True)
        typer.echo("")
        return False
    rule_files: list[Path] = []
    for pattern in cfg.rule_files:
        rule_files.extend(Path(p) for p in sorted(glob.glob(pattern)))
    if rule_files:
        typer.echo(f"  SUCCESS: {len(rule_files)} rule files found")
    typer.echo(f" SUCCESS: {path} is valid prometheus config file syntax")
    for warning in cfg.warnings:
        typer.echo(f"  WARNING: {warning}")
    for line, where, placeholder in _placeholders(load_yaml(text, str(path)), ""):
        typer.echo(
            f"  WARNING: {path}:{line}: {where}: {placeholder} stays as text: Prometheus does "
            "not expand environment variables in prometheus.yml (only in external_labels, "
            "with --enable-feature=expand-external-labels)"
        )
    typer.echo("")
    ok = True
    for rule_file in rule_files:
        typer.echo(f"Checking {rule_file}")
        ok = check_rule_file(rule_file) and ok
        typer.echo("")
    return ok


def _explain_prometheus(error: ConfigError) -> str:
    m = re.match(r"field (\S+) not found in type config\.plain", error.message)
    if m is None or "." in error.field:
        return ""
    if m.group(1) == "groups":
        return (
            "`groups:` starts a rule file: put the rules in their own file and list it under "
            "rule_files: in prometheus.yml."
        )
    if m.group(1) in _ALERTMANAGER_KEYS:
        return (
            f"`{m.group(1)}:` belongs to alertmanager.yml (check it with `spyglass check "
            "alertmanager`); prometheus.yml names where alerts go under alerting: alertmanagers:."
        )
    return ""


def _placeholders(node: Node, path: str) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            out += _placeholders(child, f"{path}.{key}" if path else key)
    elif isinstance(node.value, list):
        for i, child in enumerate(node.value):
            out += _placeholders(child, f"{path}[{i}]")
    elif isinstance(node.value, str) and "$" in node.value:
        m = _PLACEHOLDER.search(node.value)
        # Relabel replacements use $1 and ${1}: only names that could be variables count.
        if m and not path.endswith(".replacement"):
            out.append((node.line, path, m.group(0)))
    return out


__all__ = ["check_app"]
