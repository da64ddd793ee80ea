"""Pieces both exposition parsers share: decoding, quoted strings, name grammars, errors.

Line numbers and columns in errors are 1-based; columns count characters of the decoded line.
"""

from __future__ import annotations

import re
from typing import NoReturn

from spyglass.core.errors import ParseError
from spyglass.core.labels import Labels

METRIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_QUOTED_CHUNK_RE = re.compile(r'[^"\\]*')
_BLANKS_RE = re.compile(r"[ \t]*")
_HELP_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


def fail(message: str, line: int, column: int, text: str = "") -> NoReturn:
    """Raise the one error type the parsers let escape, with a short snippet of the line."""
    snippet = text[max(0, column - 11) : column + 20] if text else ""
    raise ParseError(message, line=line, column=max(column, 1), snippet=snippet)


def decode(data: bytes | str) -> str:
    """``data`` as text; invalid UTF-8 (or a surrogate in a str) is a ``ParseError`` there."""
    if isinstance(data, str):
        if not data.isascii():
            # A str may hold lone surrogates, which no later stage could encode.
            try:
                data.encode("utf-8")
            except UnicodeEncodeError as exc:
                line = data.count("\n", 0, exc.start) + 1
                column = exc.start - (data.rfind("\n", 0, exc.start) + 1) + 1
                message = "invalid Unicode (lone surrogate)"
                raise ParseError(message, line=line, column=column) from None
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise ParseError("invalid UTF-8", line=line, column=column) from None


def skip_blanks(text: str, pos: int) -> int:
    """The index of the first character at or after ``pos`` that is not a space or tab."""
    m = _BLANKS_RE.match(text, pos)
    return m.end() if m is not None else pos


def read_quoted(text: str, pos: int, lineno: int, *, strict_escapes: bool) -> tuple[str, int]:
    r"""Read the double-quoted string starting at ``text[pos] == '"'``; return (value, end).

    Escapes are ``\\``, ``\"`` and ``\n``. With ``strict_escapes`` any other escape is an error
    (Go's expfmt parser); without it the backslash and character are kept as written (what the
    OpenMetrics suite and Prometheus' scrape parser do).
    """
    parts: list[str] = []
    i = pos + 1
    n = len(text)
    while True:
        m = _QUOTED_CHUNK_RE.match(text, i)
        if m is None:  # pragma: no cover - the pattern matches the empty string
            break
        parts.append(m.group())
        i = m.end()
        if i >= n:
            fail("unterminated quoted string (unescaped new-line?)", lineno, pos + 1, text)
        if text[i] == '"':
            return "".join(parts), i + 1
        if i + 1 >= n:
            fail("unterminated quoted string (unescaped new-line?)", lineno, pos + 1, text)
        escaped = text[i + 1]
        if escaped == "\\":
            parts.append("\\")
        elif escaped == '"':
            parts.append('"')
        elif escaped == "n":
            parts.append("\n")
        elif strict_escapes:
            fail(f"invalid escape sequence '\\{escaped}'", lineno, i + 1, text)
        else:
            parts.append("\\" + escaped)
        i += 2
    fail("unterminated quoted string", lineno, pos + 1, text)  # pragma: no cover


def unescape_help(text: str, *, quote: bool = False) -> str:
    r"""HELP text: ``\\`` is a backslash, ``\n`` a newline (and ``\"`` a quote when ``quote``,
    as OpenMetrics escapes HELP like label values); other escapes stay as written."""
    if "\\" not in text:
        return text
    return _HELP_ESCAPE_RE.sub(_help_escape_quoted if quote else _help_escape, text)


def _help_escape(m: re.Match[str]) -> str:
    c = m.group(1)
    if c == "\\":
        return "\\"
    if c == "n":
        return "\n"
    return m.group(0)


def _help_escape_quoted(m: re.Match[str]) -> str:
    if m.group(1) == '"':
        return '"'
    return _help_escape(m)


def labels_from(name: str, pairs: list[tuple[str, str]]) -> Labels:
    """The sorted label set of a sample: ``__name__`` plus its pairs, empty values dropped."""
    if not pairs:
        return (("__name__", name),)
    items = [("__name__", name)]
    items.extend(p for p in pairs if p[1])
    items.sort()
    return tuple(items)
