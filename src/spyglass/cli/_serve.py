"""``spyglass serve``: its options are generated from the settings table (core/settings.py).

Every setting is an option (``--flush-interval``) and an environment variable
(``SPYGLASS_FLUSH_INTERVAL``); the option wins. Boolean settings are flag pairs
(``--scrape-self`` / ``--no-scrape-self``). Values are parsed by ``Settings.load`` so the CLI,
the environment and the docs cannot drift apart.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import typer

from spyglass.core.errors import ConfigError
from spyglass.core.settings import SETTINGS, Settings


def serve(**options: str | bool | None) -> None:
    """Run Spyglass: HTTP API, remote_write, OTLP, scraping, on embedded ClickHouse by default."""
    # Flags arrive as True/False (None when not given); the settings table parses text.
    given = {
        name: ("true" if value else "false") if isinstance(value, bool) else value
        for name, value in options.items()
    }
    try:
        settings = Settings.load(given, os.environ)
    except ConfigError as exc:
        typer.echo(f"spyglass serve: {exc}", err=True)
        raise typer.Exit(2) from None
    from spyglass.server.runtime import run

    raise typer.Exit(run(settings))


def _parameters() -> list[inspect.Parameter]:
    params = []
    for s in SETTINGS:
        help_text = f"{s.help} [env: {s.env}; default: {s.default or 'empty'}]"
        option: Any
        annotation: Any
        if s.kind == "bool":
            # A flag pair (--scrape-self / --no-scrape-self); None when neither is given, so
            # the environment variable still applies.
            option = typer.Option(
                None, f"{s.option}/--no-{s.option[2:]}", help=help_text, show_default=False
            )
            annotation = bool | None
        else:
            option = typer.Option(
                None, s.option, help=help_text, metavar=s.kind.upper(), show_default=False
            )
            annotation = str | None
        params.append(
            inspect.Parameter(
                s.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
            )
        )
    return params


serve.__signature__ = inspect.Signature(_parameters(), return_annotation=None)  # type: ignore[attr-defined]

__all__ = ["serve"]
