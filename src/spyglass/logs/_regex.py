"""Regular expressions as LogQL writes them (RE2 syntax), compiled with Python's ``re``.

Python's ``re`` accepts the RE2 subset log queries use in practice; a pattern that does not
compile is reported in Go's words (``error parsing regexp: missing closing ): `(```), since
Loki's users and its conformance cases expect them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from spyglass.core.errors import BadInput

_GO_REASONS = (
    ("missing ), unterminated subpattern", "missing closing )"),
    ("unbalanced parenthesis", "unexpected )"),
    ("nothing to repeat", "missing argument to repetition operator"),
    ("multiple repeat", "invalid nested repetition operator"),
    ("unterminated character set", "missing closing ]"),
    ("redefinition of group name", "duplicate capture group name"),
    ("bad escape", "invalid escape sequence"),
)


def _go_reason(exc: re.error) -> str:
    text = str(exc)
    for python, go in _GO_REASONS:
        if text.startswith(python):
            return go
    return text


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str] | str:
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        reason = _go_reason(exc) if isinstance(exc, re.error) else "expression too large"
        return f"error parsing regexp: {reason}: `{pattern}`"


def compile_go_regex(
    pattern: str, *, error: Callable[[str], Exception] | None = None
) -> re.Pattern[str]:
    """``pattern`` compiled; a bad one raises ``error(message)`` (default ``BadInput``)."""
    compiled = _compile(pattern)
    if isinstance(compiled, str):
        raise (error or BadInput)(compiled)
    return compiled


_LEADING_FLAGS = re.compile(r"^\(\?([imsU]+)\)")


def scoped_flags(pattern: str) -> str:
    """``(?i)abc`` as ``(?i:abc)``: Go lets flags lead a pattern that is then wrapped in an
    anchoring group, Python does not accept them there."""
    m = _LEADING_FLAGS.match(pattern)
    if m is None:
        return pattern
    flags = m.group(1).replace("U", "")
    rest = pattern[m.end() :]
    return f"(?{flags}:{rest})" if flags else rest


def anchored(pattern: str) -> re.Pattern[str]:
    """``pattern`` anchored at both ends, as label matchers and ``label_replace`` use it."""
    return compile_go_regex(f"(?s:^(?:{scoped_flags(pattern)})$)")


__all__ = ["anchored", "compile_go_regex", "scoped_flags"]
