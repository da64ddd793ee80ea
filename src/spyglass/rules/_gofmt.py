"""Go's spellings of values in Prometheus' and promtool's messages, so ours read the same.

promtool prints label sets with ``labels.Labels.String()``, values with
``strconv.FormatFloat(v, 'E', -1, 64)``, expressions with ``%q`` and evaluation times with
``time.Duration.String()``; users compare these messages with what they know from Prometheus.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable

from spyglass.core.labels import LABEL_NAME_RE

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """``strconv.Quote``: double quotes, Go escapes, printable Unicode kept as is."""
    out = ['"']
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif c == " " or (unicodedata.category(c)[0] in "LMNPS"):
            out.append(c)
        elif ord(c) < 0x80:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    out.append('"')
    return "".join(out)


def labels_string(labels: Iterable[tuple[str, str]]) -> str:
    """``labels.Labels.String()``: ``{a="1", b="2"}``, names quoted when not legacy names."""
    parts = []
    for name, value in labels:
        shown = name if LABEL_NAME_RE.match(name) else go_quote(name)
        parts.append(f"{shown}={go_quote(value)}")
    return "{" + ", ".join(parts) + "}"


def float_e(value: float) -> str:
    """``strconv.FormatFloat(v, 'E', -1, 64)``: shortest digits, ``1.5E+00``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return f"{sign}0E+00"
    mantissa, _, exponent = f"{abs(value):.17e}".partition("e")
    # The shortest digits that read back as the same float, as Go's -1 precision asks.
    for digits in range(1, 18):
        candidate = f"{abs(value):.{digits - 1}e}"
        if float(candidate) == abs(value):
            mantissa, _, exponent = candidate.partition("e")
            break
    exp = int(exponent)
    return f"{sign}{mantissa}E{'-' if exp < 0 else '+'}{abs(exp):02d}"


def go_duration(ms: int) -> str:
    """``time.Duration.String()`` of a whole number of milliseconds: ``1h0m0s``, ``1.5s``."""
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    if ms < 1000:
        return f"{sign}{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    text = f"{seconds}.{millis:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


_MODEL_UNITS = (
    ("y", 365 * 24 * 3_600_000, True),
    ("w", 7 * 24 * 3_600_000, True),
    ("d", 24 * 3_600_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1000, False),
    ("ms", 1, False),
)


def model_duration(ms: int) -> str:
    """Prometheus' ``model.Duration.String()``: ``5m``, ``1d``, ``2m59s999ms``.

    Years and weeks only when they divide the duration exactly (``90d``, not ``12w6d``).
    """
    if ms == 0:
        return "0s"
    out = []
    for unit, size, exact in _MODEL_UNITS:
        if exact and ms % size:
            continue
        count, ms = divmod(ms, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


__all__ = ["float_e", "go_duration", "go_quote", "labels_string", "model_duration"]
