"""Reading promqltest scripts: the expanding points syntax and command structure."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.samples import is_stale
from spyglass.promql.testing import parse_script
from spyglass.promql.testing._script import Broken, Clear, Eval, Load, parse_points


def test_points_expand_like_promtool() -> None:
    values, hist = parse_points("1+2x3 _ 5-1x2 _x2 stale 0x5 Inf -Inf NaN 1e3")
    assert not hist
    assert values[:4] == [1, 3, 5, 7]
    assert values[4] is None
    assert values[5:8] == [5, 4, 3]
    assert values[8:10] == [None, None]
    assert values[10] is not None
    assert is_stale(values[10])
    assert values[11:15] == [0, 0, 0, 0]
    assert values[-4:-1] == [math.inf, -math.inf, values[-2]]
    assert math.isnan(values[-2] or 0.0)
    assert values[-1] == 1000


def test_histogram_points_are_flagged() -> None:
    values, hist = parse_points("{{schema:0 sum:1 count:1}}x2 3")
    assert hist
    assert values[-1] == 3


def test_script_commands() -> None:
    script = """
load 1m
  metric{a="b"} 1 2 3

eval instant at 2m metric
  expect no_warn
  metric{a="b"} 3

eval range from 0 to 2m step 1m metric * 2
  {a="b"} 2 4 6

clear

eval instant at 0 nope(
  expect fail
"""
    cmds = parse_script(script)
    assert [type(c) for c in cmds] == [Load, Eval, Eval, Clear, Eval]
    load = cmds[0]
    assert isinstance(load, Load)
    assert load.step_ms == 60_000
    assert load.series[0].labels == (("__name__", "metric"), ("a", "b"))
    first = cmds[1]
    assert isinstance(first, Eval)
    assert first.instant
    assert first.time_ms == 120_000
    assert [e.kind for e in first.expects] == ["no_warn"]
    second = cmds[2]
    assert isinstance(second, Eval)
    assert (second.start_ms, second.end_ms, second.step_ms) == (0, 120_000, 60_000)
    assert second.series[0].values == [2, 4, 6]


def test_unreadable_command_is_reported_not_dropped() -> None:
    cmds = parse_script("load 1m\n  metric 1 2 ???\n")
    assert isinstance(cmds[0], Broken)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_scripts_never_crash_the_reader(text: str) -> None:
    for cmd in parse_script(text):
        assert isinstance(cmd, (Load, Clear, Eval, Broken))


@pytest.mark.parametrize("token", ["1+x3", "abc", "1x"])
def test_bad_points_raise_value_error(token: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_points(token)


@pytest.mark.parametrize("head", ["load", "load   ", "load 1m 2m", "loadx 1m"])
def test_a_load_without_one_step_is_reported(head: str) -> None:
    (cmd,) = parse_script(head + "\n  metric 1 2\n")
    assert isinstance(cmd, Broken)
    assert "load <step>" in cmd.message


@pytest.mark.parametrize("at", ["Inf", "-Inf", "NaN", "1e400"])
def test_an_eval_at_a_time_that_is_not_finite_is_reported(at: str) -> None:
    (cmd,) = parse_script(f"eval instant at {at} up\n")
    assert isinstance(cmd, Broken)
    assert "not a finite time" in cmd.message
