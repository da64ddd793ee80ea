"""``spyglass rules``: the alerting rules Spyglass ships for itself.

``spyglass rules path`` prints where the built-in rule file is installed, so prometheus.yml's
``rule_files`` can name it (or a shell can: ``rule_files: ["$(spyglass rules path)"]``).
"""

from __future__ import annotations

import typer

rules_app = typer.Typer(help="Spyglass's built-in alerting rules.", no_args_is_help=True)


@rules_app.command("path")
def path() -> None:
    """Print the path of the built-in rule file (alerts about Spyglass itself)."""
    from spyglass.rules import BUILTIN_RULES

    typer.echo(str(BUILTIN_RULES))
