"""`spyglass serve` options: generated from the settings table, over the environment."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import spyglass.server.runtime
from spyglass.cli import app
from spyglass.core.settings import SETTINGS, Settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """The settings `spyglass serve` would run with (nothing is started)."""
    runs: list[Settings] = []

    def run(settings: Settings) -> int:
        runs.append(settings)
        return 0

    monkeypatch.setattr(spyglass.server.runtime, "run", run)
    for s in SETTINGS:
        monkeypatch.delenv(s.env, raising=False)
    return runs


def _serve(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["serve", *args], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "env", "scrape_self"),
    [
        ([], None, False),
        (["--scrape-self"], None, True),
        (["--no-scrape-self"], None, False),
        ([], {"SPYGLASS_SCRAPE_SELF": "true"}, True),
        ([], {"SPYGLASS_SCRAPE_SELF": "0"}, False),
        # The option wins over the environment, either way.
        (["--no-scrape-self"], {"SPYGLASS_SCRAPE_SELF": "true"}, False),
        (["--scrape-self"], {"SPYGLASS_SCRAPE_SELF": "false"}, True),
    ],
)
def test_boolean_settings_are_flags(
    started: list[Settings], args: list[str], env: dict[str, str] | None, scrape_self: bool
) -> None:
    code, output = _serve(*args, env=env)
    assert code == 0, output
    [settings] = started
    assert settings.scrape_self is scrape_self


def test_every_boolean_setting_has_a_flag_pair() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    for s in SETTINGS:
        if s.kind == "bool":
            assert s.option in result.output
            assert f"--no-{s.option[2:]}" in result.output


def test_valued_options_still_take_values(started: list[Settings]) -> None:
    code, output = _serve("--retention", "30d", "--scrape-self", "--max-body-bytes", "1MiB")
    assert code == 0, output
    [settings] = started
    assert settings.retention == 30 * 86_400_000
    assert settings.max_body_bytes == 1 << 20
    assert settings.scrape_self is True


def test_a_bad_boolean_in_the_environment_names_the_variable(started: list[Settings]) -> None:
    code, output = _serve(env={"SPYGLASS_SCRAPE_SELF": "maybe"})
    assert code == 2
    assert "SPYGLASS_SCRAPE_SELF" in output
    assert started == []
