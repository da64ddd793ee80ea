"""Grafana's ``from``/``to``: relative to now with units and rounding, epoch ms, dates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.dashboards import DashboardError, parse_range, parse_time

NOW = 1_700_000_000_000  # 2023-11-14T22:13:20Z, a Tuesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("now-6h", NOW - 6 * 3_600_000),
        ("now-15m", NOW - 900_000),
        ("now+1d", NOW + 86_400_000),
        ("now-1w", NOW - 7 * 86_400_000),
        ("now/d", 1_699_920_000_000),
        ("now-1d/d", 1_699_833_600_000),
        ("now/w", 1_699_833_600_000),
        ("now/M", 1_698_796_800_000),
        ("now/y", 1_672_531_200_000),
        ("1699999999000", 1_699_999_999_000),
        ("2023-11-14T22:00:00Z", 1_699_999_200_000),
        ("2023-11-14 22:00:00", 1_699_999_200_000),
    ],
)
def test_parse_time(text: str, expected: int) -> None:
    assert parse_time(text, NOW) == expected


def test_rounding_an_end_goes_to_the_end_of_the_unit() -> None:
    assert parse_time("now/d", NOW, is_end=True) == 1_700_006_399_999


def test_range_must_go_forward() -> None:
    assert parse_range("now-1h", "now", NOW) == (NOW - 3_600_000, NOW)
    with pytest.raises(DashboardError, match="is not before"):
        parse_range("now", "now-1h", NOW)
    with pytest.raises(DashboardError, match="invalid time 'soon'"):
        parse_range("soon", "now", NOW)


def test_out_of_range_rounding_is_an_error() -> None:
    with pytest.raises(DashboardError, match="out of range"):
        parse_time("now-99999999y/d", NOW)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_a_time_or_a_dashboard_error(text: str) -> None:
    try:
        parse_time(text, NOW)
    except DashboardError as exc:
        message = str(exc)
    else:
        return
    assert "invalid time" in message
