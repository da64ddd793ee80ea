"""Positions for ``promql-parser``'s errors, which come without any.

Prometheus reports ``1:14: parse error: ...``. The position is recovered by re-parsing: an
unclosed parenthesis points at the ``(``, a missing end at the end of the text, a specific message
at the first prefix that fails with that same message, and the binding's generic "invalid promql
query" at the first token after which no short continuation makes the query valid.
"""

from __future__ import annotations

import re

import promql_parser as pp

from spyglass.core.errors import ParseError

_TOKEN_RE = re.compile(
    r"""\s+|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?|[A-Za-z_:][A-Za-z0-9_:.]*"""
    r"""|\d[\w.+]*|=~|!~|!=|==|>=|<=|.""",
    re.DOTALL,
)
_INCOMPLETE = ("end of input", "unclosed", "unterminated")
_MAX_LOCATE_TOKENS = 400


def _position(query: str, offset: int) -> tuple[int, int]:
    before = query[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


def _locate(query: str, message: str) -> int:
    """Offset of the token where parsing first fails with ``message``.

    The binding gives no positions; re-parsing growing prefixes finds the first token after which
    the same error appears. Errors about a missing end point just past the query.
    """
    if "unclosed left parenthesis" in message:
        return _unclosed_paren(query)
    if any(word in message for word in _INCOMPLETE):
        return len(query)
    tokens = [(m.start(), m.end()) for m in _TOKEN_RE.finditer(query)][:_MAX_LOCATE_TOKENS]
    if message == "invalid promql query":
        # The generic message: the error is at the first token after which no continuation
        # can make the query valid.
        for start, end in tokens:
            if query[start:end].strip() and not _viable(query[:end]):
                return start
        return len(query)
    for start, end in tokens:
        if not query[start:end].strip():
            continue
        try:
            pp.parse(query[:end])
        except ValueError as exc:
            if str(exc) == message:
                return start
        except BaseException:  # noqa: BLE001, S112 - a panic on a prefix just means "keep looking"
            continue
    return len(query)


_COMPLETIONS = (
    "",
    " x",
    "x",
    " (x)",
    "(x)",
    " 1",
    "1",
    "5m]",
    "[5m]",
    "x[5m]",
    ' "x"',
    '"x"',
    '="x"',
    " (x) (x)",
    ":1m]",
    " 5m",
    "x) (x)",
    ") (x)",
    " x) (x)",
)


def _closers(text: str) -> str:
    """The brackets that would close everything ``text`` leaves open."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c in pairs:
            stack.append(pairs[c])
        elif c in ")]}" and stack and stack[-1] == c:
            stack.pop()
        i += 1
    return quote + "".join(reversed(stack))


def _viable(prefix: str) -> bool:
    """Whether some short continuation turns ``prefix`` into a query that parses."""
    for tail in _COMPLETIONS:
        text = prefix + tail
        try:
            pp.parse(text + _closers(text))
        except BaseException:  # noqa: BLE001, S112 - any failure: try the next continuation
            continue
        return True
    return False


def _unclosed_paren(query: str) -> int:
    """Offset of the "(" that is never closed (Prometheus points there)."""
    stack: list[int] = []
    quote = ""
    i = 0
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "#":
            nl = query.find("\n", i)
            i = len(query) if nl < 0 else nl
        elif c == "(":
            stack.append(i)
        elif c == ")" and stack:
            stack.pop()
        i += 1
    return stack[0] if stack else len(query)


def parse_error(query: str, message: str) -> ParseError:
    """The binding's error ``message`` as a ``ParseError`` with the position it refers to."""
    line, column = _position(query, _locate(query, message))
    return ParseError(f"parse error: {message}", line=line, column=column)


__all__ = ["parse_error"]
