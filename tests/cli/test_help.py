"""The help texts promise only what this version does (no error tracking yet; dashboards, logs
and traces are here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from spyglass.cli._app import app

NOT_YET = re.compile(r"\berrors\b", re.IGNORECASE)


def test_help_texts_promise_nothing_that_is_missing() -> None:
    runner = CliRunner()
    for args in (["--help"], ["serve", "--help"]):
        out = runner.invoke(app, args, terminal_width=200).output
        assert out.strip()
        assert NOT_YET.findall(out) == [], (args, out)


def test_the_package_description_promises_nothing_that_is_missing() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    assert NOT_YET.findall(project["description"]) == []
