"""Text helpers both Prometheus' and Alertmanager's template functions share: title casing as
golang.org/x/text/cases does it, and Go regular expressions (RE2) with Go's replacement rules.
"""

from __future__ import annotations

import importlib
import unicodedata
from typing import Any

from spyglass.core.template._printing import can_backquote, go_quote

# --- title casing ----------------------------------------------------------------------------

# Word-break classes that keep a word going (x/text/cases treats every other rune as a break):
# letters, digits, marks, format characters, connectors and the "mid" punctuation.
_MID = frozenset(
    ":\u00b7\u0387\u055f\u05f4\u2027\ufe13\ufe55\uff1a.\u2018\u2019\u2024\ufe52\uff07\uff0e'"
)


def _is_cased(c: str) -> bool:
    return c.islower() or c.isupper() or c.istitle()


def _is_break(c: str) -> bool:
    if c in _MID or c == "\u200d":
        return False
    cat = unicodedata.category(c)
    return not ((cat[0] in "LMN" and cat not in ("No", "Nl")) or cat in ("Cf", "Pc"))


def title(text: str, *, lower_rest: bool) -> str:
    """Title-case each word as ``cases.Title(language.AmericanEnglish)`` does.

    The first cased letter of a word is title-cased; with ``lower_rest`` the word's other
    letters are lower-cased (Alertmanager), without it they stay (Prometheus' ``NoLower``).
    """
    out: list[str] = []
    mid_word = False
    was_mid = False
    for c in text:
        if was_mid and c in _MID:
            mid_word = False  # two "mid" characters in a row end the word
        was_mid = c in _MID
        if _is_cased(c):
            if not mid_word:
                out.append(c.title())
                mid_word = True
            else:
                out.append(c.lower() if lower_rest else c)
        else:
            out.append(c)
            if _is_break(c):
                mid_word = False
    return "".join(out)


# --- Go regular expressions ------------------------------------------------------------------

_RE2: Any = importlib.import_module("re2")

# RE2's error codes as Go's regexp/syntax words them.
_GO_CODES = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid named capture group": "invalid named capture",
    "invalid repetition size": "invalid repeat count",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "trailing \\": "trailing backslash at end of expression",
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class range": "invalid character class range",
    "missing argument to repetition operator": "missing argument to repetition operator",
    "unexpected )": "unexpected )",
}


class RegexpError(ValueError):
    """A pattern does not compile; the message is Go's ``error parsing regexp: ...``."""


def compile_regexp(expr: str) -> Any:
    """Compile a Go (RE2) regular expression, unanchored."""
    options = _RE2.Options()
    options.log_errors = False
    try:
        return _RE2.compile(expr, options)
    except _RE2.error as exc:
        detail = exc.args[0] if exc.args else exc
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        code, _, fragment = text.partition(": ")
        code = _GO_CODES.get(code, code)
        if code == "missing closing )":
            fragment = expr  # Go cites the whole expression
        raise RegexpError(f"error parsing regexp: {code}: `{fragment or expr}`") from None


def must_compile(expr: str) -> Any:
    """``regexp.MustCompile``: the error reads as Go's panic does."""
    try:
        return compile_regexp(expr)
    except RegexpError as exc:
        quoted = f"`{expr}`" if can_backquote(expr) else go_quote(expr)
        raise RegexpError(f"regexp: Compile({quoted}): {exc}") from None


def match_string(pattern: str, text: str) -> bool:
    """``regexp.MatchString``: does the pattern match anywhere in the text."""
    return compile_regexp(pattern).search(text) is not None


def _expand(template: str, match: Any, groupindex: dict[str, int], ngroups: int) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``."""
    out: list[str] = []
    i = 0
    n = len(template)
    while i < n:
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        i = j + 1
        if i < n and template[i] == "$":
            out.append("$")
            i += 1
            continue
        name, end = _extract(template, i)
        if name is None:
            out.append("$")
            continue
        i = end
        group: int | None
        if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
            num = int(name) if len(name) <= 8 else ngroups + 1
            group = num if num <= ngroups else None
        else:
            group = groupindex.get(name)
        if group is not None:
            value = match.group(group)
            if value is not None:
                out.append(value)
    return "".join(out)


def _is_word(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdigit()


def _extract(s: str, i: int) -> tuple[str | None, int]:
    if i >= len(s):
        return None, i
    brace = s[i] == "{"
    j = i + 1 if brace else i
    start = j
    while j < len(s) and _is_word(s[j]):
        j += 1
    if j == start:
        return None, i
    name = s[start:j]
    if brace:
        if j >= len(s) or s[j] != "}":
            return None, i
        j += 1
    return name, j


def replace_all(pattern: Any, text: str, repl: str) -> str:
    """``Regexp.ReplaceAllString``: Go's rules for empty matches and ``$`` expansion."""
    groupindex = dict(pattern.groupindex)
    ngroups = pattern.groups
    out: list[str] = []
    last_end = 0
    pos = 0
    end = len(text)
    while pos <= end:
        m = pattern.search(text, pos)
        if m is None:
            break
        a0, a1 = m.start(), m.end()
        out.append(text[last_end:a0])
        # No replacement for an empty match right after the previous match.
        if a1 > last_end or a0 == 0:
            out.append(_expand(repl, m, groupindex, ngroups))
        last_end = a1
        if pos + 1 > a1:
            pos += 1
        else:
            pos = a1
    out.append(text[last_end:])
    return "".join(out)
