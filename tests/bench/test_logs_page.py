"""The logs page benchmark keeps working: at a tiny size it starts a real server, pushes the
lines, shows them all on the page in chromium and opens some; every figure is there. Nothing
here asserts on time."""

from __future__ import annotations

from bench.logs_page import lines, main
from tests.support.required import need_tool


def test_the_lines_are_spread_over_the_hour_one_stream_per_level() -> None:
    streams = lines(60, 10_000.0)
    assert sorted(s["stream"]["level"] for s in streams) == ["debug", "error", "info", "warn"]
    stamps = sorted(int(v[0]) for s in streams for v in s["values"])
    assert len(stamps) == 60
    assert stamps[0] == int((10_000 - 3600) * 1e9)
    assert stamps[-1] < 10_000 * 10**9


def test_every_figure_is_measured_for_a_page_of_lines() -> None:
    need_tool("chromium", "install Debian's chromium package", also=("/usr/bin/chromium",))
    medians = main(["--lines", "60", "--rounds", "1", "--opens", "2"])
    assert set(medians) == {"api", "show", "json", "rows", "open"}
    assert all(v >= 0 for v in medians.values())
