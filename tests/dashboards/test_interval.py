"""``$__interval``, ``$__rate_interval`` and ``$__range`` as Grafana's Prometheus data source
computes them (rangeutil.ts roundInterval/secondsToHms, the data source's adjustInterval and
rate interval rule)."""

from __future__ import annotations

import pytest

from spyglass.dashboards import (
    DashboardError,
    interval_to_seconds,
    panel_interval,
    query_interval,
    round_interval,
    seconds_to_hms,
)

HOUR_MS = 3_600_000


@pytest.mark.parametrize(
    ("raw_ms", "nice_ms"),
    [
        (5, 1),
        (14, 10),
        (1_499, 1_000),
        (1_500, 2_000),
        (12_499, 10_000),
        (14_000, 15_000),
        (17_500, 20_000),
        (44_999, 30_000),
        (60_000, 60_000),
        (89_999, 60_000),
        (100_000, 120_000),
        (86_400_000, 86_400_000),
        (10**12, 31_536_000_000),
    ],
)
def test_round_interval_follows_grafanas_table(raw_ms: float, nice_ms: int) -> None:
    assert round_interval(raw_ms) == nice_ms


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(90, "1m"), (3600, "1h"), (86400 * 2, "2d"), (0.5, "500ms"), (15, "15s"), (31536000, "1y")],
)
def test_seconds_to_hms(seconds: float, text: str) -> None:
    assert seconds_to_hms(seconds) == text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15), ("1m", 60), ("500ms", 0.5), ("2h", 7200), (">10s", 10), ("30", 30)],
)
def test_interval_to_seconds(text: str, seconds: float) -> None:
    assert interval_to_seconds(text) == seconds


def test_bad_interval_is_a_dashboard_error() -> None:
    with pytest.raises(DashboardError, match="invalid interval"):
        interval_to_seconds("soon")


def test_panel_interval_is_range_over_max_data_points_rounded() -> None:
    # 6 h over 1,000 points: 21.6 s rounds to 20 s.
    assert panel_interval(6 * HOUR_MS, 1000) == (20_000, "20s")


def test_panel_min_interval_raises_the_interval() -> None:
    assert panel_interval(HOUR_MS, 1000, "1m") == (60_000, "1m")


def test_rate_interval_is_four_scrape_intervals_at_least() -> None:
    # 1 h / 1000 points: 3.6 s -> 5 s; rate = max(5 + 15, 60) = 60 s.
    qi = query_interval(HOUR_MS, 1000)
    assert qi.macros["__interval"] == "5s"
    assert qi.macros["__interval_ms"] == "5000"
    assert qi.macros["__rate_interval"] == "60s"
    assert qi.step_s == 5


def test_rate_interval_is_interval_plus_scrape_for_long_ranges() -> None:
    # 7 d / 1000 points: 604.8 s -> 10 m; rate = max(600 + 15, 60) = 615 s.
    qi = query_interval(7 * 24 * HOUR_MS, 1000)
    assert qi.macros["__interval"] == "10m"
    assert qi.macros["__rate_interval"] == "615s"


def test_target_min_step_is_also_the_scrape_interval() -> None:
    qi = query_interval(HOUR_MS, 1000, target_interval="30s")
    assert qi.step_s == 30
    assert qi.macros["__interval"] == "30s"
    assert qi.macros["__interval_ms"] == "30000"
    assert qi.macros["__rate_interval"] == "120s"


def test_eleven_thousand_points_at_most() -> None:
    # 30 d with 100,000 points: 25.92 s -> 30 s; safe interval ceil(2592000 / 11000) = 236 s.
    qi = query_interval(30 * 24 * HOUR_MS, 100_000)
    assert qi.step_s == 236
    assert qi.macros["__interval"] == "236s"


def test_interval_factor_multiplies_the_step() -> None:
    assert query_interval(HOUR_MS, 1000, interval_factor=2).step_s == 10


def test_range_macros() -> None:
    qi = query_interval(6 * HOUR_MS + 400, 1000)
    assert qi.macros["__range"] == "21600s"
    assert qi.macros["__range_s"] == "21600"
    assert qi.macros["__range_ms"] == str(6 * HOUR_MS + 400)


def test_custom_scrape_interval() -> None:
    qi = query_interval(HOUR_MS, 1000, scrape_interval_s=5)
    assert qi.macros["__rate_interval"] == "20s"
