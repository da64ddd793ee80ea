"""Prometheus durations and API timestamps."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import BadInput
from spyglass.core.times import (
    format_duration,
    parse_api_duration_ms,
    parse_api_time_ms,
    parse_duration_ms,
)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("15s", 15_000),
        ("1h30m", 5_400_000),
        ("250ms", 250),
        ("0", 0),
        ("2w", 1_209_600_000),
        ("1y", 31_536_000_000),
        ("1d12h", 129_600_000),
    ],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "5", "1m1h", "-5m", "1.5h", "5mm", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(BadInput):
        parse_duration_ms(text)


@given(st.integers(min_value=0, max_value=10**13))
def test_duration_round_trip(ms: int) -> None:
    assert parse_duration_ms(format_duration(ms)) == ms


def test_api_times_accept_rfc3339_and_unix_seconds() -> None:
    assert parse_api_time_ms("1700000000") == 1_700_000_000_000
    assert parse_api_time_ms("1700000000.123") == 1_700_000_000_123
    assert parse_api_time_ms("2023-11-14T22:13:20Z") == 1_700_000_000_000
    assert parse_api_time_ms("2023-11-14T23:13:20.5+01:00") == 1_700_000_000_500
    for bad in ("yesterday", "NaN", "2023-11-14T22:13:20", "1e308", "-1e300", "inf"):
        with pytest.raises(BadInput):
            parse_api_time_ms(bad)


def test_api_durations_accept_seconds_and_prometheus_syntax() -> None:
    assert parse_api_duration_ms("15") == 15_000
    assert parse_api_duration_ms("0.5") == 500
    assert parse_api_duration_ms("1m") == 60_000


@pytest.mark.parametrize("text", ["1e308", "-1e308", "9.3e9"])
def test_api_durations_past_int64_nanoseconds_are_refused_as_prometheus_does(text: str) -> None:
    with pytest.raises(BadInput, match="It overflows int64"):
        parse_api_duration_ms(text)
    assert parse_api_duration_ms("9.2e9") == 9_200_000_000_000
