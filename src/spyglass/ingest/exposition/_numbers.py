"""Numbers as the exposition formats spell them.

Prometheus parses values with Go's ``strconv.ParseFloat`` after refusing any ``p``, ``P`` or
``_`` (its ``parseFloat`` helper keeps to pre-Go-1.13 syntax), so hex floats and digit separators
are rejected; Python's ``float()`` is more permissive (whitespace, underscores, ``+nan``), which is
why every token is checked against an explicit grammar before ``float()`` sees it.
"""

from __future__ import annotations

import math
import re

# Decimal floats as Go accepts them: "1", "1.", ".5", "1e5", "1.5E-3", optional sign.
DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_RE = re.compile(r"[+-]?[0-9]+")

_INF = math.inf
# Go's special(): "inf"/"infinity" with an optional sign, "nan" without one; case-insensitive.
_SPECIALS: dict[str, float] = {
    "inf": _INF,
    "+inf": _INF,
    "-inf": -_INF,
    "infinity": _INF,
    "+infinity": _INF,
    "-infinity": -_INF,
    "nan": math.nan,
}

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def parse_float(token: str) -> float | None:
    """The value of ``token`` as Prometheus reads it, or ``None`` when it is not a number.

    Out-of-range decimals (``1e999``) are refused, as Go reports ``ErrRange`` for them.
    """
    if len(token) <= 9:
        special = _SPECIALS.get(token.lower())
        if special is not None:
            return special
    if DECIMAL_RE.fullmatch(token) is None:
        return None
    value = float(token)
    if math.isinf(value):
        return None
    return value


def parse_int64(token: str) -> int | None:
    """A base-10 int64 (the text format's millisecond timestamp), or ``None``."""
    if _INT_RE.fullmatch(token) is None:
        return None
    value = int(token)
    if value < INT64_MIN or value > INT64_MAX:
        return None
    return value


def seconds_to_ms(token: str) -> int | None:
    """An OpenMetrics timestamp (decimal seconds) in whole milliseconds, truncated toward zero.

    ``None`` when the token is not a finite decimal. Values beyond int64 milliseconds are clamped
    rather than refused: the OpenMetrics suite expects huge timestamps to parse.
    """
    if DECIMAL_RE.fullmatch(token) is None:
        return None
    seconds = float(token)
    if math.isinf(seconds):
        return None
    ms = seconds * 1000.0
    if ms >= 9.2e18:
        return INT64_MAX
    if ms <= -9.2e18:
        return INT64_MIN
    return int(ms)


def format_float(value: float) -> str:
    """The shortest text that parses back to exactly ``value`` (``+Inf``, ``-Inf``, ``NaN``)."""
    if math.isnan(value):
        return "NaN"
    if value == _INF:
        return "+Inf"
    if value == -_INF:
        return "-Inf"
    return repr(value)


def format_openmetrics_float(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'g', -1, 64)`` plus ``.0`` when there is no ``.`` or ``e``.

    Prometheus 3 rewrites ``le`` and ``quantile`` label values into this form on ingestion
    (``le="1"`` is stored as ``le="1.0"``, ``le="1e6"`` as ``le="1e+06"``), so a series keeps
    one identity whatever spelling the exposer used. Go's shortest ``'g'`` switches to exponent
    form when the decimal exponent is below -4 or at least 6, with at least two exponent digits.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0.0"  # Go compares -0 == 0 first, so negative zero is written "0.0" too
    sign = "-" if value < 0 else ""
    # repr has the shortest digits that round-trip, the same digits Go's -1 precision picks.
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    whole, _, frac = mantissa.partition(".")
    raw = whole + frac
    digits = raw.lstrip("0")
    # Decimal point position relative to the start of ``digits``.
    point = len(whole) + (int(exp_text) if exp_text else 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        rest = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{rest}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits)) + ".0"
    else:
        text = digits[:point] + "." + digits[point:]
    return sign + text
