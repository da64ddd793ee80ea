"""LogQL's errors, worded as Loki words them.

A query that does not parse raises ``LogQLParseError``, whose text is Loki's
(``parse error at line 1, col 14: syntax error: unexpected ...``); a query that parses but
fails while running (a parser stage erred on a line and nothing filtered the error out, two
series collide in a binary operation) raises ``QueryError`` with Loki's text.
"""

from __future__ import annotations

from spyglass.core.errors import ParseError


class LogQLParseError(ParseError):
    """A LogQL query that does not parse; ``str()`` is Loki's wording with line and column."""

    def __str__(self) -> str:
        if self.line:
            return f"parse error at line {self.line}, col {self.column}: {self.message}"
        return f"parse error : {self.message}"


def parse_error(message: str, text: str, offset: int) -> LogQLParseError:
    """A parse error at character ``offset`` of ``text`` (1-based line and column)."""
    offset = max(0, min(offset, len(text)))
    before = text[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return LogQLParseError(message, line=line, column=column)


__all__ = ["LogQLParseError", "parse_error"]
