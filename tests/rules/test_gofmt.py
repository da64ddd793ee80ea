"""Values print as Go prints them in Prometheus' and promtool's messages."""

from __future__ import annotations

import pytest

from spyglass.rules._gofmt import float_e, go_duration, go_quote, labels_string, model_duration


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0E+00"),
        (-0.0, "-0E+00"),
        (1.0, "1E+00"),
        (60.0, "6E+01"),
        (0.1, "1E-01"),
        (2.9999999999999996, "2.9999999999999996E+00"),
        (1704067200.0, "1.7040672E+09"),
        (1e-300, "1E-300"),
        (-12.5, "-1.25E+01"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_float_e_is_strconv_format_float_e(value: float, text: str) -> None:
    assert float_e(value) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (500, "500ms"),
        (1500, "1.5s"),
        (60_000, "1m0s"),
        (179_999, "2m59.999s"),
        (3_600_000, "1h0m0s"),
        (1_704_067_200_000, "473352h0m0s"),
        (-60_000, "-1m0s"),
    ],
)
def test_go_duration_is_time_duration_string(ms: int, text: str) -> None:
    assert go_duration(ms) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (300_000, "5m"),
        (86_400_000, "1d"),
        (90 * 86_400_000, "90d"),  # weeks only when exact
        (14 * 86_400_000, "2w"),
        (179_999, "2m59s999ms"),
    ],
)
def test_model_duration_is_prometheus_duration_string(ms: int, text: str) -> None:
    assert model_duration(ms) == text


def test_quote_and_labels_as_go() -> None:
    assert go_quote('a"b\\c\nd\x01é') == '"a\\"b\\\\c\\nd\\x01é"'
    assert labels_string((("__name__", "up"), ("ins-tance", "x"))) == (
        '{__name__="up", "ins-tance"="x"}'
    )
    assert labels_string(()) == "{}"
