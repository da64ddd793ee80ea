"""LogQL's tokens: what the parser reads, each with its offset in the query for error positions.

Loki's lexer knows durations (``5m``, ``1h30m``) and byte sizes (``10MB``, ``1KiB``) as tokens of
their own, besides numbers (Go's float syntax, hex floats included), strings (Go's quoted and raw
forms), identifiers and operators. ``#`` starts a comment that runs to the end of the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spyglass.logs._errors import parse_error

IDENT = "IDENTIFIER"
STRING = "STRING"
NUMBER = "NUMBER"
DURATION = "DURATION"
BYTES = "BYTES"
OP = "OP"
FLAG = "FLAG"
EOF = "EOF"

_DURATION_UNIT = r"(?:ns|us|µs|ms|s|m|h|d|w|y)"
_DURATION_RE = re.compile(rf"(?:[0-9]+(?:\.[0-9]+)?{_DURATION_UNIT})+(?![a-zA-Z0-9_µ])")
_BYTES_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[KMGTPE]i?B|kB|B)(?![a-zA-Z0-9_])")
_NUMBER_RE = re.compile(
    r"0[xX](?:[0-9a-fA-F_]*\.?[0-9a-fA-F_]*)(?:[pP][+-]?[0-9]+)?"
    r"|0[bBoO][0-9_]+"
    r"|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?"
)
_IDENT_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# logfmt's ``--strict`` and ``--keep-empty``; ``1--1`` stays arithmetic (a letter must follow).
_FLAG_RE = re.compile(r"--[a-zA-Z][a-zA-Z0-9-]*")
_SYMBOLS = (
    "!=", "!~", "!>", "=~", "==", "|=", "|~", "|>", ">=", "<=",
    "=", "|", ">", "<", "{", "}", "(", ")", "[", "]", ",", "+", "-", "*", "/", "%", "^",
)  # fmt: skip
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", '"': '"', "'": "'",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its source text, its decoded value (strings unquoted) and offset."""

    kind: str
    text: str
    value: str
    pos: int

    def describe(self) -> str:
        """How Loki's syntax errors name this token (``IDENTIFIER``, ``|``, ``$end``)."""
        if self.kind == EOF:
            return "$end"
        if self.kind == OP:
            return self.text
        if self.kind == IDENT:
            return _KEYWORD_NAMES.get(self.text, IDENT)
        return self.kind


# Loki's grammar has these words as tokens of their own; its errors name them by their text.
_KEYWORD_NAMES = {
    w: w
    for w in (
        "ip", "bool", "by", "without", "on", "ignoring", "group_left", "group_right", "or",
        "and", "unless", "offset", "json", "logfmt", "regexp", "pattern", "unpack",
        "line_format", "label_format", "drop", "keep", "decolorize", "unwrap",
    )
}  # fmt: skip


def unquote(text: str, query: str, pos: int) -> str:
    """The value of a Go string literal (``"..."`` with escapes, or a raw `` `...` ``)."""
    if text.startswith("`"):
        return text[1:-1]
    body = text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(body):
            raise parse_error("invalid syntax", query, pos)
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
            i += 2
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise parse_error("invalid syntax", query, pos)
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise parse_error("invalid syntax", query, pos)
            out.append(chr(code))
            i += 2 + width
        elif e in "01234567":
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not re.fullmatch(r"[0-7]{3}", digits) or int(digits, 8) > 255:
                raise parse_error("invalid syntax", query, pos)
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise parse_error("invalid syntax", query, pos)
    return "".join(out)


def _string_end(query: str, i: int) -> int:
    """Offset just past the string literal starting at ``i`` (-1: unterminated)."""
    quote = query[i]
    j = i + 1
    while j < len(query):
        c = query[j]
        if quote == '"' and c == "\\":
            j += 2
            continue
        if c == quote:
            return j + 1
        if quote == '"' and c == "\n":
            return -1
        j += 1
    return -1


def tokenize(query: str) -> list[Token]:
    """Every token of ``query``, ending with an ``EOF`` token; ``LogQLParseError`` on bad text."""
    tokens: list[Token] = []
    i = 0
    n = len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in '"`':
            end = _string_end(query, i)
            if end < 0:
                raise parse_error("syntax error: unexpected $end, literal not terminated", query, i)
            text = query[i:end]
            tokens.append(Token(STRING, text, unquote(text, query, i), i))
            i = end
            continue
        if "0" <= c <= "9" or (c == "." and i + 1 < n and "0" <= query[i + 1] <= "9"):
            m = _DURATION_RE.match(query, i) or _BYTES_RE.match(query, i)
            if m is not None:
                kind = DURATION if m.re is _DURATION_RE else BYTES
                tokens.append(Token(kind, m.group(), m.group(), i))
                i = m.end()
                continue
            m = _NUMBER_RE.match(query, i)
            assert m is not None
            tokens.append(Token(NUMBER, m.group(), m.group(), i))
            i = m.end()
            continue
        m = _FLAG_RE.match(query, i)
        if m is not None:
            tokens.append(Token(FLAG, m.group(), m.group(), i))
            i = m.end()
            continue
        m = _IDENT_RE.match(query, i)
        if m is not None:
            tokens.append(Token(IDENT, m.group(), m.group(), i))
            i = m.end()
            continue
        for sym in _SYMBOLS:
            if query.startswith(sym, i):
                tokens.append(Token(OP, sym, sym, i))
                i += len(sym)
                break
        else:
            raise parse_error(f"syntax error: unexpected character {c!r}", query, i)
    tokens.append(Token(EOF, "", "", n))
    return tokens


__all__ = [
    "BYTES",
    "DURATION",
    "EOF",
    "FLAG",
    "IDENT",
    "NUMBER",
    "OP",
    "STRING",
    "Token",
    "tokenize",
]
