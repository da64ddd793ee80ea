"""The CLI start-up benchmark keeps working: one round starts a real server, runs every
command on this checkout and on a baseline checkout (here the same ``src``) and promtool's
counterparts, and reports wall and CPU time for each. Nothing here asserts on time."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.cli_startup import main
from tests.support.required import need_amtool, need_promtool


def test_one_round_times_every_command_on_every_side(capsys: pytest.CaptureFixture[str]) -> None:
    need_promtool()
    need_amtool()
    src = Path(__file__).resolve().parents[2] / "src"
    results = main(["--rounds", "1", "--baseline-src", str(src)])
    assert set(results) == {
        "python -c pass",
        "--help",
        "check rules",
        "logs query",
        "incident list",
        "silence query",
    }
    for name in ("--help", "check rules", "logs query"):
        assert set(results[name]) == {"spyglass", "baseline", "promtool"}, name
    assert set(results["incident list"]) == {"spyglass", "baseline"}
    assert set(results["silence query"]) == {"spyglass", "baseline", "amtool"}
    for sides in results.values():
        for timing in sides.values():
            assert len(timing.seconds) == len(timing.cpu) == 1
            assert timing.seconds[0] > 0
    out = capsys.readouterr().out
    assert "import spyglass.cli (spyglass):" in out
    assert "import spyglass.cli (baseline):" in out
