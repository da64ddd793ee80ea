"""Docs coverage: every setting is documented with its option, variable and default."""

from __future__ import annotations

from pathlib import Path

from spyglass.core.settings import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in text.splitlines()
        if line.startswith("| `--")
    }
    for s in SETTINGS:
        assert s.option in rows, f"{s.option} missing from docs/settings.md"
        row = rows[s.option]
        assert f"`{s.env}`" in row
        assert (f"`{s.default}`" if s.default else "(empty)") in row
