"""Numbers, durations and byte sizes the way Loki reads them, from queries and from log lines.

Query literals and label values follow different rules in Loki, and the conformance cases pin
both: a duration in a query (``[5m]``, ``took > 1d``) also takes ``d``, ``w`` and ``y``, while a
duration in a log line goes through Go's ``time.ParseDuration`` (``ns`` up to ``h`` only, a bare
number is an error). Byte sizes in a query are case-sensitive tokens (``10MB``), in a line they
are read by go-humanize's ``ParseBytes`` (any case, commas allowed, the result truncated to a
whole number of bytes). Errors carry Go's wording, because Loki puts it in ``__error_details__``.
"""

from __future__ import annotations

import math
import re

_LITERAL_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 7 * 86_400_000_000_000,
    "y": 365 * 86_400_000_000_000,
}
_LITERAL_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h|d|w|y)")

# Go's time.ParseDuration units; both spellings of micro (U+00B5 and U+03BC).
_GO_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}

_BYTE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "ki": 1024,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mi": 1024**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gi": 1024**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ti": 1024**4,
    "tib": 1024**4,
    "p": 1000**5,
    "pb": 1000**5,
    "pi": 1024**5,
    "pib": 1024**5,
    "e": 1000**6,
    "eb": 1000**6,
    "ei": 1024**6,
    "eib": 1024**6,
}
_QUERY_BYTE_UNITS = re.compile(r"([0-9]+(?:\.[0-9]+)?)([KMGTPE]i?B|kB|B)")

_GO_FLOAT = re.compile(
    r"[+-]?(?:"
    r"(?:[0-9](?:_?[0-9])*)?\.?(?:[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9]+)?"
    r"|0[xX](?:_?[0-9a-fA-F])*\.?[0-9a-fA-F_]*[pP][+-]?[0-9]+"
    r"|inf|infinity|nan"
    r")",
    re.IGNORECASE,
)


def literal_duration_ns(text: str) -> int:
    """A query's duration literal (``1h30m``, ``1.5s``, ``2d``) in nanoseconds."""
    pos = 0
    total = 0.0
    for m in _LITERAL_PART.finditer(text):
        if m.start() != pos:
            raise ValueError(f'not a valid duration string: "{text}"')
        total += float(m.group(1)) * _LITERAL_UNITS_NS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f'not a valid duration string: "{text}"')
    return round(total)


def literal_bytes(text: str) -> float:
    """A query's byte-size literal (``10MB``, ``1KiB``) in bytes."""
    m = _QUERY_BYTE_UNITS.fullmatch(text)
    if m is None:
        raise ValueError(f"invalid bytes literal {text!r}")
    return float(int(float(m.group(1)) * _BYTE_UNITS[m.group(2).lower()]))


def go_duration_seconds(value: str) -> float:
    """Go's ``time.ParseDuration(value)`` in seconds; ``ValueError`` with Go's message."""
    quoted = _go_quote(value)
    s = value
    neg = False
    if s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0.0
    while s:
        m = re.match(r"([0-9]*)(\.[0-9]*)?", s)
        assert m is not None
        whole, frac = m.group(1), m.group(2) or ""
        if not whole and len(frac) <= 1:
            raise ValueError(f"time: invalid duration {quoted}")
        s = s[m.end() :]
        u = re.match(r"[^0-9.]*", s)
        assert u is not None
        unit = u.group()
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in _GO_UNITS_NS:
            raise ValueError(f"time: unknown unit {_go_quote(unit)} in duration {quoted}")
        s = s[u.end() :]
        total += float((whole or "0") + frac) * _GO_UNITS_NS[unit]
    if total > 2**63 - 1:
        raise ValueError(f"time: invalid duration {quoted}")
    seconds = math.trunc(total) / 1e9
    return -seconds if neg else seconds


def go_parse_bytes(value: str) -> float:
    """go-humanize's ``ParseBytes(value)`` as a float; ``ValueError`` with its message."""
    digits = 0
    has_comma = False
    for ch in value:
        if not (ch.isdigit() or ch in ".,"):
            break
        has_comma = has_comma or ch == ","
        digits += 1
    num = value[:digits].replace(",", "") if has_comma else value[:digits]
    f = go_parse_float(num)
    extra = value[digits:].strip().lower()
    if extra not in _BYTE_UNITS:
        raise ValueError(f"unhandled size name: {extra}")
    f *= _BYTE_UNITS[extra]
    if f >= 2.0**64:
        raise ValueError(f"too large: {value}")
    return float(int(f))


def go_parse_float(value: str) -> float:
    """Go's ``strconv.ParseFloat(value, 64)``; ``ValueError`` with Go's message."""
    if value and _GO_FLOAT.fullmatch(value) and any(c.isalnum() for c in value):
        text = value.replace("_", "")
        low = text.lower().lstrip("+-")
        try:
            if low.startswith("0x"):
                sign = -1.0 if text.startswith("-") else 1.0
                return sign * float.fromhex(text.lstrip("+-"))
            if low in ("inf", "infinity"):
                return -math.inf if text.startswith("-") else math.inf
            if low == "nan":
                return math.nan
            result = float(text)
        except (ValueError, OverflowError):
            pass
        else:
            if math.isinf(result):
                raise ValueError(
                    f"strconv.ParseFloat: parsing {_go_quote(value)}: value out of range"
                )
            return result
    raise ValueError(f"strconv.ParseFloat: parsing {_go_quote(value)}: invalid syntax")


def _go_quote(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_duration(ns: int) -> str:
    """A duration the way Prometheus' ``model.Duration`` prints it (``1h30m``, ``0s``)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ms = abs(ns) // 1_000_000
    if ms == 0:
        return f"{sign}{abs(ns)}ns"
    out = []
    for unit, size in (("y", 31_536_000_000), ("w", 604_800_000), ("d", 86_400_000),
                       ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):  # fmt: skip
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return sign + "".join(out)


__all__ = [
    "format_duration",
    "go_duration_seconds",
    "go_parse_bytes",
    "go_parse_float",
    "literal_bytes",
    "literal_duration_ns",
]
