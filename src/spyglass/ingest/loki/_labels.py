"""Loki stream label strings: ``{app="api", env="prod"}`` as Promtail sends them -> ``Labels``.

Loki parses a push's stream labels with LogQL's selector syntax restricted to equality: label
names are Prometheus' (``[a-zA-Z_][a-zA-Z0-9_]*``), values Go string literals in double quotes
(escapes ``\\n``, ``\\"``, ``\\xHH``, ``\\uHHHH``, ...) or backticks (raw). Empty values are
dropped, as Prometheus' label sets have none. Errors carry Loki's wording.
"""

from __future__ import annotations

import json
import re

from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels

_NAME = re.compile(r"\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*")
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


class LabelsError(BadInput):
    """A stream label string that does not parse; ``str()`` is Loki's message."""

    def __init__(self, text: str, problem: str) -> None:
        self.text = text
        super().__init__(f"error parsing labels '{text}' with error: {problem}")


def parse_stream_labels(text: str) -> Labels:
    """The sorted label set written in ``text``; ``LabelsError`` when it does not parse."""
    s = text.strip()
    if not s.startswith("{") or not s.endswith("}"):
        raise LabelsError(text, "1:1: parse error: unexpected input, expected {")
    pos, end = 1, len(s) - 1
    out: dict[str, str] = {}
    if not s[pos:end].strip():
        return ()
    while True:
        m = _NAME.match(s, pos, end)
        if m is None:
            raise LabelsError(text, f"1:{pos + 1}: parse error: expected a label name and =")
        name = m.group(1)
        value, pos = _string(text, s, m.end(), end)
        if name in out:
            raise BadInput(f"stream '{text}' has duplicate label name: '{name}'")
        out[name] = value
        while pos < end and s[pos].isspace():
            pos += 1
        if pos == end:
            break
        if s[pos] != ",":
            raise LabelsError(text, f"1:{pos + 1}: parse error: unexpected {s[pos]!r}, expected ,")
        pos += 1
        if not s[pos:end].strip():  # a trailing comma, as Prometheus allows
            break
    return tuple(sorted((n, v) for n, v in out.items() if v))


# Parsed stream label strings: a shipper sends the same few streams in every push. Bounded: a
# flood of distinct streams empties it rather than growing it.
_PARSED: dict[str, Labels | BadInput] = {}
_MAX_PARSED = 10_000


def stream_labels(text: str) -> Labels | BadInput:
    """``parse_stream_labels(text)``, or the error it raises, remembered per text."""
    got = _PARSED.get(text)
    if got is None:
        try:
            got = parse_stream_labels(text)
        except BadInput as exc:
            got = exc.with_traceback(None)  # kept: not the frames it was raised in
        if len(_PARSED) >= _MAX_PARSED:
            _PARSED.clear()
        _PARSED[text] = got
    return got


def _string(text: str, s: str, pos: int, end: int) -> tuple[str, int]:
    """The Go string literal at ``pos`` and the position after it."""
    if pos >= end or s[pos] not in '"`':
        raise LabelsError(text, f"1:{pos + 1}: parse error: expected a quoted label value")
    quote = s[pos]
    if quote == "`":
        close = s.find("`", pos + 1, end)
        if close < 0:
            raise LabelsError(text, f"1:{pos + 1}: parse error: unterminated raw string")
        return s[pos + 1 : close], close + 1
    out: list[str] = []
    i = pos + 1
    while i < end:
        c = s[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\n":
            break
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= end:
            break
        e = s[i]
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
            i += 1
        elif e in "xuU01234567":
            size = {"x": 2, "u": 4, "U": 8}.get(e, 3)
            digits = s[i + 1 : i + 1 + size] if e in "xuU" else s[i : i + 3]
            base = 8 if e not in "xuU" else 16
            try:
                code = int(digits, base) if len(digits) == size else -1
            except ValueError:
                code = -1
            if code < 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise LabelsError(text, f"1:{i}: parse error: invalid escape in quoted string")
            out.append(chr(code))
            i += size + 1 if e in "xuU" else size
        else:
            raise LabelsError(text, f"1:{i}: parse error: unknown escape sequence \\{e}")
    raise LabelsError(text, f"1:{pos + 1}: parse error: unterminated quoted string")


def format_stream_labels(labels: Labels) -> str:
    """``{a="b", c="d"}``, as Loki prints a stream in its messages."""
    # JSON's string escapes are a subset of Go's: quotes, backslashes and control characters
    # escaped, everything else as is, like strconv.Quote does for printable text.
    return "{" + ", ".join(f"{n}={json.dumps(v, ensure_ascii=False)}" for n, v in labels) + "}"


__all__ = ["LabelsError", "format_stream_labels", "parse_stream_labels", "stream_labels"]
