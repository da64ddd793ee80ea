"""The help texts and the package description say what this version is: every signal it
stores, and no word of something it does not do."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from spyglass.cli._app import app

SIGNALS = ("metrics", "logs", "traces", "errors")
# What Spyglass does not do: no profiling signal, no TraceQL.
NOT_DONE = re.compile(r"\b(profiles|profiling|TraceQL)\b", re.IGNORECASE)


def test_help_texts_name_every_signal_and_nothing_missing() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["--help"], terminal_width=200).output
    for signal in SIGNALS:
        assert signal in out, (signal, out)
    for args in (["--help"], ["serve", "--help"]):
        out = runner.invoke(app, args, terminal_width=200).output
        assert out.strip()
        assert NOT_DONE.findall(out) == [], (args, out)


def test_the_package_description_says_what_it_is() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    for signal in SIGNALS:
        assert signal in project["description"]
    assert NOT_DONE.findall(project["description"]) == []
