"""Missing test data or tools skip a test locally and fail it in CI, saying where they come from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.support.required import need_path, need_tool

HOW = "install Debian's frobnicator package"


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture
def ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")


@pytest.mark.usefixtures("local")
def test_missing_data_skips_locally_saying_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception) as info:
        need_path(tmp_path / "promql", "Prometheus' promqltest scripts")
    message = str(info.value)
    assert f"Prometheus' promqltest scripts not found at {tmp_path / 'promql'}" in message
    assert "third-party test data kept outside the repository" in message
    assert "../shared/conformance/SOURCES.md" in message


@pytest.mark.usefixtures("ci")
def test_missing_data_fails_in_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        need_path(tmp_path / "promql", "Prometheus' promqltest scripts")
    assert "third-party test data kept outside the repository" in str(info.value)
    assert "CI is set" in str(info.value)


@pytest.mark.usefixtures("local")
def test_missing_tool_skips_locally_saying_how_to_install_it() -> None:
    with pytest.raises(pytest.skip.Exception) as info:
        need_tool("spyglass-test-no-such-tool", HOW)
    assert str(info.value) == f"spyglass-test-no-such-tool is not installed: {HOW}"


@pytest.mark.usefixtures("ci")
def test_missing_tool_fails_in_ci() -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        need_tool("spyglass-test-no-such-tool", HOW)
    assert HOW in str(info.value)


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_ci_set_to_false_is_not_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        need_tool("spyglass-test-no-such-tool", HOW)


@pytest.mark.usefixtures("ci")
def test_present_data_and_tools_are_returned(tmp_path: Path) -> None:
    assert need_path(tmp_path, "a folder") == tmp_path
    sh = need_tool("sh", HOW)
    assert os.access(sh, os.X_OK)
    # Off PATH, in a versioned folder: the last match of the patterns (the newest version).
    for version in ("13", "15"):
        tool = tmp_path / version / "bin" / "spyglass-test-tool"
        tool.parent.mkdir(parents=True)
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    found = need_tool("spyglass-test-tool", HOW, also=(str(tmp_path / "*/bin/spyglass-test-tool"),))
    assert found == str(tmp_path / "15" / "bin" / "spyglass-test-tool")
