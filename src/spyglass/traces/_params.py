"""The parameters of Jaeger's query API, read as Jaeger's query service reads them.

- durations (``minDuration``, ``maxDuration``, ``lookback``) are Go durations in
  ``time.ParseDuration``'s grammar: a sequence of decimal numbers with units ``ns``, ``us``
  (``µs``), ``ms``, ``s``, ``m``, ``h``, optionally signed, ``0`` alone allowed
  (``parse_go_duration``);
- trace ids are 1 to 32 hex digits, a 64-bit id widened with leading zeros (``parse_trace_id``);
- ``tags`` is a JSON object of strings, as the Jaeger UI and Grafana's Jaeger data source send it,
  or, from a hand-written URL, the logfmt both let users type (``error=true
  http.status_code=500``); ``tag=key:value`` parameters add to it (``parse_tags``).

Errors are ``BadInput`` with the text Jaeger answers, so a client that shows it shows the same
thing either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from fractions import Fraction

from spyglass.core.errors import BadInput

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 MICRO SIGN
    "μs": 1_000,  # U+03BC GREEK SMALL LETTER MU
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
_UNIT = re.compile(r"[^0-9.]*")
_MAX_NS = 2**63 - 1
_HEX = re.compile(r"[0-9a-fA-F]+")


def parse_go_duration(text: str) -> int:
    """Nanoseconds in a Go duration string; ``BadInput`` as ``time.ParseDuration`` words it."""
    quoted = json.dumps(text, ensure_ascii=False)
    s = text
    negative = False
    if s[:1] in ("-", "+"):
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise BadInput(f"time: invalid duration {quoted}")
    total = Fraction(0)
    while s:
        m = _NUMBER.match(s)
        assert m is not None  # the pattern matches the empty string
        whole, frac = m.group(1), m.group(2)
        if not whole and not frac:
            raise BadInput(f"time: invalid duration {quoted}")
        s = s[m.end() :]
        u = _UNIT.match(s)
        assert u is not None
        unit = u.group(0)
        if not unit:
            raise BadInput(f"time: missing unit in duration {quoted}")
        if unit not in _UNITS:
            raise BadInput(
                f"time: unknown unit {json.dumps(unit, ensure_ascii=False)} in duration {quoted}"
            )
        s = s[u.end() :]
        value = Fraction(int(whole or "0"))
        if frac:
            value += Fraction(int(frac), 10 ** len(frac))
        total += value * _UNITS[unit]
        if total > _MAX_NS + (1 if negative else 0):
            raise BadInput(f"time: invalid duration {quoted}")
    ns = int(total)  # Go drops what is below a nanosecond
    return -ns if negative else ns


def parse_trace_id(text: str) -> str:
    """A trace id as stored: 32 lower-case hex digits; ``BadInput`` as Jaeger words it."""
    if len(text) > 32:
        raise BadInput(f"TraceID cannot be longer than 32 hex characters: {text}")
    if not _HEX.fullmatch(text):
        bad = (
            text
            if len(text) <= 16
            else (text[:-16] if not _HEX.fullmatch(text[:-16]) else text[-16:])
        )
        raise BadInput(f'strconv.ParseUint: parsing "{bad}": invalid syntax')
    return text.lower().rjust(32, "0")


def parse_tags(simple: Sequence[str], tags: Sequence[str]) -> dict[str, str]:
    """The tags of a search: each ``tag=key:value`` parameter, then each ``tags`` parameter (a
    JSON object of strings, or logfmt), later ones winning."""
    out: dict[str, str] = {}
    for tag in simple:
        key, sep, value = tag.partition(":")
        if not sep:
            raise BadInput(f"malformed 'tag' parameter, expecting key:value, received: {tag}")
        out[key] = value
    for text in tags:
        if text.lstrip().startswith("{"):
            out.update(_json_tags(text))
        else:
            out.update(parse_logfmt(text))
    return out


def _json_tags(text: str) -> dict[str, str]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"malformed 'tags' parameter, cannot unmarshal JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadInput("malformed 'tags' parameter, cannot unmarshal JSON: not an object")
    out: dict[str, str] = {}
    for k, v in doc.items():
        if not isinstance(v, str):
            raise BadInput(
                "malformed 'tags' parameter, cannot unmarshal JSON: json: cannot unmarshal "
                f"{_json_kind(v)} into Go value of type string"
            )
        out[k] = v
    return out


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def parse_logfmt(text: str) -> dict[str, str]:
    """``key=value`` pairs separated by spaces, values optionally double-quoted with backslash
    escapes; a key alone means ``true`` (logfmt's convention, as Jaeger's UI reads it)."""
    out: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != "=":
            i += 1
        key = text[start:i]
        if not key:
            raise BadInput(f"malformed 'tags' parameter: no key before '=' at {start}: {text}")
        if i >= n or text[i] != "=":
            out[key] = "true"
            continue
        i += 1
        if i < n and text[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise BadInput(f"malformed 'tags' parameter: unterminated quote: {text}")
            i += 1
            out[key] = "".join(chars)
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            out[key] = text[start:i]
    return out


__all__ = ["parse_go_duration", "parse_logfmt", "parse_tags", "parse_trace_id"]
