"""The SDK's public surface and its independence from the rest of Spyglass."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spyglass.sdk
from spyglass.sdk import Options, instrument

SDK = Path(spyglass.sdk.__file__).parent


def test_exported_names() -> None:
    assert sorted(spyglass.sdk.__all__) == sorted(
        name for name in dir(spyglass.sdk) if not name.startswith("_") and name != "annotations"
        and not isinstance(getattr(spyglass.sdk, name), type(spyglass))
    )  # fmt: skip
    for name in spyglass.sdk.__all__:
        assert getattr(spyglass.sdk, name).__doc__, name


def test_sdk_imports_nothing_from_spyglass_outside_sdk() -> None:
    for path in SDK.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                mod = node.module
            elif isinstance(node, ast.Import):
                mod = node.names[0].name
            else:
                continue
            if mod.startswith("spyglass"):
                assert mod.startswith("spyglass.sdk"), (path, mod)


def test_unknown_options_are_rejected() -> None:
    with pytest.raises(TypeError, match="metric_path"):
        instrument(object(), service="x", metric_path="/m")


def test_every_option_is_documented() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
    if not docs.exists():
        pytest.fail("docs/sdk.md is missing")
    text = docs.read_text()
    for field in Options.__dataclass_fields__:
        assert f"`{field}`" in text, field
