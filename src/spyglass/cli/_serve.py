"""``spyglass serve``: its options are generated from the settings table (core/settings.py).

Every setting is an option (``--flush-interval``) and an environment variable
(``SPYGLASS_FLUSH_INTERVAL``); the option wins. Values are parsed by ``Settings.load`` so the CLI,
the environment and the docs cannot drift apart.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import typer

from spyglass.core.errors import ConfigError
from spyglass.core.settings import SETTINGS, Settings


def serve(**options: str | None) -> None:
    """Run Spyglass: HTTP API, remote_write, OTLP, scraping, on embedded ClickHouse by default."""
    try:
        settings = Settings.load(options, os.environ)
    except ConfigError as exc:
        typer.echo(f"spyglass serve: {exc}", err=True)
        raise typer.Exit(2) from None
    from spyglass.server.runtime import run  # noqa: PLC0415 - keep `spyglass --help` fast

    raise typer.Exit(run(settings))


def _parameters() -> list[inspect.Parameter]:
    params = []
    for s in SETTINGS:
        option: Any = typer.Option(
            None,
            s.option,
            help=f"{s.help} [env: {s.env}; default: {s.default or 'empty'}]",
            metavar=s.kind.upper(),
            show_default=False,
        )
        params.append(
            inspect.Parameter(
                s.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=str | None
            )
        )
    return params


serve.__signature__ = inspect.Signature(_parameters(), return_annotation=None)  # type: ignore[attr-defined]

__all__ = ["serve"]
