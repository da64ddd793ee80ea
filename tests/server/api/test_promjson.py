"""Prometheus' JSON conventions: value strings like Go's FormatFloat 'f', envelope, error status."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import BadInput, ParseError, QueryError, QueryTimeout, Unavailable
from spyglass.server.api._promjson import error, error_for, format_time, format_value, success


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.0, "0"),
        (-0.0, "-0"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "0.00000015"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
        (123456.789, "123456.789"),
        (-2.5, "-2.5"),
    ],
)
def test_values_are_formatted_like_prometheus(value: float, text: str) -> None:
    assert format_value(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_formatted_values_round_trip_without_exponent(value: float) -> None:
    text = format_value(value)
    assert "e" not in text.lower()
    assert float(text) == value


def _dragon4(v: float) -> str:
    """The formatter ``format_value`` replaced: numpy's shortest positional digits."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v)) if v != 0 or math.copysign(1, v) > 0 else "-0"
    return np.format_float_positional(v, trim="-", unique=True)


@given(st.floats(allow_subnormal=True, width=64))
def test_values_are_formatted_as_the_dragon4_formatter_did(value: float) -> None:
    assert format_value(value) == _dragon4(value)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_any_bit_pattern_is_formatted_as_the_dragon4_formatter_did(bits: int) -> None:
    """Every float64, by its bits: NaN payloads, subnormals, the exponent switch points."""
    (value,) = struct.unpack("<d", struct.pack("<Q", bits))
    assert format_value(value) == _dragon4(value)


@pytest.mark.parametrize(
    "value",
    [
        1e-4,
        1e-5,
        9.999999999999999e-5,
        1e15,
        1e16,
        9999999999999998.0,
        1.5e16,
        5e-324,
        1.7976931348623157e308,
        -1.5e-7,
        123e-20,
        2.5e21,
        np.float64(0.1),
        7,
    ],
)
def test_exponent_edges_are_formatted_as_the_dragon4_formatter_did(value: float) -> None:
    assert format_value(value) == _dragon4(float(value))


def test_times_are_seconds_integral_when_whole() -> None:
    assert format_time(1_700_000_000_000) == 1_700_000_000
    assert format_time(1_700_000_000_123) == 1_700_000_000.123


def test_success_envelope_with_warnings() -> None:
    body = json.loads(success({"x": 1}, warnings=["w"]).body)
    assert body == {"status": "success", "data": {"x": 1}, "warnings": ["w"]}


@pytest.mark.parametrize(
    ("exc", "error_type", "status"),
    [
        (ParseError("unexpected", line=1, column=3), "bad_data", 400),
        (BadInput("nope"), "bad_data", 400),
        (QueryError("many-to-many"), "execution", 422),
        (QueryTimeout("2m"), "timeout", 503),
        (Unavailable("storage down"), "unavailable", 503),
    ],
)
def test_errors_map_to_prometheus_types(exc: Exception, error_type: str, status: int) -> None:
    assert isinstance(exc, BadInput | QueryError | Unavailable)
    response = error_for(exc)
    body = json.loads(response.body)
    assert response.status_code == status
    assert body["status"] == "error"
    assert body["errorType"] == error_type
    assert body["error"]


def test_error_body_shape() -> None:
    body = json.loads(error("not_found", "no such thing").body)
    assert body == {"status": "error", "errorType": "not_found", "error": "no such thing"}
