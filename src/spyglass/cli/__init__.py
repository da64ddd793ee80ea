"""The ``spyglass`` command line (typer)."""

from spyglass.cli._app import app, main

__all__ = ["app", "main"]
