"""Regular expressions as LogQL writes them: RE2 syntax, and never a runaway match.

Every pattern is first compiled by RE2 (google-re2, a dependency), so LogQL accepts exactly what
Loki's Go ``regexp`` accepts (no lookarounds, no backreferences) and reports a bad pattern in
Go's words (``error parsing regexp: missing closing ): `(```). Matching then runs on Python's
``re`` when the pattern cannot backtrack badly there (at most one unbounded repetition and none
applied to a group), because ``re`` is about ten times cheaper per call on short lines than the
RE2 binding; any other pattern, or one ``re`` cannot compile, matches with RE2, which runs in
linear time whatever the pattern and the line. Both follow the same leftmost-first semantics.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

from spyglass.core.errors import BadInput

# google-re2 has no type stubs.
re2: Any = importlib.import_module("re2")

# Go's regexp/syntax messages for RE2's error codes.
_GO_REASONS = {
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "missing argument to repetition operator": "missing argument to repetition operator",
    "invalid named capture group": "invalid named capture",
    "invalid repetition size": "invalid repeat count",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "trailing \\": "trailing backslash at end of expression",
}
# Unbounded repetitions outside character classes, and repetitions applied to a group: where
# a backtracking engine can take exponential (or high-polynomial) time.
_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_UNBOUNDED = re.compile(r"(?<!\\)(?:[*+]|\{\d+,\})")
_GROUP_REPEAT = re.compile(r"\)(?:[*+?]|\{\d)")
_LEADING_FLAGS = re.compile(r"^\(\?([imsU]+)\)")


def _risky(pattern: str) -> bool:
    bare = _CLASS.sub("x", pattern.replace("\\\\", ""))
    return len(_UNBOUNDED.findall(bare)) > 1 or _GROUP_REPEAT.search(bare) is not None


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> Any:
    """The compiled pattern, or the Go-worded error text when RE2 refuses it."""
    try:
        strict = re2.compile(pattern, _re2_options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        code, _, _ = text.partition(": ")
        return f"error parsing regexp: {_GO_REASONS.get(code, code)}: `{pattern}`"
    if _risky(pattern):
        return strict
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        return strict


def compile_go_regex(pattern: str, *, error: Callable[[str], Exception] | None = None) -> Any:
    """``pattern`` compiled (an object with ``search``, ``match``, ``fullmatch``, ``sub``,
    ``findall`` and ``groupindex``, as ``re`` has); a pattern RE2 refuses raises
    ``error(message)`` (default ``BadInput``) with Go's message."""
    compiled = _compile(pattern)
    if isinstance(compiled, str):
        raise (error or BadInput)(compiled)
    return compiled


def scoped_flags(pattern: str) -> str:
    """``(?i)abc`` as ``(?i:abc)``: Go lets flags lead a pattern that is then wrapped in an
    anchoring group, Python does not accept them there."""
    m = _LEADING_FLAGS.match(pattern)
    if m is None:
        return pattern
    flags = m.group(1).replace("U", "")
    rest = pattern[m.end() :]
    return f"(?{flags}:{rest})" if flags else rest


def anchored(pattern: str) -> Any:
    """``pattern`` for matching whole values, as label matchers and ``label_replace`` use it:
    call ``fullmatch`` on it. (A ``$`` anchor would differ between the engines: Python's also
    matches before a final newline, RE2's only at the very end.)"""
    return compile_go_regex(f"(?s:{scoped_flags(pattern)})")


__all__ = ["anchored", "compile_go_regex", "scoped_flags"]
